//! The runtime configuration every `spin up` of the project passes
//! (`--runtime-config-file runtime-config.toml`), pinned against real Spin:
//!
//! - how Spin resolves a variable with it: `SPIN_VARIABLE_<NAME>` in the
//!   environment wins over the `.env` in the working directory, a value
//!   only in `.env` is used, and with neither the `spin.toml` default
//!   applies;
//! - that it is the file Spin loads (a key Spin does not know makes
//!   `spin up` refuse to start);
//! - that its `max_instance_memory` leaves room for the largest answer the
//!   API builds (the seat map of an event of the most seats allowed, every
//!   one held), and that Spin enforces it: a request over it traps, is
//!   answered 500, and the next request is served;
//! - that the deployments' runtime configuration (`deploy/runtime-config.toml`)
//!   is what Spin accepts, what Docker Compose mounts and passes, and what
//!   the SpinKube Secret named by the SpinApp's `runtimeConfig.loadFromSecret`
//!   carries.

use std::path::PathBuf;

use integration::{
    client, get, output_dir, post, root, runtime_config, send_with, Answer, RedisServer, Spin,
};
use serde_json::Value;

/// The event the memory tests create: `ROWS` rows of `SEATS_PER_ROW`
/// seats, labels of the longest length allowed, so its seat map is the
/// largest the API answers (`seat_map::MAX_SEATS` seats, `MAX_ROWS` rows,
/// `ids::MAX_ROW_LABEL_LEN`).
const ROWS: usize = 2_000;
const SEATS_PER_ROW: usize = 50;
const LABEL_LEN: usize = 16;

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative))
        .unwrap_or_else(|e| panic!("read {relative}: {e}"))
}

fn toml_of(relative: &str) -> toml::Table {
    read(relative)
        .parse()
        .unwrap_or_else(|e| panic!("{relative} is not TOML: {e}"))
}

/// The `max_instance_memory` of a runtime configuration file, in bytes.
fn max_instance_memory(relative: &str) -> i64 {
    toml_of(relative)["max_instance_memory"]
        .as_integer()
        .unwrap_or_else(|| panic!("{relative} sets max_instance_memory"))
}

/// A copy of the project's runtime-config.toml with `edit` applied,
/// written under target/test-output/.
fn runtime_config_with(name: &str, edit: impl FnOnce(&mut toml::Table)) -> PathBuf {
    let mut table = toml_of("runtime-config.toml");
    edit(&mut table);
    let path = output_dir().join(format!("runtime-config-{name}-{}.toml", std::process::id()));
    std::fs::write(&path, toml::to_string(&table).unwrap()).expect("write the runtime config");
    path
}

/// The project's runtime config with another `max_instance_memory`.
fn runtime_config_with_memory(bytes: i64) -> PathBuf {
    runtime_config_with(&format!("memory-{bytes}"), |t| {
        t.insert("max_instance_memory".into(), toml::Value::Integer(bytes));
    })
}

