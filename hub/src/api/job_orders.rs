use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use super::fields::{Body, Id, Params};
use crate::domain::{BookRef, Domain, JobOrder, NewJobOrder, Page};
use crate::HubError;

/// `POST /api/job_orders`: `{"customer", "quantity", "book_id" | "book_title", "due_date"?}`.
pub async fn create(
    State(domain): State<Domain>,
    Body(mut f): Body,
) -> Result<(StatusCode, Json<JobOrder>), HubError> {
    let customer = f.string("customer");
    let quantity = f.int("quantity", 1, i64::from(i32::MAX));
    let due_date = f.optional_date("due_date");
    let book = match (f.has("book_id"), f.has("book_title")) {
        (true, false) => f.int("book_id", 1, i64::MAX).map(BookRef::Id),
        (false, true) => f.string("book_title").map(BookRef::Title),
        (true, true) => {
            f.reject("book_id", "give book_id or book_title, not both");
            None
        }
        (false, false) => {
            f.reject("book_id", "is required (or give book_title)");
            None
        }
    };
    let order =
        f.finish(|| Some(NewJobOrder { book: book?, customer: customer?, quantity: quantity?, due_date }))?;
    Ok((StatusCode::CREATED, Json(domain.create_job_order(order).await?)))
}

pub async fn show(State(domain): State<Domain>, Id(id): Id) -> Result<Json<JobOrder>, HubError> {
    Ok(Json(domain.job_order(id).await?))
}

pub async fn list(
    State(domain): State<Domain>,
    Params(mut f): Params,
) -> Result<Json<Page<JobOrder>>, HubError> {
    let page = f.page();
    let page = f.finish(|| Some(page))?;
    Ok(Json(domain.job_orders(page).await?))
}
