use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use super::fields::{Body, Fields, Id, PageParams, Params};
use crate::domain::{normalise_isbn, Book, Domain, NewBook, Page};
use crate::error::ErrorBody;
use crate::HubError;

/// The body of `POST /api/books`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the body; requests are read field by field
pub struct CreateBook {
    title: String,
    /// ISBN-10 or ISBN-13, hyphens allowed; checked, unique, stored as digits.
    isbn: Option<String>,
    author: Option<String>,
}

/// Adds a book; broadcasts `book_created`.
#[utoipa::path(post, path = "/api/books", tag = "books", request_body = CreateBook, responses(
    (status = 201, body = Book), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(domain): State<Domain>,
    Body(f): Body,
) -> Result<(StatusCode, Json<Book>), HubError> {
    let new = new_book(f)?;
    let book = domain.detached(|d| async move { d.create_book(new).await }).await?;
    Ok((StatusCode::CREATED, Json(book)))
}

/// A `POST /api/books` body, validated.
pub fn new_book(mut f: Fields) -> Result<NewBook, HubError> {
    let title = f.string("title");
    let author = f.optional_string("author");
    let isbn = match f.optional_string("isbn").map(|isbn| normalise_isbn(&isbn)) {
        Some(Err(message)) => {
            f.reject("isbn", message);
            None
        }
        Some(Ok(isbn)) => Some(isbn),
        None => None,
    };
    f.finish(|| Some(NewBook { title: title?, isbn, author }))
}

/// One book.
#[utoipa::path(get, path = "/api/books/{id}", tag = "books", params(("id" = i64, Path)),
    responses((status = 200, body = Book), (status = 404, body = ErrorBody)))]
pub async fn show(State(domain): State<Domain>, Id(id): Id) -> Result<Json<Book>, HubError> {
    Ok(Json(domain.get::<Book>(id).await?))
}

/// Books, newest first.
#[utoipa::path(get, path = "/api/books", tag = "books", params(PageParams),
    responses((status = 200, body = Page<Book>), (status = 422, body = ErrorBody)))]
pub async fn list(State(domain): State<Domain>, Params(mut f): Params) -> Result<Json<Page<Book>>, HubError> {
    let page = f.page();
    let page = f.finish(|| Some(page))?;
    Ok(Json(domain.list::<Book>(page).await?))
}
