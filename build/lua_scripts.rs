//! Assembles the component's Lua scripts from their pieces.
//!
//! Used by `build.rs`, which turns every script of `src/store/scripts/` into
//! a constant of the component, and by the integration tests, which run the
//! very same text against a real Redis. Redis runs each script as one chunk,
//! so the shared definitions a script uses (`src/store/scripts/lib/`) are
//! pasted in front of it, each once, after the pieces it needs itself.
//!
//! The contract, checked here so that a mistake fails the build rather than
//! a request:
//! - a piece begins with `-- defines: <names>` (exactly its top-level
//!   `local`s) and, if it uses other pieces, `-- needs: <names>`;
//! - a script begins with `-- needs: <names>` (several such lines may follow
//!   one another), or with no header when it uses no piece;
//! - a file's `needs` are exactly the piece-defined names its code uses:
//!   a name no piece defines, a name used but not declared, and a name
//!   declared but not used are all errors;
//! - every name a piece carries into a script is used by that script, since
//!   each `local function` costs Redis a closure on every call.
//!
//! The text sent to Redis keeps code only: comments, blank lines and
//! indentation are dropped, which keeps the component small and the `EVAL`
//! after a `NOSCRIPT` cheap. Long strings and long comments (`[[ ]]`) are
//! refused, so a simple scan can tell code from strings and comments.

#![allow(dead_code)] // each includer uses part of it

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};

/// One script as the component sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assembled {
    /// The script's file name, e.g. `hold_seats.lua`.
    pub file: String,
    /// What the script's own comment says it does (its first sentence).
    pub summary: String,
    /// The pieces pasted before it, in the order they are pasted.
    pub pieces: Vec<String>,
    /// The text sent to Redis.
    pub text: String,
    /// The SHA-1 of `text`, 40 lowercase hex digits, for `EVALSHA`.
    pub sha1: String,
}

/// A Lua file read and checked on its own.
#[derive(Debug)]
struct Source {
    /// The names the file declares it defines (pieces only).
    defines: Vec<String>,
    /// The names it declares it needs, in the order given.
    needs: Vec<String>,
    /// Its code, one trimmed line each, without comments.
    code: Vec<String>,
    /// Its first comment sentence after the header.
    summary: String,
}

/// Assembles every script (`*.lua`) of `dir`, whose pieces are in `dir/lib`,
/// sorted by file name.
pub fn assemble_all(dir: &Path) -> Result<Vec<Assembled>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".lua") {
            files.push(name);
        }
    }
    files.sort();
    let pieces = read_pieces(&dir.join("lib"))?;
    files
        .iter()
        .map(|file| assemble_with(dir, file, &pieces))
        .collect()
}

/// Assembles the one script `file` of `dir`.
pub fn assemble(dir: &Path, file: &str) -> Result<Assembled> {
    let pieces = read_pieces(&dir.join("lib"))?;
    assemble_with(dir, file, &pieces)
}

/// The pieces of `lib`, by file stem, each checked against its header.
fn read_pieces(lib: &Path) -> Result<BTreeMap<String, Source>> {
    let mut pieces = BTreeMap::new();
    for entry in fs::read_dir(lib).with_context(|| format!("listing {}", lib.display()))? {
        let path = entry?.path();
        if path.extension().is_none_or(|x| x != "lua") {
            continue;
        }
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let source = read_source(&path, true)?;
        pieces.insert(stem, source);
    }
    Ok(pieces)
}

fn assemble_with(dir: &Path, file: &str, pieces: &BTreeMap<String, Source>) -> Result<Assembled> {
    let script = read_source(&dir.join(file), false)?;
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    for (piece, source) in pieces {
        for name in &source.defines {
            if let Some(other) = owner.insert(name, piece) {
                bail!("`{name}` is defined by both lib/{other}.lua and lib/{piece}.lua");
            }
        }
    }
    let all: BTreeSet<&str> = owner.keys().copied().collect();
    for (piece, source) in pieces {
        check_needs(&format!("lib/{piece}.lua"), source, &all)?;
    }
    check_needs(file, &script, &all)?;

    // Depth first from the script's needs: a piece goes in after the pieces
    // it needs, and only once.
    let mut order: Vec<String> = Vec::new();
    let mut visiting: Vec<String> = Vec::new();
    for name in &script.needs {
        visit(
            owner[name.as_str()],
            pieces,
            &owner,
            &mut order,
            &mut visiting,
        )?;
    }

    let mut text = String::new();
    for piece in &order {
        for line in &pieces[piece].code {
            text.push_str(line);
            text.push('\n');
        }
    }
    for line in &script.code {
        text.push_str(line);
        text.push('\n');
    }

    // Every name carried in is used somewhere else in the script: it
    // appears more often than its one definition.
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let counts = identifier_counts(&lines);
    for piece in &order {
        for name in &pieces[piece].defines {
            if counts.get(name).copied().unwrap_or(0) < 2 {
                bail!("{file}: lib/{piece}.lua brings `{name}`, which the script never uses");
            }
        }
    }

    Ok(Assembled {
        file: file.to_owned(),
        summary: script.summary,
        pieces: order,
        sha1: sha1_hex(text.as_bytes()),
        text,
    })
}

