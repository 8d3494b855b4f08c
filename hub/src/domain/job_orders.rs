use chrono::{DateTime, NaiveDate, Utc};
use pressroom_protocol::payload::{JobOrderCreated, Payload};
use serde::Serialize;

use super::books::{insert_book, NewBook};
use super::{invalid, timestamp, Domain, Resource};
use crate::HubError;

/// Which book a new job order is for.
#[derive(Debug, Clone)]
pub enum BookRef {
    Id(i64),
    /// Found by exact title, or created (its `book_created` commits with the order).
    Title(String),
}

#[derive(Debug, Clone)]
pub struct NewJobOrder {
    pub book: BookRef,
    pub customer: String,
    pub quantity: i64,
    pub due_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct JobOrder {
    pub id: i64,
    pub book_id: i64,
    pub customer: String,
    pub quantity: i64,
    /// YYYY-MM-DD
    #[schema(format = Date)]
    pub due_date: Option<String>,
    pub created_at: String,
}

const COLUMNS: &str = "id, book_id, customer, quantity, due_date, created_at";

impl Resource for JobOrder {
    const TABLE: &'static str = "job_orders";
    const COLUMNS: &'static str = COLUMNS;
    const NAME: &'static str = "job order";

    fn id(&self) -> i64 {
        self.id
    }
}

impl Domain {
    pub async fn create_job_order(&self, order: NewJobOrder) -> Result<JobOrder, HubError> {
        self.create_job_order_at(order, Utc::now()).await
    }

    /// A job order placed at `now`: for importing (and the demo's history), where orders arrive
    /// later than they were placed. Callers keep `now` ascending, so seq order stays time order.
    pub async fn create_job_order_at(
        &self,
        order: NewJobOrder,
        now: DateTime<Utc>,
    ) -> Result<JobOrder, HubError> {
        let mut tx = self.begin_write().await?;
        let book_id = match order.book {
            BookRef::Id(id) => {
                let found: Option<i64> = sqlx::query_scalar("SELECT id FROM books WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                found.ok_or_else(|| invalid("book_id", format!("no book has id {id}")))?
            }
            BookRef::Title(title) => {
                let found: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM books WHERE title = $1 ORDER BY id LIMIT 1")
                        .bind(&title)
                        .fetch_optional(&mut *tx)
                        .await?;
                match found {
                    Some(id) => id,
                    None => insert_book(&mut tx, NewBook { title, isbn: None, author: None }, now).await?.id,
                }
            }
        };
        let created_at = timestamp(now);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO job_orders (book_id, customer, quantity, due_date, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(book_id)
        .bind(&order.customer)
        .bind(order.quantity)
        .bind(order.due_date.map(|d| d.to_string()))
        .bind(&created_at)
        .fetch_one(&mut *tx)
        .await?;
        let payload = JobOrderCreated {
            id: Some(id),
            book_id: Some(book_id),
            customer: Some(order.customer.clone()),
            quantity: Some(order.quantity),
            due_date: order.due_date.map(|d| d.to_string()),
        };
        tx.append(Payload::JobOrderCreated(payload), now).await?;
        self.commit(tx).await?;
        Ok(JobOrder {
            id,
            book_id,
            customer: order.customer,
            quantity: order.quantity,
            due_date: order.due_date.map(|d| d.to_string()),
            created_at,
        })
    }
}
