//! Spin's `{{ name }}` templates and variable-name rules.
//!
//! Component variables and `allowed_outbound_hosts` entries may hold
//! templates. The parsing rules (and the name rules for variables) follow
//! Spin's `spin-expressions` crate so that a manifest accepted here is
//! accepted by Spin and vice versa.

use anyhow::{bail, Result};

/// One piece of a template: literal text or a variable reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Text copied as is.
    Lit(String),
    /// The name inside `{{ ... }}`, trimmed.
    Expr(String),
}

/// A parsed template such as `"redis://{{ redis_host }}"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses a template; an unmatched `{{` is an error, as in Spin.
    pub fn parse(text: &str) -> Result<Self> {
        let mut parts = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(after_open) = rest.strip_prefix("{{") {
                let Some((expr, after_close)) = after_open.split_once("}}") else {
                    bail!("invalid variable template: unmatched '{{{{' in template {text:?}");
                };
                parts.push(Part::Expr(expr.trim().to_string()));
                rest = after_close;
            } else {
                let end = rest.find("{{").unwrap_or(rest.len());
                parts.push(Part::Lit(rest[..end].to_string()));
                rest = &rest[end..];
            }
        }
        Ok(Self { parts })
    }

    /// True when the template holds no `{{ }}` expression.
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Lit(_)))
    }

    /// The names of the variables the template refers to.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Expr(name) => Some(name.as_str()),
            Part::Lit(_) => None,
        })
    }

    /// Substitutes each expression with `lookup(name)`, stopping at the first error.
    pub fn render<E>(
        &self,
        mut lookup: impl FnMut(&str) -> Result<String, E>,
    ) -> Result<String, E> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Lit(lit) => out.push_str(lit),
                Part::Expr(name) => out.push_str(&lookup(name)?),
            }
        }
        Ok(out)
    }
}

/// Checks a variable name against Spin's rules (`spin_expressions::Key`).
///
/// Returns the message Spin puts in `error::invalid-name` when it fails.
pub fn validate_variable_name(name: &str) -> Result<(), String> {
    let reason = if name.is_empty() {
        Some("must not be empty".to_string())
    } else if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        Some(format!(
            "invalid character {bad:?}. Variable names may contain only lower-case letters, numbers, and underscores."
        ))
    } else if !name.as_bytes()[0].is_ascii_lowercase() {
        Some("must start with a lowercase ASCII letter".to_string())
    } else if !name.as_bytes()[name.len() - 1].is_ascii_alphanumeric() {
        Some("must end with a lowercase ASCII letter or digit".to_string())
    } else if name.contains("__") {
        Some("must not contain multiple consecutive underscores".to_string())
    } else {
        None
    };
    match reason {
        Some(reason) => Err(format!("{name:?}: {reason}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_literals_and_expressions() {
        let t = Template::parse("a-{{ x }}-b{{y}}").unwrap();
        assert_eq!(
            t.parts,
            vec![
                Part::Lit("a-".into()),
                Part::Expr("x".into()),
                Part::Lit("-b".into()),
                Part::Expr("y".into()),
            ]
        );
        assert!(!t.is_literal());
        assert!(Template::parse("plain").unwrap().is_literal());
        assert!(Template::parse("").unwrap().is_literal());
    }

    #[test]
    fn unmatched_braces_are_an_error() {
        assert!(Template::parse("{{ matched }} {{ unmatched").is_err());
    }

    #[test]
    fn renders_with_lookup() {
        let t = Template::parse("redis://{{ host }}:{{ port }}").unwrap();
        let out = t
            .render(|name| match name {
                "host" => Ok("h".to_string()),
                "port" => Ok("1".to_string()),
                other => Err(other.to_string()),
            })
            .unwrap();
        assert_eq!(out, "redis://h:1");
    }

    #[test]
    fn variable_names_follow_spin_rules() {
        assert!(validate_variable_name("redis_address").is_ok());
        assert!(validate_variable_name("a1").is_ok());
        for bad in [
            "",
            "Upper",
            "1abc",
            "trailing_",
            "double__under",
            "with-dash",
        ] {
            assert!(validate_variable_name(bad).is_err(), "{bad:?}");
        }
    }
}
