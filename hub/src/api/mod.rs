//! The REST API: JSON in, JSON out, errors in the contract's shape.

mod books;
mod covers;
mod events;
mod fields;
mod job_orders;
pub mod openapi;
mod print_exports;
mod summary;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use utoipa::OpenApi;

use crate::domain::Domain;

/// Write bodies read up to validation, without a database: exactly what each write route
/// checks before it touches one (the fuzz harness drives these).
pub mod bodies {
    pub use super::books::new_book;
    pub use super::covers::new_cover;
    pub use super::fields::Fields;
    pub use super::job_orders::new_job_order;
    pub use super::print_exports::{export_job_order, fail_reason};

    /// A body as the routes' JSON extractor reads it: an object, or a 400.
    pub fn fields(body: &[u8]) -> Result<Fields, crate::HubError> {
        match serde_json::from_slice(body) {
            Ok(serde_json::Value::Object(map)) => Ok(Fields::new(map)),
            Ok(_) => Err(crate::HubError::MalformedJson("expected a JSON object".to_owned())),
            Err(error) => Err(crate::HubError::MalformedJson(error.to_string())),
        }
    }
}

/// The API; request bodies over `max_body_bytes` are refused with 413.
pub fn router(domain: Domain, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/openapi.json", get(|| async { axum::Json(openapi::ApiDoc::openapi()) }))
        .route("/api/books", post(books::create).get(books::list))
        .route("/api/books/{id}", get(books::show))
        .route("/api/covers", post(covers::create).get(covers::list))
        .route("/api/covers/{id}", get(covers::show))
        .route("/api/job_orders", post(job_orders::create).get(job_orders::list))
        .route("/api/job_orders/{id}", get(job_orders::show))
        .route("/api/print_exports", post(print_exports::start).get(print_exports::list))
        .route("/api/print_exports/{id}", get(print_exports::show))
        .route("/api/print_exports/{id}/complete", post(print_exports::complete))
        .route("/api/print_exports/{id}/fail", post(print_exports::fail))
        .route("/api/analytics/summary", get(summary::show))
        .route("/api/events", get(events::list))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(domain)
}
