//! Reading `spin.toml` (manifest version 2).
//!
//! The serde structs list every field Spin's manifest schema knows and deny
//! unknown ones, like Spin does, so a typo that Spin would reject is rejected
//! here too. Fields this host cannot honour faithfully (mounted files, inline
//! components, static responses, other trigger types, ...) are refused with a
//! clear message instead of being silently ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};
use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::template::{validate_variable_name, Template};

/// An application variable declared under `[variables]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    /// Free text; accepted and ignored.
    #[serde(default, rename = "description")]
    _description: IgnoredAny,
    /// Whether a provider must supply the value (exclusive with `default`).
    #[serde(default)]
    pub required: bool,
    /// The value used when no provider has one.
    #[serde(default)]
    pub default: Option<String>,
    /// Marks the value as sensitive; accepted and ignored because this host
    /// never prints any variable value.
    #[serde(default, rename = "secret")]
    _secret: IgnoredAny,
}

#[cfg(test)]
impl Variable {
    /// A variable with `default`, or a required one when `default` is None.
    pub fn for_tests(default: Option<&str>) -> Self {
        Self {
            _description: IgnoredAny,
            required: default.is_none(),
            default: default.map(str::to_string),
            _secret: IgnoredAny,
        }
    }
}

/// One `[component.<id>]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Path to the Wasm file; remote sources are refused in `validate`.
    pub source: toml::Value,
    /// Free text; accepted and ignored.
    #[serde(default, rename = "description")]
    _description: IgnoredAny,
    /// Component variables: name -> template over application variables.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// Environment variables handed to the component through WASI.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Files to mount; refused because this host mounts nothing.
    #[serde(default)]
    pub files: Vec<toml::Value>,
    /// Only meaningful with `files`; accepted and ignored.
    #[serde(default, rename = "exclude_files")]
    _exclude_files: IgnoredAny,
    /// Deprecated Spin 1 field; refused.
    #[serde(default)]
    pub allowed_http_hosts: Vec<String>,
    /// Network destinations the component may reach; may hold templates.
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    /// Key-value stores; accepted and ignored (a component using one fails the import check).
    #[serde(default, rename = "key_value_stores")]
    _key_value_stores: IgnoredAny,
    /// SQLite databases; accepted and ignored (a component using one fails the import check).
    #[serde(default, rename = "sqlite_databases")]
    _sqlite_databases: IgnoredAny,
    /// AI models; accepted and ignored (a component using one fails the import check).
    #[serde(default, rename = "ai_models")]
    _ai_models: IgnoredAny,
    /// Deployment targets; accepted and ignored.
    #[serde(default, rename = "targets")]
    _targets: IgnoredAny,
    /// `spin build` settings; accepted and ignored.
    #[serde(default, rename = "build")]
    _build: IgnoredAny,
    /// Settings for other tools; accepted and ignored.
    #[serde(default, rename = "tool")]
    _tool: IgnoredAny,
    /// Only meaningful with `dependencies`; accepted and ignored.
    #[serde(default, rename = "dependencies_inherit_configuration")]
    _dependencies_inherit_configuration: IgnoredAny,
    /// Component dependencies (composition); refused.
    #[serde(default)]
    pub dependencies: BTreeMap<String, toml::Value>,
    /// Build profiles; accepted and ignored.
    #[serde(default, rename = "profile")]
    _profile: IgnoredAny,
}

/// The `[application]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    /// Application name, shown nowhere but required by Spin.
    pub name: String,
    /// Application version.
    #[serde(default)]
    pub version: String,
    /// Free text; accepted and ignored.
    #[serde(default, rename = "description")]
    _description: IgnoredAny,
    /// Free text; accepted and ignored.
    #[serde(default, rename = "authors")]
    _authors: IgnoredAny,
    /// Deployment targets; accepted and ignored.
    #[serde(default, rename = "targets")]
    _targets: IgnoredAny,
    /// `[application.trigger.<type>]` settings (only `http.base` matters).
    #[serde(default)]
    pub trigger: BTreeMap<String, toml::Table>,
    /// Settings for other tools; accepted and ignored.
    #[serde(default, rename = "tool")]
    _tool: IgnoredAny,
}

/// One `[[trigger.http]]` entry, with the HTTP trigger's own fields.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpTrigger {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    component: Option<toml::Value>,
    #[serde(default)]
    components: Option<toml::Table>,
    #[serde(default)]
    dependencies: Option<toml::Table>,
    route: toml::Value,
    #[serde(default)]
    executor: Option<toml::Table>,
    #[serde(default)]
    static_response: Option<toml::Value>,
}

