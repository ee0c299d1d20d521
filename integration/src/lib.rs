//! The integration test harness: a real `redis-server` on a free loopback
//! port, the built component running in the project's host over real HTTP,
//! and small HTTP and Redis helpers. No mocks anywhere.
//!
//! The component (`target/wasm32-wasip1/release/seat_booking.wasm`) and the
//! host (`target/release/spin-host`) must be built first; `scripts/test.sh`
//! does that.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The project root (where `spin.toml` lives).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the integration crate sits inside the project")
}

/// The admin token the test hosts are started with.
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

/// An event script as the component sends it: the shared prelude followed
/// by `file` from `src/store/scripts/`.
pub fn event_script(file: &str) -> String {
    let dir = root().join("src/store/scripts");
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    };
    read("event_prelude.lua") + &read(file)
}

/// A loopback port nobody listens on right now, never handed out before in
/// this test process (tests run in parallel threads), and below Linux's
/// ephemeral range (32768 and up): a client connecting in a loop to a port
/// in that range can end up connected to itself and take the port away from
/// the server about to listen there.
pub fn free_port() -> u16 {
    static NEXT: Mutex<Option<u16>> = Mutex::new(None);
    const FIRST: u16 = 20_000;
    const COUNT: u16 = 12_000;
    let mut next = NEXT.lock().unwrap();
    let mut candidate = next.unwrap_or(FIRST + (std::process::id() % u32::from(COUNT)) as u16);
    loop {
        candidate = FIRST + (candidate - FIRST + 1) % COUNT;
        if TcpListener::bind(("127.0.0.1", candidate)).is_ok() {
            *next = Some(candidate);
            return candidate;
        }
    }
}

/// Where tests write logs and artefacts.
pub fn output_dir() -> PathBuf {
    let dir = root().join("target").join("test-output");
    std::fs::create_dir_all(&dir).expect("create target/test-output");
    dir
}

/// A real redis-server child process, killed on drop.
pub struct RedisServer {
    /// The loopback port it listens on.
    pub port: u16,
    child: Option<Child>,
    extra_args: Vec<String>,
}

impl RedisServer {
    /// Starts a throw-away redis-server (no persistence) on a free port.
    pub fn start() -> RedisServer {
        RedisServer::start_with(&[])
    }

    /// Starts one with extra command-line options, e.g. `["--requirepass", "pw"]`.
    pub fn start_with(extra_args: &[&str]) -> RedisServer {
        let mut server = RedisServer {
            port: free_port(),
            child: None,
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
        };
        server.launch();
        server
    }

    fn launch(&mut self) {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--dir", "/tmp"])
            .args(&self.extra_args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server (apt-get install redis-server)");
        self.child = Some(child);
        // Wait for a real PONG, not just an open port: a client connecting
        // in a loop to a loopback port in the ephemeral range can connect to
        // itself (TCP self-connect), and would then hold the port redis-server needs.
        let url = self.url();
        wait_until(Duration::from_secs(10), "redis-server to answer", || {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("redis-server on port {} exited: {status}", self.port);
            }
            redis::Client::open(url.as_str())
                .and_then(|c| c.get_connection())
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
                .is_ok_and(|pong| pong == "PONG")
        });
    }

