//! `allowed_outbound_hosts`: parsing, template resolution and matching.
//!
//! Written to behave like Spin's `outbound-networking-config/src/allowed_hosts.rs`:
//! entries are `<scheme>://<host>[:<port>]` with `*` wildcards, `*.domain`
//! subdomain wildcards, CIDR hosts, port ranges `a..b` and scheme default
//! ports. Templated entries (`"redis://{{ redis_host }}"`) are resolved with
//! *application* variables, as Spin resolves them with its app-wide resolver;
//! an entry that resolves to an empty string is skipped. A refused destination
//! is reported on stderr with Spin's wording.

use std::net::IpAddr;

use anyhow::{bail, ensure, Context, Result};
use url::Host;

use crate::template::Template;
use crate::variables::{AppVariables, VariableError};

/// The resolved allow-list of one component.
#[derive(Clone, Debug, Default)]
pub struct AllowedHosts {
    hosts: Vec<AllowedHost>,
}

/// One parsed `allowed_outbound_hosts` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum HostPattern {
    Any,
    /// `*.example.com`, stored as `.example.com`.
    AnySubdomain(String),
    /// `self`: relative requests to the app itself (never a Redis address).
    ToSelf,
    Literal(Host),
    Cidr(IpAddr, u8),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PortPattern {
    Any,
    Port(u16),
    /// `start..end`, end exclusive as in Spin.
    Range(u16, u16),
}

/// Default ports Spin assumes when an entry or a URL has none.
fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

impl AllowedHost {
    /// Parses one literal entry such as `redis://127.0.0.1:6379` or `*://*:*`.
    pub fn parse(entry: &str) -> Result<Self> {
        let url = entry.trim();
        let Some((scheme, rest)) = url.split_once("://") else {
            bail!(
                "{url:?} does not contain a scheme (e.g., 'http://' or '*://'); hosts must be in the form <scheme>://<host>[:<port>]"
            );
        };
        let (host, port) = match rest.rsplit_once(':') {
            None => (rest, ""),
            Some((h, "")) => (h, ""),
            Some((h, tail)) => {
                if HostPattern::parse(rest).is_ok() {
                    (rest, "")
                } else {
                    let port = match tail.split_once('/') {
                        Some((port, path)) => {
                            ensure!(path.is_empty(), "{url:?} has a path but is not allowed to");
                            port
                        }
                        None => tail,
                    };
                    (h, port)
                }
            }
        };
        let port = PortPattern::parse(port, scheme)
            .with_context(|| format!("Invalid allowed host port {port:?}"))?;
        let scheme = match scheme {
            "*" => None,
            s if s.starts_with('{') => {
                bail!("Invalid allowed host scheme {s:?}: scheme lists are not supported")
            }
            s if s.chars().any(|c| !c.is_alphabetic()) => {
                bail!("Invalid allowed host scheme {s:?}: only alphabetic characters are allowed")
            }
            s => Some(s.to_string()),
        };
        let host =
            HostPattern::parse(host).with_context(|| format!("Invalid allowed host {host:?}"))?;
        Ok(Self { scheme, host, port })
    }

    fn allows(&self, url: &OutboundUrl) -> bool {
        self.scheme.as_deref().is_none_or(|s| s == url.scheme)
            && self.host.allows(&url.host)
            && self.port.allows(url.port, &url.scheme)
    }
}

impl HostPattern {
    fn parse(host: &str) -> Result<Self> {
        let host = host.trim();
        if host == "*" {
            return Ok(Self::Any);
        }
        if host == "self" || host == "self.alt" {
            return Ok(Self::ToSelf);
        }
        if host.starts_with('{') {
            bail!("host lists are not yet supported");
        }
        if let Some(cidr) = parse_cidr(host) {
            return Ok(cidr);
        }
        let host = host.strip_suffix('/').unwrap_or(host);
        ensure!(!host.contains('/'), "must not include a path");
        if let Some(domain) = host.strip_prefix("*.") {
            ensure!(
                !domain.contains('*'),
                "wildcards are allowed only as prefixes"
            );
            let Host::Domain(domain) = Host::parse(domain)
                .with_context(|| format!("invalid wildcard host \"*.{domain}\""))?
            else {
                bail!("wildcard suffix must be a domain");
            };
            return Ok(Self::AnySubdomain(format!(".{domain}")));
        }
        ensure!(
            !host.contains('*'),
            "wildcards are allowed only as subdomains"
        );
        Ok(Self::Literal(Host::parse(host)?))
    }

