//! The Lua scripts, as `build.rs` assembled them from `src/store/scripts/`
//! (see `build/lua_scripts.rs` for the pieces' contract, and
//! docs/design.md for each script's arguments and replies).
//!
//! Each script is a [`Script`]: its text and its SHA-1, both made at build
//! time, so the component runs it with `EVALSHA` and sends the text only
//! when Redis has lost its script cache (`store/eval.rs`).

/// A Lua script as the component runs it: its text, as the parts it is
/// pasted from, and the SHA-1 Redis names it by (`EVALSHA`). Only the build
/// makes one, from the text, so the two can never disagree and no request
/// hashes anything. The parts are kept apart so that a piece many scripts
/// paste is in the module's data once: every instance (one per request)
/// starts with a copy of that data, and the whole text is needed only when
/// Redis has lost its script cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Script {
    file: &'static str,
    parts: &'static [&'static str],
    sha1: &'static str,
}

impl Script {
    /// The file it was built from, e.g. `hold_seats.lua`: what an error
    /// names it by.
    pub(crate) fn file(&self) -> &'static str {
        self.file
    }

    /// The text, for `EVAL` when Redis does not have the script cached.
    pub(crate) fn text(&self) -> String {
        self.parts.concat()
    }

    /// The SHA-1 of the text in 40 lowercase hex digits, for `EVALSHA`.
    pub(crate) fn sha1(&self) -> &'static str {
        self.sha1
    }
}

include!(concat!(env!("OUT_DIR"), "/scripts.rs"));

#[cfg(test)]
mod tests {
    use super::*;

    /// Every script file became a constant (the build lists the folder).
    #[test]
    fn every_script_file_is_built() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/scripts");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".lua"))
            .collect();
        files.sort();
        let built: Vec<&str> = ALL.iter().map(|(file, _)| *file).collect();
        assert_eq!(files, built);
        assert!(ALL.iter().all(|(file, script)| script.file() == *file));
    }

    #[test]
    fn the_scripts_sent_carry_code_only() {
        for (file, script) in ALL {
            for line in script.text().lines() {
                assert!(
                    !line.is_empty() && line.trim() == line && !line.contains("-- "),
                    "{file}: {line:?}"
                );
            }
            assert_eq!(script.sha1().len(), 40, "{file}");
        }
    }

    /// The parts make exactly the text the build hashed: `EVALSHA` and the
    /// `EVAL` fallback name the same script.
    #[test]
    fn each_text_hashes_to_its_sha1() {
        use sha1::{Digest, Sha1};
        for (file, script) in ALL {
            let digest = Sha1::digest(script.text().as_bytes());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(hex, script.sha1(), "{file}");
        }
    }
}
