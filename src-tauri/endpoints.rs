//! Where the hub is: the cable URL the user configures, and the REST origin derived from it.

use url::Url;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub cable: Url,
    /// REST origin: the cable URL's scheme mapped to http(s), with the `/cable` segment dropped.
    pub rest: Url,
}

impl Endpoints {
    pub fn parse(cable_url: &str) -> Result<Self> {
        let invalid =
            |reason: &str| Error::InvalidHubUrl { url: cable_url.to_owned(), reason: reason.to_owned() };
        let cable = Url::parse(cable_url.trim()).map_err(|e| invalid(&e.to_string()))?;
        let scheme = match cable.scheme() {
            "ws" => "http",
            "wss" => "https",
            _ => return Err(invalid("the cable URL must start with ws:// or wss://")),
        };
        if cable.host_str().is_none_or(str::is_empty) {
            return Err(invalid("the cable URL needs a host"));
        }
        let mut rest = cable.clone();
        rest.set_scheme(scheme).map_err(|()| invalid("cannot map the scheme to http"))?;
        let path = cable.path().trim_end_matches('/');
        let base = path.strip_suffix("/cable").unwrap_or(path);
        rest.set_path(&format!("{base}/"));
        rest.set_query(None);
        rest.set_fragment(None);
        Ok(Endpoints { cable, rest })
    }

    /// A REST URL for `path` (relative, e.g. `api/analytics/summary`).
    pub fn api(&self, path: &str) -> Url {
        self.rest.join(path).expect("a relative path joins onto an http origin")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_is_the_cable_origin_without_the_cable_segment() {
        let cases = [
            ("ws://localhost:3000/cable", "http://localhost:3000/"),
            ("wss://hub.example.com/cable", "https://hub.example.com/"),
            ("wss://example.com/pressroom/cable/", "https://example.com/pressroom/"),
            ("ws://127.0.0.1:9/cable?token=abc", "http://127.0.0.1:9/"),
        ];
        for (cable, rest) in cases {
            assert_eq!(Endpoints::parse(cable).unwrap().rest.as_str(), rest, "{cable}");
        }
        let endpoints = Endpoints::parse("wss://example.com/pressroom/cable").unwrap();
        assert_eq!(
            endpoints.api("api/analytics/summary").as_str(),
            "https://example.com/pressroom/api/analytics/summary"
        );
    }

    #[test]
    fn anything_but_a_websocket_url_is_refused_with_a_reason() {
        for bad in ["http://localhost:3000/cable", "localhost:3000", "", "ws://"] {
            let error = Endpoints::parse(bad).unwrap_err();
            assert!(matches!(error, Error::InvalidHubUrl { .. }), "{bad}: {error}");
        }
    }
}
