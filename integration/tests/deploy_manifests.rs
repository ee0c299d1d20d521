//! The deployment files under `deploy/` checked as far as a machine without
//! Docker's engine or a Kubernetes cluster allows.
//!
//! Why: nobody runs `docker compose up` or `kubectl apply` in CI here, so a
//! typo in a manifest, a variable that `spin.toml` renamed, or a Secret key
//! the SpinApp no longer finds would only show on a user's laptop or
//! cluster. These tests catch that class of mistake:
//!
//! - `deploy/compose.yaml` against the Compose Specification's JSON schema;
//! - `deploy/spinkube/spinapp.yaml` against the `SpinApp` CRD's
//!   `openAPIV3Schema`, with unknown fields refused as `kubectl apply`'s
//!   default strict field validation refuses them;
//! - the Namespace, Secret, Service and StatefulSet against the Kubernetes
//!   1.33 "strict" JSON schemas;
//! - the wiring between them: variables, Secret keys, labels, host names,
//!   and the one Redis configuration (`deploy/redis.conf`) that Compose,
//!   Kubernetes and the local run all use, started for real here.
//!
//! The schemas are kept as data in `deploy/schemas/` (README there says where
//! each came from). Every schema check also validates a deliberately broken
//! copy, to prove the check can fail.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use integration::{free_port, output_dir, root, wait_until};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------
// Reading files
// ---------------------------------------------------------------------------

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative))
        .unwrap_or_else(|e| panic!("read {relative}: {e}"))
}

/// Every YAML document of a file, as JSON values.
fn yaml_documents(relative: &str) -> Vec<Value> {
    yaml_documents_of(&read(relative), relative)
}

fn yaml_documents_of(text: &str, name: &str) -> Vec<Value> {
    serde_norway::Deserializer::from_str(text)
        .map(|doc| {
            <Value as serde::Deserialize>::deserialize(doc)
                .unwrap_or_else(|e| panic!("{name} is not valid YAML: {e}"))
        })
        .filter(|doc| !doc.is_null())
        .collect()
}

fn yaml_document(relative: &str) -> Value {
    let mut docs = yaml_documents(relative);
    assert_eq!(docs.len(), 1, "{relative} should hold exactly one document");
    docs.remove(0)
}

/// The one object of `kind` among the SpinKube manifests.
fn k8s_object(kind: &str) -> Value {
    let found: Vec<Value> = spinkube_files()
        .iter()
        .flat_map(|file| yaml_documents(file))
        .filter(|doc| doc["kind"] == kind)
        .collect();
    assert_eq!(found.len(), 1, "expected one {kind} in deploy/spinkube/");
    found.into_iter().next().unwrap()
}

fn spinkube_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(root().join("deploy/spinkube"))
        .expect("list deploy/spinkube")
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".yaml"))
        .map(|name| format!("deploy/spinkube/{name}"))
        .collect();
    files.sort();
    files
}

/// The variable names `spin.toml` declares, e.g. `redis_address`.
fn spin_toml_variables() -> BTreeSet<String> {
    let manifest: toml::Table = read("spin.toml").parse().expect("spin.toml is TOML");
    manifest["variables"]
        .as_table()
        .expect("spin.toml has [variables]")
        .keys()
        .cloned()
        .collect()
}

/// The `source` of spin.toml's one component.
fn spin_toml_component_source() -> String {
    let manifest: toml::Table = read("spin.toml").parse().expect("spin.toml is TOML");
    let components = manifest["component"].as_table().expect("[component.*]");
    assert_eq!(components.len(), 1, "spin.toml has one component");
    let (_, component) = components.iter().next().unwrap();
    component["source"]
        .as_str()
        .expect("component source is a path")
        .to_string()
}

/// `deploy/redis.conf` as directive -> arguments (comments and blanks dropped).
fn redis_conf() -> BTreeMap<String, String> {
    read("deploy/redis.conf")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (key, value) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            (key.to_ascii_lowercase(), value.trim().to_string())
        })
        .collect()
}