/// The raw manifest as written on disk.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    /// Checked before deserializing; listed so it is not an unknown field.
    #[serde(rename = "spin_manifest_version")]
    _spin_manifest_version: IgnoredAny,
    application: Application,
    #[serde(default)]
    variables: BTreeMap<String, Variable>,
    #[serde(rename = "trigger", default)]
    triggers: BTreeMap<String, Vec<toml::Table>>,
    #[serde(rename = "component", default)]
    components: BTreeMap<String, Component>,
}

/// A routable `[[trigger.http]]` entry: the route as written and its component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRoute {
    /// The route as written in the manifest, e.g. `/api/...`.
    pub route: String,
    /// The id of the component that handles it.
    pub component: String,
}

/// A validated manifest, ready for the host to run.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// The directory holding `spin.toml`; component sources are relative to it.
    pub dir: PathBuf,
    /// `[application]`.
    pub application: Application,
    /// `[variables]`, keyed by name.
    pub variables: BTreeMap<String, Variable>,
    /// Routable HTTP triggers in manifest order.
    pub routes: Vec<HttpRoute>,
    /// `[component.<id>]` tables keyed by id.
    pub components: BTreeMap<String, Component>,
}

impl Manifest {
    /// Resolves `--from` like `spin up`: a directory means `<dir>/spin.toml`.
    pub fn locate(from: &Path) -> PathBuf {
        if from.is_dir() {
            from.join("spin.toml")
        } else {
            from.to_path_buf()
        }
    }

    /// Reads and validates the manifest at `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read manifest file {}", path.display()))?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .canonicalize()
            .with_context(|| format!("failed to resolve the directory of {}", path.display()))?;
        Self::parse(&text, dir).with_context(|| format!("invalid manifest {}", path.display()))
    }

    /// Parses and validates manifest text; `dir` is the application directory.
    pub fn parse(text: &str, dir: PathBuf) -> Result<Self> {
        let table: toml::Table = toml::from_str(text).context("manifest is not valid TOML")?;
        match table.get("spin_manifest_version") {
            Some(toml::Value::Integer(2)) => {}
            Some(other) => bail!(
                "unsupported spin_manifest_version {other}: spin-host reads manifest version 2 only"
            ),
            None if table.contains_key("spin_version") => {
                bail!("manifest version 1 (spin_version) is not supported: use spin_manifest_version = 2")
            }
            None => bail!("missing spin_manifest_version = 2"),
        }
        let raw: RawManifest = toml::Value::Table(table)
            .try_into()
            .context("manifest does not match the Spin manifest v2 schema")?;

        for (name, variable) in &raw.variables {
            validate_variable_name(name)
                .map_err(|reason| anyhow::anyhow!("invalid variable name {reason}"))?;
            ensure!(
                variable.required ^ variable.default.is_some(),
                "invalid variable {name:?}: must be `required` OR have a `default`"
            );
        }

        for (id, component) in &raw.components {
            validate_component_id(id).with_context(|| format!("invalid component id {id:?}"))?;
            validate_component(id, component, &raw.variables)?;
        }

        let routes = http_routes(&raw)?;
        Ok(Self {
            dir,
            application: raw.application,
            variables: raw.variables,
            routes,
            components: raw.components,
        })
    }

    /// The path of the component's Wasm file, resolved against the app directory.
    pub fn component_source(&self, id: &str) -> Result<PathBuf> {
        let component = self
            .components
            .get(id)
            .with_context(|| format!("no component {id:?} in the manifest"))?;
        let source = component
            .source
            .as_str()
            .context("only local file sources are supported")?;
        Ok(self.dir.join(source))
    }
}

/// Checks a component id against Spin's kebab-case id rules.
fn validate_component_id(id: &str) -> Result<()> {
    ensure!(!id.is_empty(), "empty");
    for word in id.split('-') {
        let mut chars = word.chars();
        let Some(first) = chars.next() else {
            bail!("'-'-separated words must not be empty");
        };
        ensure!(
            first.is_ascii_alphabetic(),
            "'-'-separated words must start with an ASCII letter; got {first:?}"
        );
        let upper = first.is_ascii_uppercase();
        for ch in chars {
            ensure!(
                ch.is_ascii_alphanumeric(),
                "invalid character {ch:?}: only ASCII letters, digits and '-' are allowed"
            );
            ensure!(
                ch.is_ascii_digit() || ch.is_ascii_uppercase() == upper,
                "'-'-separated words must be all lowercase or all UPPERCASE"
            );
        }
    }
    Ok(())
}

