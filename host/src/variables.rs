//! Application and component variables, resolved the way Spin resolves them.
//!
//! Spin asks its providers in order (the runtime-config providers in file
//! order, then the default environment provider) and falls back to the
//! manifest `default` (see Spin's `spin-expressions`, `variables-env` and
//! `runtime-config/src/variables.rs`). Static and environment providers give
//! the same answer at start-up as at request time, so every application
//! variable is resolved once at start-up; a provider error is kept and handed
//! to the component on `get`, where Spin would report it. Values are never
//! printed: some are secrets.

use std::collections::{BTreeMap, HashMap};
use std::env::VarError;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use anyhow::{bail, Context, Result};

use crate::manifest::Variable;
use crate::template::{validate_variable_name, Template};

/// Spin's default prefix for environment variable names.
pub const DEFAULT_ENV_PREFIX: &str = "SPIN_VARIABLE";

/// Looks an environment variable up; injectable so tests need not touch the real environment.
pub type EnvLookup = Arc<dyn Fn(&str) -> Result<String, VarError> + Send + Sync>;

/// A source of variable values, as configured in the runtime config.
pub enum Provider {
    /// `type = "static"`: a fixed table of values keyed by variable name.
    Static(HashMap<String, String>),
    /// `type = "env"` (and Spin's always-present default): `<PREFIX>_<UPPER_NAME>`.
    Env(EnvProvider),
}

/// Reads `<PREFIX>_<NAME>` from the environment, then from a dotenv file.
pub struct EnvProvider {
    prefix: Option<String>,
    dotenv_path: Option<PathBuf>,
    lookup: EnvLookup,
    dotenv: OnceLock<HashMap<String, String>>,
}

impl EnvProvider {
    /// An env provider; `prefix` None means `SPIN_VARIABLE`, `dotenv_path` None means no file.
    pub fn new(prefix: Option<String>, dotenv_path: Option<PathBuf>, lookup: EnvLookup) -> Self {
        Self {
            prefix,
            dotenv_path,
            lookup,
            dotenv: OnceLock::new(),
        }
    }

    /// Spin's default provider: `SPIN_VARIABLE_*`, then `.env` in the working directory.
    pub fn spin_default() -> Self {
        Self::new(
            None,
            Some(PathBuf::from(".env")),
            Arc::new(|name| std::env::var(name)),
        )
    }

    fn get(&self, name: &str) -> Result<Option<String>> {
        let prefix = self.prefix.as_deref().unwrap_or(DEFAULT_ENV_PREFIX);
        // Spin joins with '_' even when the prefix is empty.
        let env_key = format!("{prefix}_{}", name.to_ascii_uppercase());
        match (self.lookup)(&env_key) {
            Ok(value) => Ok(Some(value)),
            Err(VarError::NotPresent) => self.get_dotenv(&env_key),
            Err(err) => Err(err).with_context(|| format!("failed to resolve env var {env_key}")),
        }
    }

    fn get_dotenv(&self, env_key: &str) -> Result<Option<String>> {
        let Some(path) = &self.dotenv_path else {
            return Ok(None);
        };
        if self.dotenv.get().is_none() {
            // Like Spin: a missing file is empty, a malformed one is an error.
            let loaded = dotenvy::from_path_iter(path)
                .into_iter()
                .flatten()
                .collect::<Result<HashMap<String, String>, _>>()?;
            let _ = self.dotenv.set(loaded);
        }
        Ok(self.dotenv.get().and_then(|map| map.get(env_key).cloned()))
    }
}

impl Provider {
    /// The provider's value for `name`, `None` when it has none.
    pub fn get(&self, name: &str) -> Result<Option<String>> {
        match self {
            Provider::Static(values) => Ok(values.get(name).cloned()),
            Provider::Env(env) => env.get(name),
        }
    }

    /// Spin's start-up check that a provider can supply a required variable.
    fn may_resolve(&self, name: &str) -> bool {
        matches!(self.get(name), Ok(Some(_)))
    }
}

/// Why `fermyon:spin/variables.get` failed; mirrors the WIT `error` variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VariableError {
    /// The name breaks Spin's naming rules.
    InvalidName(String),
    /// The component declares no such variable.
    Undefined(String),
    /// A provider failed, or nothing supplied a required value.
    Provider(String),
}