/// `POST /api/events` creating a two-seat event `id` with `token`.
fn create_event(spin: &Spin, token: &str, id: &str) -> Answer {
    let body = format!(r#"{{"id":"{id}","name":"n","rows":[{{"label":"A","seats":2}}]}}"#);
    send_with(
        &client(),
        "POST",
        &spin.url("/api/events"),
        &[("authorization", &format!("Bearer {token}"))],
        Some(body.as_bytes()),
    )
}

/// `SPIN_VARIABLE_*` naming `redis` (address and allowed host).
fn redis_env(redis: &RedisServer) -> Vec<(&'static str, String)> {
    vec![
        ("SPIN_VARIABLE_REDIS_ADDRESS", redis.url()),
        (
            "SPIN_VARIABLE_REDIS_HOST",
            format!("127.0.0.1:{}", redis.port),
        ),
    ]
}

fn as_pairs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn a_variable_in_the_environment_wins_over_dotenv() {
    let redis = RedisServer::start();
    let unused = integration::free_port();
    // .env names a Redis nobody listens on and one admin token; the
    // environment names the real Redis and another token.
    let dotenv = format!(
        "SPIN_VARIABLE_REDIS_ADDRESS=redis://127.0.0.1:{unused}\n\
         SPIN_VARIABLE_REDIS_HOST=127.0.0.1:{unused}\n\
         SPIN_VARIABLE_ADMIN_TOKEN=token-from-dotenv\n"
    );
    let mut env = redis_env(&redis);
    env.push(("SPIN_VARIABLE_ADMIN_TOKEN", "token-from-env".into()));
    let spin = Spin::start_with_dotenv(&as_pairs(&env), &dotenv);
    assert_eq!(get(&spin.url("/health")).status, 200, "{}", spin.log());
    create_event(&spin, "token-from-dotenv", "e1").assert_problem(403, "forbidden");
    assert_eq!(create_event(&spin, "token-from-env", "e2").status, 201);
}

#[test]
fn a_variable_only_in_dotenv_is_used() {
    let redis = RedisServer::start();
    // The environment names Redis; only .env sets the admin token and asks
    // for a replica's acknowledgement of every change (this Redis has none).
    let dotenv = "SPIN_VARIABLE_ADMIN_TOKEN=token-from-dotenv\n\
                  SPIN_VARIABLE_REDIS_REPLICA_ACKS=1\n\
                  SPIN_VARIABLE_REDIS_REPLICA_ACK_TIMEOUT_MS=50\n";
    let spin = Spin::start_with_dotenv(&as_pairs(&redis_env(&redis)), dotenv);
    // Accepted (not 403 admin_disabled), then refused for want of a replica
    // (not 201): both values came from .env.
    create_event(&spin, "token-from-dotenv", "e1").assert_problem(503, "not_replicated");
    post(&spin.url("/api/book/1")).assert_problem(503, "not_replicated");
}

#[test]
fn with_neither_environment_nor_dotenv_the_manifest_default_applies() {
    let redis = RedisServer::start();
    let dotenv = "# nothing set here\n";
    let spin = Spin::start_with_dotenv(&as_pairs(&redis_env(&redis)), dotenv);
    // admin_token defaults to "" (admin endpoints disabled) and
    // redis_replica_acks to 0 (answered after the primary's reply).
    create_event(&spin, "any-token", "e1").assert_problem(403, "admin_disabled");
    assert_eq!(post(&spin.url("/api/book/1")).status, 201);
}

#[test]
fn spin_loads_the_runtime_config_and_refuses_a_key_it_does_not_know() {
    let redis = RedisServer::start();
    let env = redis_env(&redis);
    let misspelt = runtime_config_with("misspelt", |t| {
        let bytes = t.remove("max_instance_memory").unwrap();
        t.insert("max_instance_memroy".into(), bytes);
    });
    let (status, log) = Spin::refused_start(&as_pairs(&env), &misspelt);
    assert!(!status.success(), "{log}");
    assert!(log.contains("max_instance_memroy"), "{log}");
    // The project's file itself is accepted.
    let spin = Spin::start_with_runtime_config(&as_pairs(&env), &runtime_config());
    assert_eq!(get(&spin.url("/health")).status, 200);
}

/// Creates the largest event the API allows on `spin` and marks every seat
/// held in `redis`, as live holds leave them (`held:{E}:<row>`, one sorted
/// set per row of seat numbers scored by expiry, src/store/keys.rs): making
/// 100,000 holds through the API would take the buyer limits away first.
/// Returns the seat map's path.
fn largest_event_every_seat_held(spin: &Spin, redis: &RedisServer) -> String {
    let label = |i: usize| format!("R{i:0width$}", width = LABEL_LEN - 1);
    let rows: Vec<Value> = (0..ROWS)
        .map(|i| serde_json::json!({"label": label(i), "seats": SEATS_PER_ROW}))
        .collect();
    let body = serde_json::json!({"id": "stadium", "name": "Stadium", "rows": rows}).to_string();
    let created = send_with(
        &client(),
        "POST",
        &spin.url("/api/events"),
        &[(
            "authorization",
            &format!("Bearer {}", integration::ADMIN_TOKEN),
        )],
        Some(body.as_bytes()),
    );
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let far_future = 4_102_444_800_000_i64; // 2100-01-01, in ms
    let mut conn = redis.client();
    let mut pipe = redis::pipe();
    for i in 0..ROWS {
        let members: Vec<(i64, usize)> = (1..=SEATS_PER_ROW).map(|n| (far_future, n)).collect();
        pipe.zadd_multiple(format!("held:{{stadium}}:{}", label(i)), &members)
            .ignore();
    }
    pipe.query::<()>(&mut conn).expect("mark every seat held");
    "/api/events/stadium/seats".to_owned()
}

/// Reads the seat map at `path` and checks it is the whole event, held.
fn assert_whole_map_held(spin: &Spin, path: &str) {
    let map = get(&spin.url(path));
    assert_eq!(map.status, 200, "{}", spin.log());
    let body = map.json();
    assert_eq!(body["held"], ROWS * SEATS_PER_ROW, "every seat is held");
    assert_eq!(body["rows"].as_array().map(Vec::len), Some(ROWS));
}

#[test]
fn the_largest_seat_map_fits_in_max_instance_memory_with_room_to_spare() {
    let bound = max_instance_memory("runtime-config.toml");
    let redis = RedisServer::start();
    let spin = Spin::start(&redis);
    let path = largest_event_every_seat_held(&spin, &redis);
    assert_whole_map_held(&spin, &path);
    drop(spin);
    // Within half the bound too: the answer needs less than half of it,
    // so a modest growth of the map's cost does not make it a 500.
    let env = redis_env(&redis);
    let mut env = as_pairs(&env);
    env.push(("SPIN_VARIABLE_ADMIN_TOKEN", integration::ADMIN_TOKEN));
    let half = Spin::start_with_runtime_config(&env, &runtime_config_with_memory(bound / 2));
    assert_whole_map_held(&half, &path);
}

#[test]
fn a_request_over_max_instance_memory_traps_and_the_next_is_served() {
    let redis = RedisServer::start();
    let env = redis_env(&redis);
    let mut env = as_pairs(&env);
    env.push(("SPIN_VARIABLE_ADMIN_TOKEN", integration::ADMIN_TOKEN));
    // 4 MiB: enough for every ordinary request, not for this seat map.
    let spin = Spin::start_with_runtime_config(&env, &runtime_config_with_memory(4 << 20));
    let path = largest_event_every_seat_held(&spin, &redis);
    let map = get(&spin.url(&path));
    assert_eq!(map.status, 500, "{}", String::from_utf8_lossy(&map.body));
    assert!(map.body.is_empty(), "Spin's own 500, no component answer");
    // Spin logs the trap, raised where the guest's allocation failed: in
    // wit-bindgen's cabi_realloc (copying in the Redis reply) or in Rust's
    // out-of-memory handler, depending on which allocation met the bound.
    integration::wait_until(
        std::time::Duration::from_secs(5),
        "Spin's log of the trap",
        || spin.log().contains("wasm trap"),
    );
    let log = spin.log();
    assert!(
        ["cabi_realloc", "rust_oom", "memory allocation of"]
            .iter()
            .any(|at| log.contains(at)),
        "the trap is a failed allocation:\n{log}"
    );
    // Spin serves on: the failed instance took only its own memory.
    assert_eq!(get(&spin.url("/api/version")).status, 200);
    assert_eq!(get(&spin.url("/health")).status, 200);
    assert_eq!(post(&spin.url("/api/book/1")).status, 201);
}

// ---------------------------------------------------------------------------
// The deployments' runtime configuration
// ---------------------------------------------------------------------------

fn yaml(relative: &str) -> Value {
    serde_norway::from_str(&read(relative))
        .unwrap_or_else(|e| panic!("{relative} is not YAML: {e}"))
}

#[test]
fn the_deploy_runtime_config_bounds_memory_like_the_local_one_and_sets_no_provider() {
    let deploy = toml_of("deploy/runtime-config.toml");
    assert_eq!(
        max_instance_memory("deploy/runtime-config.toml"),
        max_instance_memory("runtime-config.toml")
    );
    // The platform sets the variables; no .env is read there.
    assert!(deploy.get("variables_provider").is_none());
    assert!(deploy.get("config_provider").is_none());
    let local = toml_of("runtime-config.toml");
    let providers = local["variables_provider"].as_array().expect("a provider");
    assert_eq!(providers.len(), 1);
    assert_eq!(providers[0]["type"].as_str(), Some("env"));
    assert_eq!(providers[0]["dotenv_path"].as_str(), Some(".env"));
}

#[test]
fn spin_serves_with_the_deploy_runtime_config() {
    let redis = RedisServer::start();
    let env = redis_env(&redis);
    let deploy = root().join("deploy/runtime-config.toml");
    let spin = Spin::start_with_runtime_config(&as_pairs(&env), &deploy);
    assert_eq!(get(&spin.url("/health")).status, 200);
}

#[test]
fn spinkube_loads_the_deploy_runtime_config_from_the_secret_the_spinapp_names() {
    let secret = yaml("deploy/spinkube/runtime-config.yaml");
    assert_eq!(secret["kind"], "Secret");
    let spinapp = yaml("deploy/spinkube/spinapp.yaml");
    assert_eq!(
        spinapp["spec"]["runtimeConfig"]["loadFromSecret"], secret["metadata"]["name"],
        "the SpinApp loads its runtime config from this Secret"
    );
    // The operator reads exactly one key, runtime-config.toml.
    let data = secret["stringData"].as_object().expect("stringData");
    assert_eq!(data.keys().collect::<Vec<_>>(), ["runtime-config.toml"]);
    assert_eq!(
        data["runtime-config.toml"].as_str(),
        Some(read("deploy/runtime-config.toml").as_str()),
        "the Secret carries deploy/runtime-config.toml byte for byte"
    );
}

#[test]
fn compose_mounts_the_deploy_runtime_config_and_passes_it() {
    let compose = yaml("deploy/compose.yaml");
    let app = &compose["services"]["seat-booking"];
    let command: Vec<&str> = app["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let at = command
        .iter()
        .position(|a| *a == "--runtime-config-file")
        .expect("compose passes --runtime-config-file");
    let target = command[at + 1];
    let mount = app["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["target"] == target)
        .unwrap_or_else(|| panic!("nothing is mounted at {target}"));
    assert_eq!(mount["type"], "bind");
    assert_eq!(mount["read_only"], true);
    // Compose resolves a bind source against the compose file's folder.
    assert_eq!(
        root()
            .join("deploy")
            .join(mount["source"].as_str().unwrap())
            .canonicalize()
            .unwrap(),
        root()
            .join("deploy/runtime-config.toml")
            .canonicalize()
            .unwrap()
    );
}
