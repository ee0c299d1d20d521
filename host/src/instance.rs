//! Per-request store state: what one fresh component instance can see.
//!
//! Like Spin, every HTTP request gets a new `Store` holding a new
//! `InstanceState`; nothing is shared between requests except the read-only
//! [`ComponentConfig`]. WASI gets inherited stdout/stderr (component logs go to
//! the terminal), the manifest's `environment`, no files and no sockets.

use std::future::Future;
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::bindings::fermyon::spin::variables as spin_variables;
use crate::outbound::AllowedHosts;
use crate::variables::{ComponentVariables, VariableError};

/// Everything about a component that is fixed at start-up.
pub struct ComponentConfig {
    /// The component id from the manifest.
    pub id: String,
    /// Its resolved `allowed_outbound_hosts`.
    pub allowed_hosts: AllowedHosts,
    /// Its `[component.<id>.variables]`, resolved.
    pub variables: ComponentVariables,
    /// Its `environment` table, handed to WASI.
    pub environment: Vec<(String, String)>,
    /// Print one stderr line per `variables.get` and `redis.open` call
    /// (`SPIN_HOST_TRACE_CALLS=1`), so tests can hold a request's budget of
    /// host calls. Names only: never values or addresses.
    pub trace_calls: bool,
}

/// The data of one request's `Store`.
pub struct InstanceState {
    pub(crate) table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: OutboundHttp,
    pub(crate) component: Arc<ComponentConfig>,
}

impl InstanceState {
    /// Fresh state for one request.
    pub fn new(component: Arc<ComponentConfig>) -> Self {
        let wasi = WasiCtx::builder()
            .inherit_stdout()
            .inherit_stderr()
            .envs(&component.environment)
            .build();
        Self {
            table: ResourceTable::new(),
            wasi,
            http: WasiHttpCtx::new(),
            hooks: OutboundHttp {
                component: component.clone(),
            },
            component,
        }
    }
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InstanceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// `wasi:http/outgoing-handler` policy: refused unless allowed, and never sent.
///
/// The booking service makes no outbound HTTP calls, so this host does not
/// carry an HTTP client. A destination outside `allowed_outbound_hosts` is
/// refused with Spin's warning and `HttpRequestDenied`, as Spin does; an
/// allowed one is refused too, with a message saying why.
struct OutboundHttp {
    component: Arc<ComponentConfig>,
}

impl wasmtime_wasi_http::WasiHttpHooks for OutboundHttp {
    fn send_request(
        &mut self,
        request: http::Request<wasmtime_wasi_http::WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> Box<
        dyn Future<
                Output = wasmtime_wasi_http::Result<(
                    http::Response<wasmtime_wasi_http::WasiBody>,
                    Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
                )>,
            > + Send,
    > {
        let uri = request.uri().to_string();
        if self.component.allowed_hosts.check(&uri, "https") {
            eprintln!(
                "spin-host does not implement outbound HTTP: refusing the request to {uri} from component {}",
                self.component.id
            );
        }
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}

impl InstanceState {
    /// Prints `spin-host call: <what>` when call tracing is on.
    pub(crate) fn trace_call(&self, what: std::fmt::Arguments<'_>) {
        if self.component.trace_calls {
            eprintln!("spin-host call: {what}");
        }
    }
}

impl spin_variables::Host for InstanceState {
    async fn get(&mut self, name: String) -> Result<String, spin_variables::Error> {
        self.trace_call(format_args!("variables.get {name}"));
        self.component
            .variables
            .get(&name)
            .map_err(|err| match err {
                VariableError::InvalidName(m) => spin_variables::Error::InvalidName(m),
                VariableError::Undefined(m) => spin_variables::Error::Undefined(m),
                VariableError::Provider(m) => spin_variables::Error::Provider(m),
            })
    }
}
