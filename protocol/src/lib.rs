//! Pressroom's shared vocabulary: the Action Cable frames on the wire, the analytics events a
//! server broadcasts, the dashboard snapshot and the pure logic that applies one to the other,
//! and the shapes the desktop backend hands to the webview.
//!
//! Pure and IO-free so the hub, the desktop backend and the wasm UI share one definition.

#![forbid(unsafe_code)]

pub mod backfill;
pub mod cable;
pub mod connection;
pub mod event;
pub mod feed;
pub mod in_order;
pub mod payload;
pub mod settings;
pub mod snapshot;
pub mod view;
pub mod volume;
mod wording;

pub use backfill::EventsPage;
pub use cable::{ClientCommand, FrameError, ServerFrame};
pub use connection::{ConnectionState, ConnectionView, Misbehaviour, Problem};
pub use event::{Event, EventKind};
pub use feed::{Feed, FEED_LIMIT};
pub use payload::Payload;
pub use snapshot::{ExportStatus, ExportStatusCounts, Snapshot, Totals};
pub use view::{DashboardView, Frame};
pub use volume::JobOrderVolume;
