//! The integration test harness: a real `redis-server` on a free loopback
//! port, the built component served by real `spin up` over real HTTP (see
//! [`Spin`]), and small HTTP and Redis helpers. No mocks anywhere.
//!
//! [`Spin`] builds the component itself (once per test process) with the
//! manifest's build command, so `cargo test -p integration` needs nothing
//! built beforehand.

pub mod ha;
pub mod nginx;
mod service;
mod spin;

pub use service::Service;
pub use spin::{build_component, runtime_config, spin_bin, Spin};

use std::collections::HashMap;
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

/// The admin token [`Spin::start`] configures.
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

/// The script assembly the component's build runs (`build.rs`), shared so
/// the tests send Redis exactly the text the component sends.
#[path = "../../build/lua_scripts.rs"]
pub mod lua_scripts;

/// A script of `src/store/scripts/` as the component sends it: the pieces
/// it needs from `src/store/scripts/lib/`, then the script, comments and
/// indentation dropped.
pub fn event_script(file: &str) -> String {
    lua_scripts::assemble(&root().join("src/store/scripts"), file)
        .unwrap_or_else(|e| panic!("assembling {file}: {e:#}"))
        .text
}

/// Runs the event script `script` (its text) on `event` (`KEYS[1]`, e.g.
/// `event:{gala}`) the way the component does: `args`, then the answer
/// arguments of a request with no idempotency key and a body whose seats
/// the script fills in (scripts that store no answer ignore them); the reply is
/// flattened into one list of text, as Spin's `execute` hands it over.
/// For the tests that drive the Lua scripts directly, without Spin.
pub fn eval_event_script<A: redis::ToRedisArgs>(
    r: &mut redis::Connection,
    script: &str,
    event: &str,
    args: &[A],
) -> Vec<String> {
    let reply: redis::Value = redis::cmd("EVAL")
        .arg(script)
        .arg(1)
        .arg(event)
        .arg(args)
        .arg(&["", "", "201", "", "{\"seats\":\"%SEATS%\"}"])
        .query(r)
        .unwrap_or_else(|e| panic!("EVAL on {event}: {e}"));
    let mut out = Vec::new();
    flatten(reply, &mut out);
    out
}

