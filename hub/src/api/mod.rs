//! The REST API: JSON in, JSON out, errors in the contract's shape.

mod fields;
mod job_orders;
mod summary;

use axum::routing::{get, post};
use axum::Router;

use crate::domain::Domain;

pub fn router(domain: Domain) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/job_orders", post(job_orders::create))
        .route("/api/analytics/summary", get(summary::show))
        .with_state(domain)
}
