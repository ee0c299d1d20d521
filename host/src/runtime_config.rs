//! The `--runtime-config-file` TOML: which variable providers to use.
//!
//! Follows Spin's `runtime-config/src/variables.rs`: the providers come from
//! `[[variables_provider]]` (or, if absent, the older `[[config_provider]]`)
//! in file order, and Spin's default environment provider is always appended
//! last. Only the `static` and `env` provider types are supported; other
//! tables in the file (key-value stores, SQLite, ...) are not used by this host
//! and are ignored.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::variables::{EnvProvider, Provider};

/// One `[[variables_provider]]` table.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
enum ProviderConfig {
    Static { values: HashMap<String, String> },
    Env(EnvConfig),
    Vault {},
    AzureKeyVault {},
}

/// The fields Spin's env provider accepts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvConfig {
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    dotenv_path: Option<PathBuf>,
}

/// Reads the providers from the runtime config file, if any, plus Spin's default.
pub fn load_providers(path: Option<&Path>) -> Result<Vec<Provider>> {
    let mut providers = match path {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!("failed to read runtime config file {}", path.display())
            })?;
            parse_providers(&text)
                .with_context(|| format!("invalid runtime config file {}", path.display()))?
        }
        None => Vec::new(),
    };
    providers.push(Provider::Env(EnvProvider::spin_default()));
    Ok(providers)
}

/// Parses the providers listed in runtime config text (without Spin's default).
pub fn parse_providers(text: &str) -> Result<Vec<Provider>> {
    let table: toml::Table = toml::from_str(text).context("not valid TOML")?;
    let Some(list) = table
        .get("variables_provider")
        .or_else(|| table.get("config_provider"))
    else {
        return Ok(Vec::new());
    };
    let configs: Vec<ProviderConfig> = list
        .clone()
        .try_into()
        .context("invalid [[variables_provider]] table")?;
    configs
        .into_iter()
        .map(|config| match config {
            ProviderConfig::Static { values } => Ok(Provider::Static(values)),
            ProviderConfig::Env(env) => Ok(Provider::Env(EnvProvider::new(
                env.prefix,
                env.dotenv_path,
                Arc::new(|name| std::env::var(name)),
            ))),
            ProviderConfig::Vault {} | ProviderConfig::AzureKeyVault {} => {
                bail!("variables provider type is not supported by spin-host (only static and env)")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_providers_in_file_order() {
        let providers = parse_providers(
            r#"
[[variables_provider]]
type = "static"
[variables_provider.values]
redis_address = "redis://static"

[[variables_provider]]
type = "env"
prefix = "MYAPP"
dotenv_path = "custom.env"
"#,
        )
        .unwrap();
        assert_eq!(providers.len(), 2);
        assert_eq!(
            providers[0].get("redis_address").unwrap().as_deref(),
            Some("redis://static")
        );
        assert!(matches!(providers[1], Provider::Env(_)));
    }

    #[test]
    fn config_provider_is_the_old_name() {
        let providers =
            parse_providers("[[config_provider]]\ntype = \"static\"\nvalues = { a = \"1\" }\n")
                .unwrap();
        assert_eq!(providers[0].get("a").unwrap().as_deref(), Some("1"));
    }

    #[test]
    fn variables_provider_wins_over_config_provider() {
        let providers = parse_providers(
            "[[config_provider]]\ntype = \"static\"\nvalues = { a = \"old\" }\n\
             [[variables_provider]]\ntype = \"static\"\nvalues = { a = \"new\" }\n",
        )
        .unwrap();
        assert_eq!(providers.len(), 1);
        assert_eq!(providers[0].get("a").unwrap().as_deref(), Some("new"));
    }

    #[test]
    fn rejects_unknown_types_and_fields() {
        assert!(parse_providers("[[variables_provider]]\ntype = \"nope\"\n").is_err());
        assert!(
            parse_providers("[[variables_provider]]\ntype = \"vault\"\nurl = \"x\"\n").is_err()
        );
        assert!(
            parse_providers("[[variables_provider]]\ntype = \"env\"\nprefx = \"x\"\n").is_err()
        );
    }

    #[test]
    fn default_provider_is_always_last() {
        let providers = load_providers(None).unwrap();
        assert_eq!(providers.len(), 1);
        assert!(load_providers(Some(Path::new("/definitely/not/here.toml"))).is_err());
    }
}