    /// Kills the server, as a crash or outage would.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// The URL the component should open (with the password, if the
    /// server was started with `--requirepass`).
    pub fn url(&self) -> String {
        let password = self
            .extra_args
            .iter()
            .position(|a| a == "--requirepass")
            .and_then(|i| self.extra_args.get(i + 1));
        match password {
            Some(pw) => format!("redis://:{pw}@127.0.0.1:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// A direct client connection, for setting up and checking state.
    pub fn client(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection())
            .expect("connect to the test redis-server")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Per-command call counts and the connection count, read from `INFO`.
#[derive(Debug, Clone, PartialEq)]
pub struct RedisCounters {
    /// `cmdstat_<name>` -> calls, without the `INFO` calls that read them.
    pub calls: HashMap<String, u64>,
    /// `total_connections_received`.
    pub connections: u64,
}

impl RedisCounters {
    /// Reads the counters through `conn`.
    pub fn read(conn: &mut redis::Connection) -> RedisCounters {
        let commandstats: String = redis::cmd("INFO")
            .arg("commandstats")
            .query(conn)
            .expect("INFO commandstats");
        let stats: String = redis::cmd("INFO")
            .arg("stats")
            .query(conn)
            .expect("INFO stats");
        let mut calls = HashMap::new();
        for line in commandstats.lines() {
            let Some(rest) = line.strip_prefix("cmdstat_") else {
                continue;
            };
            let (name, fields) = rest.split_once(':').expect("cmdstat line");
            let count = fields
                .split(',')
                .find_map(|f| f.strip_prefix("calls="))
                .and_then(|n| n.parse().ok())
                .expect("calls field");
            if name != "info" {
                calls.insert(name.to_owned(), count);
            }
        }
        let connections = stats
            .lines()
            .find_map(|l| l.strip_prefix("total_connections_received:"))
            .and_then(|n| n.trim().parse().ok())
            .expect("total_connections_received");
        RedisCounters { calls, connections }
    }

    /// What happened between `before` and `self`: commands with a changed
    /// count, and the number of new connections.
    pub fn since(&self, before: &RedisCounters) -> (HashMap<String, u64>, u64) {
        let delta = self
            .calls
            .iter()
            .filter_map(|(name, &n)| {
                let was = before.calls.get(name).copied().unwrap_or(0);
                (n > was).then(|| (name.clone(), n - was))
            })
            .collect();
        (delta, self.connections - before.connections)
    }
}

/// A TCP proxy in front of Redis that can stall a client's next `EVAL` for
/// a while, as a slow network or an overloaded Redis would: the way to make
/// a booking's commit arrive after its lock expired.
pub struct StallProxy {
    /// The loopback port clients connect to.
    pub port: u16,
    stall: Arc<Mutex<Option<Duration>>>,
}

impl StallProxy {
    /// Forwards connections on a free port to Redis on `target_port`.
    pub fn start(target_port: u16) -> StallProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().unwrap().port();
        let stall: Arc<Mutex<Option<Duration>>> = Arc::new(Mutex::new(None));
        let shared = stall.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)) else {
                    continue;
                };
                let (client_read, server_write) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                let stall = shared.clone();
                std::thread::spawn(move || pump(client_read, server_write, Some(stall)));
                std::thread::spawn(move || pump(server, client, None));
            }
        });
        StallProxy { port, stall }
    }

    /// The next `EVAL` any client sends waits `delay` before Redis sees it.
    pub fn stall_next_eval(&self, delay: Duration) {
        *self.stall.lock().unwrap() = Some(delay);
    }
}

/// Copies bytes from `from` to `to`; with `stall`, holds back the first
/// chunk containing an `EVAL` for the armed delay.
fn pump(mut from: TcpStream, mut to: TcpStream, stall: Option<Arc<Mutex<Option<Duration>>>>) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some(stall) = &stall {
            let is_eval = buf[..n].windows(4).any(|w| w.eq_ignore_ascii_case(b"EVAL"));
            let delay = if is_eval {
                stall.lock().unwrap().take()
            } else {
                None
            };
            if let Some(delay) = delay {
                std::thread::sleep(delay);
            }
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Both);
}

/// Records the commands clients send to Redis, through `MONITOR`: each
/// line is one round trip. Commands a Lua script runs inside Redis are not
/// round trips and are left out, and so are the harness's own `INFO` and
/// `ECHO` calls.
pub struct RedisMonitor {
    lines: Arc<Mutex<Vec<String>>>,
    port: u16,
}

