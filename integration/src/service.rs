//! A running service for end-to-end tests: a Redis of its own, the
//! component under real `spin up` on it, and an HTTP client. Test files
//! wrap it in their own `Api` type (`service_api!(Api)`, which dereferences
//! to [`Service`]) and add the calls their resource needs in `impl Api`.

use serde_json::{json, Value};

use crate::{client, send_with, Answer, RedisServer, Spin, ADMIN_TOKEN};

/// The component under Spin, its Redis and a client.
pub struct Service {
    /// The component under real Spin.
    pub spin: Spin,
    /// The HTTP client (keep-alive, no redirects).
    pub agent: ureq::Agent,
    /// The Redis the component uses, for checks on stored state.
    pub redis: RedisServer,
}

impl Service {
    /// A fresh Redis and the component on it, configured as `Spin::start` does.
    pub fn start() -> Service {
        Service::start_with(&[])
    }

    /// The same with extra environment for Spin (e.g. `SPIN_VARIABLE_*`).
    pub fn start_with(env: &[(&str, &str)]) -> Service {
        let redis = RedisServer::start();
        let spin = Spin::start_on(&redis, env);
        Service {
            spin,
            agent: client(),
            redis,
        }
    }

    /// Sends `method path` with `headers` and, if given, `body` as JSON.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Answer {
        let bytes = body.map(|b| b.to_string().into_bytes());
        let mut all = headers.to_vec();
        if body.is_some() {
            all.push(("content-type", "application/json"));
        }
        send_with(
            &self.agent,
            method,
            &self.spin.url(path),
            &all,
            bytes.as_deref(),
        )
    }

    /// Sends `method path` with `Authorization: Bearer <token>` when a
    /// token is given and, if given, `body` as JSON.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth
            .as_deref()
            .map(|a| vec![("authorization", a)])
            .unwrap_or_default();
        self.send(method, path, &headers, body)
    }

    /// Creates event `id` (named "Event <id>") with `rows` as the admin,
    /// asserting the 201.
    pub fn create_event(&self, id: &str, rows: &[(&str, u32)]) {
        let rows: Vec<Value> = rows
            .iter()
            .map(|(label, seats)| json!({ "label": label, "seats": seats }))
            .collect();
        let body = json!({ "id": id, "name": format!("Event {id}"), "rows": rows });
        let created = self.call("POST", "/api/events", Some(ADMIN_TOKEN), Some(&body));
        assert_eq!(
            created.status,
            201,
            "{}",
            String::from_utf8_lossy(&created.body)
        );
    }
}

/// `service_api!(Api)`: declares `struct Api(Service)`, a test file's own
/// handle on a running [`Service`] that dereferences to it, so that the file
/// can add the calls its resource needs in `impl Api`.
#[macro_export]
macro_rules! service_api {
    ($name:ident) => {
        struct $name($crate::Service);

        impl std::ops::Deref for $name {
            type Target = $crate::Service;
            fn deref(&self) -> &$crate::Service {
                &self.0
            }
        }

        impl std::ops::DerefMut for $name {
            fn deref_mut(&mut self) -> &mut $crate::Service {
                &mut self.0
            }
        }
    };
}
