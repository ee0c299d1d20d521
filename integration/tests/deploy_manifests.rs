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
//! - the Namespace, Secret, Services, StatefulSets, Deployment,
//!   PodDisruptionBudgets and the ConfigMaps kustomize generates against the
//!   Kubernetes 1.33 "strict" JSON schemas;
//! - the replicated Redis topology both run: three Redis nodes (each with
//!   `min-replicas-to-write`), three Sentinels (quorum 2, the password),
//!   HAProxy as the one address the API is given, leading only to the node
//!   that authenticates, says `role:master` and that a majority of the
//!   Sentinels name (`deploy/ha/haproxy.cfg`), and `redis_replica_acks` 1;
//! - the wiring between them: variables, Secret keys, labels, host names,
//!   and the one Redis configuration (`deploy/redis.conf`) that Compose,
//!   Kubernetes and the local run all use, started for real here.
//!
//! The schemas are kept as data in `deploy/schemas/` (README there says where
//! each came from). Every schema check also validates a deliberately broken
//! copy, and so does every check of the replicated topology, to prove the
//! check can fail.

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

/// The one object of `kind` among the SpinKube manifests (Namespace, SpinApp).
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
// The replicated topology, shared by Compose and Kubernetes
// ---------------------------------------------------------------------------

/// The environment of a Compose service or a Kubernetes container, as
/// name -> literal value (values from a Secret or a field are left out).
fn env_of(container_or_service: &Value) -> BTreeMap<String, String> {
    match &container_or_service["environment"] {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect(),
        _ => container_or_service["env"]
            .as_array()
            .map(|env| {
                env.iter()
                    .filter_map(|e| {
                        Some((
                            e["name"].as_str()?.to_string(),
                            e["value"].as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The password's source in a Kubernetes container's env: the Secret key.
fn secret_key_of(container: &Value, env_name: &str) -> Option<String> {
    container["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == env_name)?["valueFrom"]["secretKeyRef"]["key"]
        .as_str()
        .map(str::to_string)
}

/// min-replicas-to-write >= 1 and a min-replicas-max-lag at least 2 s below
/// Sentinel's down-after (deploy/redis.conf says why) in a Redis command line.
fn check_min_replicas(args: &[String], down_after_ms: u64, what: &str) -> Result<(), String> {
    let value = |flag: &str| -> Result<u64, String> {
        let at = args
            .iter()
            .position(|a| a == flag)
            .ok_or(format!("{what}: no {flag} in {args:?}"))?;
        args.get(at + 1)
            .and_then(|v| v.parse().ok())
            .ok_or(format!("{what}: {flag} has no number"))
    };
    let to_write = value("--min-replicas-to-write")?;
    let lag = value("--min-replicas-max-lag")?;
    if to_write < 1 {
        return Err(format!(
            "{what}: min-replicas-to-write {to_write} lets a cut-off primary take writes"
        ));
    }
    if lag == 0 || lag * 1000 + 2000 > down_after_ms {
        return Err(format!(
            "{what}: min-replicas-max-lag {lag} s is not at least 2 s below down-after-milliseconds {down_after_ms}"
        ));
    }
    Ok(())
}

/// What deploy/ha/sentinel.sh must write: monitoring with $QUORUM, the
/// password for the Redis nodes and for itself, and names, not addresses.
fn check_sentinel_script(script: &str) -> Result<(), String> {
    for line in [
        "sentinel monitor $MASTER_NAME $primary $QUORUM",
        "sentinel resolve-hostnames yes",
        "sentinel announce-hostnames yes",
        "sentinel announce-ip $(quoted \"$SELF_HOST\")",
        "echo \"sentinel auth-pass $MASTER_NAME $(quoted \"$REDIS_PASSWORD\")\"",
        "echo \"requirepass $(quoted \"$REDIS_PASSWORD\")\"",
        "echo \"sentinel sentinel-pass $(quoted \"$REDIS_PASSWORD\")\"",
    ] {
        if !script.lines().any(|l| l.trim() == line) {
            return Err(format!("deploy/ha/sentinel.sh does not write `{line}`"));
        }
    }
    Ok(())
}

/// What deploy/ha/redis-node.sh must write into the node's configuration.
fn check_redis_node_script(script: &str) -> Result<(), String> {
    for line in [
        "cat \"$REDIS_CONF\"",
        "echo \"requirepass $(quoted \"$REDIS_PASSWORD\")\"",
        "echo \"masterauth $(quoted \"$REDIS_PASSWORD\")\"",
        "echo \"replica-announce-ip $(quoted \"$SELF_HOST\")\"",
        "SENTINEL get-master-addr-by-name \"$MASTER_NAME\" 2>/dev/null | tr -d '\\r' | paste -sd ' ' -)\" || continue",
        "exec redis-server \"$conf\" --port \"$REDIS_PORT\" --dir \"$REDIS_DATA\" \"$@\"",
    ] {
        if !script.lines().any(|l| l.trim() == line) {
            return Err(format!("deploy/ha/redis-node.sh does not run `{line}`"));
        }
    }
    Ok(())
}

/// The settings a group of Sentinels is started with (Compose services or
/// one StatefulSet's pods): each Sentinel's environment, the Redis nodes'
/// names, the Sentinels' names.
fn check_sentinels(
    sentinel_envs: &[BTreeMap<String, String>],
    redis_names: &BTreeSet<String>,
    sentinel_names: &BTreeSet<String>,
    master_name: &str,
) -> Result<(), String> {
    if sentinel_envs.len() != 3 {
        return Err(format!("{} Sentinels, not 3", sentinel_envs.len()));
    }
    for env in sentinel_envs {
        let get = |k: &str| env.get(k).cloned().unwrap_or_default();
        if get("QUORUM") != "2" {
            return Err(format!(
                "QUORUM is {:?}, not 2 (a majority of 3)",
                get("QUORUM")
            ));
        }
        if get("MASTER_NAME") != master_name {
            return Err(format!(
                "MASTER_NAME {:?}, HAProxy asks for {master_name}",
                get("MASTER_NAME")
            ));
        }
        if !redis_names.contains(&get("SEED_PRIMARY")) {
            return Err(format!(
                "SEED_PRIMARY {:?} is not a Redis node",
                get("SEED_PRIMARY")
            ));
        }
        let listed: BTreeSet<String> = get("SENTINELS")
            .split_whitespace()
            .map(|s| s.strip_suffix(":26379").unwrap_or("?").to_string())
            .collect();
        if &listed != sentinel_names {
            return Err(format!(
                "SENTINELS {listed:?} are not the Sentinels {sentinel_names:?}"
            ));
        }
        let down_after: u64 = get("DOWN_AFTER_MS").parse().unwrap_or(0);
        if down_after < 4000 {
            return Err(format!(
                "DOWN_AFTER_MS {down_after} leaves no room for min-replicas-max-lag 2"
            ));
        }
    }
    check_sentinel_script(&read("deploy/ha/sentinel.sh"))
}

// ---------------------------------------------------------------------------
// deploy/ha/haproxy.cfg
// ---------------------------------------------------------------------------

/// The sections of an HAProxy configuration: header line -> its lines.
fn haproxy_sections(cfg: &str) -> Vec<(String, Vec<String>)> {
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    for line in cfg.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            if let Some(last) = sections.last_mut() {
                last.1.push(trimmed.to_string());
            }
        } else {
            sections.push((trimmed.to_string(), Vec::new()));
        }
    }
    sections
}

/// One Redis node as the front sees it: the environment variable naming it,
/// and those naming the Sentinels whose word counts.
#[derive(Debug)]
struct FrontNode {
    redis_var: String,
    sentinel_vars: Vec<String>,
}

/// Checks that the front leads only to a node that accepts the password and
/// says role:master, and that a majority of the Sentinels name; returns the
/// nodes it may lead to.
fn check_haproxy(cfg: &str, master_name: &str) -> Result<Vec<FrontNode>, String> {
    let sections = haproxy_sections(cfg);
    let backend = |name: &str| -> Result<&Vec<String>, String> {
        sections
            .iter()
            .find(|(h, _)| h == &format!("backend {name}"))
            .map(|(_, lines)| lines)
            .ok_or(format!("no backend {name}"))
    };
    let frontends: Vec<&Vec<String>> = sections
        .iter()
        .filter(|(h, _)| h.starts_with("frontend "))
        .map(|(_, l)| l)
        .collect();
    if frontends.len() != 1 {
        return Err("one frontend expected".into());
    }
    let front = frontends[0];
    if !front.iter().any(|l| l == "bind :6379") {
        return Err("the frontend does not listen on :6379".into());
    }
    let default = front
        .iter()
        .find_map(|l| l.strip_prefix("default_backend "))
        .ok_or("no default_backend")?;
    if backend(default)?.iter().any(|l| l.starts_with("server ")) {
        return Err(format!("the default backend {default} leads somewhere"));
    }
    let var_in = |text: &str| -> Option<String> {
        let start = text.find("${")? + 2;
        Some(text[start..start + text[start..].find('}')?].to_string())
    };
    let auth_then = |lines: &Vec<String>, expect: &str, what: &str| -> Result<(), String> {
        let auth = lines
            .iter()
            .position(|l| l == "tcp-check send \"AUTH ${REDIS_PASSWORD}\\r\\n\"")
            .ok_or(format!(
                "{what}: its check does not AUTH with ${{REDIS_PASSWORD}}"
            ))?;
        if lines.get(auth + 1).map(String::as_str) != Some("tcp-check expect string +OK") {
            return Err(format!("{what}: AUTH's +OK is not expected"));
        }
        let at = lines
            .iter()
            .position(|l| l.starts_with(expect))
            .ok_or(format!("{what}: no `{expect}`"))?;
        if at < auth {
            return Err(format!("{what}: `{expect}` comes before AUTH"));
        }
        Ok(())
    };
    let mut nodes = Vec::new();
    for rule in front.iter().filter(|l| l.starts_with("use_backend ")) {
        let words: Vec<&str> = rule.split_whitespace().collect();
        let node_backend = words[1];
        let sentinels_backend = format!("sentinels_name_{node_backend}");
        let expected = format!(
            "use_backend {node_backend} if {{ nbsrv({node_backend}) ge 1 }} {{ nbsrv({sentinels_backend}) ge 2 }}"
        );
        if rule != &expected {
            return Err(format!("`{rule}` is not `{expected}`"));
        }
        let node = backend(node_backend)?;
        auth_then(node, "tcp-check expect string role:master", node_backend)?;
        let servers: Vec<&String> = node.iter().filter(|l| l.starts_with("server ")).collect();
        if servers.len() != 1 {
            return Err(format!("{node_backend} should have one server"));
        }
        let server = servers[0];
        if !server.contains(":6379\" check ")
            || !server.contains("on-marked-down shutdown-sessions")
        {
            return Err(format!("{node_backend}: `{server}` is not a checked Redis whose sessions end when it is down"));
        }
        let redis_var = var_in(server).ok_or(format!(
            "{node_backend}: the server is not named by a variable"
        ))?;

        let sentinels = backend(&sentinels_backend)?;
        auth_then(
            sentinels,
            &format!("tcp-check send SENTINEL\\ get-master-addr-by-name\\ {master_name}\\r\\n"),
            &sentinels_backend,
        )?;
        let names_it =
            format!("tcp-check expect min-recv 0 string \"\\r\\n${{{redis_var}}}\\r\\n\"");
        if !sentinels.contains(&names_it) {
            return Err(format!(
                "{sentinels_backend} does not check that the Sentinel names ${{{redis_var}}}"
            ));
        }
        let sentinel_vars: Vec<String> = sentinels
            .iter()
            .filter(|l| l.starts_with("server ") && l.contains(":26379\" check "))
            .filter_map(|l| var_in(l))
            .collect();
        if sentinel_vars.len() != 3 {
            return Err(format!(
                "{sentinels_backend} should check 3 Sentinels, checks {sentinel_vars:?}"
            ));
        }
        nodes.push(FrontNode {
            redis_var,
            sentinel_vars,
        });
    }
    if nodes.len() != 3 {
        return Err(format!("the front leads to {} nodes, not 3", nodes.len()));
    }
    Ok(nodes)
}

fn haproxy_cfg() -> String {
    read("deploy/ha/haproxy.cfg")
}

/// The name the Sentinels monitor the primary under, as HAProxy asks for it.
fn master_name() -> String {
    let cfg = haproxy_cfg();
    let at = cfg
        .find("get-master-addr-by-name\\ ")
        .expect("haproxy.cfg asks the Sentinels")
        + "get-master-addr-by-name\\ ".len();
    cfg[at..].split('\\').next().unwrap().to_string()
}

/// The `${...}` variables a text uses (comment lines skipped).
fn interpolated(text: &str, comment: char) -> BTreeSet<String> {
    text.lines()
        .filter(|line| !line.trim_start().starts_with(comment))
        .flat_map(|line| line.split("${").skip(1))
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn haproxy_cfg_leads_only_to_an_authenticated_master_named_by_a_sentinel_majority() {
    let cfg = haproxy_cfg();
    let nodes = check_haproxy(&cfg, &master_name())
        .unwrap_or_else(|e| panic!("deploy/ha/haproxy.cfg: {e}"));
    let redis_vars: BTreeSet<&String> = nodes.iter().map(|n| &n.redis_var).collect();
    assert_eq!(redis_vars.len(), 3, "three distinct nodes: {nodes:?}");
    for (what, from, to) in [
        (
            "no role:master check",
            "    tcp-check expect string role:master\n",
            "",
        ),
        (
            "no AUTH",
            "    tcp-check send \"AUTH ${REDIS_PASSWORD}\\r\\n\"\n",
            "",
        ),
        (
            "one Sentinel enough",
            "{ nbsrv(sentinels_name_redis_2) ge 2 }",
            "{ nbsrv(sentinels_name_redis_2) ge 1 }",
        ),
        (
            "Sentinels not asked",
            "{ nbsrv(sentinels_name_redis_3) ge 2 }",
            "",
        ),
        (
            "sessions kept on a node marked down",
            " on-marked-down shutdown-sessions",
            "",
        ),
    ] {
        assert!(
            cfg.contains(from),
            "the pattern of \"{what}\" is not in haproxy.cfg"
        );
        let broken = cfg.replacen(from, to, 1);
        assert!(
            check_haproxy(&broken, &master_name()).is_err(),
            "a haproxy.cfg with {what} passed: the check cannot fail"
        );
    }
}

#[test]
fn haproxy_accepts_haproxy_cfg() {
    // The Debian package scripts/ha-topology.sh installs; its version may be
    // older than the image's, so this checks the syntax of what both accept.
    // A machine without haproxy fails here: the check is never skipped.
    let mut command = Command::new("haproxy");
    command
        .args(["-c", "-f"])
        .arg(root().join("deploy/ha/haproxy.cfg"));
    for var in interpolated(&haproxy_cfg(), '#') {
        command.env(var.clone(), var.to_ascii_lowercase().replace('_', "-"));
    }
    let out = command.output().unwrap_or_else(|e| {
        panic!(
            "run haproxy: {e} (install it: apt-get install haproxy; \
             scripts/test.sh's ensure_ha_packages does)"
        )
    });
    assert!(
        out.status.success(),
        "haproxy -c refused deploy/ha/haproxy.cfg:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn ha_scripts_write_the_password_names_and_quorum_into_the_configurations() {
    check_redis_node_script(&read("deploy/ha/redis-node.sh")).unwrap();
    check_sentinel_script(&read("deploy/ha/sentinel.sh")).unwrap();
    let sentinel = read("deploy/ha/sentinel.sh");
    let pattern = "echo \"sentinel auth-pass $MASTER_NAME $(quoted \"$REDIS_PASSWORD\")\"";
    assert!(sentinel.contains(pattern));
    assert!(check_sentinel_script(&sentinel.replace(pattern, "")).is_err());
    let broken_quorum = sentinel.replace("$primary $QUORUM", "$primary 1");
    assert!(check_sentinel_script(&broken_quorum).is_err());
    let node = read("deploy/ha/redis-node.sh");
    let pattern = "echo \"masterauth $(quoted \"$REDIS_PASSWORD\")\"";
    assert!(node.contains(pattern));
    assert!(check_redis_node_script(&node.replace(pattern, "")).is_err());
}

#[test]
fn ha_scripts_are_posix_sh() {
    // The redis image runs them with its /bin/sh (dash).
    for script in ["deploy/ha/redis-node.sh", "deploy/ha/sentinel.sh"] {
        let status = Command::new("sh")
            .arg("-n")
            .arg(root().join(script))
            .status()
            .unwrap_or_else(|e| panic!("run sh -n {script}: {e}"));
        assert!(status.success(), "sh -n {script} failed");
    }
}

// ---------------------------------------------------------------------------
// deploy/compose.yaml
// ---------------------------------------------------------------------------

fn compose() -> Value {
    yaml_document("deploy/compose.yaml")
}

/// The Compose services whose command is the given script, by name.
fn compose_services_running(compose: &Value, script: &str) -> BTreeMap<String, Value> {
    compose["services"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, s)| {
            s["command"].as_array().is_some_and(|c| {
                c.len() >= 2 && c[0] == "sh" && c[1].as_str().unwrap_or("").ends_with(script)
            })
        })
        .map(|(name, s)| (name.clone(), s.clone()))
        .collect()
}

/// The Compose service whose HAProxy reads deploy/ha/haproxy.cfg.
fn compose_front(compose: &Value) -> (String, Value) {
    let fronts: Vec<(String, Value)> = compose["services"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, s)| {
            s["volumes"].as_array().is_some_and(|v| {
                v.iter().any(|m| {
                    m.as_str()
                        .is_some_and(|m| m.starts_with("./ha/haproxy.cfg:"))
                })
            })
        })
        .map(|(n, s)| (n.clone(), s.clone()))
        .collect();
    assert_eq!(
        fronts.len(),
        1,
        "one HAProxy service reads deploy/ha/haproxy.cfg"
    );
    fronts.into_iter().next().unwrap()
}

/// Where a short-syntax volume `source:target[:ro]` of a service is mounted from.
fn compose_mount_source(service: &Value, target: &str) -> Option<(String, bool)> {
    str_list(&service["volumes"]).into_iter().find_map(|v| {
        let parts: Vec<&str> = v.split(':').collect();
        (parts.get(1) == Some(&target)).then(|| (parts[0].to_string(), parts.get(2) == Some(&"ro")))
    })
}

fn compose_sentinel_down_after(compose: &Value) -> u64 {
    compose_services_running(compose, "sentinel.sh")
        .values()
        .map(|s| env_of(s)["DOWN_AFTER_MS"].parse::<u64>().unwrap())
        .min()
        .unwrap()
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
        "/services/seat-booking/depends_on/redis-primary/condition",
        |condition| *condition = json!("service_ready"),
    );
    assert_invalid(
        &validator,
        &unknown_condition,
        "depends_on condition service_ready",
    );
}

#[test]
fn compose_redis_nodes_run_deploy_redis_conf_on_named_volumes() {
    let compose = compose();
    let nodes = compose_services_running(&compose, "redis-node.sh");
    assert_eq!(
        nodes.len(),
        3,
        "a primary and two replicas: {:?}",
        nodes.keys()
    );
    let mut data_volumes = BTreeSet::new();
    let mut seeds = BTreeSet::new();
    for (name, node) in &nodes {
        let command = str_list(&node["command"]);
        let env = env_of(node);
        assert_eq!(node["image"], "redis:7.4", "{name}");
        assert_eq!(
            node["user"], "redis",
            "{name} runs as the image's redis user"
        );
        assert_eq!(
            compose_mount_source(node, &command[1]),
            Some(("./ha/redis-node.sh".to_string(), true)),
            "{name} runs deploy/ha/redis-node.sh"
        );
        assert_eq!(
            compose_mount_source(node, &env["REDIS_CONF"]),
            Some(("./redis.conf".to_string(), true)),
            "{name}: REDIS_CONF is deploy/redis.conf, mounted read-only (the script copies it)"
        );
        let (volume, read_only) = compose_mount_source(node, &env["REDIS_DATA"])
            .unwrap_or_else(|| panic!("{name}: nothing at REDIS_DATA"));
        assert!(!read_only);
        assert!(
            compose["volumes"].get(&volume).is_some(),
            "{name}: the data dir should be a named volume, declared under volumes:"
        );
        data_volumes.insert(volume);
        assert_eq!(&env["SELF_HOST"], name, "{name} announces its service name");
        assert!(
            env["REDIS_PASSWORD"].starts_with("${REDIS_PASSWORD"),
            "{name}: password from .env"
        );
        assert_eq!(env["REDISCLI_AUTH"], env["REDIS_PASSWORD"]);
        assert!(
            node["healthcheck"]["test"].is_array(),
            "{name} has a health check"
        );
        seeds.insert(env["SEED_PRIMARY"].clone());
    }
    assert_eq!(data_volumes.len(), 3, "each node its own volume");
    assert_eq!(seeds.len(), 1, "the nodes agree on the first primary");
    assert!(nodes.contains_key(seeds.iter().next().unwrap()));
}

#[test]
fn compose_every_redis_node_refuses_writes_without_a_replica() {
    let compose = compose();
    let down_after = compose_sentinel_down_after(&compose);
    for (name, node) in compose_services_running(&compose, "redis-node.sh") {
        check_min_replicas(&str_list(&node["command"]), down_after, &name).unwrap();
    }
    // A command without the options, as it was for the single Redis.
    let broken = broken(&compose, "/services/redis-2/command", |command| {
        *command = json!(["sh", "/usr/local/etc/redis/redis-node.sh"]);
    });
    assert!(compose_services_running(&broken, "redis-node.sh")
        .iter()
        .any(
            |(name, node)| check_min_replicas(&str_list(&node["command"]), down_after, name)
                .is_err()
        ));
    let args = str_list(&compose["services"]["redis-1"]["command"]);
    assert!(check_min_replicas(&args, 3000, "redis-1 with down-after 3000").is_err());
}

#[test]
fn compose_sentinels_monitor_the_primary_with_quorum_2_and_the_password() {
    let compose = compose();
    let redis_names: BTreeSet<String> = compose_services_running(&compose, "redis-node.sh")
        .into_keys()
        .collect();
    let sentinels = compose_services_running(&compose, "sentinel.sh");
    let sentinel_names: BTreeSet<String> = sentinels.keys().cloned().collect();
    let envs: Vec<BTreeMap<String, String>> = sentinels.values().map(env_of).collect();
    check_sentinels(&envs, &redis_names, &sentinel_names, &master_name()).unwrap();
    for (name, sentinel) in &sentinels {
        let env = env_of(sentinel);
        assert_eq!(&env["SELF_HOST"], name);
        assert!(env["REDIS_PASSWORD"].starts_with("${REDIS_PASSWORD"));
        let command = str_list(&sentinel["command"]);
        assert_eq!(
            compose_mount_source(sentinel, &command[1]),
            Some(("./ha/sentinel.sh".to_string(), true))
        );
        let (volume, _) =
            compose_mount_source(sentinel, "/data").expect("sentinel.conf on a volume");
        assert!(compose["volumes"].get(&volume).is_some());
    }
    // The redis nodes ask the same Sentinels.
    for node in compose_services_running(&compose, "redis-node.sh").values() {
        assert_eq!(env_of(node)["SENTINELS"], envs[0]["SENTINELS"]);
        assert_eq!(env_of(node)["MASTER_NAME"], master_name());
    }
    let mut quorum_1 = envs.clone();
    quorum_1[1].insert("QUORUM".into(), "1".into());
    assert!(check_sentinels(&quorum_1, &redis_names, &sentinel_names, &master_name()).is_err());
    let mut seeded_elsewhere = envs.clone();
    seeded_elsewhere[0].insert("SEED_PRIMARY".into(), "redis-primary".into());
    assert!(check_sentinels(
        &seeded_elsewhere,
        &redis_names,
        &sentinel_names,
        &master_name()
    )
    .is_err());
}

#[test]
fn compose_front_is_haproxy_with_deploy_ha_haproxy_cfg_and_every_name_it_needs() {
    let compose = compose();
    let (name, front) = compose_front(&compose);
    assert!(front["image"].as_str().unwrap().starts_with("haproxy:"));
    let command = str_list(&front["command"]);
    assert_eq!(
        compose_mount_source(&front, arg_after(&command, "-f")),
        Some(("./ha/haproxy.cfg".to_string(), true)),
        "{name} runs deploy/ha/haproxy.cfg"
    );
    let env = env_of(&front);
    assert_eq!(
        env.keys().cloned().collect::<BTreeSet<_>>(),
        interpolated(&haproxy_cfg(), '#'),
        "the front's environment is exactly what haproxy.cfg uses"
    );
    assert!(env["REDIS_PASSWORD"].starts_with("${REDIS_PASSWORD"));
    let nodes = check_haproxy(&haproxy_cfg(), &master_name()).unwrap();
    let redis_names: BTreeSet<String> = compose_services_running(&compose, "redis-node.sh")
        .into_keys()
        .collect();
    let sentinel_names: BTreeSet<String> = compose_services_running(&compose, "sentinel.sh")
        .into_keys()
        .collect();
    let front_redis: BTreeSet<String> = nodes.iter().map(|n| env[&n.redis_var].clone()).collect();
    assert_eq!(
        front_redis, redis_names,
        "the front checks every Redis node, by the name it announces"
    );
    for node in &nodes {
        let front_sentinels: BTreeSet<String> =
            node.sentinel_vars.iter().map(|v| env[v].clone()).collect();
        assert_eq!(front_sentinels, sentinel_names);
    }
    assert!(front["healthcheck"]["test"].is_array());
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

/// The API's Redis address in Compose names the HAProxy front, with the
/// nodes' password.
fn check_compose_address(compose: &Value) -> Result<(), String> {
    let env = &compose["services"]["seat-booking"]["environment"];
    let (password, host, port) =
        parse_redis_url(env["SPIN_VARIABLE_REDIS_ADDRESS"].as_str().unwrap());
    if env["SPIN_VARIABLE_REDIS_HOST"] != format!("{host}:{port}") {
        return Err("redis_host is not redis_address's host:port".into());
    }
    let (front, _) = compose_front(compose);
    if host != front {
        return Err(format!(
            "the API is given {host}, not the HAProxy front {front}"
        ));
    }
    if port != 6379 {
        return Err(format!("the front listens on 6379, not {port}"));
    }
    let depends = &compose["services"]["seat-booking"]["depends_on"][&front]["condition"];
    if depends != "service_healthy" {
        return Err("the API should start once the front is healthy".into());
    }
    for node in compose_services_running(compose, "redis-node.sh").values() {
        if env_of(node)["REDIS_PASSWORD"] != password {
            return Err("the API's password should be the Redis nodes'".into());
        }
    }
    Ok(())
}

#[test]
fn compose_redis_address_names_the_haproxy_front_and_the_password() {
    let compose = compose();
    check_compose_address(&compose).unwrap();
    let password = env_of(&compose["services"]["redis-1"])["REDIS_PASSWORD"].clone();
    assert!(
        password.starts_with("${REDIS_PASSWORD"),
        "the password comes from the environment file"
    );
    let to_a_node = broken(&compose, "/services/seat-booking/environment", |env| {
        env["SPIN_VARIABLE_REDIS_ADDRESS"] = json!(format!("redis://:{password}@redis-1:6379"));
        env["SPIN_VARIABLE_REDIS_HOST"] = json!("redis-1:6379");
    });
    assert!(
        check_compose_address(&to_a_node).is_err(),
        "an address naming redis-1 passed"
    );
}

#[test]
fn compose_waits_for_one_replica_on_every_state_change() {
    let compose = compose();
    let check = |compose: &Value| {
        let env = &compose["services"]["seat-booking"]["environment"];
        env["SPIN_VARIABLE_REDIS_REPLICA_ACKS"] == "1"
            && env["SPIN_VARIABLE_REDIS_REPLICA_ACK_TIMEOUT_MS"]
                .as_str()
                .and_then(|t| t.parse::<u32>().ok())
                .is_some_and(|t| (1..=1500).contains(&t))
    };
    assert!(
        check(&compose),
        "SPIN_VARIABLE_REDIS_REPLICA_ACKS should be \"1\", the timeout 1-1500"
    );
    let no_wait = broken(
        &compose,
        "/services/seat-booking/environment/SPIN_VARIABLE_REDIS_REPLICA_ACKS",
        |v| *v = json!("0"),
    );
    assert!(!check(&no_wait));
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

/// Every object in deploy/spinkube/ that kustomization.yaml applies.
fn k8s_objects() -> Vec<Value> {
    spinkube_files()
        .iter()
        .filter(|f| !f.ends_with("secret.example.yaml"))
        .flat_map(|file| yaml_documents(file))
        .collect()
}

/// The object of `kind` named `name` among the SpinKube manifests.
fn k8s_named(kind: &str, name: &str) -> Value {
    let found: Vec<Value> = k8s_objects()
        .into_iter()
        .filter(|doc| doc["kind"] == kind && doc["metadata"]["name"] == name)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {kind} {name} in deploy/spinkube/"
    );
    found.into_iter().next().unwrap()
}

/// The ConfigMaps kustomization.yaml generates, as kustomize builds them
/// (before it appends the content hash to the name).
fn generated_config_maps() -> Vec<Value> {
    let kustomization = yaml_document("deploy/kustomization.yaml");
    kustomization["configMapGenerator"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let data: serde_json::Map<String, Value> = str_list(&g["files"])
                .iter()
                .map(|f| {
                    let key = f.rsplit('/').next().unwrap().to_string();
                    (key, json!(read(&format!("deploy/{f}"))))
                })
                .collect();
            json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": g["name"], "namespace": kustomization["namespace"]},
                "data": data,
            })
        })
        .collect()
}

/// The generated ConfigMap holding `file` (a path below deploy/).
fn generator_of(file: &str) -> String {
    let kustomization = yaml_document("deploy/kustomization.yaml");
    kustomization["configMapGenerator"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| str_list(&g["files"]).contains(&file.to_string()))
        .unwrap_or_else(|| panic!("kustomization.yaml generates no ConfigMap from {file}"))["name"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Where a pod template's container mounts the volume made from ConfigMap
/// `config_map`, or the volume named `volume` (claim templates).
fn mount_of(
    pod: &Value,
    container: &Value,
    config_map: Option<&str>,
    volume: Option<&str>,
) -> String {
    let volume_name = match (config_map, volume) {
        (Some(cm), _) => pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["configMap"]["name"] == cm)
            .unwrap_or_else(|| panic!("no volume from ConfigMap {cm}"))["name"]
            .as_str()
            .unwrap()
            .to_string(),
        (None, Some(v)) => v.to_string(),
        _ => unreachable!(),
    };
    container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == volume_name.as_str())
        .unwrap_or_else(|| panic!("volume {volume_name} is not mounted"))["mountPath"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The pods' DNS names of a StatefulSet: <name>-<n>.<serviceName>.<ns>.svc.cluster.local.
fn pod_names(statefulset: &Value) -> BTreeSet<String> {
    let replicas = statefulset["spec"]["replicas"].as_u64().unwrap();
    (0..replicas)
        .map(|n| {
            pod_name(
                statefulset,
                &format!("{}-{n}", statefulset["metadata"]["name"].as_str().unwrap()),
            )
        })
        .collect()
}

fn pod_name(statefulset: &Value, pod: &str) -> String {
    format!(
        "{pod}.{}.{}.svc.cluster.local",
        statefulset["spec"]["serviceName"].as_str().unwrap(),
        statefulset["metadata"]["namespace"].as_str().unwrap()
    )
}

/// The pod environment with $(POD_NAME) as Kubernetes expands it for `pod`.
fn env_for_pod(container: &Value, pod: &str) -> BTreeMap<String, String> {
    env_of(container)
        .into_iter()
        .map(|(k, v)| (k, v.replace("$(POD_NAME)", pod)))
        .collect()
}

fn redis_statefulset() -> Value {
    k8s_named("StatefulSet", "seat-booking-redis")
}

fn sentinel_statefulset() -> Value {
    k8s_named("StatefulSet", "seat-booking-sentinel")
}

fn spinapp_variable(spinapp: &Value, name: &str) -> Value {
    spinapp["spec"]["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no {name} variable"))
        .clone()
}

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

/// The Kubernetes 1.33 schema of each core kind the deployment uses.
fn schema_of(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Namespace" => "namespace-v1",
        "Service" => "service-v1",
        "StatefulSet" => "statefulset-apps-v1",
        "Deployment" => "deployment-apps-v1",
        "PodDisruptionBudget" => "poddisruptionbudget-policy-v1",
        "ConfigMap" => "configmap-v1",
        "Secret" => "secret-v1",
        _ => return None,
    })
}

#[test]
fn core_objects_match_the_kubernetes_schemas() {
    let mut kinds = BTreeSet::new();
    for object in k8s_objects().into_iter().chain(generated_config_maps()) {
        let kind = object["kind"].as_str().unwrap().to_string();
        let what = format!("{kind} {}", object["metadata"]["name"]);
        if kind == "SpinApp" {
            continue; // the CRD's schema, above
        }
        let schema = schema_of(&kind).unwrap_or_else(|| panic!("no schema kept for {what}"));
        assert_valid(&k8s_validator(schema), &object, &what);
        kinds.insert(kind);
    }
    for kind in [
        "ConfigMap",
        "Deployment",
        "PodDisruptionBudget",
        "Service",
        "StatefulSet",
    ] {
        assert!(kinds.contains(kind), "no {kind} was validated");
    }
}

#[test]
fn core_objects_with_a_misspelt_or_mistyped_field_fail_the_kubernetes_schemas() {
    let statefulset = redis_statefulset();
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
    let service = k8s_named("Service", "seat-booking-redis-primary");
    let no_port = broken(&service, "/spec/ports/0", |p| {
        p.as_object_mut().unwrap().remove("port");
    });
    assert_invalid(
        &k8s_validator("service-v1"),
        &no_port,
        "a Service port without port",
    );
    let deployment = k8s_named("Deployment", "seat-booking-redis-primary");
    let misspelt = broken(&deployment, "/spec/template/spec/containers/0", |c| {
        let env = c.as_object_mut().unwrap().remove("env").unwrap();
        c["environment"] = env;
    });
    assert_invalid(
        &k8s_validator("deployment-apps-v1"),
        &misspelt,
        "a container's environment",
    );
    let config_map = generated_config_maps().remove(0);
    let mistyped = broken(&config_map, "/data", |d| d["redis.conf"] = json!(42));
    assert_invalid(
        &k8s_validator("configmap-v1"),
        &mistyped,
        "ConfigMap data value 42",
    );
    let budget = k8s_named("PodDisruptionBudget", "seat-booking-redis");
    let mistyped = broken(&budget, "/spec/selector", |s| *s = json!("redis"));
    assert_invalid(
        &k8s_validator("poddisruptionbudget-policy-v1"),
        &mistyped,
        "a selector string",
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
fn secret_has_every_key_the_spinapp_redis_sentinels_and_haproxy_read() {
    let secret = yaml_document("deploy/spinkube/secret.example.yaml");
    let keys: BTreeSet<String> = secret["stringData"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let mut refs = Vec::new();
    for object in k8s_objects() {
        secret_refs(&object, &mut refs);
    }
    for (name, key) in &refs {
        assert_eq!(name, secret["metadata"]["name"].as_str().unwrap());
        assert!(
            keys.contains(key),
            "the Secret has no key {key}; it has {keys:?}"
        );
    }
    let read_keys: BTreeSet<String> = refs.into_iter().map(|(_, key)| key).collect();
    assert_eq!(read_keys, keys, "every Secret key is read by something");
    // Everything that speaks to Redis or a Sentinel has the password.
    for workload in [
        redis_statefulset(),
        sentinel_statefulset(),
        k8s_named("Deployment", "seat-booking-redis-primary"),
    ] {
        let container = &workload["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            secret_key_of(container, "REDIS_PASSWORD").as_deref(),
            Some("redis-password"),
            "{} gets REDIS_PASSWORD from the Secret",
            workload["metadata"]["name"]
        );
    }
}

#[test]
fn services_and_budgets_select_the_pods_they_mean() {
    let objects = k8s_objects();
    let workloads: Vec<&Value> = objects
        .iter()
        .filter(|o| o["kind"] == "StatefulSet" || o["kind"] == "Deployment")
        .collect();
    let selected_by = |selector: &Value| -> Vec<&Value> {
        workloads
            .iter()
            .copied()
            .filter(|w| {
                let labels = w["spec"]["template"]["metadata"]["labels"]
                    .as_object()
                    .unwrap();
                selector
                    .as_object()
                    .unwrap()
                    .iter()
                    .all(|(k, v)| labels.get(k) == Some(v))
            })
            .collect()
    };
    for workload in &workloads {
        assert_eq!(
            selected_by(&workload["spec"]["selector"]["matchLabels"]).len(),
            1
        );
    }
    for service in objects.iter().filter(|o| o["kind"] == "Service") {
        let name = &service["metadata"]["name"];
        let selected = selected_by(&service["spec"]["selector"]);
        assert_eq!(
            selected.len(),
            1,
            "Service {name} should select the pods of one workload"
        );
        let container_ports: Vec<&Value> = selected[0]["spec"]["template"]["spec"]["containers"][0]
            ["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| &p["name"])
            .collect();
        for port in service["spec"]["ports"].as_array().unwrap() {
            assert!(
                container_ports.contains(&&port["targetPort"]),
                "Service {name}: targetPort {} names no container port",
                port["targetPort"]
            );
        }
    }
    for statefulset in workloads.iter().filter(|w| w["kind"] == "StatefulSet") {
        let service = k8s_named(
            "Service",
            statefulset["spec"]["serviceName"].as_str().unwrap(),
        );
        assert_eq!(
            service["spec"]["clusterIP"], "None",
            "a StatefulSet's serviceName is headless (pod DNS names)"
        );
        assert_eq!(
            service["spec"]["publishNotReadyAddresses"], true,
            "pods must find each other before they are ready"
        );
        assert_eq!(
            selected_by(&service["spec"]["selector"])[0]["metadata"],
            statefulset["metadata"]
        );
    }
    for budget in objects
        .iter()
        .filter(|o| o["kind"] == "PodDisruptionBudget")
    {
        let selected = selected_by(&budget["spec"]["selector"]["matchLabels"]);
        assert_eq!(selected.len(), 1);
        let replicas = selected[0]["spec"]["replicas"].as_i64().unwrap();
        let min = budget["spec"]["minAvailable"].as_i64().unwrap();
        assert_eq!(
            min,
            replicas - 1,
            "a drain takes one pod of {} at a time",
            selected[0]["metadata"]["name"]
        );
    }
}

/// redis_host in the SpinApp names the HAProxy front's Service, whose pods
/// run deploy/ha/haproxy.cfg.
fn check_spinapp_host(spinapp: &Value) -> Result<String, String> {
    let redis_host = spinapp_variable(spinapp, "redis_host")["value"]
        .as_str()
        .ok_or("redis_host is not a literal")?
        .to_string();
    let front = k8s_named("Service", "seat-booking-redis-primary");
    let expected = format!(
        "{}.{}.svc.cluster.local:{}",
        front["metadata"]["name"].as_str().unwrap(),
        front["metadata"]["namespace"].as_str().unwrap(),
        front["spec"]["ports"][0]["port"]
    );
    if redis_host != expected {
        return Err(format!(
            "redis_host {redis_host} is not the HAProxy front {expected}"
        ));
    }
    let deployment = k8s_named("Deployment", "seat-booking-redis-primary");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    if !container["image"]
        .as_str()
        .unwrap_or("")
        .starts_with("haproxy:")
    {
        return Err("the front's pods do not run HAProxy".into());
    }
    let config_dir = mount_of(pod, container, Some(&generator_of("ha/haproxy.cfg")), None);
    if arg_after(&str_list(&container["args"]), "-f") != format!("{config_dir}/haproxy.cfg") {
        return Err("HAProxy does not run deploy/ha/haproxy.cfg".into());
    }
    Ok(redis_host)
}

#[test]
fn spinapp_redis_host_names_the_haproxy_front_and_matches_the_secret_address() {
    let spinapp = k8s_object("SpinApp");
    let redis_host = check_spinapp_host(&spinapp).unwrap();
    let pod_0 = pod_name(&redis_statefulset(), "seat-booking-redis-0");
    let at = spinapp["spec"]["variables"]
        .as_array()
        .unwrap()
        .iter()
        .position(|v| v["name"] == "redis_host")
        .unwrap();
    let to_a_pod = broken(&spinapp, &format!("/spec/variables/{at}/value"), |v| {
        *v = json!(format!("{pod_0}:6379"))
    });
    assert!(
        check_spinapp_host(&to_a_pod).is_err(),
        "redis_host naming Redis pod 0 passed"
    );

    let secret = yaml_document("deploy/spinkube/secret.example.yaml");
    let address_key = spinapp_variable(&spinapp, "redis_address")["valueFrom"]["secretKeyRef"]
        ["key"]
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
fn spinapp_waits_for_one_replica_on_every_state_change() {
    let spinapp = k8s_object("SpinApp");
    let acks = |s: &Value| spinapp_variable(s, "redis_replica_acks")["value"].clone();
    assert_eq!(acks(&spinapp), "1");
    let timeout: u32 = spinapp_variable(&spinapp, "redis_replica_ack_timeout_ms")["value"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=1500).contains(&timeout));
    let at = spinapp["spec"]["variables"]
        .as_array()
        .unwrap()
        .iter()
        .position(|v| v["name"] == "redis_replica_acks")
        .unwrap();
    let no_wait = broken(&spinapp, &format!("/spec/variables/{at}/value"), |v| {
        *v = json!("0")
    });
    assert_ne!(acks(&no_wait), "1");
}

#[test]
fn redis_statefulset_runs_three_nodes_from_deploy_redis_conf_with_persistent_volumes() {
    let statefulset = redis_statefulset();
    let spec = &statefulset["spec"];
    assert_eq!(spec["replicas"], 3, "a primary and two replicas");
    let pod = &spec["template"]["spec"];
    let container = &pod["containers"][0];
    let command = str_list(&container["command"]);
    assert_eq!(command[0], "sh");
    let scripts_dir = mount_of(
        pod,
        container,
        Some(&generator_of("ha/redis-node.sh")),
        None,
    );
    assert_eq!(command[1], format!("{scripts_dir}/redis-node.sh"));
    let env = env_of(container);
    let config_dir = mount_of(pod, container, Some(&generator_of("redis.conf")), None);
    assert_eq!(env["REDIS_CONF"], format!("{config_dir}/redis.conf"));
    let claim = &spec["volumeClaimTemplates"][0];
    assert_eq!(
        mount_of(pod, container, None, claim["metadata"]["name"].as_str()),
        env["REDIS_DATA"],
        "the data dir is the volume claim"
    );
    assert!(claim["spec"]["resources"]["requests"]["storage"].is_string());
    assert_eq!(
        secret_key_of(container, "REDIS_PASSWORD").as_deref(),
        Some("redis-password")
    );
    assert_eq!(
        secret_key_of(container, "REDISCLI_AUTH").as_deref(),
        Some("redis-password")
    );
    // Pod 0 starts as primary; each pod announces its own DNS name.
    let names = pod_names(&statefulset);
    assert_eq!(
        env["SEED_PRIMARY"],
        pod_name(&statefulset, "seat-booking-redis-0")
    );
    for n in 0..3 {
        let pod_id = format!("seat-booking-redis-{n}");
        assert!(names.contains(&env_for_pod(container, &pod_id)["SELF_HOST"]));
    }
    let pod_name_env = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "POD_NAME")
        .unwrap();
    assert_eq!(
        pod_name_env["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.name"
    );
    assert_eq!(env["MASTER_NAME"], master_name());
    assert_eq!(
        env["SENTINELS"],
        env_of(&sentinel_statefulset()["spec"]["template"]["spec"]["containers"][0])["SENTINELS"]
    );
    assert_eq!(
        pod["securityContext"]["runAsUser"], 999,
        "the image's redis user"
    );
}

#[test]
fn redis_statefulset_refuses_writes_without_a_replica() {
    let statefulset = redis_statefulset();
    let down_after: u64 =
        env_of(&sentinel_statefulset()["spec"]["template"]["spec"]["containers"][0])
            ["DOWN_AFTER_MS"]
            .parse()
            .unwrap();
    let args = |s: &Value| str_list(&s["spec"]["template"]["spec"]["containers"][0]["args"]);
    check_min_replicas(&args(&statefulset), down_after, "seat-booking-redis").unwrap();
    let without = broken(&statefulset, "/spec/template/spec/containers/0/args", |a| {
        *a = json!(["--maxmemory", "768mb"]);
    });
    assert!(check_min_replicas(&args(&without), down_after, "broken").is_err());
}

#[test]
fn sentinel_statefulset_monitors_the_primary_with_quorum_2_and_the_password() {
    let redis = redis_statefulset();
    let sentinels = sentinel_statefulset();
    assert_eq!(sentinels["spec"]["replicas"], 3);
    let pod = &sentinels["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let command = str_list(&container["command"]);
    let scripts_dir = mount_of(pod, container, Some(&generator_of("ha/sentinel.sh")), None);
    assert_eq!(
        command,
        ["sh".to_string(), format!("{scripts_dir}/sentinel.sh")]
    );
    let claim = &sentinels["spec"]["volumeClaimTemplates"][0];
    assert_eq!(
        mount_of(pod, container, None, claim["metadata"]["name"].as_str()),
        env_of(container)["SENTINEL_DATA"],
        "sentinel.conf on the volume claim"
    );
    let sentinel_names = pod_names(&sentinels);
    let envs: Vec<BTreeMap<String, String>> = (0..3)
        .map(|n| env_for_pod(container, &format!("seat-booking-sentinel-{n}")))
        .collect();
    let selves: BTreeSet<String> = envs.iter().map(|e| e["SELF_HOST"].clone()).collect();
    assert_eq!(selves, sentinel_names);
    check_sentinels(&envs, &pod_names(&redis), &sentinel_names, &master_name()).unwrap();
    let mut quorum_1 = envs.clone();
    quorum_1[2].insert("QUORUM".into(), "1".into());
    assert!(check_sentinels(
        &quorum_1,
        &pod_names(&redis),
        &sentinel_names,
        &master_name()
    )
    .is_err());
}

#[test]
fn haproxy_deployment_checks_every_redis_pod_and_sentinel_by_name() {
    let deployment = k8s_named("Deployment", "seat-booking-redis-primary");
    assert!(deployment["spec"]["replicas"].as_i64().unwrap() >= 2);
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let env = env_of(container);
    let mut provided: BTreeSet<String> = env.keys().cloned().collect();
    provided.extend(
        container["env"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["valueFrom"].is_object())
            .map(|e| e["name"].as_str().unwrap().to_string()),
    );
    assert_eq!(
        provided,
        interpolated(&haproxy_cfg(), '#'),
        "the env is exactly what haproxy.cfg uses"
    );
    let nodes = check_haproxy(&haproxy_cfg(), &master_name()).unwrap();
    let front_redis: BTreeSet<String> = nodes.iter().map(|n| env[&n.redis_var].clone()).collect();
    assert_eq!(front_redis, pod_names(&redis_statefulset()));
    for node in &nodes {
        let front_sentinels: BTreeSet<String> =
            node.sentinel_vars.iter().map(|v| env[v].clone()).collect();
        assert_eq!(front_sentinels, pod_names(&sentinel_statefulset()));
    }
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
    // Every ConfigMap a pod mounts is one kustomize generates.
    let generated: BTreeSet<String> = generated_config_maps()
        .iter()
        .map(|c| c["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    let mut mounted = BTreeSet::new();
    for object in k8s_objects() {
        if let Some(volumes) = object["spec"]["template"]["spec"]["volumes"].as_array() {
            mounted.extend(
                volumes
                    .iter()
                    .filter_map(|v| v["configMap"]["name"].as_str().map(str::to_string)),
            );
        }
    }
    assert_eq!(mounted, generated);
}