/// Every application variable's resolved value (or the provider error Spin would report).
pub struct AppVariables {
    values: BTreeMap<String, Result<String, String>>,
}

impl AppVariables {
    /// Resolves all application variables through `providers`, then the manifest defaults.
    ///
    /// Fails, like Spin's start-up check, when a required variable has no provider value.
    pub fn resolve(declared: &BTreeMap<String, Variable>, providers: &[Provider]) -> Result<Self> {
        let unresolvable: Vec<&str> = declared
            .iter()
            .filter(|(_, var)| var.default.is_none())
            .map(|(name, _)| name.as_str())
            .filter(|name| !providers.iter().any(|p| p.may_resolve(name)))
            .collect();
        if !unresolvable.is_empty() {
            bail!(
                "no provider resolved required variable(s): {unresolvable:?}. Set them with \
                 SPIN_VARIABLE_<NAME> environment variables, a .env file or a runtime config \
                 variables provider"
            );
        }

        let mut values = BTreeMap::new();
        for (name, var) in declared {
            values.insert(name.clone(), resolve_one(name, var, providers));
        }
        Ok(Self { values })
    }

    /// The value of an application variable for use in templates.
    pub fn get(&self, name: &str) -> Result<&str, VariableError> {
        match self.values.get(name) {
            Some(Ok(value)) => Ok(value),
            Some(Err(message)) => Err(VariableError::Provider(message.clone())),
            None => Err(VariableError::InvalidName(name.to_string())),
        }
    }

    /// Renders a template over the application variables.
    pub fn render(&self, template: &Template) -> Result<String, VariableError> {
        template.render(|name| self.get(name).map(str::to_string))
    }
}

fn resolve_one(name: &str, var: &Variable, providers: &[Provider]) -> Result<String, String> {
    for provider in providers {
        match provider.get(name) {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(err) => return Err(err.to_string()),
        }
    }
    var.default
        .clone()
        .ok_or_else(|| format!("no provider resolved required variable {name:?}"))
}

/// One component's view of variables: only its `[component.<id>.variables]`.
pub struct ComponentVariables {
    component_id: String,
    values: BTreeMap<String, Result<String, VariableError>>,
}

impl ComponentVariables {
    /// Renders the component's variable templates over the application variables.
    pub fn new(
        component_id: &str,
        templates: &BTreeMap<String, String>,
        app: &AppVariables,
    ) -> Result<Self> {
        let mut values = BTreeMap::new();
        for (name, text) in templates {
            let template = Template::parse(text)?;
            values.insert(name.clone(), app.render(&template));
        }
        Ok(Self {
            component_id: component_id.to_string(),
            values,
        })
    }