/// Refuses what the host cannot run faithfully and checks variable templates.
fn validate_component(
    id: &str,
    component: &Component,
    app_variables: &BTreeMap<String, Variable>,
) -> Result<()> {
    ensure!(
        component.source.is_str(),
        "component {id:?}: only a local file `source` is supported by spin-host"
    );
    ensure!(
        component.files.is_empty(),
        "component {id:?}: `files` is not supported by spin-host (it mounts no files)"
    );
    ensure!(
        component.allowed_http_hosts.is_empty(),
        "component {id:?}: the deprecated `allowed_http_hosts` is not supported; use `allowed_outbound_hosts`"
    );
    ensure!(
        component.dependencies.is_empty(),
        "component {id:?}: component `dependencies` are not supported by spin-host"
    );
    for (name, value) in &component.variables {
        validate_variable_name(name).map_err(|reason| {
            anyhow::anyhow!("component {id:?}: invalid variable name {reason}")
        })?;
        let template = Template::parse(value)
            .with_context(|| format!("component {id:?}: variable {name:?}"))?;
        for referenced in template.variables() {
            ensure!(
                app_variables.contains_key(referenced),
                "component {id:?}: variable {name:?}: invalid variable template: unknown variable {referenced:?}"
            );
        }
    }
    for host in &component.allowed_outbound_hosts {
        let template = Template::parse(host)
            .with_context(|| format!("component {id:?}: allowed_outbound_hosts entry {host:?}"))?;
        for referenced in template.variables() {
            ensure!(
                app_variables.contains_key(referenced),
                "component {id:?}: allowed_outbound_hosts entry {host:?} refers to unknown variable {referenced:?}"
            );
        }
    }
    Ok(())
}

/// Collects the routable HTTP triggers and checks `[application.trigger.http]`.
fn http_routes(raw: &RawManifest) -> Result<Vec<HttpRoute>> {
    if let Some(http) = raw.application.trigger.get("http") {
        for (key, value) in http {
            ensure!(
                key == "base",
                "unknown field {key:?} in [application.trigger.http]"
            );
            match value.as_str() {
                // Spin accepts base = "/" with a deprecation warning.
                Some("/") => eprintln!(
                    "Warning: This application has the deprecated trigger 'base' set to the default value '/'. This may be an error in the future!"
                ),
                _ => bail!(
                    "This application is using the deprecated trigger 'base' field. The base must be prepended to each [[trigger.http]]'s 'route'."
                ),
            }
        }
    }

    let mut routes = Vec::new();
    for (trigger_type, triggers) in &raw.triggers {
        ensure!(
            trigger_type == "http",
            "trigger type {trigger_type:?} is not supported: spin-host runs HTTP triggers only"
        );
        for (index, table) in triggers.iter().enumerate() {
            let trigger: HttpTrigger = toml::Value::Table(table.clone())
                .try_into()
                .with_context(|| format!("invalid [[trigger.http]] entry #{}", index + 1))?;
            let label = trigger
                .id
                .clone()
                .unwrap_or_else(|| format!("#{}", index + 1));
            if let Some(route) = http_route(&label, &trigger, &raw.components)? {
                routes.push(route);
            }
        }
    }
    Ok(routes)
}

