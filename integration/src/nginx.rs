//! Debian's nginx as a caching reverse proxy in front of a running Spin,
//! configured the way docs/deployment.md ("CDN in front") tells operators
//! to: of the event list and the two event reads (and nothing else) it
//! stores what the component marks cacheable, passes every request on with
//! the `Host` it came with (the component's Origin check), collapses concurrent
//! misses into one upstream request, revalidates with the stored ETag, and
//! serves the stale copy while one background request refreshes it. Run as
//! the current user on a free loopback port from a throw-away directory, in
//! its own process group; stopped on drop. `scripts/lib.sh`'s `ensure_nginx` installs it.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, get, output_dir, wait_until};

/// An nginx child process caching one upstream.
pub struct CachingProxy {
    /// The loopback address it listens on.
    pub addr: SocketAddr,
    child: Child,
    dir: PathBuf,
}

/// The nginx binary: `nginx` on the `PATH`, else Debian's `/usr/sbin/nginx`
/// (not on a normal user's `PATH`).
fn nginx_bin() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("nginx"))
            .find(|p| p.is_file())
    });
    on_path.unwrap_or_else(|| PathBuf::from("/usr/sbin/nginx"))
}

/// The configuration: one server, one cache, the directives the deployment
/// guide names. `X-Cache-Status` tells the tests what the cache did.
fn config(dir: &Path, port: u16, upstream: SocketAddr) -> String {
    let d = dir.display();
    format!(
        "worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {d}/client_body;
  proxy_temp_path {d}/proxy_temp;
  fastcgi_temp_path {d}/fastcgi_temp;
  uwsgi_temp_path {d}/uwsgi_temp;
  scgi_temp_path {d}/scgi_temp;
  proxy_cache_path {d}/cache keys_zone=seats:1m max_size=64m inactive=10m use_temp_path=off;
  upstream component {{ server {upstream}; keepalive 16; }}
  server {{
    listen 127.0.0.1:{port};
    location /api/ {{
      proxy_pass http://component;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_set_header Host $http_host;
    }}
    location ~ ^/api/events(/[A-Za-z0-9_%-]+(/seats)?)?$ {{
      proxy_pass http://component;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_set_header Host $http_host;
      proxy_cache seats;
      proxy_cache_lock on;
      proxy_cache_lock_timeout 2s;
      proxy_cache_use_stale updating;
      proxy_cache_background_update on;
      proxy_cache_revalidate on;
      add_header X-Cache-Status $upstream_cache_status always;
    }}
  }}
}}
"
    )
}

impl CachingProxy {
    /// Starts nginx in front of `upstream` and waits until it answers.
    pub fn start(upstream: SocketAddr) -> CachingProxy {
        let port = free_port();
        let dir = output_dir().join(format!("nginx-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the nginx directory");
        // Run by root, nginx's workers drop to an unprivileged user that
        // must still write the cache here.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777))
            .expect("open the nginx directory to its workers");
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config(&dir, port, upstream)).expect("write nginx.conf");
        let child = Command::new(nginx_bin())
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.join("error.log"))
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start nginx (scripts/lib.sh ensure_nginx installs it)");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let proxy = CachingProxy { addr, child, dir };
        wait_until(Duration::from_secs(10), "nginx to answer", || {
            get(&proxy.url("/api/version")).status == 200
        });
        proxy
    }

    /// `http://<addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// nginx's error log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for CachingProxy {
    /// SIGTERM to the group (the master stops its workers), SIGKILL to
    /// the group if that takes more than 5 s.
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let signal = |name: &str| {
            let _ = Command::new("kill")
                .args([name, "--", &group])
                .stderr(Stdio::null())
                .status();
        };
        signal("-TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        signal("-KILL");
        let _ = self.child.wait();
    }
}