    /// `fermyon:spin/variables.get` with Spin's error cases and messages.
    pub fn get(&self, name: &str) -> Result<String, VariableError> {
        validate_variable_name(name).map_err(VariableError::InvalidName)?;
        match self.values.get(name) {
            Some(result) => result.clone(),
            None => Err(VariableError::Undefined(format!(
                "no variable for {:?}.{name:?}",
                self.component_id
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(entries: &[(&str, Option<&str>)]) -> BTreeMap<String, Variable> {
        entries
            .iter()
            .map(|(name, default)| (name.to_string(), Variable::for_tests(*default)))
            .collect()
    }

    fn fake_env(pairs: &[(&str, &str)]) -> EnvLookup {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Arc::new(move |key| map.get(key).cloned().ok_or(VarError::NotPresent))
    }

    fn static_provider(pairs: &[(&str, &str)]) -> Provider {
        Provider::Static(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn temp_dotenv(name: &str, contents: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("spin-host-test-{}-{name}.env", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn precedence_static_then_env_then_default_env_then_dotenv_then_default() {
        let vars = declared(&[
            ("a", Some("default-a")),
            ("b", Some("default-b")),
            ("c", Some("default-c")),
            ("d", Some("default-d")),
            ("e", Some("default-e")),
        ]);
        let dotenv = temp_dotenv(
            "precedence",
            "SPIN_VARIABLE_D=dotenv-d\nSPIN_VARIABLE_C=dotenv-c\n",
        );
        let providers = vec![
            static_provider(&[("a", "static-a")]),
            Provider::Env(EnvProvider::new(
                Some("MYAPP".into()),
                None,
                fake_env(&[("MYAPP_A", "env-a"), ("MYAPP_B", "env-b")]),
            )),
            // Spin's default provider: SPIN_VARIABLE_*, then the dotenv file.
            Provider::Env(EnvProvider::new(
                None,
                Some(dotenv.clone()),
                fake_env(&[("SPIN_VARIABLE_B", "spin-b"), ("SPIN_VARIABLE_C", "spin-c")]),
            )),
        ];
        let app = AppVariables::resolve(&vars, &providers).unwrap();
        assert_eq!(app.get("a").unwrap(), "static-a");
        assert_eq!(app.get("b").unwrap(), "env-b");
        assert_eq!(app.get("c").unwrap(), "spin-c");
        assert_eq!(app.get("d").unwrap(), "dotenv-d");
        assert_eq!(app.get("e").unwrap(), "default-e");
        std::fs::remove_file(dotenv).unwrap();
    }

    #[test]
    fn required_without_value_fails_at_startup() {
        let vars = declared(&[("api_key", None), ("other", Some("x"))]);
        let providers = vec![Provider::Env(EnvProvider::new(None, None, fake_env(&[])))];
        let err = AppVariables::resolve(&vars, &providers).err().unwrap();
        let msg = err.to_string();
        assert!(
            msg.contains("no provider resolved required variable(s)"),
            "{msg}"
        );
        assert!(msg.contains("api_key"), "{msg}");

        let providers = vec![Provider::Env(EnvProvider::new(
            None,
            None,
            fake_env(&[("SPIN_VARIABLE_API_KEY", "k")]),
        ))];
        let app = AppVariables::resolve(&vars, &providers).unwrap();
        assert_eq!(app.get("api_key").unwrap(), "k");
    }

    #[test]
    fn empty_prefix_still_joins_with_underscore() {
        let env = EnvProvider::new(Some(String::new()), None, fake_env(&[("_NAME", "v")]));
        assert_eq!(env.get("name").unwrap().as_deref(), Some("v"));
    }

    #[test]
    fn missing_dotenv_file_is_empty_but_malformed_is_an_error() {
        let missing = EnvProvider::new(
            None,
            Some(PathBuf::from("/definitely/not/here/.env")),
            fake_env(&[]),
        );
        assert_eq!(missing.get("x").unwrap(), None);

        let bad = temp_dotenv("malformed", "NOT A VALID LINE\n");
        let provider = EnvProvider::new(None, Some(bad.clone()), fake_env(&[]));
        assert!(provider.get("x").is_err());
        std::fs::remove_file(bad).unwrap();
    }

    #[test]
    fn component_sees_only_its_variables_through_templates() {
        let vars = declared(&[
            ("redis_host", Some("127.0.0.1:6379")),
            ("secret", Some("s")),
        ]);
        let app = AppVariables::resolve(&vars, &[]).unwrap();
        let templates: BTreeMap<String, String> = [
            (
                "redis_address".to_string(),
                "redis://{{ redis_host }}".to_string(),
            ),
            ("literal".to_string(), "plain".to_string()),
        ]
        .into_iter()
        .collect();
        let component = ComponentVariables::new("seat-booking", &templates, &app).unwrap();
        assert_eq!(
            component.get("redis_address").unwrap(),
            "redis://127.0.0.1:6379"
        );
        assert_eq!(component.get("literal").unwrap(), "plain");
        // An application variable the component did not map is undefined for it.
        assert_eq!(
            component.get("secret"),
            Err(VariableError::Undefined(
                "no variable for \"seat-booking\".\"secret\"".into()
            ))
        );
        assert!(matches!(
            component.get("Bad-Name"),
            Err(VariableError::InvalidName(_))
        ));
    }

    #[test]
    fn provider_errors_surface_on_get() {
        let vars = declared(&[("x", Some("d"))]);
        let lookup: EnvLookup = Arc::new(|_| Err(VarError::NotUnicode("\u{fffd}".into())));
        let providers = vec![Provider::Env(EnvProvider::new(None, None, lookup))];
        let app = AppVariables::resolve(&vars, &providers).unwrap();
        let templates: BTreeMap<String, String> = [("x".to_string(), "{{ x }}".to_string())]
            .into_iter()
            .collect();
        let component = ComponentVariables::new("c", &templates, &app).unwrap();
        assert_eq!(
            component.get("x"),
            Err(VariableError::Provider(
                "failed to resolve env var SPIN_VARIABLE_X".into()
            ))
        );
    }
}