    fn allows(&self, host: &str) -> bool {
        let Ok(host) = Host::parse(host) else {
            return false;
        };
        match (self, host) {
            (Self::Any, _) => true,
            (Self::AnySubdomain(suffix), Host::Domain(domain)) => domain.ends_with(suffix.as_str()),
            (Self::Literal(literal), host) => host == *literal,
            (Self::Cidr(net, prefix), Host::Ipv4(ip)) => {
                cidr_contains(*net, *prefix, IpAddr::V4(ip))
            }
            (Self::Cidr(net, prefix), Host::Ipv6(ip)) => {
                cidr_contains(*net, *prefix, IpAddr::V6(ip))
            }
            _ => false,
        }
    }
}

/// Parses `addr/prefix` (host bits truncated), as Spin's `IpNetwork::from_str_truncate`.
fn parse_cidr(text: &str) -> Option<HostPattern> {
    let (addr, prefix) = text.split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    let prefix: u8 = prefix.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if prefix > max {
        return None;
    }
    Some(HostPattern::Cidr(truncate(addr, prefix), prefix))
}

fn truncate(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((u32::from(v4) & mask).into())
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & mask).into())
        }
    }
}

fn cidr_contains(net: IpAddr, prefix: u8, ip: IpAddr) -> bool {
    net.is_ipv4() == ip.is_ipv4() && truncate(ip, prefix) == net
}

impl PortPattern {
    fn parse(port: &str, scheme: &str) -> Result<Self> {
        if port.is_empty() {
            return well_known_port(scheme).map(Self::Port).with_context(|| {
                format!("no port was provided and the scheme {scheme:?} does not have a known default port number")
            });
        }
        if port == "*" {
            return Ok(Self::Any);
        }
        ensure!(!port.starts_with('{'), "port lists are not yet supported");
        if let Some((start, end)) = port.split_once("..") {
            let start = start
                .parse()
                .with_context(|| format!("port range {port:?} contains non-number"))?;
            let end = end
                .parse()
                .with_context(|| format!("port range {port:?} contains non-number"))?;
            return Ok(Self::Range(start, end));
        }
        Ok(Self::Port(port.parse().with_context(|| {
            format!("port {port:?} is not a number")
        })?))
    }

    fn allows(&self, port: Option<u16>, scheme: &str) -> bool {
        let Some(port) = port.or_else(|| well_known_port(scheme)) else {
            return matches!(self, Self::Any);
        };
        match self {
            Self::Any => true,
            Self::Port(p) => *p == port,
            Self::Range(start, end) => (*start..*end).contains(&port),
        }
    }
}

/// A destination a component asked for, reduced to scheme, host and port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboundUrl {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl OutboundUrl {
    /// Parses `url`; if that fails, retries as `{scheme}://{url}` like Spin.
    pub fn parse(url: &str, scheme: &str) -> Result<Self> {
        let url = encode_userinfo(url);
        let parsed = match url::Url::parse(&url) {
            Ok(parsed) if parsed.has_host() => parsed,
            first => match url::Url::parse(&format!("{scheme}://{url}")) {
                Ok(second) => second,
                Err(second) => return Err(first.err().map_or(second, |e| e).into()),
            },
        };
        Ok(Self {
            scheme: parsed.scheme().to_string(),
            host: parsed
                .host_str()
                .with_context(|| format!("{url:?} does not have a host component"))?
                .to_string(),
            port: parsed.port(),
        })
    }

    /// `host[:port]`, as Spin prints it in its warning.
    pub fn authority(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.clone(),
        }
    }
}