fn flatten(value: redis::Value, out: &mut Vec<String>) {
    match value {
        redis::Value::Array(items) => items.into_iter().for_each(|v| flatten(v, out)),
        redis::Value::BulkString(b) => out.push(String::from_utf8(b).unwrap()),
        redis::Value::Int(n) => out.push(n.to_string()),
        redis::Value::SimpleString(s) => out.push(s),
        other => panic!("unexpected reply {other:?}"),
    }
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

    /// Starts a replica of `self` (a fresh server with `--replicaof`) and
    /// waits until its replication link is up.
    pub fn start_replica(&self) -> RedisServer {
        let port = self.port.to_string();
        let replica = RedisServer::start_with(&["--replicaof", "127.0.0.1", &port]);
        let mut conn = replica.client();
        wait_until(Duration::from_secs(10), "the replica's link", || {
            replica_link_up(&mut conn)
        });
        replica
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

/// Whether the Redis behind `conn` is a replica whose replication link to
/// its primary is up (`master_link_status:up` in `INFO replication`).
pub fn replica_link_up(conn: &mut redis::Connection) -> bool {
    redis::cmd("INFO")
        .arg("replication")
        .query::<String>(conn)
        .is_ok_and(|i| i.contains("master_link_status:up"))
}

/// The process id of the Redis behind `conn` (`INFO server`), for
/// signalling it (kill, freeze, resume).
pub fn redis_pid(conn: &mut redis::Connection) -> u32 {
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query(conn)
        .expect("INFO server");
    info.lines()
        .find_map(|l| l.strip_prefix("process_id:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("process_id in INFO server")
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

/// A TCP proxy in front of Redis that can stall a client's next script call
/// (`EVALSHA` or `EVAL`) for a while, as a slow network or an overloaded
/// Redis would: the way to make a booking's commit arrive after its lock
/// expired.
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

    /// The next script call (`EVALSHA` or `EVAL`) any client sends waits
    /// `delay` before Redis sees it.
    pub fn stall_next_eval(&self, delay: Duration) {
        *self.stall.lock().unwrap() = Some(delay);
    }
}

/// Copies bytes from `from` to `to`; with `stall`, holds back the first
/// chunk containing `EVAL` (so `EVALSHA` too) for the armed delay.
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

/// One command Redis reported through `MONITOR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorLine {
    /// Who ran it: a client's `ip:port`, or `lua` for a command a script
    /// ran inside Redis (not a round trip).
    pub source: String,
    /// The command name, upper-cased.
    pub command: String,
    /// Its arguments after the name, byte for byte (e.g. a script's text).
    pub args: Vec<Vec<u8>>,
}

impl MonitorLine {
    /// Parses `1700000000.123456 [0 127.0.0.1:5000] "SET" "k" ...`.
    fn parse(line: &str) -> Option<MonitorLine> {
        let (_, rest) = line.split_once('[')?;
        let (bracket, rest) = rest.split_once(']')?;
        let source = bracket.split_whitespace().nth(1)?.to_owned();
        let mut args = monitor_args(rest)?.into_iter();
        let command = String::from_utf8(args.next()?).ok()?.to_ascii_uppercase();
        Some(MonitorLine {
            source,
            command,
            args: args.collect(),
        })
    }

    /// Whether a script ran it inside Redis.
    pub fn in_script(&self) -> bool {
        self.source == "lua"
    }
}

/// The words of a `MONITOR` line after its `[db client]`, as Redis writes
/// them (`sdscatrepr`): each in double quotes, separated by spaces, with
/// `\\`, `\"`, `\n`, `\r`, `\t`, `\a`, `\b` and `\xHH` escapes.
fn monitor_args(text: &str) -> Option<Vec<Vec<u8>>> {
    let mut bytes = text.bytes();
    let mut args = Vec::new();
    loop {
        match bytes.next() {
            None => return Some(args),
            Some(b' ') => continue,
            Some(b'"') => {}
            Some(_) => return None,
        }
        let mut arg = Vec::new();
        loop {
            let byte = match bytes.next()? {
                b'"' => break,
                b'\\' => match bytes.next()? {
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'a' => 0x07,
                    b'b' => 0x08,
                    b'x' => {
                        let hex = [bytes.next()?, bytes.next()?];
                        u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?
                    }
                    other => other,
                },
                other => other,
            };
            arg.push(byte);
        }
        args.push(arg);
    }
}

/// Records the commands clients send to Redis, through `MONITOR`: each
/// line from a client is one round trip. Its own marker connection is left
/// out of everything it reports.
pub struct RedisMonitor {
    lines: Arc<Mutex<Vec<String>>>,
    /// A connection kept open for markers, so taking lines opens none.
    marker: Mutex<BufReader<TcpStream>>,
    marker_source: String,
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
        let marker = TcpStream::connect(("127.0.0.1", redis.port)).expect("connect for markers");
        let marker_source = marker.local_addr().expect("marker address").to_string();
        RedisMonitor {
            lines,
            marker: Mutex::new(BufReader::new(marker)),
            marker_source,
            port: redis.port,
        }
    }

    /// Every command Redis ran since the last call, clients' and scripts',
    /// in order.
    pub fn take_lines(&self) -> Vec<MonitorLine> {
        // A marker sent through the marker connection shows when every
        // earlier line has arrived.
        let marker = format!("monitor-marker-{}-{}", self.port, free_port());
        self.send_marker(&marker);
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
            .filter_map(|l| MonitorLine::parse(l))
            .filter(|l| l.source != self.marker_source)
            .collect()
    }

    fn send_marker(&self, marker: &str) {
        let mut conn = self.marker.lock().unwrap();
        let request = format!("*2\r\n$4\r\nECHO\r\n${}\r\n{marker}\r\n", marker.len());
        conn.get_mut()
            .write_all(request.as_bytes())
            .expect("send the monitor marker");
        // The reply: `$<len>` then the marker itself.
        for _ in 0..2 {
            let mut line = String::new();
            conn.read_line(&mut line).expect("read the marker reply");
        }
    }

    /// The commands clients sent since the last call, upper-cased, in
    /// order, without commands scripts ran and without `INFO` (the
    /// harness reads counters with it).
    pub fn take(&self) -> Vec<String> {
        self.take_lines()
            .into_iter()
            .filter(|l| !l.in_script() && l.command != "INFO")
            .map(|l| l.command)
            .collect()
    }

    /// Runs `request` and reports what it cost in Redis, from what Redis
    /// itself saw: new connections (`total_connections_received`) and the
    /// commands each client connection sent (`MONITOR`), cross-checked
    /// against `INFO commandstats`, which counts every command including
    /// those run inside scripts, so a command `MONITOR` missed fails here.
    pub fn cost_of<T>(&self, redis: &RedisServer, request: impl FnOnce() -> T) -> (T, RedisCost) {
        let mut counters = redis.client();
        let counters_source = client_address(&mut counters);
        self.take_lines();
        let before = RedisCounters::read(&mut counters);
        let out = request();
        let after = RedisCounters::read(&mut counters);
        let lines: Vec<MonitorLine> = self
            .take_lines()
            .into_iter()
            .filter(|l| l.source != counters_source)
            .collect();
        let (calls, connections) = after.since(&before);
        assert_eq!(
            by_command_name(&calls),
            count_commands(&lines),
            "INFO commandstats and MONITOR disagree: {lines:?}"
        );
        (out, RedisCost::new(connections, lines))
    }
}

/// The `ip:port` Redis knows `conn` by (`CLIENT INFO`'s `addr=`).
fn client_address(conn: &mut redis::Connection) -> String {
    let info: String = redis::cmd("CLIENT")
        .arg("INFO")
        .query(conn)
        .expect("CLIENT INFO");
    info.split_whitespace()
        .find_map(|f| f.strip_prefix("addr="))
        .expect("addr= in CLIENT INFO")
        .to_owned()
}

/// commandstats counts keyed by command name (`client|info` counts as
/// `client`), lower-case, without `replconf`: replicas send it on their
/// replication link (acknowledgements), which `MONITOR` does not show.
fn by_command_name(calls: &HashMap<String, u64>) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    for (name, n) in calls {
        let base = name.split('|').next().unwrap_or(name).to_ascii_lowercase();
        if base != "replconf" {
            *out.entry(base).or_insert(0) += n;
        }
    }
    out
}

/// How often each command occurs in `lines`, lower-case like commandstats.
fn count_commands(lines: &[MonitorLine]) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    for line in lines {
        *out.entry(line.command.to_ascii_lowercase()).or_insert(0) += 1;
    }
    out
}

