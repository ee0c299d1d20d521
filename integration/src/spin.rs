//! Real `spin up` serving a built component: the only way the tests run
//! the component, because nothing in the project may imitate Spin (see
//! docs/design.md, "The runtime: real Spin, in tests too").

use std::fs::File;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::{free_port, get, output_dir, root, RedisServer, ADMIN_TOKEN};

/// How long `spin up` may take to serve its first request.
const START_LIMIT: Duration = Duration::from_secs(60);
/// How long Spin gets to stop after SIGINT before its group is killed.
const STOP_LIMIT: Duration = Duration::from_secs(5);

/// A Spin application the tests can serve.
#[derive(Debug, Clone, Copy)]
struct App {
    /// Its manifest, relative to the project root.
    manifest: &'static str,
    /// A path that answers 200 once the app is served.
    ready_path: &'static str,
    /// Builds its Wasm once per test process.
    build: fn(),
}

/// The seat booking component, as users run it.
const BOOKING: App = App {
    manifest: "spin.toml",
    ready_path: "/api/version",
    build: build_component,
};

/// The test-only probe component (`integration/spin-probe/`), for Spin
/// behaviours the product component must never trigger, such as a panic.
const PROBE: App = App {
    manifest: "integration/spin-probe/spin.toml",
    ready_path: "/",
    build: build_probe,
};

/// `spin up` serving a built component on a free loopback port, in its own
/// process group (Spin runs a child `spin trigger http`), stopped with the
/// whole group on drop.
pub struct Spin {
    /// The address it listens on.
    pub addr: SocketAddr,
    child: Child,
    /// This instance's own directory: `HOME`, state (component logs) and
    /// the captured terminal output.
    dir: PathBuf,
}

impl Spin {
    /// Serves `spin.toml` with its Redis variables pointing at `redis` and
    /// the test admin token.
    pub fn start(redis: &RedisServer) -> Spin {
        Spin::start_on(redis, &[])
    }

    /// Like [`Spin::start`], with more environment, e.g.
    /// `SPIN_VARIABLE_REDIS_REPLICA_ACKS`.
    pub fn start_on(redis: &RedisServer, extra: &[(&str, &str)]) -> Spin {
        let host_port = format!("127.0.0.1:{}", redis.port);
        let url = redis.url();
        let mut env = vec![
            ("SPIN_VARIABLE_REDIS_ADDRESS", url.as_str()),
            ("SPIN_VARIABLE_REDIS_HOST", host_port.as_str()),
            ("SPIN_VARIABLE_ADMIN_TOKEN", ADMIN_TOKEN),
        ];
        env.extend_from_slice(extra);
        Spin::start_with(&env)
    }

    /// Serves `spin.toml` with exactly the given `SPIN_VARIABLE_*` (and
    /// other) environment; variables not given take the manifest defaults.
    pub fn start_with(env: &[(&str, &str)]) -> Spin {
        Spin::serve(BOOKING, env)
    }

    /// Serves the probe component (`integration/spin-probe/spin.toml`).
    pub fn start_probe() -> Spin {
        Spin::serve(PROBE, &[])
    }

    /// Like [`Spin::start_with`], with a `.env` file holding `dotenv` in
    /// the working directory Spin starts in, as `scripts/run.sh` runs it
    /// from the project root.
    pub fn start_with_dotenv(env: &[(&str, &str)], dotenv: &str) -> Spin {
        Spin::serve_with(BOOKING, env, Some(dotenv), &runtime_config())
    }

    /// Like [`Spin::start_with`], with the runtime configuration file
    /// `runtime_config` instead of the project's `runtime-config.toml`.
    pub fn start_with_runtime_config(env: &[(&str, &str)], runtime_config: &Path) -> Spin {
        Spin::serve_with(BOOKING, env, None, runtime_config)
    }

