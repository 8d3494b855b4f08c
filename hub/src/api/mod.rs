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
