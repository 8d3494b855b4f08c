use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use super::fields::{Body, Id, Params};
use crate::domain::{Domain, Page, PrintExport};
use crate::HubError;

/// `POST /api/print_exports`: `{"job_order_id"}` starts an export.
pub async fn start(
    State(domain): State<Domain>,
    Body(mut f): Body,
) -> Result<(StatusCode, Json<PrintExport>), HubError> {
    let job_order_id = f.int("job_order_id", 1, i64::MAX);
    let job_order_id = f.finish(|| job_order_id)?;
    Ok((StatusCode::CREATED, Json(domain.start_print_export(job_order_id).await?)))
}

/// `POST /api/print_exports/{id}/complete`.
pub async fn complete(State(domain): State<Domain>, Id(id): Id) -> Result<Json<PrintExport>, HubError> {
    Ok(Json(domain.complete_print_export(id).await?))
}

/// `POST /api/print_exports/{id}/fail`: `{"reason"}`.
pub async fn fail(
    State(domain): State<Domain>,
    Id(id): Id,
    Body(mut f): Body,
) -> Result<Json<PrintExport>, HubError> {
    let reason = f.string("reason");
    let reason = f.finish(|| reason)?;
    Ok(Json(domain.fail_print_export(id, reason).await?))
}

pub async fn show(State(domain): State<Domain>, Id(id): Id) -> Result<Json<PrintExport>, HubError> {
    Ok(Json(domain.print_export(id).await?))
}

pub async fn list(
    State(domain): State<Domain>,
    Params(mut f): Params,
) -> Result<Json<Page<PrintExport>>, HubError> {
    let page = f.page();
    let page = f.finish(|| Some(page))?;
    Ok(Json(domain.print_exports(page).await?))
}
