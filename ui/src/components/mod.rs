//! The dashboard's panels, each a small function component.

pub mod banners;
pub mod chart;
pub mod exports;
pub mod feed;
pub mod header;
pub mod settings;
pub mod system;
pub mod totals;
