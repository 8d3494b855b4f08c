use chrono::Utc;
use pressroom_protocol::payload::{CoverCreated, Payload};
use serde::Serialize;

use super::{invalid, timestamp, Domain, Resource};
use crate::HubError;

#[derive(Debug, Clone)]
pub struct NewCover {
    pub book_id: i64,
    pub format: String,
    pub finish: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Cover {
    pub id: i64,
    pub book_id: i64,
    pub format: String,
    pub finish: String,
    pub created_at: String,
}

const COLUMNS: &str = "id, book_id, format, finish, created_at";

impl Resource for Cover {
    const TABLE: &'static str = "covers";
    const COLUMNS: &'static str = COLUMNS;
    const NAME: &'static str = "cover";

    fn id(&self) -> i64 {
        self.id
    }
}

impl Domain {
    pub async fn create_cover(&self, cover: NewCover) -> Result<Cover, HubError> {
        let mut tx = self.begin_write().await?;
        let book: Option<i64> = sqlx::query_scalar("SELECT id FROM books WHERE id = $1")
            .bind(cover.book_id)
            .fetch_optional(&mut *tx)
            .await?;
        if book.is_none() {
            return Err(invalid("book_id", format!("no book has id {}", cover.book_id)));
        }
        let now = Utc::now();
        let created_at = timestamp(now);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO covers (book_id, format, finish, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(cover.book_id)
        .bind(&cover.format)
        .bind(&cover.finish)
        .bind(&created_at)
        .fetch_one(&mut *tx)
        .await?;
        let payload = CoverCreated {
            id: Some(id),
            book_id: Some(cover.book_id),
            format: Some(cover.format.clone()),
            finish: Some(cover.finish.clone()),
        };
        tx.append(Payload::CoverCreated(payload), now).await?;
        self.commit(tx).await?;
        Ok(Cover { id, book_id: cover.book_id, format: cover.format, finish: cover.finish, created_at })
    }
}
