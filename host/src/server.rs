//! The HTTP server: Spin's HTTP trigger, reduced to what this host needs.
//!
//! Follows Spin's `trigger-http` (`server.rs`, `headers.rs`, `wasi.rs`):
//! `/.well-known/spin/{health,info}` are answered by the host, an unrouted
//! path gets an empty 404, and a routed request runs in a fresh instance with
//! Spin's `spin-*` headers added. If the component traps or never sets a
//! response, that request gets an empty 500 and the server carries on.
//! Connections are served by hyper's auto (HTTP/1.1 keep-alive and HTTP/2)
//! builder, as Spin does.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use http::uri::{Authority, Scheme};
use http::{HeaderName, HeaderValue, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpListener;
use wasmtime::Store;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme as WasiScheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::WasiHttpView;

use crate::instance::{ComponentConfig, InstanceState};
use crate::routes::{RouteMatch, Router};

/// Requests under this prefix are handled by Spin itself, never by a component.
const WELL_KNOWN_PREFIX: &str = "/.well-known/spin/";

/// A component ready to serve: its pre-instantiated proxy and its fixed config.
pub struct ServedComponent {
    /// Pre-linked component; one instance is made from it per request.
    pub pre: ProxyPre<InstanceState>,
    /// Allowed hosts, variables and environment.
    pub config: Arc<ComponentConfig>,
}

/// Shared, read-only state of the running app.
pub struct Server {
    /// Routes request paths to component ids.
    pub router: Router,
    /// Component id -> component.
    pub components: HashMap<String, ServedComponent>,
    /// `/.well-known/spin/info` body.
    pub app_info: String,
}

impl Server {
    /// Accepts connections until the listener fails; each connection runs in its own task.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) -> Result<()> {
        loop {
            let (stream, client_addr) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(err) => {
                    // E.g. too many open files: keep serving the other connections.
                    eprintln!("Error accepting connection: {err}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let server = self.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let server = server.clone();
                    async move { Ok::<_, Infallible>(server.handle(req, client_addr).await) }
                });
                if let Err(err) = Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    // Clients hanging up mid-request are routine; stay quiet about them.
                    let _ = err;
                }
            });
        }
    }

    async fn handle(
        &self,
        req: Request<Incoming>,
        client_addr: SocketAddr,
    ) -> Response<HyperOutgoingBody> {
        match self.try_handle(req, client_addr).await {
            Ok(response) => response,
            Err(err) => {
                eprintln!("Error processing request: {err:#}");
                empty(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    async fn try_handle(
        &self,
        mut req: Request<Incoming>,
        client_addr: SocketAddr,
    ) -> Result<Response<HyperOutgoingBody>> {
        // Transport-level header; Spin removes it before the guest sees the request.
        req.headers_mut().remove(http::header::CONNECTION);
        let path = req.uri().path().to_string();

        if let Some(well_known) = path.strip_prefix(WELL_KNOWN_PREFIX) {
            return Ok(match well_known {
                "health" => full(StatusCode::OK, Bytes::from_static(b"OK"), None),
                "info" => full(
                    StatusCode::OK,
                    Bytes::from(self.app_info.clone()),
                    Some("application/json"),
                ),
                _ => empty(StatusCode::NOT_FOUND),
            });
        }

        let Some(route) = self.router.route(&path) else {
            warn_generic_404(&path);
            return Ok(empty(StatusCode::NOT_FOUND));
        };
        let component = self
            .components
            .get(&route.component)
            .with_context(|| format!("unknown component ID {:?}", route.component))?;

        set_request_uri(&mut req)?;
        let headers = request_headers(&req, &route, client_addr)?;
        let request_headers = req.headers_mut();
        request_headers.clear();
        for (name, value) in headers {
            request_headers.append(name, value);
        }

        run_component(component, req).await
    }
}

/// Runs one request in a fresh instance, as Spin's `WasiHttpExecutor` does.
async fn run_component(
    component: &ServedComponent,
    req: Request<Incoming>,
) -> Result<Response<HyperOutgoingBody>> {
    let pre = component.pre.clone();
    let mut store = Store::new(pre.engine(), InstanceState::new(component.config.clone()));
    let request = store
        .data_mut()
        .http()
        .new_incoming_request(WasiScheme::Http, req)?;
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let outparam = store.data_mut().http().new_response_outparam(sender)?;

    let task = tokio::spawn(async move {
        let proxy = pre.instantiate_async(&mut store).await?;
        proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut store, request, outparam)
            .await
    });

    match receiver.await {
        Ok(response) => {
            // The body may still be streaming; report a late failure without
            // holding up the response.
            tokio::spawn(async move {
                match task.await {
                    Ok(Ok(())) => {}
                    Ok(Err(err)) => {
                        eprintln!("Component error after response started: {err:#}")
                    }
                    Err(err) => eprintln!("Component task failed after response started: {err}"),
                }
            });
            response.map_err(|code| anyhow!("guest failed to produce a response: {code:?}"))
        }
        Err(_) => {
            task.await
                .context("guest invocation panicked")?
                .map_err(anyhow::Error::from)
                .context("guest invocation failed")?;
            bail!("guest failed to produce a response prior to returning")
        }
    }
}

/// Gives the request URI Spin's scheme and authority (from the `Host` header).
fn set_request_uri(req: &mut Request<Incoming>) -> Result<()> {
    let header_authority = req
        .headers()
        .get(http::header::HOST)
        .map(|h| -> Result<Authority> {
            h.to_str()
                .context("'Host' header is not valid UTF-8")?
                .parse()
                .context("'Host' header contains an invalid authority")
        })
        .transpose()?;
    let mut parts = req.uri().clone().into_parts();
    let authority = match (header_authority, parts.authority.take()) {
        (None, None) => bail!("no 'Host' header present in request"),
        (Some(a), None) | (None, Some(a)) => a,
        (Some(a1), Some(a2)) => {
            if a1 != a2 {
                bail!("authority in 'Host' header does not match authority in URI");
            }
            a1
        }
    };
    parts.scheme = Some(Scheme::HTTP);
    parts.authority = Some(authority);
    if parts.path_and_query.is_none() {
        parts.path_and_query = Some("/".parse()?);
    }
    *req.uri_mut() = Uri::from_parts(parts)?;
    Ok(())
}

/// The request headers the guest sees: the client's, then Spin's `spin-*` ones.
pub fn request_headers<B>(
    req: &Request<B>,
    route: &RouteMatch,
    client_addr: SocketAddr,
) -> Result<Vec<(HeaderName, HeaderValue)>> {
    let mut out = Vec::new();
    for (name, value) in req.headers() {
        std::str::from_utf8(value.as_bytes())
            .with_context(|| format!("header {name} is not valid UTF-8"))?;
        out.push((name.clone(), value.clone()));
    }
    let host = match req.headers().get(http::header::HOST) {
        Some(host) => std::str::from_utf8(host.as_bytes())?.to_string(),
        None => "localhost".to_string(),
    };
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let scheme = req.uri().scheme_str().unwrap_or("http");
    let mut spin = vec![
        ("spin-path-info".to_string(), route.path_info.clone()),
        (
            "spin-full-url".to_string(),
            format!("{scheme}://{host}{path_and_query}"),
        ),
        ("spin-matched-route".to_string(), route.based_route.clone()),
        ("spin-base-path".to_string(), "/".to_string()),
        (
            "spin-raw-component-route".to_string(),
            route.raw_route.clone(),
        ),
        (
            "spin-component-route".to_string(),
            route.component_route().to_string(),
        ),
        ("spin-client-addr".to_string(), client_addr.to_string()),
    ];
    for (name, value) in &route.named {
        spin.push((
            format!("spin-path-match-{}", name.to_ascii_lowercase()).replace('_', "-"),
            value.clone(),
        ));
    }
    // Like Spin, a header that cannot be represented is dropped, not fatal.
    for (name, value) in spin {
        if let (Ok(name), Ok(value)) = (name.parse::<HeaderName>(), HeaderValue::from_str(&value)) {
            out.push((name, value));
        }
    }
    Ok(out)
}

fn warn_generic_404(path: &str) {
    static SHOWN: AtomicBool = AtomicBool::new(false);
    if std::io::stderr().is_terminal() && !SHOWN.fetch_or(true, Ordering::Relaxed) {
        eprintln!("Warning: Request to {path} matched no pattern, and received a generic 404 response. To serve a more informative 404 page, add a catch-all (/...) route.");
    }
}

fn empty(status: StatusCode) -> Response<HyperOutgoingBody> {
    let mut response = Response::new(Empty::new().map_err(|never| match never {}).boxed_unsync());
    *response.status_mut() = status;
    response
}

fn full(
    status: StatusCode,
    body: Bytes,
    content_type: Option<&str>,
) -> Response<HyperOutgoingBody> {
    let mut response = Response::new(
        Full::new(body)
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    if let Some(content_type) = content_type {
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).expect("static content type is a valid header"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::HttpRoute;

    fn route(routes: &[(&str, &str)], path: &str) -> RouteMatch {
        let routes: Vec<HttpRoute> = routes
            .iter()
            .map(|(c, r)| HttpRoute {
                route: r.to_string(),
                component: c.to_string(),
            })
            .collect();
        Router::build(&routes).unwrap().0.route(path).unwrap()
    }

    fn header(headers: &[(HeaderName, HeaderValue)], name: &str) -> String {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.to_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("missing {name}"))
    }

    #[test]
    fn spin_headers_for_a_wildcard_route() {
        let m = route(&[("app", "/api/...")], "/api/seats/1");
        let req = Request::builder()
            .uri("http://example.com:3000/api/seats/1?x=1")
            .header("host", "example.com:3000")
            .body(())
            .unwrap();
        let addr: SocketAddr = "127.0.0.1:5555".parse().unwrap();
        let headers = request_headers(&req, &m, addr).unwrap();
        assert_eq!(
            header(&headers, "spin-full-url"),
            "http://example.com:3000/api/seats/1?x=1"
        );
        assert_eq!(header(&headers, "spin-path-info"), "/seats/1");
        assert_eq!(header(&headers, "spin-matched-route"), "/api/...");
        assert_eq!(header(&headers, "spin-raw-component-route"), "/api/...");
        assert_eq!(header(&headers, "spin-component-route"), "/api");
        assert_eq!(header(&headers, "spin-base-path"), "/");
        assert_eq!(header(&headers, "spin-client-addr"), "127.0.0.1:5555");
        assert_eq!(header(&headers, "host"), "example.com:3000");
    }

    #[test]
    fn spin_headers_for_an_exact_route() {
        let m = route(&[("app", "/health")], "/health");
        let req = Request::builder()
            .uri("http://localhost/health")
            .body(())
            .unwrap();
        let addr: SocketAddr = "[::1]:9".parse().unwrap();
        let headers = request_headers(&req, &m, addr).unwrap();
        assert_eq!(header(&headers, "spin-path-info"), "");
        assert_eq!(header(&headers, "spin-matched-route"), "/health");
        assert_eq!(header(&headers, "spin-component-route"), "/health");
        assert_eq!(header(&headers, "spin-full-url"), "http://localhost/health");
        assert_eq!(header(&headers, "spin-client-addr"), "[::1]:9");
    }
}