fn visit(
    piece: &str,
    pieces: &BTreeMap<String, Source>,
    owner: &BTreeMap<&str, &str>,
    order: &mut Vec<String>,
    visiting: &mut Vec<String>,
) -> Result<()> {
    if order.iter().any(|p| p == piece) {
        return Ok(());
    }
    if visiting.iter().any(|p| p == piece) {
        bail!(
            "lib/{piece}.lua needs itself through {}",
            visiting.join(" -> ")
        );
    }
    visiting.push(piece.to_owned());
    for name in &pieces[piece].needs {
        visit(owner[name.as_str()], pieces, owner, order, visiting)?;
    }
    visiting.pop();
    order.push(piece.to_owned());
    Ok(())
}

/// A file's declared needs are the piece-defined names its code uses.
fn check_needs(file: &str, source: &Source, all: &BTreeSet<&str>) -> Result<()> {
    let own: BTreeSet<&str> = source.defines.iter().map(String::as_str).collect();
    let used: BTreeSet<String> = identifiers(&source.code)
        .into_iter()
        .filter(|n| all.contains(n.as_str()) && !own.contains(n.as_str()))
        .collect();
    let declared: BTreeSet<String> = source.needs.iter().cloned().collect();
    if let Some(name) = declared.iter().find(|n| !all.contains(n.as_str())) {
        bail!("{file} needs `{name}`, which no piece of lib/ defines");
    }
    if let Some(name) = used.difference(&declared).next() {
        bail!("{file} uses `{name}` without `-- needs: {name}`");
    }
    if let Some(name) = declared.difference(&used).next() {
        bail!("{file} declares `-- needs: {name}` but never uses it");
    }
    Ok(())
}

/// Reads a file's header, code and summary, and checks a piece's `defines`.
fn read_source(path: &Path, is_piece: bool) -> Result<Source> {
    let display = path.display();
    let raw = fs::read_to_string(path).with_context(|| format!("reading {display}"))?;
    let mut lines = raw.lines().peekable();
    let mut defines = Vec::new();
    let mut needs = Vec::new();
    while let Some(line) = lines.peek() {
        if let Some(names) = line.strip_prefix("-- defines:") {
            defines.extend(names.split_whitespace().map(str::to_owned));
        } else if let Some(names) = line.strip_prefix("-- needs:") {
            needs.extend(names.split_whitespace().map(str::to_owned));
        } else {
            break;
        }
        lines.next();
    }
    if is_piece && defines.is_empty() {
        bail!("{display} must begin with `-- defines: <names>`");
    }
    if !is_piece && !defines.is_empty() {
        bail!("{display} is a script: only pieces of lib/ define names");
    }
    let mut code = Vec::new();
    let mut summary = String::new();
    for (n, line) in lines.enumerate() {
        let (kept, comment) =
            split_comment(line).map_err(|why| anyhow!("{display}, line {}: {why}", n + 1))?;
        if code.is_empty() && kept.is_empty() && !comment.is_empty() {
            summary.push_str(comment.trim_start_matches('-').trim());
            summary.push(' ');
        }
        if !kept.is_empty() {
            code.push(kept.to_owned());
        }
    }
    let summary = first_sentence(summary.trim());
    if is_piece {
        let top: BTreeSet<String> = top_level_locals(&raw);
        let declared: BTreeSet<String> = defines.iter().cloned().collect();
        if top != declared {
            bail!(
                "{display}: `-- defines:` says {declared:?} but its top-level locals are {top:?}"
            );
        }
    }
    Ok(Source {
        defines,
        needs,
        code,
        summary,
    })
}

/// A line's code (trimmed) and its comment, if any. `--` inside a string
/// is text; long brackets are refused.
fn split_comment(line: &str) -> Result<(&str, &str), String> {
    let bytes = line.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'\'' || b == b'"' => quote = Some(b),
            None if line[i..].starts_with("--") => {
                if line[i + 2..].starts_with('[') {
                    return Err("long comments (`--[[`) are not allowed".to_owned());
                }
                return Ok((line[..i].trim(), &line[i..]));
            }
            None if line[i..].starts_with("[[") || line[i..].starts_with("[=") => {
                return Err("long strings (`[[`) are not allowed".to_owned());
            }
            None => {}
        }
        i += 1;
    }
    if quote.is_some() {
        return Err("a string is not closed on its line".to_owned());
    }
    Ok((line.trim(), ""))
}