/// (password, host, port) of a `redis://[:password@]host:port` URL.
fn parse_redis_url(url: &str) -> (String, String, u16) {
    let rest = url
        .strip_prefix("redis://")
        .unwrap_or_else(|| panic!("{url} is not a redis:// URL"));
    let (auth, host_port) = rest.rsplit_once('@').unwrap_or(("", rest));
    let password = auth.strip_prefix(':').unwrap_or(auth).to_string();
    let (host, port) = host_port
        .split_once(':')
        .unwrap_or_else(|| panic!("{url} should name its port"));
    (
        password,
        host.to_string(),
        port.parse().expect("numeric port"),
    )
}

fn str_list(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected a list, got {value}"))
        .iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("expected strings, got {v}"))
                .to_string()
        })
        .collect()
}

/// The argument following `flag` in a command line.
fn arg_after<'a>(args: &'a [String], flag: &str) -> &'a str {
    let at = args
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("{flag} missing from {args:?}"));
    args.get(at + 1)
        .unwrap_or_else(|| panic!("{flag} has no value in {args:?}"))
}

// ---------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------

/// Validation errors as "path: message" lines (empty when valid).
fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn assert_valid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors = errors(validator, instance);
    assert!(
        errors.is_empty(),
        "{what} fails its schema:\n{}",
        errors.join("\n")
    );
}

fn assert_invalid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    assert!(
        !errors(validator, instance).is_empty(),
        "the broken copy ({what}) passed validation: the check cannot fail"
    );
}

fn compose_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&read("deploy/schemas/compose-spec.json")).unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(&schema)
        .expect("the Compose schema compiles")
}

const K8S_SCHEMAS: &str = "deploy/schemas/kubernetes-v1.33.0-local-strict";
const K8S_DEFINITIONS_URI: &str = "https://kubernetes.io/api/_definitions.json";

/// Serves the Kubernetes definitions kept in the repository, and nothing else.
struct KubernetesDefinitions(Value);

impl jsonschema::Retrieve for KubernetesDefinitions {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        if uri.as_str() == K8S_DEFINITIONS_URI {
            Ok(self.0.clone())
        } else {
            Err(format!("{uri} is not kept in {K8S_SCHEMAS}").into())
        }
    }
}

fn k8s_validator_for(schema: &Value) -> jsonschema::Validator {
    let definitions: Value =
        serde_json::from_str(&read(&format!("{K8S_SCHEMAS}/_definitions.json"))).unwrap();
    jsonschema::options()
        .with_retriever(KubernetesDefinitions(definitions))
        .build(schema)
        .expect("the Kubernetes schema compiles")
}

/// The Kubernetes 1.33 schema of a core object, e.g. `statefulset-apps-v1`.
fn k8s_validator(name: &str) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&read(&format!("{K8S_SCHEMAS}/{name}.json"))).unwrap();
    k8s_validator_for(&schema)
}

/// The SpinApp CRD's `openAPIV3Schema`, made strict the way the API server's
/// strict field validation is: an object schema that lists its properties
/// accepts no others (unless it says `x-kubernetes-preserve-unknown-fields`),
/// and `metadata` is a Kubernetes ObjectMeta.
fn spinapp_validator() -> jsonschema::Validator {
    let crd = yaml_document("deploy/schemas/core.spinkube.dev_spinapps.yaml");
    assert_eq!(crd["spec"]["names"]["kind"], "SpinApp");
    let version = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "v1alpha1")
        .expect("the CRD serves v1alpha1");
    let mut schema = version["schema"]["openAPIV3Schema"].clone();
    forbid_unknown_fields(&mut schema);
    schema["properties"]["metadata"] = json!({
        "$ref": format!("{K8S_DEFINITIONS_URI}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
    });
    schema["properties"]["apiVersion"]["const"] = json!("core.spinkube.dev/v1alpha1");
    schema["properties"]["kind"]["const"] = json!("SpinApp");
    schema["required"] = json!(["apiVersion", "kind", "metadata", "spec"]);
    k8s_validator_for(&schema)
}

