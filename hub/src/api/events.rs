use axum::extract::State;
use axum::Json;

use super::fields::Params;
use crate::domain::{Domain, EventsPage, MAX_EVENTS_PAGE};
use crate::HubError;

/// `GET /api/events?after=SEQ&limit=N` (default 100, at most 1000): committed events in seq order.
pub async fn list(State(domain): State<Domain>, Params(mut f): Params) -> Result<Json<EventsPage>, HubError> {
    let after = f.optional_int("after", 0, i64::MAX).unwrap_or(0) as u64;
    let limit = f.optional_int("limit", 1, i64::from(MAX_EVENTS_PAGE)).unwrap_or(100) as u32;
    f.finish(|| Some(()))?;
    Ok(Json(domain.events(after, limit).await?))
}