/// Validates one HTTP trigger; `None` for a private (unroutable) endpoint.
fn http_route(
    label: &str,
    trigger: &HttpTrigger,
    components: &BTreeMap<String, Component>,
) -> Result<Option<HttpRoute>> {
    ensure!(
        trigger.static_response.is_none(),
        "trigger {label}: `static_response` is not supported by spin-host"
    );
    ensure!(
        trigger.components.as_ref().is_none_or(|c| c.is_empty())
            && trigger.dependencies.as_ref().is_none_or(|d| d.is_empty()),
        "trigger {label}: `components`/`dependencies` are not supported by spin-host"
    );
    if let Some(executor) = &trigger.executor {
        match executor.get("type").and_then(toml::Value::as_str) {
            Some("http") | Some("spin") => {}
            Some(other) => {
                bail!("trigger {label}: executor {other:?} is not supported by spin-host")
            }
            None => bail!("trigger {label}: executor needs a `type`"),
        }
    }
    let component = match &trigger.component {
        Some(toml::Value::String(id)) => id.clone(),
        Some(_) => bail!("trigger {label}: inline components are not supported by spin-host; reference a [component.<id>] by id"),
        None => bail!("Triggers must specify either component or static_response - {label} has neither"),
    };
    ensure!(
        components.contains_key(&component),
        "trigger {label}: component {component:?} is not defined in the manifest"
    );
    match &trigger.route {
        toml::Value::String(route) => Ok(Some(HttpRoute {
            route: route.clone(),
            component,
        })),
        toml::Value::Table(t)
            if t.len() == 1 && t.get("private") == Some(&toml::Value::Boolean(true)) =>
        {
            Ok(None)
        }
        _ => bail!(
            "route must be a string pattern or '{{ private = true }}': trigger {label} has {}",
            trigger.route
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
spin_manifest_version = 2

[application]
name = "seat-booking"
version = "0.1.0"

[variables]
redis_address = { default = "redis://127.0.0.1:6379" }
api_key = { required = true, secret = true }

[[trigger.http]]
route = "/..."
component = "seat-booking"

[[trigger.http]]
route = { private = true }
component = "seat-booking"

[component.seat-booking]
source = "target/app.wasm"
allowed_outbound_hosts = ["redis://{{ redis_address }}"]
[component.seat-booking.variables]
redis_address = "{{ redis_address }}"
greeting = "hello"
[component.seat-booking.build]
command = "cargo build"
"#;

    fn parse(text: &str) -> Result<Manifest> {
        Manifest::parse(text, PathBuf::from("/app"))
    }

    #[test]
    fn parses_a_good_manifest() {
        let m = parse(GOOD).unwrap();
        assert_eq!(m.application.name, "seat-booking");
        assert_eq!(
            m.routes,
            vec![HttpRoute {
                route: "/...".into(),
                component: "seat-booking".into()
            }]
        );
        assert!(m.variables["api_key"].required);
        assert_eq!(
            m.component_source("seat-booking").unwrap(),
            PathBuf::from("/app/target/app.wasm")
        );
        let c = &m.components["seat-booking"];
        assert_eq!(c.variables["greeting"], "hello");
    }

    fn assert_rejected(text: &str, needle: &str) {
        let err = format!("{:#}", parse(text).unwrap_err());
        assert!(err.contains(needle), "{err:?} should mention {needle:?}");
    }

    #[test]
    fn rejects_wrong_or_missing_version() {
        assert_rejected(
            &GOOD.replace("spin_manifest_version = 2", "spin_manifest_version = 3"),
            "spin_manifest_version",
        );
        assert_rejected(
            &GOOD.replace("spin_manifest_version = 2", ""),
            "spin_manifest_version",
        );
    }

    #[test]
    fn rejects_unknown_fields() {
        assert_rejected(
            &GOOD.replace("source = ", "sauce = \"x\"\nsource = "),
            "sauce",
        );
    }

    #[test]
    fn rejects_variable_with_both_default_and_required() {
        assert_rejected(
            &GOOD.replace(
                "api_key = { required = true, secret = true }",
                "api_key = { required = true, default = \"x\" }",
            ),
            "must be `required` OR have a `default`",
        );
        assert_rejected(
            &GOOD.replace(
                "api_key = { required = true, secret = true }",
                "api_key = {}",
            ),
            "must be `required` OR have a `default`",
        );
    }

    #[test]
    fn rejects_bad_variable_names_and_unknown_references() {
        assert_rejected(
            &GOOD.replace("api_key = {", "Api_Key = {"),
            "invalid variable name",
        );
        assert_rejected(
            &GOOD.replace("greeting = \"hello\"", "greeting = \"{{ nope }}\""),
            "unknown variable \"nope\"",
        );
        assert_rejected(
            &GOOD.replace("greeting = \"hello\"", "greeting = \"{{ nope\""),
            "unmatched",
        );
    }

    #[test]
    fn rejects_trigger_to_missing_component() {
        assert_rejected(
            &GOOD.replacen("component = \"seat-booking\"", "component = \"other\"", 1),
            "not defined",
        );
    }

    #[test]
    fn rejects_non_http_triggers_and_bad_base() {
        assert_rejected(
            &GOOD.replace(
                "[[trigger.http]]\nroute = \"/...\"",
                "[[trigger.redis]]\nchannel = \"x\"\nroute = \"/...\"",
            ),
            "HTTP triggers only",
        );
        assert_rejected(
            &GOOD.replace(
                "version = \"0.1.0\"",
                "version = \"0.1.0\"\n[application.trigger.http]\nbase = \"/api\"",
            ),
            "deprecated trigger 'base'",
        );
        assert!(parse(&GOOD.replace(
            "version = \"0.1.0\"",
            "version = \"0.1.0\"\n[application.trigger.http]\nbase = \"/\"",
        ))
        .is_ok());
    }

    #[test]
    fn rejects_bad_component_ids_and_files() {
        assert_rejected(
            &GOOD.replace("seat-booking", "Seat_booking"),
            "invalid component id",
        );
        assert_rejected(
            &GOOD.replace("source = ", "files = [\"a\"]\nsource = "),
            "`files` is not supported",
        );
    }

    #[test]
    fn rejects_invalid_toml_and_missing_file() {
        assert_rejected("spin_manifest_version = ", "not valid TOML");
        let err = Manifest::load(Path::new("/definitely/not/here/spin.toml")).unwrap_err();
        assert!(format!("{err:#}").contains("failed to read manifest file"));
    }
}