fn forbid_unknown_fields(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            let preserves = map.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true));
            if map.contains_key("properties")
                && !map.contains_key("additionalProperties")
                && !preserves
            {
                map.insert("additionalProperties".into(), json!(false));
            }
            map.values_mut().for_each(forbid_unknown_fields);
        }
        Value::Array(items) => items.iter_mut().for_each(forbid_unknown_fields),
        _ => {}
    }
}

/// A copy of `doc` with `edit` applied to the value at JSON pointer `at`.
fn broken(doc: &Value, at: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut copy = doc.clone();
    edit(
        copy.pointer_mut(at)
            .unwrap_or_else(|| panic!("{at} not found")),
    );
    copy
}

// ---------------------------------------------------------------------------
// deploy/redis.conf
// ---------------------------------------------------------------------------

#[test]
fn redis_conf_never_evicts_and_logs_every_write() {
    let conf = redis_conf();
    assert_eq!(conf["maxmemory-policy"], "noeviction");
    assert_eq!(conf["appendonly"], "yes");
    assert!(
        ["everysec", "always"].contains(&conf["appendfsync"].as_str()),
        "appendfsync must be everysec or always, is {}",
        conf["appendfsync"]
    );
}

#[test]
fn redis_conf_leaves_address_password_and_data_dir_to_each_runner() {
    // Compose, Kubernetes and scripts/lib.sh pass these on the command line;
    // a value in the file would silently lose to them or clash.
    let conf = redis_conf();
    for directive in ["bind", "port", "requirepass", "dir", "maxmemory"] {
        assert!(
            !conf.contains_key(directive),
            "redis.conf should not set {directive}"
        );
    }
}

#[test]
fn redis_conf_starts_a_real_redis_server_that_persists() {
    let port = free_port();
    let dir = output_dir().join(format!("redis-conf-{port}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let conf = root().join("deploy/redis.conf");
    let mut child = Command::new("redis-server")
        .arg(&conf)
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .arg("--dir")
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start redis-server (apt-get install redis-server)");
    wait_until(
        Duration::from_secs(10),
        "redis-server with deploy/redis.conf",
        || {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("redis-server refused deploy/redis.conf: {status}");
            }
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        },
    );
    let mut conn = redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .and_then(|c| c.get_connection())
        .expect("connect");
    let mut config = |name: &str| -> String {
        let pair: Vec<String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg(name)
            .query(&mut conn)
            .unwrap();
        pair[1].clone()
    };
    let (policy, appendonly, fsync) = (
        config("maxmemory-policy"),
        config("appendonly"),
        config("appendfsync"),
    );
    let _: () = redis::cmd("SET")
        .arg("probe")
        .arg("1")
        .query(&mut conn)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(policy, "noeviction");
    assert_eq!(appendonly, "yes");
    assert_eq!(fsync, redis_conf()["appendfsync"]);
    let logged = dir.join("appendonlydir").is_dir();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        logged,
        "the append-only log should be in the --dir given on the command line"
    );
}

#[test]
fn local_run_starts_redis_with_deploy_redis_conf() {
    let lib = read("scripts/lib.sh");
    assert!(
        lib.contains("deploy/redis.conf"),
        "scripts/lib.sh (ensure_redis_running) should start redis-server with deploy/redis.conf"
    );
}

// ---------------------------------------------------------------------------
// deploy/compose.yaml
// ---------------------------------------------------------------------------

fn compose() -> Value {
    yaml_document("deploy/compose.yaml")
}

#[test]
fn compose_file_matches_the_compose_spec_schema() {
    assert_valid(&compose_validator(), &compose(), "deploy/compose.yaml");
}