impl RedisMonitor {
    /// Starts monitoring `redis`.
    pub fn start(redis: &RedisServer) -> RedisMonitor {
        let mut stream = TcpStream::connect(("127.0.0.1", redis.port)).expect("connect monitor");
        stream.write_all(b"MONITOR\r\n").expect("send MONITOR");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let mut reader = BufReader::new(stream);
        let mut ok = String::new();
        reader.read_line(&mut ok).expect("MONITOR reply");
        assert_eq!(ok.trim_end(), "+OK");
        std::thread::spawn(move || {
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                sink.lock().unwrap().push(line.trim_end().to_owned());
                line.clear();
            }
        });
        RedisMonitor {
            lines,
            port: redis.port,
        }
    }

    /// The commands clients sent since the last call, upper-cased, in order.
    pub fn take(&self) -> Vec<String> {
        // A marker sent through a second connection shows when every earlier line has arrived.
        let marker = format!("monitor-marker-{}", free_port());
        let mut conn = redis::Client::open(format!("redis://127.0.0.1:{}", self.port))
            .and_then(|c| c.get_connection())
            .expect("connect for marker");
        let _: String = redis::cmd("ECHO").arg(&marker).query(&mut conn).unwrap();
        wait_until(Duration::from_secs(5), "the monitor marker", || {
            self.lines
                .lock()
                .unwrap()
                .iter()
                .any(|l| l.contains(&marker))
        });
        let lines = std::mem::take(&mut *self.lines.lock().unwrap());
        lines
            .iter()
            .filter(|l| !l.contains(" lua]"))
            .filter_map(|l| l.split('"').nth(1))
            .map(str::to_ascii_uppercase)
            .filter(|c| c != "INFO" && c != "ECHO")
            .collect()
    }
}

/// The project's host serving the built component, killed on drop.
pub struct Host {
    /// The address it listens on.
    pub addr: SocketAddr,
    child: Child,
    log: PathBuf,
}

impl Host {
    /// Serves `spin.toml` with Redis variables pointing at `redis`.
    pub fn start(redis: &RedisServer) -> Host {
        Host::start_for(redis, &[])
    }

    /// Like [`Host::start`], with the host printing a `spin-host call:` line
    /// per variable lookup and Redis `open` (see [`Host::calls`]).
    pub fn start_traced(redis: &RedisServer) -> Host {
        Host::start_for(redis, &[("SPIN_HOST_TRACE_CALLS", "1")])
    }

