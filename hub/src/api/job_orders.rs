use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;

use super::fields::{self, Fields};
use crate::domain::{BookRef, Domain, JobOrder, NewJobOrder};
use crate::HubError;

/// `POST /api/job_orders`: `{"customer", "quantity", "book_id" | "book_title", "due_date"?}`.
pub async fn create(
    State(domain): State<Domain>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<(StatusCode, Json<JobOrder>), HubError> {
    let order = parse(fields::object(body)?)?;
    let job_order = domain.create_job_order(order).await?;
    Ok((StatusCode::CREATED, Json(job_order)))
}

fn parse(body: serde_json::Map<String, Value>) -> Result<NewJobOrder, HubError> {
    let mut f = Fields::new(body);
    let customer = f.string("customer");
    let quantity = f.int_at_least("quantity", 1);
    let due_date = f.optional_date("due_date");
    let book = match (f.has("book_id"), f.has("book_title")) {
        (true, false) => f.int_at_least("book_id", 1).map(BookRef::Id),
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
    let order = match (customer, quantity, book) {
        (Some(customer), Some(quantity), Some(book)) => Some(NewJobOrder {
            book,
            customer,
            quantity,
            due_date,
        }),
        _ => None,
    };
    f.finish(order)
}
