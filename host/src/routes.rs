//! HTTP route matching, as Spin's `routes` crate does it.
//!
//! Spin feeds its routes to the `routefinder` crate, which ranks them (exact
//! segments beat `:params`, which beat trailing wildcards, so the longest
//! matching prefix wins); this module does the same, with Spin's route
//! normalisation (`/...` becomes a trailing wildcard, one trailing `/` is
//! stripped, the application base is always `/`) and Spin's `path-info` rules.

use anyhow::{anyhow, Result};

use crate::manifest::HttpRoute;

/// What a route leads to, plus what the request headers need to know about it.
#[derive(Clone, Debug)]
struct RouteEntry {
    component: String,
    /// The route as written in the manifest.
    raw_route: String,
    /// The route with the (always `/`) base applied, as Spin reports it.
    based_route: String,
    /// The route without its trailing wildcard, for the start-up listing.
    prefix: String,
    wildcard: bool,
}

/// The routing table built once at start-up.
pub struct Router {
    inner: routefinder::Router<RouteEntry>,
}

/// The result of routing one request path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteMatch {
    /// The component that handles the request.
    pub component: String,
    /// `spin-raw-component-route`: the route as written.
    pub raw_route: String,
    /// `spin-matched-route`: the route with the base applied.
    pub based_route: String,
    /// `spin-path-info`: the part of the path matched by the trailing wildcard.
    pub path_info: String,
    /// `:name` captures, sent as `spin-path-match-<name>` headers.
    pub named: Vec<(String, String)>,
}

impl RouteMatch {
    /// `spin-component-route`: the raw route without a trailing `/...`.
    pub fn component_route(&self) -> &str {
        self.raw_route
            .strip_suffix("/...")
            .unwrap_or(&self.raw_route)
    }
}

/// Prefixes the base and strips one trailing slash, as Spin's `sanitize_with_base`.
fn based(route: &str) -> String {
    let absolute = if route.starts_with('/') {
        route.to_string()
    } else {
        format!("/{route}")
    };
    // The base is always "/", which sanitises to "".
    absolute
        .strip_suffix('/')
        .map(str::to_string)
        .unwrap_or(absolute)
}

impl Router {
    /// Builds the table; a later duplicate of a route replaces the earlier one
    /// (Spin keeps the last and reports it), returned as warnings.
    pub fn build(routes: &[HttpRoute]) -> Result<(Self, Vec<String>)> {
        let mut entries: Vec<RouteEntry> = Vec::new();
        let mut warnings = Vec::new();
        for route in routes {
            let based_route = based(&route.route);
            let (prefix, wildcard) = match based_route.strip_suffix("/...") {
                Some(prefix) => (prefix.to_string(), true),
                None => match based_route.strip_suffix("/*") {
                    Some(prefix) => (prefix.to_string(), true),
                    None => (based_route.clone(), false),
                },
            };
            let entry = RouteEntry {
                component: route.component.clone(),
                raw_route: route.route.clone(),
                based_route,
                prefix,
                wildcard,
            };
            match entries.iter_mut().find(|e| e.raw_route == entry.raw_route) {
                Some(existing) => {
                    warnings.push(format!(
                        "The component route {} for {} is a duplicate and will never be used (duplicate of {})",
                        existing.raw_route, existing.component, entry.component
                    ));
                    *existing = entry;
                }
                None => entries.push(entry),
            }
        }

        let mut inner = routefinder::Router::new();
        for entry in entries {
            let spec = if entry.wildcard {
                format!("{}/*", entry.prefix)
            } else {
                entry.based_route.clone()
            };
            let context = format!(
                "Error parsing route {} associated with component {}",
                entry.based_route, entry.component
            );
            inner
                .add(spec, entry)
                .map_err(|e| anyhow!("{context}: {e}"))?;
        }
        Ok((Self { inner }, warnings))
    }

