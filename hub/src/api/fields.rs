//! Reading request bodies, paths and query strings field by field, collecting a message for
//! every invalid one, so a client learns everything wrong with a request at once.

use std::collections::HashMap;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, Query};
use axum::Json;
use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::domain::PageRequest;
use crate::error::FieldErrors;
use crate::HubError;

/// A JSON object body, or a 400 when it is not JSON (or not an object).
pub struct Body(pub Fields);

impl<S: Send + Sync> axum::extract::FromRequest<S> for Body {
    type Rejection = HubError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, HubError> {
        match Json::<Value>::from_request(request, state).await {
            Ok(Json(Value::Object(map))) => Ok(Body(Fields::new(map))),
            Ok(Json(_)) => Err(HubError::MalformedJson("expected a JSON object".to_owned())),
            Err(rejection) => Err(malformed(rejection)),
        }
    }
}

fn malformed(rejection: JsonRejection) -> HubError {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return HubError::TooLarge;
    }
    HubError::MalformedJson(rejection.body_text())
}

/// An integer id in the path; anything else names no resource, so it is a 404.
pub struct Id(pub i64);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Id {
    type Rejection = HubError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, HubError> {
        let path: Result<Path<i64>, PathRejection> = Path::from_request_parts(parts, state).await;
        path.map(|Path(id)| Id(id)).map_err(|_| HubError::NotFound("resource"))
    }
}

/// The query string as fields.
pub struct Params(pub Fields);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Params {
    type Rejection = HubError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, HubError> {
        let Query(params) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| {
                HubError::InvalidFields(FieldErrors::from([("query".to_owned(), rejection.body_text())]))
            })?;
        Ok(Params(Fields::new(params.into_iter().map(|(k, v)| (k, Value::String(v))).collect())))
    }
}

/// Query of the list routes.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; it is read field by field
pub struct PageParams {
    /// Page size, 1 to 500 (default 50).
    limit: Option<u32>,
    /// Only items with an id below this: the previous page's `next_before`.
    before: Option<i64>,
}

/// The longest text a field takes: names, titles and reasons are short, and every one is sent to
/// every subscriber in its event.
pub const MAX_TEXT_CHARS: usize = 500;

pub struct Fields {
    body: Map<String, Value>,
    errors: FieldErrors,
}

impl Fields {
    pub fn new(body: Map<String, Value>) -> Self {
        Fields { body, errors: FieldErrors::new() }
    }

    pub fn has(&self, name: &str) -> bool {
        self.body.get(name).is_some_and(|v| !v.is_null())
    }

    fn fail<T>(&mut self, name: &str, message: impl Into<String>) -> Option<T> {
        self.errors.insert(name.to_owned(), message.into());
        None
    }

    /// Records an error found by a rule spanning several fields.
    pub fn reject(&mut self, name: &str, message: impl Into<String>) {
        self.errors.insert(name.to_owned(), message.into());
    }

    /// A required, non-blank string (trimmed).
    pub fn string(&mut self, name: &str) -> Option<String> {
        match self.body.get(name) {
            None | Some(Value::Null) => self.fail(name, "is required"),
            _ => self.optional_string(name),
        }
    }

    /// An optional string; present but blank, longer than [`MAX_TEXT_CHARS`] or holding a NUL
    /// (which Postgres cannot store, and no name or reason needs) is an error.
    pub fn optional_string(&mut self, name: &str) -> Option<String> {
        match self.body.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => self.fail(name, "must not be blank"),
            Some(Value::String(s)) if s.trim().chars().count() > MAX_TEXT_CHARS => {
                self.fail(name, format!("must be at most {MAX_TEXT_CHARS} characters"))
            }
            Some(Value::String(s)) if s.contains('\0') => self.fail(name, "must not contain NUL characters"),
            Some(Value::String(s)) => Some(s.trim().to_owned()),
            Some(_) => self.fail(name, "must be a string"),
        }
    }

    /// A required integer in `min..=max`.
    pub fn int(&mut self, name: &str, min: i64, max: i64) -> Option<i64> {
        match self.body.get(name) {
            None | Some(Value::Null) => self.fail(name, "is required"),
            _ => self.optional_int(name, min, max),
        }
    }

    /// An optional integer in `min..=max`; query strings give it as text.
    pub fn optional_int(&mut self, name: &str, min: i64, max: i64) -> Option<i64> {
        let value = self.body.get(name)?;
        let number = match value {
            Value::Null => return None,
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        match number {
            Some(n) if (min..=max).contains(&n) => Some(n),
            Some(_) if max == i64::MAX => self.fail(name, format!("must be at least {min}")),
            Some(_) => self.fail(name, format!("must be between {min} and {max}")),
            None => self.fail(name, "must be an integer"),
        }
    }

    /// An optional `YYYY-MM-DD` date.
    pub fn optional_date(&mut self, name: &str) -> Option<NaiveDate> {
        let parsed = match self.body.get(name) {
            None | Some(Value::Null) => return None,
            Some(Value::String(s)) => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
            Some(_) => None,
        };
        parsed.or_else(|| self.fail(name, "must be a date as YYYY-MM-DD"))
    }

    /// `limit` (1..=500, default 50) and `before` (an id) of a list request.
    pub fn page(&mut self) -> PageRequest {
        let limit = self.optional_int("limit", 1, 500).unwrap_or(50) as u32;
        let before = self.optional_int("before", 1, i64::MAX);
        PageRequest { limit, before }
    }

    /// Ok with `value` when every field read was valid.
    pub fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, HubError> {
        if !self.errors.is_empty() {
            return Err(HubError::InvalidFields(self.errors));
        }
        value().ok_or(HubError::InvalidFields(self.errors))
    }
}