    /// Runs `spin up` of `spin.toml` with the runtime configuration file
    /// `runtime_config` and the environment `env`, expecting it to refuse to
    /// start: returns its exit status and everything it printed. Panics if
    /// it serves instead, or still runs after [`START_LIMIT`].
    pub fn refused_start(
        env: &[(&str, &str)],
        runtime_config: &Path,
    ) -> (std::process::ExitStatus, String) {
        build_component();
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let dir = instance_dir();
        let child = spawn_spin(BOOKING, addr, &dir, env, runtime_config);
        let mut spin = Spin { addr, child, dir };
        let deadline = Instant::now() + START_LIMIT;
        loop {
            if let Ok(Some(status)) = spin.child.try_wait() {
                return (status, spin.log());
            }
            let answer = get(&spin.url(BOOKING.ready_path));
            assert_ne!(
                answer.status,
                200,
                "spin up served with {}:\n{}",
                runtime_config.display(),
                spin.log()
            );
            assert!(
                Instant::now() < deadline,
                "spin up neither served nor exited within {START_LIMIT:?}:\n{}",
                spin.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn serve(app: App, env: &[(&str, &str)]) -> Spin {
        Spin::serve_with(app, env, None, &runtime_config())
    }

    /// Builds `app` if this process has not yet, starts `spin up` and waits
    /// until it answers.
    fn serve_with(
        app: App,
        env: &[(&str, &str)],
        dotenv: Option<&str>,
        runtime_config: &Path,
    ) -> Spin {
        (app.build)();
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let dir = instance_dir();
        if let Some(text) = dotenv {
            std::fs::write(dir.join(".env"), text).expect("write the instance's .env");
        }
        let child = spawn_spin(app, addr, &dir, env, runtime_config);
        // From here on a panic drops `spin`, which stops the process group.
        let mut spin = Spin { addr, child, dir };
        spin.wait_until_served(app.ready_path);
        spin
    }

    fn wait_until_served(&mut self, ready_path: &str) {
        let deadline = Instant::now() + START_LIMIT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("spin up exited with {status}:\n{}", self.log());
            }
            if get(&self.url(ready_path)).status == 200 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "spin up did not serve {ready_path} within {START_LIMIT:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The full URL of `path` on this instance.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Everything Spin printed so far (its terminal output, which also
    /// carries the component's stdout and stderr), followed by the
    /// component log files Spin wrote to its state directory.
    pub fn log(&self) -> String {
        let mut text = std::fs::read_to_string(self.terminal_log()).unwrap_or_default();
        for file in self.component_log_files("") {
            let name = file.file_name().unwrap_or_default().to_string_lossy();
            let content = std::fs::read_to_string(&file).unwrap_or_default();
            text.push_str(&format!("\n--- {name} ---\n{content}"));
        }
        text
    }

    /// What the component wrote to stderr, from Spin's
    /// `<component>_stderr.txt` log files: the component's own log lines,
    /// without Spin's.
    pub fn component_stderr(&self) -> String {
        self.component_log_files("_stderr.txt")
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap_or_default())
            .collect()
    }

    fn terminal_log(&self) -> PathBuf {
        self.dir.join("spin.log")
    }

    /// The component log files ending with `suffix`, sorted by name.
    fn component_log_files(&self, suffix: &str) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("state/logs")) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(suffix))
            .collect();
        files.sort();
        files
    }

    /// Resident memory of every process in this instance's process group
    /// (`spin up` and its `spin trigger http`), in KiB, from `/proc`.
    pub fn rss_kib(&self) -> u64 {
        let group = self.child.id();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return 0;
        };
        entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|&pid| process_group_of(pid) == Some(group))
            .map(rss_of)
            .sum()
    }

    /// SIGINT to the group, as Ctrl-C would; SIGKILL if it lingers.
    fn stop(&mut self) {
        let group = self.child.id();
        signal_group("INT", group);
        let deadline = Instant::now() + STOP_LIMIT;
        while group_alive(&mut self.child, group) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if group_alive(&mut self.child, group) {
            signal_group("KILL", group);
            let deadline = Instant::now() + STOP_LIMIT;
            while group_alive(&mut self.child, group) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.wait();
    }
}

impl Drop for Spin {
    fn drop(&mut self) {
        self.stop();
        // Keep the logs of a failed test for reading; drop the rest.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The project's runtime configuration, which every `spin up` of the
/// project passes (`--runtime-config-file runtime-config.toml`).
pub fn runtime_config() -> PathBuf {
    root().join("runtime-config.toml")
}

/// Starts `spin up` for `app` with the runtime configuration file
/// `runtime_config` in a new process group, with `dir` as HOME and state
/// directory and the terminal output captured in `dir/spin.log`.
fn spawn_spin(
    app: App,
    addr: SocketAddr,
    dir: &Path,
    env: &[(&str, &str)],
    runtime_config: &Path,
) -> Child {
    let home = dir.join("home");
    std::fs::create_dir_all(&home)
        .unwrap_or_else(|e| panic!("create Spin's HOME {}: {e}", home.display()));
    let log_path = dir.join("spin.log");
    let out =
        File::create(&log_path).unwrap_or_else(|e| panic!("create {}: {e}", log_path.display()));
    let err = out.try_clone().expect("clone the Spin log file handle");
    let bin = spin_bin();
    let mut command = Command::new(bin);
    // The working directory is the instance's own: the runtime config's env
    // provider (and Spin's built-in one) reads `.env` from the working
    // directory, so a developer's `.env` in the project (scripts/run.sh
    // writes one, with an admin token) never changes what a test sees.
    command
        .current_dir(dir)
        .arg("up")
        .arg("--from")
        .arg(root().join(app.manifest))
        .arg("--runtime-config-file")
        .arg(runtime_config)
        .args(["--listen", &addr.to_string()])
        .arg("--state-dir")
        .arg(dir.join("state"));
    // Only the variables this test sets: none leak in from the developer's
    // shell, nor a SPIN_MAX_INSTANCE_MEMORY, which would override the
    // runtime config's max_instance_memory.
    for (name, _) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        if name_text.starts_with("SPIN_VARIABLE_") || name_text == "SPIN_MAX_INSTANCE_MEMORY" {
            command.env_remove(name);
        }
    }
    command
        .env("HOME", &home)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("start {} up: {e}", bin.display()))
}