    /// Routes a request path; `None` means 404.
    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        let best = self.inner.best_match(path)?;
        let entry = best.handler();
        let captures = best.captures();
        // Spin keeps trailing slashes in path-info, which routefinder drops.
        let path_info = match captures.wildcard() {
            None => String::new(),
            Some(rest) => match (rest.is_empty(), path.ends_with('/')) {
                (true, false) => String::new(),
                (true, true) => "/".to_string(),
                (false, false) => format!("/{rest}"),
                (false, true) => format!("/{rest}/"),
            },
        };
        Some(RouteMatch {
            component: entry.component.clone(),
            raw_route: entry.raw_route.clone(),
            based_route: entry.based_route.clone(),
            path_info,
            named: captures
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        })
    }

    /// `(component, route as Spin lists it)` for the start-up message.
    pub fn listing(&self) -> Vec<(String, String)> {
        self.inner
            .iter()
            .map(|(_, entry)| {
                let shown = if entry.wildcard {
                    format!("{} (wildcard)", entry.prefix)
                } else {
                    entry.prefix.clone()
                };
                (entry.component.clone(), shown)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, &str)]) -> Router {
        let routes: Vec<HttpRoute> = routes
            .iter()
            .map(|(component, route)| HttpRoute {
                route: route.to_string(),
                component: component.to_string(),
            })
            .collect();
        Router::build(&routes).unwrap().0
    }

    fn component(r: &Router, path: &str) -> Option<String> {
        r.route(path).map(|m| m.component)
    }

    #[test]
    fn exact_routes() {
        let r = router(&[("foo", "/foo"), ("foobar", "/foo/bar")]);
        assert_eq!(component(&r, "/foo").as_deref(), Some("foo"));
        assert_eq!(component(&r, "/foo/bar").as_deref(), Some("foobar"));
        assert_eq!(component(&r, "/foo/"), Some("foo".into()));
        assert_eq!(component(&r, "/foo/baz"), None);
        assert_eq!(component(&r, "/"), None);
        let m = r.route("/foo").unwrap();
        assert_eq!(m.path_info, "");
        assert_eq!(m.based_route, "/foo");
        assert_eq!(m.component_route(), "/foo");
    }

    #[test]
    fn catch_all_wildcard() {
        let r = router(&[("all", "/...")]);
        for path in ["/", "/foo/bar", "/abc/"] {
            assert_eq!(component(&r, path).as_deref(), Some("all"), "{path}");
        }
        let m = r.route("/api/seats/").unwrap();
        assert_eq!(m.path_info, "/api/seats/");
        assert_eq!(m.raw_route, "/...");
        assert_eq!(m.based_route, "/...");
        assert_eq!(m.component_route(), "");
        assert_eq!(r.route("/").unwrap().path_info, "/");
    }

    #[test]
    fn precedence_exact_then_longest_prefix() {
        let r = router(&[
            ("all", "/..."),
            ("api", "/api/..."),
            ("seats", "/api/seats/..."),
            ("health", "/api/health"),
        ]);
        assert_eq!(component(&r, "/api/health").as_deref(), Some("health"));
        assert_eq!(component(&r, "/api/seats/1").as_deref(), Some("seats"));
        assert_eq!(component(&r, "/api/seats").as_deref(), Some("seats"));
        assert_eq!(component(&r, "/api/other").as_deref(), Some("api"));
        assert_eq!(component(&r, "/else").as_deref(), Some("all"));
        let m = r.route("/api/seats/1").unwrap();
        assert_eq!(m.path_info, "/1");
        assert_eq!(m.component_route(), "/api/seats");
        assert_eq!(r.route("/api/seats").unwrap().path_info, "");
    }

    #[test]
    fn no_match_without_catch_all() {
        let r = router(&[("api", "/api/...")]);
        assert_eq!(component(&r, "/other"), None);
        assert_eq!(component(&r, "/apiary"), None);
    }

    #[test]
    fn named_wildcards_are_captured() {
        let r = router(&[("users", "/users/:id/...")]);
        let m = r.route("/users/42/orders").unwrap();
        assert_eq!(m.named, vec![("id".to_string(), "42".to_string())]);
        assert_eq!(m.path_info, "/orders");
    }

    #[test]
    fn later_duplicate_wins() {
        let routes = vec![
            HttpRoute {
                route: "/a".into(),
                component: "first".into(),
            },
            HttpRoute {
                route: "/a".into(),
                component: "second".into(),
            },
        ];
        let (r, warnings) = Router::build(&routes).unwrap();
        assert_eq!(component(&r, "/a").as_deref(), Some("second"));
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn listing_like_spin() {
        let r = router(&[("all", "/..."), ("foo", "/foo")]);
        let listing = r.listing();
        assert!(listing.contains(&("all".to_string(), " (wildcard)".to_string())));
        assert!(listing.contains(&("foo".to_string(), "/foo".to_string())));
    }
}
