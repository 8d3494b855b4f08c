//! The hub's one error type and its JSON rendering:
//! `{"error": {"code", "message", "fields"?}}`.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// A message per invalid field, by field name.
pub type FieldErrors = BTreeMap<String, String>;

/// Every error response: `{"error": {"code", "message", "fields"?}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// `malformed_json`, `too_large`, `invalid_fields`, `not_found`, `conflict`, `unauthorized`, `forbidden`,
    /// `forbidden_origin`, `forbidden_host`, `busy` or `internal`.
    pub code: &'static str,
    pub message: String,
    /// A message per invalid field (with `invalid_fields`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<FieldErrors>,
}

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("request body is larger than this hub accepts (--max-body-bytes)")]
    TooLarge,
    #[error("some fields are invalid")]
    InvalidFields(FieldErrors),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("a valid token is required")]
    Unauthorized,
    #[error("this token may only read")]
    Forbidden,
    #[error("requests from this origin are not allowed (--allowed-origin)")]
    ForeignOrigin,
    #[error("without tokens this hub answers only a loopback Host")]
    ForeignHost,
    #[error("too many requests are waiting for the summary; retry in a moment")]
    Busy,
    #[error("{0}")]
    Config(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("invalid database location {0:?}: {1}")]
    DatabaseUrl(String, String),
    #[error("io error: {0}")]
    Io(#[from] std::io::Error),
    /// A background task the hub cannot run without (the broadcaster, a Redis pub/sub task)
    /// panicked or ended while the hub was running; the hub stopped.
    #[error("the hub's {task} task failed ({reason}); the hub stopped")]
    TaskFailed { task: &'static str, reason: String },
}

impl HubError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            HubError::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            HubError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            HubError::InvalidFields(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_fields"),
            HubError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            HubError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            HubError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            HubError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            HubError::ForeignOrigin => (StatusCode::FORBIDDEN, "forbidden_origin"),
            HubError::ForeignHost => (StatusCode::FORBIDDEN, "forbidden_host"),
            HubError::Busy => (StatusCode::TOO_MANY_REQUESTS, "busy"),
            HubError::Database(_)
            | HubError::Migration(_)
            | HubError::DatabaseUrl(..)
            | HubError::Io(_)
            | HubError::TaskFailed { .. }
            | HubError::Config(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for HubError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = if status.is_server_error() {
            // Internal details go to the log, not to the client.
            tracing::error!(error = %self, "request failed");
            "internal error".to_owned()
        } else {
            self.to_string()
        };
        let fields = match self {
            HubError::InvalidFields(fields) => Some(fields),
            _ => None,
        };
        let body = ErrorBody { error: ErrorDetail { code, message, fields } };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