/// The names code lines use, strings left out, fields (`a.b`, `a:b`) too.
fn identifiers(code: &[String]) -> BTreeSet<String> {
    identifier_counts(code).into_keys().collect()
}

/// How often each name occurs in code lines, strings and fields left out.
fn identifier_counts(code: &[String]) -> BTreeMap<String, usize> {
    let mut names = BTreeMap::new();
    for line in code {
        let bytes = line.as_bytes();
        let mut quote: Option<u8> = None;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if let Some(q) = quote {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
                i += 1;
                continue;
            }
            if b == b'\'' || b == b'"' {
                quote = Some(b);
                i += 1;
            } else if b.is_ascii_alphabetic() || b == b'_' {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let field = start > 0 && matches!(bytes[start - 1], b'.' | b':');
                let dots = start > 1 && &bytes[start - 2..start] == b"..";
                if !field || dots {
                    *names.entry(line[start..i].to_owned()).or_insert(0) += 1;
                }
            } else if b.is_ascii_digit() {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.') {
                    i += 1;
                }
            } else {
                i += 1;
            }
        }
    }
    names
}

/// The names a file's unindented `local` lines define.
fn top_level_locals(raw: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in raw.lines() {
        let Some(rest) = line
            .strip_prefix("local function ")
            .or_else(|| line.strip_prefix("local "))
        else {
            continue;
        };
        let list = rest.split(['(', '=']).next().unwrap_or_default();
        names.extend(
            list.split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
        );
    }
    names
}

fn first_sentence(text: &str) -> String {
    match text.find(". ") {
        Some(i) => text[..=i].to_owned(),
        None => text.to_owned(),
    }
}

fn sha1_hex(bytes: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    Sha1::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The Rust source of the component's script constants: one `Script` per
/// file, named after it (`hold_seats.lua` is `HOLD_SEATS`), and `ALL`.
///
/// A script's text is kept as its parts (the pieces it pastes, then its
/// own code), and each piece's text once (`PIECE_<NAME>`), shared by every
/// script that pastes it: the text is sent only when Redis lost its cache,
/// while the module's data is copied into every instance, one per request.
pub fn rust_constants(scripts: &[Assembled], pieces_dir: &Path) -> Result<String> {
    let mut out = String::from("// Generated by build.rs from src/store/scripts/: do not edit.\n");
    let pieces = read_pieces(pieces_dir)?;
    let mut used: BTreeSet<&str> = BTreeSet::new();
    for s in scripts {
        used.extend(s.pieces.iter().map(String::as_str));
    }
    for piece in &used {
        out.push_str(&format!(
            "const PIECE_{}: &str = {:?};\n",
            piece.to_uppercase(),
            piece_text(&pieces[*piece])
        ));
    }
    let mut all = String::from("/// Every script, with its file name.\n#[allow(dead_code)]\npub(crate) const ALL: &[(&str, Script)] = &[\n");
    for s in scripts {
        let name = s.file.trim_end_matches(".lua").to_uppercase();
        let mut parts: Vec<String> = s
            .pieces
            .iter()
            .map(|p| format!("PIECE_{}", p.to_uppercase()))
            .collect();
        let own: String = s
            .pieces
            .iter()
            .fold(s.text.as_str(), |rest, p| {
                rest.strip_prefix(piece_text(&pieces[p]).as_str())
                    .unwrap_or(rest)
            })
            .to_owned();
        let rebuilt: String = s
            .pieces
            .iter()
            .map(|p| piece_text(&pieces[p]))
            .collect::<String>()
            + &own;
        if rebuilt != s.text {
            bail!(
                "{}: its text is not its pieces followed by its own code",
                s.file
            );
        }
        parts.push(format!("{own:?}"));
        out.push_str(&format!(
            "/// `{}`: {}\npub(crate) const {name}: Script = Script {{ file: {:?}, parts: &[{}], sha1: {:?} }};\n",
            s.file,
            s.summary.replace('`', "'"),
            s.file,
            parts.join(", "),
            s.sha1
        ));
        all.push_str(&format!("    ({:?}, {name}),\n", s.file));
    }
    all.push_str("];\n");
    Ok(out + &all)
}

/// A piece's text as a script pastes it: each code line and its newline.
fn piece_text(piece: &Source) -> String {
    piece.code.iter().map(|line| format!("{line}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_go_and_strings_stay() {
        assert_eq!(split_comment("  x = '--' -- y"), Ok(("x = '--'", "-- y")));
        assert_eq!(split_comment("-- all"), Ok(("", "-- all")));
        assert!(split_comment("x = [[a]]").is_err());
        assert!(split_comment("--[[ a").is_err());
        let names = identifiers(&["a.b(c, 'd e') .. f:g() x..y".to_owned()]);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(names, ["a", "c", "f", "x", "y"]);
    }
}
