use axum::extract::State;
use axum::Json;
use pressroom_protocol::Snapshot;

use crate::domain::Domain;
use crate::HubError;

/// `GET /api/analytics/summary`.
pub async fn show(State(domain): State<Domain>) -> Result<Json<Snapshot>, HubError> {
    Ok(Json(domain.summary().await?))
}
