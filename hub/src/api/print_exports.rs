use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use super::fields::{Body, Fields, Id, PageParams, Params};
use crate::domain::{Domain, Page, PrintExport};
use crate::error::ErrorBody;
use crate::HubError;

/// The body of `POST /api/print_exports`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the body; requests are read field by field
pub struct StartPrintExport {
    job_order_id: i64,
}

/// The body of `POST /api/print_exports/{id}/fail`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the body; requests are read field by field
pub struct FailPrintExport {
    reason: String,
}

/// Starts an export of a job order; broadcasts `print_export_started`.
#[utoipa::path(post, path = "/api/print_exports", tag = "print exports", request_body = StartPrintExport,
    responses((status = 201, body = PrintExport), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn start(
    State(domain): State<Domain>,
    Body(f): Body,
) -> Result<(StatusCode, Json<PrintExport>), HubError> {
    let job_order = export_job_order(f)?;
    let export = domain.detached(move |d| async move { d.start_print_export(job_order).await }).await?;
    Ok((StatusCode::CREATED, Json(export)))
}

/// The job order id of a `POST /api/print_exports` body, validated.
pub fn export_job_order(mut f: Fields) -> Result<i64, HubError> {
    let job_order_id = f.int("job_order_id", 1, i64::MAX);
    f.finish(|| job_order_id)
}

/// Completes a started export; broadcasts `print_export_completed`.
#[utoipa::path(post, path = "/api/print_exports/{id}/complete", tag = "print exports", params(("id" = i64, Path)),
    responses((status = 200, body = PrintExport), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn complete(State(domain): State<Domain>, Id(id): Id) -> Result<Json<PrintExport>, HubError> {
    Ok(Json(domain.detached(move |d| async move { d.complete_print_export(id).await }).await?))
}

/// Fails a started export with a reason; broadcasts `print_export_failed`.
#[utoipa::path(post, path = "/api/print_exports/{id}/fail", tag = "print exports", params(("id" = i64, Path)),
    request_body = FailPrintExport, responses((status = 200, body = PrintExport),
    (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn fail(
    State(domain): State<Domain>,
    Id(id): Id,
    Body(f): Body,
) -> Result<Json<PrintExport>, HubError> {
    let reason = fail_reason(f)?;
    Ok(Json(domain.detached(move |d| async move { d.fail_print_export(id, reason).await }).await?))
}

/// The reason of a `POST /api/print_exports/{id}/fail` body, validated.
pub fn fail_reason(mut f: Fields) -> Result<String, HubError> {
    let reason = f.string("reason");
    f.finish(|| reason)
}

/// One print export.
#[utoipa::path(get, path = "/api/print_exports/{id}", tag = "print exports", params(("id" = i64, Path)),
    responses((status = 200, body = PrintExport), (status = 404, body = ErrorBody)))]
pub async fn show(State(domain): State<Domain>, Id(id): Id) -> Result<Json<PrintExport>, HubError> {
    Ok(Json(domain.get::<PrintExport>(id).await?))
}

/// Print exports, newest first.
#[utoipa::path(get, path = "/api/print_exports", tag = "print exports", params(PageParams),
    responses((status = 200, body = Page<PrintExport>), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(domain): State<Domain>,
    Params(mut f): Params,
) -> Result<Json<Page<PrintExport>>, HubError> {
    let page = f.page();
    let page = f.finish(|| Some(page))?;
    Ok(Json(domain.list::<PrintExport>(page).await?))
}
