//! Which web pages and which host names may talk to the hub, as Rails'
//! `allowed_request_origins`: a browser sends `Origin` on every WebSocket handshake and on
//! cross-site requests, so a page on another site is refused (cross-site WebSocket hijacking);
//! a request without `Origin` comes from a native client (the desktop app's backend, a script)
//! and is not a browser's to forge. Without tokens the hub also answers only a loopback `Host`,
//! so a rebound DNS name (evil.example → 127.0.0.1) reaches nothing.

use std::net::{Ipv4Addr, Ipv6Addr};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;

use crate::HubError;

/// The desktop app's webview origins (macOS/Linux and Windows); its backend sends none.
const DESKTOP_ORIGINS: [&str; 3] = ["tauri://localhost", "http://tauri.localhost", "https://tauri.localhost"];

/// How much of a refused header goes to the log.
const LOGGED_CHARS: usize = 80;

#[derive(Debug, Clone)]
pub struct Origins {
    /// Normalised (`scheme://host[:port]`, lower case).
    allowed: Vec<String>,
    /// Without tokens: only a loopback `Host` is answered.
    loopback_only: bool,
}

impl Origins {
    /// `extra` as given by `--allowed-origin`; each must be `scheme://host[:port]`.
    pub fn new(extra: &[String], loopback_only: bool) -> Result<Self, HubError> {
        let mut allowed: Vec<String> = DESKTOP_ORIGINS.iter().map(|o| (*o).to_owned()).collect();
        for origin in extra {
            let normalised = normalise(origin);
            let well_formed = normalised
                .split_once("://")
                .is_some_and(|(scheme, rest)| !scheme.is_empty() && !rest.is_empty() && !rest.contains('/'));
            if !well_formed {
                return Err(HubError::Config(format!(
                    "--allowed-origin / PRESSROOM_ALLOWED_ORIGINS: {origin:?} is not an origin \
                     (scheme://host[:port], no path)"
                )));
            }
            allowed.push(normalised);
        }
        Ok(Origins { allowed, loopback_only })
    }

    /// Whether a request with these headers may be served.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), HubError> {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        if self.loopback_only && !host.is_some_and(is_loopback_host) {
            tracing::warn!(host = %truncated(host.unwrap_or("")), "refusing a request for a non-loopback Host");
            return Err(HubError::ForeignHost);
        }
        let Some(origin) = headers.get(header::ORIGIN) else { return Ok(()) };
        let origin = normalise(origin.to_str().unwrap_or(""));
        let own = host.is_some_and(|host| {
            let host = host.to_ascii_lowercase();
            origin == format!("http://{host}") || origin == format!("https://{host}")
        });
        if own || self.allowed.contains(&origin) {
            return Ok(());
        }
        tracing::warn!(origin = %truncated(&origin), "refusing a request from a foreign origin");
        Err(HubError::ForeignOrigin)
    }
}

fn normalise(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

fn truncated(text: &str) -> String {
    text.chars().take(LOGGED_CHARS).collect()
}

/// `localhost`, `127.0.0.0/8` or `[::1]`, each with or without a port.
pub fn is_loopback_host(host: &str) -> bool {
    if let Some(rest) = host.strip_prefix('[') {
        let Some((ip, port)) = rest.split_once(']') else { return false };
        return (port.is_empty() || is_port(port.strip_prefix(':').unwrap_or("x")))
            && ip.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
    }
    let name = match host.split_once(':') {
        Some((name, port)) if is_port(port) => name,
        Some(_) => return false,
        None => host,
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

fn is_port(text: &str) -> bool {
    text.parse::<u16>().is_ok()
}

/// Middleware over REST and the cable alike.
pub async fn require_allowed(
    State(origins): State<Origins>,
    request: Request,
    next: Next,
) -> Result<Response, HubError> {
    origins.check(request.headers())?;
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(host: &str, origin: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, host.parse().unwrap());
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, origin.parse().unwrap());
        }
        headers
    }

    #[test]
    fn loopback_hosts_with_or_without_port() {
        for host in ["localhost", "LOCALHOST:3000", "127.0.0.1", "127.1.2.3:80", "[::1]", "[::1]:3000"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:3000",
            "10.0.0.1",
            "[::2]:1",
            "localhost.evil",
            "localhost:x",
            "[::1]x",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn foreign_origins_are_refused_and_native_clients_served() {
        let origins = Origins::new(&["https://Dash.Example/".into()], true).unwrap();
        let ok = |host, origin| origins.check(&headers(host, origin)).is_ok();
        assert!(ok("127.0.0.1:3000", None), "a native client sends no Origin");
        assert!(ok("127.0.0.1:3000", Some("http://127.0.0.1:3000")), "the hub's own origin");
        assert!(ok("localhost:3000", Some("tauri://localhost")), "the desktop webview");
        assert!(ok("localhost:3000", Some("http://tauri.localhost")));
        assert!(ok("localhost:3000", Some("https://dash.example")), "an allowed origin");
        assert!(!ok("127.0.0.1:3000", Some("https://evil.example")));
        assert!(!ok("127.0.0.1:3000", Some("null")));
        assert!(!ok("127.0.0.1:3000", Some("http://127.0.0.1:3001")), "another port is another origin");
        assert!(!ok("evil.example:3000", None), "DNS rebinding: a foreign Host without tokens");
        let with_tokens = Origins::new(&[], false).unwrap();
        assert!(with_tokens.check(&headers("hub.example", None)).is_ok());
        assert!(with_tokens.check(&headers("hub.example", Some("https://hub.example"))).is_ok());
        assert!(with_tokens.check(&headers("hub.example", Some("https://evil.example"))).is_err());
    }

    #[test]
    fn a_malformed_allowed_origin_is_a_start_up_error() {
        for bad in ["dash.example", "https://dash.example/path", "://x", ""] {
            let error = Origins::new(&[bad.into()], false).unwrap_err().to_string();
            assert!(error.contains("PRESSROOM_ALLOWED_ORIGINS"), "{error}");
        }
    }
}