#[test]
fn compose_file_with_a_misspelt_or_mistyped_key_fails_the_schema() {
    let validator = compose_validator();
    let compose = compose();
    let misspelt = broken(&compose, "/services/seat-booking", |service| {
        let env = service
            .as_object_mut()
            .unwrap()
            .remove("environment")
            .unwrap();
        service["enviroment"] = env;
    });
    assert_invalid(&validator, &misspelt, "services.seat-booking.enviroment");
    let unknown_condition = broken(
        &compose,
        "/services/seat-booking/depends_on/redis/condition",
        |condition| *condition = json!("service_ready"),
    );
    assert_invalid(
        &validator,
        &unknown_condition,
        "depends_on condition service_ready",
    );
}

#[test]
fn compose_redis_runs_deploy_redis_conf_on_a_named_volume() {
    let compose = compose();
    let redis = &compose["services"]["redis"];
    let command = str_list(&redis["command"]);
    assert_eq!(command[0], "redis-server");
    let volumes = str_list(&redis["volumes"]);
    let conf_mount = format!("./redis.conf:{}:ro", command[1]);
    assert!(
        volumes.contains(&conf_mount),
        "redis should mount deploy/redis.conf read-only where its command reads it ({conf_mount}), mounts {volumes:?}"
    );
    let data_dir = arg_after(&command, "--dir");
    let data_volume = volumes
        .iter()
        .find_map(|v| v.strip_suffix(&format!(":{data_dir}")))
        .unwrap_or_else(|| panic!("nothing mounted at the data dir {data_dir}"));
    assert!(
        compose["volumes"].get(data_volume).is_some(),
        "the data dir should be the named volume {data_volume}, declared under volumes:"
    );
}

#[test]
fn compose_passes_exactly_the_spin_toml_variables() {
    let compose = compose();
    let env = compose["services"]["seat-booking"]["environment"]
        .as_object()
        .expect("environment as a map");
    let passed: BTreeSet<String> = env
        .keys()
        .filter_map(|k| k.strip_prefix("SPIN_VARIABLE_"))
        .map(str::to_ascii_lowercase)
        .collect();
    assert_eq!(passed, spin_toml_variables());
}

#[test]
fn compose_redis_address_names_the_redis_service_host_and_password() {
    let compose = compose();
    let env = &compose["services"]["seat-booking"]["environment"];
    let (password, host, port) =
        parse_redis_url(env["SPIN_VARIABLE_REDIS_ADDRESS"].as_str().unwrap());
    assert_eq!(env["SPIN_VARIABLE_REDIS_HOST"], format!("{host}:{port}"));
    assert!(
        compose["services"].get(&host).is_some(),
        "{host} is not a Compose service"
    );
    assert_eq!(port, 6379, "redis.conf keeps Redis's default port");
    let requirepass = arg_after(
        &str_list(&compose["services"][&host]["command"]),
        "--requirepass",
    )
    .to_string();
    assert_eq!(
        password, requirepass,
        "the API's password should be Redis's"
    );
    assert!(
        requirepass.starts_with("${REDIS_PASSWORD"),
        "the password should come from the environment file, not the Compose file"
    );
}

