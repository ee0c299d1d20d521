//! The replicated Redis topology for failover tests: one primary, two
//! replicas, three Sentinels and HAProxy in front, all real Debian
//! processes on loopback, started and stopped by `scripts/ha-topology.sh`
//! (the same script `scripts/run.sh --ha` and the failover load test use).
//!
//! The component only ever sees [`HaTopology::front_url`]: one stable
//! address that HAProxy routes to whichever Redis says `role:master`, the
//! shape of a managed service's primary endpoint.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{output_dir, redis_pid, replica_link_up, root, wait_until};

/// A running topology, stopped (every process, frozen ones too) on drop.
pub struct HaTopology {
    dir: PathBuf,
    /// HAProxy's front port: the only address the component is given.
    pub front_port: u16,
    /// The Sentinels' ports.
    pub sentinel_ports: Vec<u16>,
    /// The name the Sentinels monitor the primary under.
    pub master_name: String,
    /// Every Redis data node's port (primary and replicas), as started.
    pub redis_ports: Vec<u16>,
}

impl HaTopology {
    /// Starts the topology as `scripts/ha-topology.sh` sets it up, with
    /// `env` passed to the script (e.g. `HA_MIN_REPLICAS_TO_WRITE`).
    pub fn start_with(name: &str, env: &[(&str, &str)]) -> HaTopology {
        let dir = output_dir().join(format!("ha-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let status = Command::new("bash")
            .arg(root().join("scripts/ha-topology.sh"))
            .arg("start")
            .arg(&dir)
            .envs(env.iter().copied())
            .status()
            .expect("run scripts/ha-topology.sh start");
        assert!(status.success(), "scripts/ha-topology.sh start failed");
        let vars = read_env_file(&dir.join("topology.env"));
        let ports = |name: &str| -> Vec<u16> {
            vars.get(name)
                .unwrap_or_else(|| panic!("topology.env has no {name}"))
                .split_whitespace()
                .map(|p| p.parse().expect("a port number"))
                .collect()
        };
        let primary = ports("HA_PRIMARY_PORT");
        let mut redis_ports = primary.clone();
        redis_ports.extend(ports("HA_REPLICA_PORTS"));
        HaTopology {
            front_port: ports("HA_FRONT_PORT")[0],
            sentinel_ports: ports("HA_SENTINEL_PORTS"),
            master_name: vars
                .get("HA_MASTER_NAME")
                .cloned()
                .expect("topology.env has HA_MASTER_NAME"),
            redis_ports,
            dir,
        }
    }

    /// The Redis URL the component is given: HAProxy's front.
    pub fn front_url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.front_port)
    }

    /// A direct connection to the Redis on `port`.
    pub fn client_on(&self, port: u16) -> redis::Connection {
        connect(&format!("redis://127.0.0.1:{port}"), Duration::from_secs(2))
            .unwrap_or_else(|e| panic!("connect to redis on {port}: {e}"))
    }

    /// The port the Sentinels currently name as primary (asking each in
    /// turn; a frozen or dead Sentinel is skipped).
    pub fn primary_port(&self) -> u16 {
        for &port in &self.sentinel_ports {
            let Ok(mut conn) =
                connect(&format!("redis://127.0.0.1:{port}"), Duration::from_secs(1))
            else {
                continue;
            };
            let addr: redis::RedisResult<Vec<String>> = redis::cmd("SENTINEL")
                .arg("get-master-addr-by-name")
                .arg(&self.master_name)
                .query(&mut conn);
            if let Ok(addr) = addr {
                return addr[1].parse().expect("a port number");
            }
        }
        panic!("no Sentinel answered");
    }

    /// The process id of the Redis on `port`, read from `INFO server`.
    pub fn pid_of(&self, port: u16) -> u32 {
        redis_pid(&mut self.client_on(port))
    }

    /// Waits until the Sentinels name a primary other than `old`, and
    /// the front answers writes again; returns the new primary's port.
    pub fn wait_for_new_primary(&self, old: u16, limit: Duration) -> u16 {
        let deadline = Instant::now() + limit;
        loop {
            let now = self.primary_port();
            if now != old && self.front_role() == Some("master".to_owned()) {
                return now;
            }
            assert!(Instant::now() < deadline, "no replica was promoted");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The role (`master`, `slave`) of whatever Redis the front leads to now.
    pub fn front_role(&self) -> Option<String> {
        let mut conn = connect(&self.front_url(), Duration::from_millis(500)).ok()?;
        conn.set_read_timeout(Some(Duration::from_millis(500)))
            .ok()?;
        let role: Vec<redis::Value> = redis::cmd("ROLE").query(&mut conn).ok()?;
        match role.first()? {
            redis::Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
            redis::Value::SimpleString(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// Waits until the Redis on `port` reports `master_link_status:up`.
    pub fn wait_for_replica_link(&self, port: u16) {
        // A fresh connection each time: the node may be restarting its role,
        // and a resumed old primary that Sentinel turns into a replica may
        // reset a connection while it does (seen in CI: "Connection reset
        // by peer"), which is "not yet", not a failure.
        wait_until(Duration::from_secs(20), "the replica's link", || {
            connect(&format!("redis://127.0.0.1:{port}"), Duration::from_secs(2))
                .is_ok_and(|mut conn| replica_link_up(&mut conn))
        });
    }

    /// Sends `signal` (`KILL`, `STOP`, `CONT`) to a process.
    pub fn signal(pid: u32, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {pid} failed");
    }

    /// Cuts every replica's replication link on the Redis on `port`
    /// (`CLIENT KILL TYPE replica`), as a network partition would.
    pub fn cut_replica_links(&self, port: u16) {
        let _: redis::Value = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("TYPE")
            .arg("replica")
            .query(&mut self.client_on(port))
            .expect("CLIENT KILL TYPE replica");
    }
}

impl Drop for HaTopology {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(root().join("scripts/ha-topology.sh"))
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

/// A connection to the Redis or Sentinel at `url`, giving up after
/// `timeout` (a frozen node must not stall a test).
fn connect(url: &str, timeout: Duration) -> redis::RedisResult<redis::Connection> {
    redis::Client::open(url)?.get_connection_with_timeout(timeout)
}

/// Reads `NAME=value` lines (values optionally double-quoted).
fn read_env_file(path: &Path) -> HashMap<String, String> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
        .collect()
}