/// Percent-encodes the user-info part so passwords with odd characters still parse.
fn encode_userinfo(url: &str) -> String {
    let Some(at) = url.find('@') else {
        return url.to_string();
    };
    let start = url.find("://").map(|e| e + 3).unwrap_or(0);
    let path_start = url[start..]
        .find('/')
        .map(|e| e + start)
        .unwrap_or(usize::MAX);
    if at >= path_start || at < start {
        return url.to_string();
    }
    let mut out = url[..start].to_string();
    for byte in url[start..at].bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out.push_str(&url[at..]);
    out
}

impl AllowedHosts {
    /// Resolves a component's entries: literals parse as is, templates are
    /// rendered with application variables first.
    pub fn resolve(entries: &[String], app: &AppVariables) -> Result<Self> {
        if entries.len() == 1 && entries[0] == "insecure:allow-all" {
            bail!("'insecure:allow-all' is not allowed - use '*://*:*' instead if you really want to allow all outbound traffic'");
        }
        let mut hosts = Vec::new();
        for entry in entries {
            let template = Template::parse(entry)?;
            if template.is_literal() {
                hosts.push(AllowedHost::parse(entry)?);
                continue;
            }
            let resolved = app.render(&template).map_err(|err| match err {
                VariableError::Provider(msg)
                | VariableError::Undefined(msg)
                | VariableError::InvalidName(msg) => anyhow::anyhow!(
                    "could not resolve allowed_outbound_hosts entry {entry:?}: {msg}"
                ),
            })?;
            // An empty resolution means "no endpoint configured", as in Spin.
            if resolved.is_empty() || resolved == "http://" || resolved == "https://" {
                continue;
            }
            hosts.push(AllowedHost::parse(&resolved).with_context(|| {
                format!("allowed_outbound_hosts entry {entry:?} resolved to an invalid value")
            })?);
        }
        Ok(Self { hosts })
    }

    /// Whether any entry allows `url` (parsed with `default_scheme` when schemeless).
    ///
    /// On refusal prints Spin's warning naming the destination.
    pub fn check(&self, url: &str, default_scheme: &str) -> bool {
        let parsed = match OutboundUrl::parse(url, default_scheme) {
            Ok(parsed) => parsed,
            Err(err) => {
                eprintln!(
                    "Warning: A component tried to make a request to a url that could not be parsed: {url} ({err})"
                );
                return false;
            }
        };
        let allowed = self.allows(&parsed);
        if !allowed {
            report_disallowed(&parsed.scheme, &parsed.authority());
        }
        allowed
    }

    /// Pure matching, without reporting.
    pub fn allows(&self, url: &OutboundUrl) -> bool {
        self.hosts.iter().any(|h| h.allows(url))
    }

    /// Whether any entry uses one of `schemes` (e.g. to warn about outbound HTTP).
    pub fn mentions_scheme(&self, schemes: &[&str]) -> bool {
        self.hosts
            .iter()
            .any(|h| h.scheme.as_deref().is_none_or(|s| schemes.contains(&s)))
    }
}

