//! Domain writes. Each one commits its rows together with its outbox events, then wakes the
//! broadcaster; nothing here publishes directly.

use chrono::{NaiveDate, Utc};
use pressroom_protocol::snapshot::RECENT_ACTIVITY_LIMIT;
use pressroom_protocol::{EventKind, ExportStatusCounts, Snapshot, Totals};
use serde::Serialize;
use serde_json::json;

use crate::broadcaster::CommitSignal;
use crate::db::Pool;
use crate::{outbox, HubError};

#[derive(Clone)]
pub struct Domain {
    pub pool: Pool,
    signal: CommitSignal,
}

/// Which book a new job order is for.
#[derive(Debug, Clone)]
pub enum BookRef {
    Id(i64),
    /// Found by exact title, or created.
    Title(String),
}

#[derive(Debug, Clone)]
pub struct NewJobOrder {
    pub book: BookRef,
    pub customer: String,
    pub quantity: i64,
    pub due_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct JobOrder {
    pub id: i64,
    pub book_id: i64,
    pub customer: String,
    pub quantity: i64,
    pub due_date: Option<NaiveDate>,
    pub created_at: String,
}

impl Domain {
    pub fn new(pool: Pool, signal: CommitSignal) -> Self {
        Domain { pool, signal }
    }

    pub async fn create_job_order(&self, order: NewJobOrder) -> Result<JobOrder, HubError> {
        let now = Utc::now();
        let created_at = now.to_rfc3339();
        // IMMEDIATE takes the write lock up front: a read-then-write transaction would fail
        // with SQLITE_BUSY under concurrent writers instead of waiting its turn.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let book_id = match &order.book {
            BookRef::Id(id) => {
                let found: Option<i64> = sqlx::query_scalar("SELECT id FROM books WHERE id = ?")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                found.ok_or_else(|| {
                    HubError::InvalidFields(
                        [("book_id".to_owned(), format!("no book has id {id}"))].into(),
                    )
                })?
            }
            BookRef::Title(title) => {
                let found: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM books WHERE title = ? ORDER BY id LIMIT 1")
                        .bind(title)
                        .fetch_optional(&mut *tx)
                        .await?;
                match found {
                    Some(id) => id,
                    None => {
                        let id: i64 = sqlx::query_scalar(
                            "INSERT INTO books (title, created_at) VALUES (?, ?) RETURNING id",
                        )
                        .bind(title)
                        .bind(&created_at)
                        .fetch_one(&mut *tx)
                        .await?;
                        let data =
                            json!({ "id": id, "title": title, "isbn": null, "author": null });
                        outbox::append(&mut tx, EventKind::BookCreated, data, now).await?;
                        id
                    }
                }
            }
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO job_orders (book_id, customer, quantity, due_date, created_at) \
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(book_id)
        .bind(&order.customer)
        .bind(order.quantity)
        .bind(order.due_date.map(|d| d.to_string()))
        .bind(&created_at)
        .fetch_one(&mut *tx)
        .await?;
        let job_order = JobOrder {
            id,
            book_id,
            customer: order.customer,
            quantity: order.quantity,
            due_date: order.due_date,
            created_at,
        };
        let mut data = json!({
            "id": id, "book_id": book_id, "customer": job_order.customer, "quantity": job_order.quantity,
        });
        if let Some(due) = job_order.due_date {
            data["due_date"] = json!(due.to_string());
        }
        outbox::append(&mut tx, EventKind::JobOrderCreated, data, now).await?;
        tx.commit().await?;
        self.signal.committed();
        Ok(job_order)
    }

    /// The summary, read in one transaction so every field is consistent with its seq.
    pub async fn summary(&self) -> Result<Snapshot, HubError> {
        let mut tx = self.pool.begin().await?;
        let (epoch, seq) = outbox::head(&mut *tx).await?;
        let counts: (i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM books), (SELECT count(*) FROM covers), \
                    (SELECT count(*) FROM job_orders), (SELECT count(*) FROM print_exports), \
                    (SELECT count(*) FROM print_exports WHERE status = 'started'), \
                    (SELECT count(*) FROM print_exports WHERE status = 'completed'), \
                    (SELECT count(*) FROM print_exports WHERE status = 'failed')",
        )
        .fetch_one(&mut *tx)
        .await?;
        let mut recent_activity = outbox::read_after(
            &mut *tx,
            &epoch,
            seq.saturating_sub(RECENT_ACTIVITY_LIMIT as u64),
            RECENT_ACTIVITY_LIMIT as u32,
        )
        .await?;
        tx.commit().await?;
        recent_activity.reverse();
        let n = |count: i64| count as u64;
        Ok(Snapshot {
            epoch: Some(epoch),
            seq: Some(seq),
            at: Some(Utc::now()),
            totals: Totals {
                books: n(counts.0),
                covers: n(counts.1),
                job_orders: n(counts.2),
                print_exports: n(counts.3),
            },
            print_exports_by_status: ExportStatusCounts {
                started: n(counts.4),
                completed: n(counts.5),
                failed: n(counts.6),
            },
            recent_activity,
        })
    }
}
