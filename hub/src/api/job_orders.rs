use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use super::fields::{Body, Fields, Id, PageParams, Params};
use crate::domain::{BookRef, Domain, JobOrder, NewJobOrder, Page};
use crate::error::ErrorBody;
use crate::HubError;

/// The body of `POST /api/job_orders`: `book_id` or `book_title`, not both.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the body; requests are read field by field
pub struct CreateJobOrder {
    customer: String,
    #[schema(minimum = 1)]
    quantity: i64,
    book_id: Option<i64>,
    /// Found by exact title, or created (then `book_created` commits with the order).
    book_title: Option<String>,
    /// YYYY-MM-DD
    due_date: Option<chrono::NaiveDate>,
}

/// Adds a job order; broadcasts `job_order_created` (after `book_created` for a new title).
#[utoipa::path(post, path = "/api/job_orders", tag = "job orders", request_body = CreateJobOrder, responses(
    (status = 201, body = JobOrder), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(domain): State<Domain>,
    Body(f): Body,
) -> Result<(StatusCode, Json<JobOrder>), HubError> {
    let new = new_job_order(f)?;
    let order = domain.detached(|d| async move { d.create_job_order(new).await }).await?;
    Ok((StatusCode::CREATED, Json(order)))
}

/// A `POST /api/job_orders` body, validated.
pub fn new_job_order(mut f: Fields) -> Result<NewJobOrder, HubError> {
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
    f.finish(|| Some(NewJobOrder { book: book?, customer: customer?, quantity: quantity?, due_date }))
}

/// One job order.
#[utoipa::path(get, path = "/api/job_orders/{id}", tag = "job orders", params(("id" = i64, Path)),
    responses((status = 200, body = JobOrder), (status = 404, body = ErrorBody)))]
pub async fn show(State(domain): State<Domain>, Id(id): Id) -> Result<Json<JobOrder>, HubError> {
    Ok(Json(domain.get::<JobOrder>(id).await?))
}

/// Job orders, newest first.
#[utoipa::path(get, path = "/api/job_orders", tag = "job orders", params(PageParams),
    responses((status = 200, body = Page<JobOrder>), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(domain): State<Domain>,
    Params(mut f): Params,
) -> Result<Json<Page<JobOrder>>, HubError> {
    let page = f.page();
    let page = f.finish(|| Some(page))?;
    Ok(Json(domain.list::<JobOrder>(page).await?))
}
