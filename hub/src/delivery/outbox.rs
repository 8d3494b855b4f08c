//! The transactional outbox: every domain write appends its event in the same transaction, and
//! reports it once committed through a [`CommitSink`] — all the domain knows of delivery.

use chrono::{DateTime, SubsecRound, Utc};
use pressroom_protocol::{Event, EventKind, Payload};
use sqlx::{Any, Transaction};
use tokio::sync::mpsc;

use crate::HubError;

/// Where a commit reports its events: the local broadcaster and, when configured, Redis
/// (the server wires both in; the domain sees only this).
#[derive(Clone)]
pub struct CommitSink {
    local: mpsc::UnboundedSender<Event>,
    remote: Option<mpsc::UnboundedSender<Event>>,
}

impl CommitSink {
    /// A sink feeding `local`, and `remote` (the Redis publisher) when there is one.
    pub fn new(local: mpsc::UnboundedSender<Event>, remote: Option<mpsc::UnboundedSender<Event>>) -> Self {
        CommitSink { local, remote }
    }

    pub fn committed(&self, events: Vec<Event>) {
        for event in events {
            if let Some(remote) = &self.remote {
                let _ = remote.send(event.clone());
            }
            // Closed only at shutdown; the outbox keeps the event either way.
            let _ = self.local.send(event);
        }
    }
}

/// Appends an event inside `tx`. Bumping the head row locks it (SQLite: the database's write
/// lock; Postgres: the row) until the transaction ends, so seqs are handed out in commit order
/// with no gaps — unlike a Postgres sequence, whose values can commit out of order.
pub async fn append(
    tx: &mut Transaction<'_, Any>,
    payload: Payload,
    at: DateTime<Utc>,
) -> Result<Event, HubError> {
    // As stored, so the event broadcast from the commit equals the one read back from the outbox.
    let at = at.trunc_subsecs(6);
    let (seq, epoch): (i64, String) =
        sqlx::query_as("UPDATE outbox_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, epoch")
            .fetch_one(&mut **tx)
            .await?;
    let mut event = Event::from(payload);
    sqlx::query("INSERT INTO events (seq, kind, data, at) VALUES ($1, $2, $3, $4)")
        .bind(seq)
        .bind(event.kind.as_str())
        .bind(serde_json::to_string(&event.data).expect("JSON values serialise"))
        .bind(crate::db::timestamp(at))
        .execute(&mut **tx)
        .await?;
    event.seq = Some(seq as u64);
    event.epoch = Some(epoch);
    event.at = Some(at);
    Ok(event)
}

/// The database's epoch and the last committed seq.
pub async fn head(executor: impl sqlx::Executor<'_, Database = Any>) -> Result<(String, u64), HubError> {
    let (epoch, seq): (String, i64) =
        sqlx::query_as("SELECT epoch, seq FROM outbox_head WHERE id = 1").fetch_one(executor).await?;
    Ok((epoch, seq as u64))
}

/// Committed events after `after`, in seq order, at most `limit`.
pub async fn read_after(
    executor: impl sqlx::Executor<'_, Database = Any>,
    epoch: &str,
    after: u64,
    limit: u32,
) -> Result<Vec<Event>, HubError> {
    let rows: Vec<(i64, String, String, String)> =
        sqlx::query_as("SELECT seq, kind, data, at FROM events WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after as i64)
            .bind(i64::from(limit))
            .fetch_all(executor)
            .await?;
    rows.into_iter()
        .map(|(seq, kind, data, at)| {
            let mut event = Event::new(
                EventKind::from(kind.as_str()),
                serde_json::from_str(&data).map_err(|e| HubError::Database(sqlx::Error::Decode(e.into())))?,
            );
            event.seq = Some(seq as u64);
            event.epoch = Some(epoch.to_owned());
            event.at = Some(
                DateTime::parse_from_rfc3339(&at)
                    .map_err(|e| HubError::Database(sqlx::Error::Decode(e.into())))?
                    .with_timezone(&Utc),
            );
            Ok(event)
        })
        .collect()
}