/// What one request cost in Redis (see [`RedisMonitor::cost_of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisCost {
    /// Connections Redis accepted meanwhile.
    pub connections: u64,
    /// The commands each client connection sent (round trips), in order,
    /// one entry per connection that sent any.
    pub sent: Vec<Vec<String>>,
    /// The commands scripts ran inside Redis.
    pub in_scripts: Vec<String>,
}

impl RedisCost {
    fn new(connections: u64, lines: Vec<MonitorLine>) -> RedisCost {
        let mut sources: Vec<String> = Vec::new();
        let mut sent: Vec<Vec<String>> = Vec::new();
        let mut in_scripts = Vec::new();
        for line in lines {
            if line.in_script() {
                in_scripts.push(line.command);
                continue;
            }
            match sources.iter().position(|s| *s == line.source) {
                Some(i) => sent[i].push(line.command),
                None => {
                    sources.push(line.source);
                    sent.push(vec![line.command]);
                }
            }
        }
        RedisCost {
            connections,
            sent,
            in_scripts,
        }
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
    raw_request(addr, &request)
}

/// Sends `request` exactly as given (request line, headers and body, any
/// bytes at all) on a new connection and reads the answer until the server
/// closes it, for requests no HTTP client library would send.
pub fn raw_request(addr: SocketAddr, request: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request).expect("send request");
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

/// A fresh `Idempotency-Key` as a careful client makes one: 16 random
/// bytes from the system in hex, 128 bits no one else can guess, which the
/// component's key rule takes (any key it would not is refused with `400`).
pub fn idempotency_key() -> String {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .expect("read /dev/urandom");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Polls `check` until it is true, or panics after `limit`.
pub fn wait_until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitor_lines_are_read_with_their_arguments_unescaped() {
        let line = MonitorLine::parse(
            r#"1700000000.123456 [0 127.0.0.1:5000] "evalsha" "ab12" "1" "a \"q\" \\ b\nc\td\x00\xe9""#,
        )
        .unwrap();
        assert_eq!(line.source, "127.0.0.1:5000");
        assert_eq!(line.command, "EVALSHA");
        assert_eq!(
            line.args,
            [
                b"ab12".to_vec(),
                b"1".to_vec(),
                b"a \"q\" \\ b\nc\td\x00\xe9".to_vec()
            ]
        );
        let script = MonitorLine::parse(r#"1700000000.1 [0 lua] "SET" "k" "v""#).unwrap();
        assert!(script.in_script());
        assert_eq!(MonitorLine::parse("1700000000.1 [0 lua] SET"), None);
    }
}
