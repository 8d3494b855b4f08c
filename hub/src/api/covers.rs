use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use super::fields::{Body, Id, Params};
use crate::domain::{Cover, Domain, NewCover, Page};
use crate::HubError;

/// `POST /api/covers`: `{"book_id", "format", "finish"}`.
pub async fn create(
    State(domain): State<Domain>,
    Body(mut f): Body,
) -> Result<(StatusCode, Json<Cover>), HubError> {
    let book_id = f.int("book_id", 1, i64::MAX);
    let format = f.string("format");
    let finish = f.string("finish");
    let cover = f.finish(|| Some(NewCover { book_id: book_id?, format: format?, finish: finish? }))?;
    Ok((StatusCode::CREATED, Json(domain.create_cover(cover).await?)))
}

pub async fn show(State(domain): State<Domain>, Id(id): Id) -> Result<Json<Cover>, HubError> {
    Ok(Json(domain.cover(id).await?))
}

pub async fn list(
    State(domain): State<Domain>,
    Params(mut f): Params,
) -> Result<Json<Page<Cover>>, HubError> {
    let page = f.page();
    let page = f.finish(|| Some(page))?;
    Ok(Json(domain.covers(page).await?))
}
