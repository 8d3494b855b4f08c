use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use super::fields::{Body, Id, Params};
use crate::domain::{normalise_isbn, Book, Domain, NewBook, Page};
use crate::HubError;

/// `POST /api/books`: `{"title", "isbn"?, "author"?}`.
pub async fn create(
    State(domain): State<Domain>,
    Body(mut f): Body,
) -> Result<(StatusCode, Json<Book>), HubError> {
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
    let book = f.finish(|| Some(NewBook { title: title?, isbn, author }))?;
    Ok((StatusCode::CREATED, Json(domain.create_book(book).await?)))
}

pub async fn show(State(domain): State<Domain>, Id(id): Id) -> Result<Json<Book>, HubError> {
    Ok(Json(domain.book(id).await?))
}

pub async fn list(State(domain): State<Domain>, Params(mut f): Params) -> Result<Json<Page<Book>>, HubError> {
    let page = f.page();
    let page = f.finish(|| Some(page))?;
    Ok(Json(domain.books(page).await?))
}
