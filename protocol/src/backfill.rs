//! `GET /api/events?after=SEQ&limit=N`: how a client catches up on what it missed.

use serde::{Deserialize, Serialize};

use crate::event::Event;

/// A page of committed events after a seq, in seq order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventsPage {
    /// The database's epoch: a seq from another epoch means nothing here.
    pub epoch: String,
    /// The last committed seq.
    pub head_seq: u64,
    /// More events follow the last one returned.
    pub has_more: bool,
    pub events: Vec<Event>,
}

/// The most events one page may hold.
pub const MAX_EVENTS_PAGE: u32 = 1000;
