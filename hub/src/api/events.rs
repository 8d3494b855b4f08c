use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::fields::Params;
use pressroom_protocol::backfill::{EventsPage, MAX_EVENTS_PAGE};

use crate::domain::Domain;
use crate::error::ErrorBody;
use crate::HubError;

/// Query of `GET /api/events`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; it is read field by field
pub struct EventsParams {
    /// Return events with a seq above this (default 0).
    after: Option<u64>,
    /// At most this many (default 100, at most 1000).
    limit: Option<u32>,
}

/// Committed events after a seq, in seq order: how a client catches up after a reconnect.
#[utoipa::path(get, path = "/api/events", tag = "analytics", params(EventsParams),
    responses((status = 200, body = EventsPage), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(domain): State<Domain>,
    Params(mut f): Params,
) -> Result<impl IntoResponse, HubError> {
    let after = f.optional_int("after", 0, i64::MAX).unwrap_or(0) as u64;
    let limit = f.optional_int("limit", 1, i64::from(MAX_EVENTS_PAGE)).unwrap_or(100) as u32;
    f.finish(|| Some(()))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], domain.events_json(after, limit).await?))
}
