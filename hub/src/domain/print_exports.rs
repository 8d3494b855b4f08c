use chrono::Utc;
use pressroom_protocol::payload::{self, Payload, PrintExportFailed};
use serde::{Deserialize, Serialize};

use super::{invalid, timestamp, Domain, Resource};
use crate::HubError;

/// `started` → `completed` | `failed`; nothing leaves a finished state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportStatus {
    Started,
    Completed,
    Failed,
}

impl ExportStatus {
    /// As stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportStatus::Started => "started",
            ExportStatus::Completed => "completed",
            ExportStatus::Failed => "failed",
        }
    }
}

impl TryFrom<String> for ExportStatus {
    type Error = HubError;

    fn try_from(text: String) -> Result<Self, HubError> {
        match text.as_str() {
            "started" => Ok(ExportStatus::Started),
            "completed" => Ok(ExportStatus::Completed),
            "failed" => Ok(ExportStatus::Failed),
            _ => {
                Err(HubError::Database(sqlx::Error::Decode(format!("unknown export status {text:?}").into())))
            }
        }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PrintExport {
    pub id: i64,
    pub job_order_id: i64,
    #[sqlx(try_from = "String")]
    pub status: ExportStatus,
    pub reason: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
}

const COLUMNS: &str = "id, job_order_id, status, reason, started_at, finished_at";

impl Resource for PrintExport {
    const TABLE: &'static str = "print_exports";
    const COLUMNS: &'static str = COLUMNS;
    const NAME: &'static str = "print export";

    fn id(&self) -> i64 {
        self.id
    }
}

impl Domain {
    /// Starts an export of a job order.
    pub async fn start_print_export(&self, job_order_id: i64) -> Result<PrintExport, HubError> {
        let mut tx = self.begin_write().await?;
        let order: Option<i64> = sqlx::query_scalar("SELECT id FROM job_orders WHERE id = $1")
            .bind(job_order_id)
            .fetch_optional(&mut *tx)
            .await?;
        if order.is_none() {
            return Err(invalid("job_order_id", format!("no job order has id {job_order_id}")));
        }
        let now = Utc::now();
        let export: PrintExport = sqlx::query_as(&format!(
            "INSERT INTO print_exports (job_order_id, status, started_at) VALUES ($1, 'started', $2) \
             RETURNING {COLUMNS}"
        ))
        .bind(job_order_id)
        .bind(timestamp(now))
        .fetch_one(&mut *tx)
        .await?;
        let started = payload::PrintExport { id: Some(export.id), job_order_id: Some(job_order_id) };
        tx.append(Payload::PrintExportStarted(started), now).await?;
        self.commit(tx).await?;
        Ok(export)
    }

    pub async fn complete_print_export(&self, id: i64) -> Result<PrintExport, HubError> {
        self.finish_print_export(id, ExportStatus::Completed, None).await
    }

    pub async fn fail_print_export(&self, id: i64, reason: String) -> Result<PrintExport, HubError> {
        self.finish_print_export(id, ExportStatus::Failed, Some(reason)).await
    }

    async fn finish_print_export(
        &self,
        id: i64,
        status: ExportStatus,
        reason: Option<String>,
    ) -> Result<PrintExport, HubError> {
        let mut tx = self.begin_write().await?;
        let now = Utc::now();
        let finished: Option<PrintExport> = sqlx::query_as(&format!(
            "UPDATE print_exports SET status = $1, reason = $2, finished_at = $3 \
             WHERE id = $4 AND status = 'started' RETURNING {COLUMNS}"
        ))
        .bind(status.as_str())
        .bind(&reason)
        .bind(timestamp(now))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(export) = finished else {
            let current: Option<String> =
                sqlx::query_scalar("SELECT status FROM print_exports WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            return Err(match current {
                None => HubError::NotFound("print export"),
                Some(current) => HubError::Conflict(format!("print export {id} is already {current}")),
            });
        };
        let (id, job_order_id) = (Some(id), Some(export.job_order_id));
        let payload = match status {
            ExportStatus::Failed => {
                Payload::PrintExportFailed(PrintExportFailed { id, job_order_id, reason })
            }
            _ => Payload::PrintExportCompleted(payload::PrintExport { id, job_order_id }),
        };
        tx.append(payload, now).await?;
        self.commit(tx).await?;
        Ok(export)
    }
}