/// A fresh directory for one Spin instance under `target/test-output/`.
fn instance_dir() -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = output_dir().join(format!("spin-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

/// Sends `signal` to every process of process group `group`.
fn signal_group(signal: &str, group: u32) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(format!("-{group}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Whether any process of `group` still runs; reaps `leader` once it has
/// exited (an unreaped zombie would count as alive).
fn group_alive(leader: &mut Child, group: u32) -> bool {
    let _ = leader.try_wait();
    Command::new("kill")
        .args(["-0", "--", &format!("-{group}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The process group of `pid`, from `/proc/<pid>/stat` (the field after
/// state and parent pid, counted from the end of the command name).
fn process_group_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, after_name) = stat.rsplit_once(')')?;
    after_name.split_whitespace().nth(2)?.parse().ok()
}

/// `VmRSS` of `pid` in KiB, 0 if it is gone.
fn rss_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The Spin CLI the tests run, resolved once: `SPIN_BIN`; else `spin` on
/// PATH if it is Spin 3.3 or newer 3.x, or 4.x (spin-sdk 5 components run
/// on 3.x and 4.x; Spin before 3.3 refuses runtime-config.toml's
/// `max_instance_memory`); else the copy in `shared/tools/spin/` beside the
/// project.
pub fn spin_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(find_spin)
}

fn find_spin() -> PathBuf {
    if let Some(bin) = std::env::var_os("SPIN_BIN") {
        let bin = PathBuf::from(bin);
        if spin_version(&bin).is_none() {
            panic!("SPIN_BIN={} does not run `--version`", bin.display());
        }
        return bin;
    }
    let on_path = PathBuf::from("spin");
    if spin_version(&on_path).is_some_and(|v| runs_the_runtime_config(&v)) {
        return on_path;
    }
    let shared = root()
        .parent()
        .map(|p| p.join("shared/tools/spin/spin"))
        .filter(|p| p.is_file());
    shared.unwrap_or_else(|| {
        panic!(
            "no Spin 3.3+ or 4.x found: install Spin with its official installer \
             (see https://spinframework.dev: `curl -fsSL \
             https://spinframework.dev/downloads/install.sh | bash`, then move `spin` \
             onto PATH), or set SPIN_BIN to a Spin binary"
        )
    })
}

/// Whether Spin `version` (e.g. `4.0.2`) is 3.3 or newer 3.x, or 4.x.
fn runs_the_runtime_config(version: &str) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(3), Some(minor)) => minor >= 3,
        (Some(major), _) => major == 4,
        _ => false,
    }
}

/// The version `bin --version` reports (`spin 4.0.2 (...)` -> `4.0.2`).
fn spin_version(bin: &Path) -> Option<String> {
    let out = Command::new(bin)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let version = text.strip_prefix("spin ")?.split_whitespace().next()?;
    out.status.success().then(|| version.to_owned())
}

/// Builds the seat booking component once per test process, with the
/// manifest's build command, so the tests never serve a stale build.
pub fn build_component() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| cargo_build(&["build", "--target", "wasm32-wasip1", "--release"]));
}

/// Builds the probe component once per test process.
fn build_probe() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        cargo_build(&[
            "build",
            "--target",
            "wasm32-wasip1",
            "--release",
            "-p",
            "spin-probe",
        ])
    });
}

/// Runs cargo with `args` in the project root; panics with its output if
/// the build fails.
fn cargo_build(args: &[&str]) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(&cargo)
        .current_dir(root())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run cargo {}: {e}", args.join(" ")));
    assert!(
        out.status.success(),
        "cargo {} failed ({}):\n{}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
