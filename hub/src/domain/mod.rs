//! Domain writes and reads. Every write commits its rows together with its outbox events, then
//! reports them to its [`CommitSink`]; nothing here publishes, and what delivers them (the
//! broadcaster, Redis) is wired in by the server.

mod books;
mod covers;
mod job_orders;
mod print_exports;
mod summary;

pub use summary::MAX_WAITING_SUMMARIES;

pub use books::{normalise_isbn, Book, NewBook};
pub use covers::{Cover, NewCover};
pub use job_orders::{BookRef, JobOrder, NewJobOrder};
pub use print_exports::{ExportStatus, PrintExport};

use chrono::{DateTime, Utc};
use pressroom_protocol::{Event, Payload};
use serde::Serialize;
use sqlx::{Any, AnyConnection, Transaction};

pub(crate) use crate::db::timestamp;
use crate::db::{Backend, Database, Pool};
use crate::delivery::history::History;
use crate::delivery::outbox::{self, CommitSink};
use crate::error::FieldErrors;
use crate::HubError;

#[derive(Clone)]
pub struct Domain {
    pub pool: Pool,
    writes: Pool,
    backend: Backend,
    sink: CommitSink,
    summaries: std::sync::Arc<summary::Summaries>,
    /// The latest events in memory: backfills and the summary's freshness are answered there.
    history: std::sync::Arc<History>,
}

/// A write transaction and the events it appended, reported once it commits.
pub(crate) struct Write {
    tx: Transaction<'static, Any>,
    events: Vec<Event>,
}

impl Write {
    /// Appends an event to the outbox in this transaction.
    async fn append(&mut self, payload: Payload, at: DateTime<Utc>) -> Result<(), HubError> {
        let event = outbox::append(&mut self.tx, payload, at).await?;
        self.events.push(event);
        Ok(())
    }
}

impl std::ops::Deref for Write {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for Write {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// A page of a list, newest first; pass `next_before` as `before` for the next page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_before: Option<i64>,
}

/// A table the API reads items from, one by id or a page at a time.
pub trait Resource: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin {
    const TABLE: &'static str;
    const COLUMNS: &'static str;
    /// For "… not found".
    const NAME: &'static str;
    fn id(&self) -> i64;
}

/// Which page of a list: at most `limit` items with ids below `before`.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub limit: u32,
    pub before: Option<i64>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched newest first.
    fn from_rows(mut rows: Vec<T>, request: PageRequest, id: impl Fn(&T) -> i64) -> Self {
        let more = rows.len() > request.limit as usize;
        rows.truncate(request.limit as usize);
        let next_before = if more { rows.last().map(&id) } else { None };
        Page { items: rows, next_before }
    }
}

fn invalid(field: &str, message: impl Into<String>) -> HubError {
    HubError::InvalidFields(FieldErrors::from([(field.to_owned(), message.into())]))
}

impl Domain {
    /// The domain on `database`, reporting commits to `sink` and answering catch-up from
    /// `history` where it can.
    pub fn new(database: Database, sink: CommitSink, history: std::sync::Arc<History>) -> Self {
        Domain {
            pool: database.pool,
            writes: database.writes,
            backend: database.backend,
            sink,
            summaries: std::sync::Arc::new(summary::Summaries::new()),
            history,
        }
    }

    /// Runs `write` on a task of its own, to its end. A request's future is dropped when its
    /// client hangs up; dropped inside a transaction, sqlx hands the connection back still in it,
    /// and every later write on the one write connection fails. A write, once begun, finishes.
    pub async fn detached<T, F>(&self, write: impl FnOnce(Domain) -> F) -> Result<T, HubError>
    where
        F: std::future::Future<Output = Result<T, HubError>> + Send + 'static,
        T: Send + 'static,
    {
        tokio::spawn(write(self.clone()))
            .await
            .unwrap_or_else(|error| Err(HubError::TaskFailed { task: "write", reason: error.to_string() }))
    }

    async fn begin_write(&self) -> Result<Write, HubError> {
        let mut tx = self.writes.begin_with(self.backend.begin_write()).await?;
        if let Some(lock) = self.backend.write_lock() {
            sqlx::query(lock).execute(&mut *tx).await?;
        }
        Ok(Write { tx, events: Vec::new() })
    }

    /// Starts a read that sees one consistent snapshot.
    async fn begin_read(&self) -> Result<Transaction<'static, Any>, HubError> {
        Ok(self.pool.begin_with(self.backend.begin_read()).await?)
    }

    /// Closes both pools.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writes.close().await;
    }

    /// One item by id, or 404.
    pub async fn get<T: Resource>(&self, id: i64) -> Result<T, HubError> {
        sqlx::query_as(&format!("SELECT {} FROM {} WHERE id = $1", T::COLUMNS, T::TABLE))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(HubError::NotFound(T::NAME))
    }

    /// A page of items, newest first.
    pub async fn list<T: Resource>(&self, page: PageRequest) -> Result<Page<T>, HubError> {
        let rows = sqlx::query_as(&format!(
            "SELECT {} FROM {} WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
            T::COLUMNS,
            T::TABLE
        ))
        .bind(page.before)
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        Ok(Page::from_rows(rows, page, T::id))
    }

    /// Commits a write and reports the events it appended to the sink.
    async fn commit(&self, write: Write) -> Result<(), HubError> {
        write.tx.commit().await?;
        if let Some(seq) = write.events.iter().filter_map(|e| e.seq).max() {
            self.history.committed(seq);
        }
        self.sink.committed(write.events);
        Ok(())
    }
}
