use axum::extract::State;
use axum::Json;
use pressroom_protocol::Snapshot;

use crate::domain::Domain;
use crate::HubError;

/// Totals, export status, recent activity and volume series, consistent with `seq`.
#[utoipa::path(get, path = "/api/analytics/summary", tag = "analytics", responses((status = 200, body = Snapshot)))]
pub async fn show(State(domain): State<Domain>) -> Result<Json<Snapshot>, HubError> {
    Ok(Json(domain.summary().await?))
}