#[test]
fn compose_serves_the_built_component_with_the_official_spin_image() {
    let compose = compose();
    let app = &compose["services"]["seat-booking"];
    let image = app["image"].as_str().unwrap();
    assert!(
        image.starts_with("ghcr.io/spinframework/spin:v"),
        "{image} is not a released official Spin image"
    );
    let command = str_list(&app["command"]);
    assert_eq!(command[0], "up");
    let manifest = arg_after(&command, "--from");
    let mounts: BTreeMap<String, String> = app["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            assert_eq!(v["type"], "bind");
            assert_eq!(v["read_only"], true);
            (
                v["target"].as_str().unwrap().to_string(),
                v["source"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(mounts[manifest], "../spin.toml");
    let app_dir = Path::new(manifest).parent().unwrap();
    let source = spin_toml_component_source();
    let wasm_target = app_dir.join(&source).to_str().unwrap().to_string();
    assert_eq!(
        mounts.get(&wasm_target).map(String::as_str),
        Some(format!("../{source}").as_str()),
        "the component spin.toml names must be mounted beside it"
    );
    let listen_port = arg_after(&command, "--listen").rsplit(':').next().unwrap();
    let ports = str_list(&app["ports"]);
    assert!(
        ports
            .iter()
            .any(|p| p.ends_with(&format!(":{listen_port}"))),
        "no published port reaches --listen's port {listen_port}: {ports:?}"
    );
}

#[test]
fn compose_env_example_names_every_interpolated_variable_without_secrets() {
    let compose_text = read("deploy/compose.yaml");
    let code: String = compose_text
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let used: BTreeSet<String> = code
        .split("${")
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect();
    let example: BTreeMap<String, String> = read("deploy/compose.env.example")
        .lines()
        .filter(|line| !line.trim_start().starts_with('#') && line.contains('='))
        .map(|line| {
            let (k, v) = line.split_once('=').unwrap();
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect();
    assert_eq!(used, example.keys().cloned().collect::<BTreeSet<_>>());
    for (name, value) in &example {
        assert!(
            value.is_empty(),
            "{name} should be left empty in the example, not shipped with a value"
        );
    }
}

// ---------------------------------------------------------------------------
// deploy/spinkube/ and deploy/kustomization.yaml
// ---------------------------------------------------------------------------

#[test]
fn spinapp_matches_the_spinapp_crd_schema() {
    let spinapp = k8s_object("SpinApp");
    assert_valid(&spinapp_validator(), &spinapp, "the SpinApp");
    assert_eq!(spinapp["spec"]["executor"], "containerd-shim-spin");
    assert!(
        spinapp["spec"]["replicas"].as_i64().unwrap() >= 2,
        "run more than one replica"
    );
}

#[test]
fn spinapp_with_an_unknown_field_or_wrong_type_fails_the_crd_schema() {
    let validator = spinapp_validator();
    let spinapp = k8s_object("SpinApp");
    let unknown = broken(&spinapp, "/spec", |spec| spec["replica"] = json!(3));
    assert_invalid(&validator, &unknown, "spec.replica");
    let mistyped = broken(&spinapp, "/spec/replicas", |r| *r = json!("three"));
    assert_invalid(&validator, &mistyped, "spec.replicas: \"three\"");
    let no_key = broken(&spinapp, "/spec/variables/0/valueFrom/secretKeyRef", |r| {
        r.as_object_mut().unwrap().remove("key");
    });
    assert_invalid(&validator, &no_key, "a secretKeyRef without key");
    let bad_metadata = broken(&spinapp, "/metadata", |m| m["label"] = json!({"a": "b"}));
    assert_invalid(&validator, &bad_metadata, "metadata.label");
}

#[test]
fn core_objects_match_the_kubernetes_schemas() {
    for (kind, schema) in [
        ("Namespace", "namespace-v1"),
        ("Service", "service-v1"),
        ("StatefulSet", "statefulset-apps-v1"),
    ] {
        assert_valid(&k8s_validator(schema), &k8s_object(kind), kind);
    }
}

#[test]
fn core_objects_with_a_misspelt_or_mistyped_field_fail_the_kubernetes_schemas() {
    let statefulset = k8s_object("StatefulSet");
    let validator = k8s_validator("statefulset-apps-v1");
    let misspelt = broken(&statefulset, "/spec", |spec| {
        let templates = spec
            .as_object_mut()
            .unwrap()
            .remove("volumeClaimTemplates")
            .unwrap();
        spec["volumeClaimTemplate"] = templates;
    });
    assert_invalid(&validator, &misspelt, "spec.volumeClaimTemplate");
    let mistyped = broken(
        &statefulset,
        "/spec/template/spec/containers/0/ports/0/containerPort",
        |p| *p = json!("6379"),
    );
    assert_invalid(&validator, &mistyped, "containerPort: \"6379\"");
    let service = k8s_object("Service");
    let no_port = broken(&service, "/spec/ports/0", |p| {
        p.as_object_mut().unwrap().remove("port");
    });
    assert_invalid(
        &k8s_validator("service-v1"),
        &no_port,
        "a Service port without port",
    );
}

#[test]
fn secret_example_matches_the_kubernetes_schema() {
    let validator = k8s_validator("secret-v1");
    let secret = yaml_document("deploy/spinkube/secret.example.yaml");
    assert_valid(&validator, &secret, "secret.example.yaml");
    let mistyped = broken(&secret, "/stringData", |d| d["admin-token"] = json!(42));
    assert_invalid(&validator, &mistyped, "stringData value 42");
}

#[test]
fn spinapp_variables_are_exactly_the_spin_toml_variables() {
    let spinapp = k8s_object("SpinApp");
    let names: BTreeSet<String> = spinapp["spec"]["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, spin_toml_variables());
}

/// Every `secretKeyRef` in `value`, as (secret name, key).
fn secret_refs(value: &Value, found: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            if let Some(r) = map.get("secretKeyRef") {
                found.push((
                    r["name"]
                        .as_str()
                        .expect("secretKeyRef names its Secret")
                        .to_string(),
                    r["key"].as_str().unwrap().to_string(),
                ));
            }
            map.values().for_each(|v| secret_refs(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| secret_refs(v, found)),
        _ => {}
    }
}

#[test]
fn secret_has_every_key_the_spinapp_and_redis_read() {
    let secret = yaml_document("deploy/spinkube/secret.example.yaml");
    let keys: BTreeSet<String> = secret["stringData"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let mut refs = Vec::new();
    secret_refs(&k8s_object("SpinApp"), &mut refs);
    secret_refs(&k8s_object("StatefulSet"), &mut refs);
    assert!(
        refs.len() >= 3,
        "the address, the admin token and the password come from the Secret"
    );
    for (name, key) in &refs {
        assert_eq!(name, secret["metadata"]["name"].as_str().unwrap());
        assert!(
            keys.contains(key),
            "the Secret has no key {key}; it has {keys:?}"
        );
    }
    let read_keys: BTreeSet<String> = refs.into_iter().map(|(_, key)| key).collect();
    assert_eq!(read_keys, keys, "every Secret key is read by something");
}

#[test]
fn redis_service_selects_the_statefulset_pods() {
    let service = k8s_object("Service");
    let statefulset = k8s_object("StatefulSet");
    let pod_labels = statefulset["spec"]["template"]["metadata"]["labels"]
        .as_object()
        .unwrap();
    let covers = |selector: &Value| {
        selector
            .as_object()
            .unwrap()
            .iter()
            .all(|(k, v)| pod_labels.get(k) == Some(v))
    };
    assert!(
        covers(&service["spec"]["selector"]),
        "the Service selects no Redis pod"
    );
    assert!(covers(&statefulset["spec"]["selector"]["matchLabels"]));
    assert_eq!(
        statefulset["spec"]["serviceName"],
        service["metadata"]["name"]
    );
    let container_ports: Vec<&Value> = statefulset["spec"]["template"]["spec"]["containers"][0]
        ["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["name"])
        .collect();
    for port in service["spec"]["ports"].as_array().unwrap() {
        assert!(
            container_ports.contains(&&port["targetPort"]),
            "targetPort {} names no container port",
            port["targetPort"]
        );
    }
}

#[test]
fn redis_host_names_the_service_and_matches_the_secret_address() {
    let service = k8s_object("Service");
    let spinapp = k8s_object("SpinApp");
    let variable = |name: &str| {
        spinapp["spec"]["variables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no {name} variable"))
            .clone()
    };
    let redis_host = variable("redis_host")["value"]
        .as_str()
        .unwrap()
        .to_string();
    let expected = format!(
        "{}.{}.svc.cluster.local:{}",
        service["metadata"]["name"].as_str().unwrap(),
        service["metadata"]["namespace"].as_str().unwrap(),
        service["spec"]["ports"][0]["port"]
    );
    assert_eq!(redis_host, expected);

    let secret = yaml_document("deploy/spinkube/secret.example.yaml");
    let address_key = variable("redis_address")["valueFrom"]["secretKeyRef"]["key"]
        .as_str()
        .unwrap()
        .to_string();
    let (password, host, port) =
        parse_redis_url(secret["stringData"][&address_key].as_str().unwrap());
    assert_eq!(format!("{host}:{port}"), redis_host);
    assert_eq!(
        password,
        secret["stringData"]["redis-password"].as_str().unwrap()
    );
    // The documented kubectl command builds the same address.
    let example_comment = read("deploy/spinkube/secret.example.yaml");
    assert!(example_comment.contains(&format!("@{redis_host}\"")));
}

#[test]
fn statefulset_runs_one_redis_from_deploy_redis_conf_with_a_persistent_volume() {
    let statefulset = k8s_object("StatefulSet");
    let kustomization = yaml_document("deploy/kustomization.yaml");
    let spec = &statefulset["spec"];
    assert_eq!(spec["replicas"], 1, "a single primary");
    let pod = &spec["template"]["spec"];
    let container = &pod["containers"][0];
    let args = str_list(&container["args"]);
    assert_eq!(args[0], "redis-server");

    // The config file: the ConfigMap kustomize generates from deploy/redis.conf.
    let generator = kustomization["configMapGenerator"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| str_list(&g["files"]).contains(&"redis.conf".to_string()))
        .expect("kustomization.yaml generates a ConfigMap from redis.conf");
    let config_volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["configMap"]["name"] == generator["name"])
        .expect("a volume from the generated ConfigMap");
    let mounts = container["volumeMounts"].as_array().unwrap();
    let mount_path = |volume: &Value| {
        mounts
            .iter()
            .find(|m| m["name"] == *volume)
            .unwrap_or_else(|| panic!("volume {volume} is not mounted"))["mountPath"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        args[1],
        format!("{}/redis.conf", mount_path(&config_volume["name"]))
    );

    // The data: a volume claim template mounted where --dir points.
    let claim = &spec["volumeClaimTemplates"][0];
    assert_eq!(
        mount_path(&claim["metadata"]["name"]),
        arg_after(&args, "--dir")
    );
    assert!(claim["spec"]["resources"]["requests"]["storage"].is_string());

    // The password: from the Secret, through the environment.
    let password_arg = arg_after(&args, "--requirepass");
    let env_name = password_arg
        .strip_prefix("$(")
        .and_then(|s| s.strip_suffix(')'))
        .expect("--requirepass $(VAR), expanded by Kubernetes");
    let env = container["env"].as_array().unwrap();
    let from = env
        .iter()
        .find(|e| e["name"] == env_name)
        .unwrap_or_else(|| panic!("{env_name} is not in the container's env"));
    assert!(from["valueFrom"]["secretKeyRef"].is_object());
}

#[test]
fn kustomization_applies_every_manifest_but_the_secret_example() {
    let kustomization = yaml_document("deploy/kustomization.yaml");
    let listed: BTreeSet<String> = str_list(&kustomization["resources"])
        .into_iter()
        .map(|r| format!("deploy/{r}"))
        .collect();
    let expected: BTreeSet<String> = spinkube_files()
        .into_iter()
        .filter(|f| !f.ends_with("secret.example.yaml"))
        .collect();
    assert_eq!(listed, expected);
    for file in spinkube_files() {
        for doc in yaml_documents(&file) {
            let namespace = if doc["kind"] == "Namespace" {
                &doc["metadata"]["name"]
            } else {
                &doc["metadata"]["namespace"]
            };
            assert_eq!(
                *namespace, kustomization["namespace"],
                "{file}: {}",
                doc["kind"]
            );
        }
    }
}
