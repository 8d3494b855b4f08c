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

    /// `path` joined onto the REST origin, if the result stays below it: the token goes with
    /// every request, so `//elsewhere/x`, `\\elsewhere/x`, `http:elsewhere/x` or `../` are refused.
    pub fn on_hub(&self, path: &str) -> Option<Url> {
        let url = self.rest.join(path).ok()?;
        (url.origin() == self.rest.origin() && url.path().starts_with(self.rest.path())).then_some(url)
    }

    /// Whether the hub is this machine: a token may go there over `ws://`.
    pub fn is_loopback(&self) -> bool {
        match self.cable.host() {
            Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
    }

    /// Whether a token sent to this hub travels in clear text.
    pub fn is_cleartext(&self) -> bool {
        self.cable.scheme() == "ws"
    }
}

/// Splits a `token` query parameter off a cable URL: the URL without it, and the token.
pub fn split_token(cable_url: &str) -> (String, Option<String>) {
    let Ok(mut url) = Url::parse(cable_url.trim()) else { return (cable_url.to_owned(), None) };
    let (tokens, rest): (Vec<_>, Vec<_>) =
        url.query_pairs().into_owned().partition(|(name, _)| name == "token");
    let Some((_, token)) = tokens.into_iter().last() else { return (cable_url.to_owned(), None) };
    if rest.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(rest);
    }
    (url.to_string(), Some(token).filter(|t| !t.trim().is_empty()))
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
    fn a_path_that_leaves_the_hub_is_refused() {
        let endpoints = Endpoints::parse("wss://hub.example/pressroom/cable").unwrap();
        assert_eq!(
            endpoints.on_hub("stats/summary.json").unwrap().as_str(),
            "https://hub.example/pressroom/stats/summary.json"
        );
        for elsewhere in
            ["//evil.example/x", "\\\\evil.example/x", "http:evil.example/x", "https://evil.example/", "../x"]
        {
            assert_eq!(endpoints.on_hub(elsewhere), None, "{elsewhere}");
        }
    }

    #[test]
    fn a_token_in_the_url_is_split_off_and_other_parameters_stay() {
        assert_eq!(
            split_token("ws://h:1/cable?token=abc"),
            ("ws://h:1/cable".to_owned(), Some("abc".to_owned()))
        );
        assert_eq!(
            split_token("wss://h/cable?a=1&token=t%20x&b=2"),
            ("wss://h/cable?a=1&b=2".to_owned(), Some("t x".to_owned()))
        );
        assert_eq!(split_token("ws://h/cable"), ("ws://h/cable".to_owned(), None));
    }

    #[test]
    fn loopback_hubs_are_this_machine() {
        for (url, loopback) in [
            ("ws://localhost:3000/cable", true),
            ("ws://127.0.0.1:3000/cable", true),
            ("ws://[::1]:3000/cable", true),
            ("ws://hub.example/cable", false),
            ("ws://10.0.0.2/cable", false),
        ] {
            assert_eq!(Endpoints::parse(url).unwrap().is_loopback(), loopback, "{url}");
        }
    }

    #[test]
    fn anything_but_a_websocket_url_is_refused_with_a_reason() {
        for bad in ["http://localhost:3000/cable", "localhost:3000", "", "ws://"] {
            let error = Endpoints::parse(bad).unwrap_err();
            assert!(matches!(error, Error::InvalidHubUrl { .. }), "{bad}: {error}");
        }
    }
}