    fn start_for(redis: &RedisServer, extra: &[(&str, &str)]) -> Host {
        let host_port = format!("127.0.0.1:{}", redis.port);
        let mut env = vec![
            ("SPIN_VARIABLE_REDIS_ADDRESS", redis.url()),
            ("SPIN_VARIABLE_REDIS_HOST", host_port),
            ("SPIN_VARIABLE_ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
        ];
        env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Host::start_with(&env)
    }

    /// The host calls traced so far (`variables.get <name>`, `redis.open`).
    pub fn calls(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter_map(|l| l.strip_prefix("spin-host call: "))
            .map(str::to_owned)
            .collect()
    }

    /// Serves `spin.toml` with the given extra environment.
    pub fn start_with(env: &[(&str, &str)]) -> Host {
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let log = output_dir().join(format!("host-{port}.log"));
        let out = File::create(&log).expect("create host log");
        let err = out.try_clone().expect("clone host log");
        let bin = root().join("target/release/spin-host");
        let child = Command::new(&bin)
            .current_dir(root())
            .args(["up", "--from", "spin.toml"])
            .args(["--runtime-config-file", "runtime-config.toml"])
            .args(["--listen", &addr.to_string()])
            .envs(env.iter().copied())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("start {} (run scripts/test.sh): {e}", bin.display()));
        let mut host = Host { addr, child, log };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(Some(status)) = host.child.try_wait() {
                panic!("the host exited with {status}:\n{}", host.log());
            }
            if get(&host.url("/api/version")).status == 200 {
                return host;
            }
            assert!(
                Instant::now() < deadline,
                "host never served:\n{}",
                host.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The full URL of `path` on this host.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The host's process id, for reading its memory use.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the host process, in KiB (from `/proc`).
    pub fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
            .unwrap_or(0)
    }

    /// Everything the host and the component printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer: status, lower-cased headers, body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body parsed as JSON (panics with the body text if it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// Asserts a problem+json answer with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        let body = self.json();
        assert_eq!(body["code"], code, "body: {body}");
        assert_eq!(body["status"], status);
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build()
}

/// Sends a request; any status, including 4xx/5xx, comes back as an [`Answer`].
pub fn send(agent: &ureq::Agent, method: &str, url: &str, body: Option<&[u8]>) -> Answer {
    send_with(agent, method, url, &[], body)
}

/// Like [`send`], with extra request headers.
pub fn send_with(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Answer {
    let mut req = agent.request(method, url);
    for (name, value) in headers {
        req = req.set(name, value);
    }
    let result = match body {
        Some(b) if req.header("content-type").is_none() => {
            req.set("content-type", "application/json").send_bytes(b)
        }
        Some(b) => req.send_bytes(b),
        None => req.call(),
    };
    let res = match result {
        Ok(res) | Err(ureq::Error::Status(_, res)) => res,
        Err(e) => {
            return Answer {
                status: 0,
                headers: HashMap::new(),
                body: e.to_string().into_bytes(),
            }
        }
    };
    let status = res.status();
    let headers = res
        .headers_names()
        .into_iter()
        .map(|n| {
            let v = res.header(&n).unwrap_or_default().to_owned();
            (n.to_ascii_lowercase(), v)
        })
        .collect();
    let mut body = Vec::new();
    res.into_reader()
        .read_to_end(&mut body)
        .expect("read response body");
    Answer {
        status,
        headers,
        body,
    }
}

/// `GET url` on a fresh connection; status 0 when no connection was made.
pub fn get(url: &str) -> Answer {
    send(&agent(), "GET", url, None)
}

/// `POST url` with no body on a fresh connection.
pub fn post(url: &str) -> Answer {
    send(&agent(), "POST", url, None)
}

/// A new keep-alive client, for loops of requests.
pub fn client() -> ureq::Agent {
    agent()
}

/// Sends `method target` byte for byte, with no URL normalisation, for
/// paths a normal client would rewrite (`..`, spaces, raw braces).
pub fn raw(addr: SocketAddr, method: &str, target: &[u8]) -> Answer {
    raw_with_body(addr, method, target, &[], b"")
}

/// Like [`raw`], with exactly the given extra headers and body (and no
/// Content-Type unless given).
pub fn raw_with_body(
    addr: SocketAddr,
    method: &str,
    target: &[u8],
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut stream = TcpStream::connect(addr).expect("connect to host");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut request = Vec::new();
    request.extend_from_slice(method.as_bytes());
    request.push(b' ');
    request.extend_from_slice(target);
    request.extend_from_slice(format!(" HTTP/1.1\r\nHost: {addr}\r\n").as_bytes());
    for (name, value) in headers {
        request.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    request.extend_from_slice(
        format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    request.extend_from_slice(body);
    stream.write_all(&request).expect("send request");
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("read response");
    parse_response(&bytes)
}

fn parse_response(bytes: &[u8]) -> Answer {
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&bytes[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let raw_body = &bytes[split + 4..];
    let body = if headers.get("transfer-encoding").map(String::as_str) == Some("chunked") {
        dechunk(raw_body)
    } else {
        raw_body.to_vec()
    };
    Answer {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size");
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16)
            .expect("hex chunk size");
        if size == 0 {
            return out;
        }
        let start = line_end + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
}

/// Polls `check` until it is true, or panics after `limit`.
pub fn wait_until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
