use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use pressroom_protocol::Snapshot;

use crate::domain::Domain;
use crate::HubError;

/// Totals, export status, recent activity and volume series, consistent with `seq`; shared by
/// every request while the seq and the minute stay the same. 429 when too many are waiting.
#[utoipa::path(get, path = "/api/analytics/summary", tag = "analytics", responses(
    (status = 200, body = Snapshot),
    (status = 429, body = crate::error::ErrorBody, description = "too many summary requests waiting"),
))]
pub async fn show(State(domain): State<Domain>) -> Result<impl IntoResponse, HubError> {
    Ok(([(header::CONTENT_TYPE, "application/json")], domain.shared_summary().await?))
}
