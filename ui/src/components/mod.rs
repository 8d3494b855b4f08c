//! The dashboard's panels, each a small function component.

pub mod feed;
pub mod header;
pub mod totals;