/// Prints Spin's message for a refused destination (`runtime-factors/src/lib.rs`).
pub fn report_disallowed(scheme: &str, authority: &str) {
    let host_pattern = format!("{scheme}://{authority}");
    if scheme.starts_with("http") && authority == "self" {
        eprintln!("Warning: A component tried to make an HTTP request to its own app but it does not have permission.");
    } else {
        eprintln!("Warning: A component tried to make an outbound network connection to disallowed destination '{host_pattern}'.");
    }
    eprintln!(
        "To allow this request, add 'allowed_outbound_hosts = [\"{host_pattern}\"]' to the manifest component section."
    );
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::manifest::Variable;

    fn hosts(entries: &[&str]) -> AllowedHosts {
        let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        AllowedHosts::resolve(
            &entries,
            &AppVariables::resolve(&BTreeMap::new(), &[]).unwrap(),
        )
        .unwrap()
    }

    fn allowed(list: &AllowedHosts, url: &str) -> bool {
        list.allows(&OutboundUrl::parse(url, "redis").unwrap())
    }

    #[test]
    fn exact_host_and_port() {
        let list = hosts(&["redis://127.0.0.1:6379"]);
        assert!(allowed(&list, "redis://127.0.0.1:6379"));
        assert!(allowed(&list, "redis://127.0.0.1"), "default port 6379");
        assert!(allowed(&list, "redis://127.0.0.1:6379/0"));
        assert!(!allowed(&list, "redis://127.0.0.2:6379"), "other host");
        assert!(!allowed(&list, "redis://127.0.0.1:6380"), "other port");
        assert!(!allowed(&list, "rediss://127.0.0.1:6379"), "other scheme");
        assert!(
            !allowed(&list, "redis://localhost:6379"),
            "names are not resolved"
        );
    }

    #[test]
    fn default_port_in_entry() {
        let list = hosts(&["redis://cache.internal"]);
        assert!(allowed(&list, "redis://cache.internal:6379"));
        assert!(!allowed(&list, "redis://cache.internal:7000"));
    }

    #[test]
    fn wildcards() {
        let list = hosts(&["redis://*:*"]);
        assert!(allowed(&list, "redis://anything:1234"));
        assert!(!allowed(&list, "http://anything:1234"));

        let list = hosts(&["*://*.example.com:6379"]);
        assert!(allowed(&list, "redis://db.example.com:6379"));
        assert!(allowed(&list, "rediss://a.b.example.com:6379"));
        assert!(!allowed(&list, "redis://example.com:6379"));
        assert!(!allowed(&list, "redis://db.example.org:6379"));

        let list = hosts(&["redis://localhost:6000..7000"]);
        assert!(allowed(&list, "redis://localhost:6379"));
        assert!(
            !allowed(&list, "redis://localhost:7000"),
            "end is exclusive"
        );
    }

    #[test]
    fn cidr_hosts() {
        let list = hosts(&["redis://127.0.0.0/8:6379"]);
        assert!(allowed(&list, "redis://127.1.2.3:6379"));
        assert!(!allowed(&list, "redis://10.0.0.1:6379"));
        assert!(!allowed(&list, "redis://localhost:6379"));
    }

    #[test]
    fn ipv6_literals() {
        let list = hosts(&["redis://[::1]:6379"]);
        assert!(allowed(&list, "redis://[::1]:6379"));
        assert!(!allowed(&list, "redis://[::2]:6379"));
    }

    #[test]
    fn schemeless_address_gets_default_scheme() {
        let list = hosts(&["redis://127.0.0.1:6379"]);
        assert!(list.allows(&OutboundUrl::parse("127.0.0.1:6379", "redis").unwrap()));
    }

    #[test]
    fn rejects_bad_entries() {
        for bad in [
            "127.0.0.1:6379",
            "*",
            "rediss://host",
            "redis://host/path",
            "redis://ho*st",
            "redis://host:notaport",
            "re3dis://host",
        ] {
            assert!(
                AllowedHost::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
        let entries = vec!["insecure:allow-all".to_string()];
        let app = AppVariables::resolve(&BTreeMap::new(), &[]).unwrap();
        assert!(AllowedHosts::resolve(&entries, &app).is_err());
    }

    #[test]
    fn templates_use_application_variables_and_empty_is_skipped() {
        let declared: BTreeMap<String, Variable> = [
            ("redis_host", Some("127.0.0.1:6379")),
            ("optional_host", Some("")),
        ]
        .into_iter()
        .map(|(name, default)| (name.to_string(), Variable::for_tests(default)))
        .collect();
        let app = AppVariables::resolve(&declared, &[]).unwrap();
        let entries = vec![
            "redis://{{ redis_host }}".to_string(),
            "{{ optional_host }}".to_string(),
        ];
        let list = AllowedHosts::resolve(&entries, &app).unwrap();
        assert_eq!(list.hosts.len(), 1);
        assert!(allowed(&list, "redis://127.0.0.1:6379"));
        assert!(!allowed(&list, "redis://127.0.0.1:6380"));
    }

    #[test]
    fn authority_for_the_warning() {
        let url = OutboundUrl::parse("redis://user:p@ss@10.1.2.3:6380/0", "redis").unwrap();
        assert_eq!(url.authority(), "10.1.2.3:6380");
        assert_eq!(url.scheme, "redis");
    }
}
