//! The dashboard's panels, each a small function component.

pub mod header;
pub mod totals;
