//! What the desktop backend sends to the webview.

use serde::{Deserialize, Serialize};

use crate::connection::ConnectionView;
use crate::event::Event;
use crate::snapshot::{ExportStatusCounts, Snapshot, Totals};
use crate::volume::JobOrderVolume;

/// Tauri event carrying a [`Frame`].
pub const FRAME_EVENT: &str = "pressroom://frame";
/// Tauri event carrying a [`ConnectionView`].
pub const CONNECTION_EVENT: &str = "pressroom://connection";

/// An update of the dashboard: exact totals plus the feed items new since the last frame.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    pub totals: Totals,
    pub print_exports_by_status: ExportStatusCounts,
    /// Newest first, at most [`FEED_LIMIT`](crate::FEED_LIMIT).
    pub new_activity: Vec<Event>,
    /// When true, `new_activity` replaces the feed instead of joining it (after a snapshot).
    pub reset_activity: bool,
    /// The chart's series, at most once a second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_order_volume: Option<JobOrderVolume>,
}

impl Frame {
    /// A frame that replaces the whole view with `snapshot`.
    pub fn full(snapshot: &Snapshot) -> Self {
        Frame {
            totals: snapshot.totals,
            print_exports_by_status: snapshot.print_exports_by_status,
            new_activity: snapshot.recent_activity.to_vec(),
            reset_activity: true,
            job_order_volume: Some(snapshot.job_order_volume.clone()),
        }
    }
}

/// Everything the webview needs when it (re)loads: answered by the `dashboard` command. The
/// frame is a full one, applied like any other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardView {
    pub connection: ConnectionView,
    pub frame: Frame,
}
