use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use super::fields::{Body, Fields, Id, PageParams, Params};
use crate::domain::{Cover, Domain, NewCover, Page};
use crate::error::ErrorBody;
use crate::HubError;

/// The body of `POST /api/covers`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the body; requests are read field by field
pub struct CreateCover {
    book_id: i64,
    /// e.g. hardcover, paperback, ebook
    format: String,
    /// e.g. matte, gloss
    finish: String,
}

/// Adds a cover to a book; broadcasts `cover_created`.
#[utoipa::path(post, path = "/api/covers", tag = "covers", request_body = CreateCover, responses(
    (status = 201, body = Cover), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(domain): State<Domain>,
    Body(f): Body,
) -> Result<(StatusCode, Json<Cover>), HubError> {
    let new = new_cover(f)?;
    let cover = domain.detached(|d| async move { d.create_cover(new).await }).await?;
    Ok((StatusCode::CREATED, Json(cover)))
}

/// A `POST /api/covers` body, validated.
pub fn new_cover(mut f: Fields) -> Result<NewCover, HubError> {
    let book_id = f.int("book_id", 1, i64::MAX);
    let format = f.string("format");
    let finish = f.string("finish");
    f.finish(|| Some(NewCover { book_id: book_id?, format: format?, finish: finish? }))
}

/// One cover.
#[utoipa::path(get, path = "/api/covers/{id}", tag = "covers", params(("id" = i64, Path)),
    responses((status = 200, body = Cover), (status = 404, body = ErrorBody)))]
pub async fn show(State(domain): State<Domain>, Id(id): Id) -> Result<Json<Cover>, HubError> {
    Ok(Json(domain.get::<Cover>(id).await?))
}

/// Covers, newest first.
#[utoipa::path(get, path = "/api/covers", tag = "covers", params(PageParams),
    responses((status = 200, body = Page<Cover>), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(domain): State<Domain>,
    Params(mut f): Params,
) -> Result<Json<Page<Cover>>, HubError> {
    let page = f.page();
    let page = f.finish(|| Some(page))?;
    Ok(Json(domain.list::<Cover>(page).await?))
}
