//! Bearer tokens: read-write and read-only. With none configured the hub runs without auth,
//! which `Hub::start` allows only on a loopback address.

use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::HubError;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadWrite,
    ReadOnly,
}

/// The configured tokens, kept only as SHA-256 digests: comparing digests in constant time
/// reveals neither a token's bytes nor its length, and a memory dump holds no token.
#[derive(Clone, Default)]
pub struct Auth {
    tokens: Vec<([u8; 32], Access)>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Auth({} tokens)", self.tokens.len())
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Auth {
    /// Tokens are trimmed as the header's are; a blank one (`PRESSROOM_TOKENS=`, or `a,`) would
    /// otherwise turn auth "on" with a token anyone can send, so it is refused.
    pub fn new(read_write: &[String], read_only: &[String]) -> Result<Self, HubError> {
        let mut tokens = Vec::new();
        for (list, access, source) in [
            (read_write, Access::ReadWrite, "--token / PRESSROOM_TOKENS"),
            (read_only, Access::ReadOnly, "--read-token / PRESSROOM_READ_TOKENS"),
        ] {
            for token in list {
                let token = token.trim();
                if token.is_empty() {
                    return Err(HubError::Config(format!(
                        "{source} holds a blank token (an empty value or a stray comma); \
                         unset the variable for no auth, or give real tokens"
                    )));
                }
                tokens.push((digest(token), access));
            }
        }
        Ok(Auth { tokens })
    }

    pub fn enabled(&self) -> bool {
        !self.tokens.is_empty()
    }

    /// What `presented` may do; every configured token is compared, so timing says nothing.
    pub fn check(&self, presented: Option<&str>) -> Result<Access, HubError> {
        if !self.enabled() {
            return Ok(Access::ReadWrite);
        }
        let presented = digest(presented.ok_or(HubError::Unauthorized)?);
        let mut granted = None;
        for (token, access) in &self.tokens {
            if bool::from(token.ct_eq(&presented)) {
                granted = granted.or(Some(*access));
            }
        }
        granted.ok_or(HubError::Unauthorized)
    }
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Paths anyone may read.
const OPEN_PATHS: [&str; 2] = ["/healthz", "/api/openapi.json"];

/// REST middleware: 401 without a known token, 403 for a read-only token on a write. The cable
/// checks its own token, so it can answer in Action Cable's terms.
pub async fn require_token(
    State(auth): State<Auth>,
    request: Request,
    next: Next,
) -> Result<Response, HubError> {
    let path = request.uri().path();
    if OPEN_PATHS.contains(&path) || path == "/cable" {
        return Ok(next.run(request).await);
    }
    let access = auth.check(bearer(request.headers()))?;
    let reads = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if access == Access::ReadOnly && !reads {
        return Err(HubError::Forbidden);
    }
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_grant_their_access_and_nothing_else() {
        let auth = Auth::new(&["rw".into()], &[" ro ".into()]).unwrap();
        assert_eq!(auth.check(Some("rw")).unwrap(), Access::ReadWrite);
        assert_eq!(auth.check(Some("ro")).unwrap(), Access::ReadOnly);
        assert!(matches!(auth.check(Some("rw ")), Err(HubError::Unauthorized)));
        assert!(matches!(auth.check(None), Err(HubError::Unauthorized)));
        assert_eq!(Auth::default().check(None).unwrap(), Access::ReadWrite, "no tokens, no auth");
        assert!(!format!("{auth:?}").contains("rw"), "debug output shows no token");
    }

    #[test]
    fn blank_tokens_are_refused_naming_their_variable() {
        for (rw, ro, named) in [
            (vec![String::new()], vec![], "PRESSROOM_TOKENS"),
            (vec!["a".into(), "".into()], vec![], "PRESSROOM_TOKENS"),
            (vec![], vec!["  ".into()], "PRESSROOM_READ_TOKENS"),
        ] {
            let error = Auth::new(&rw, &ro).unwrap_err().to_string();
            assert!(error.contains(named), "{error}");
        }
        let auth = Auth::new(&["a".into(), " b".into()], &[]).unwrap();
        assert_eq!(auth.check(Some("b")).unwrap(), Access::ReadWrite, "list items are trimmed");
    }

    #[test]
    fn bearer_reads_the_scheme_case_insensitively() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "bearer abc".parse().unwrap());
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&headers), None);
    }
}
