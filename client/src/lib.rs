//! Pressroom's desktop core, without a window: the connection to the hub (the sans-IO machine
//! and its tokio driver), the dashboard state, the paced frames, the notifier's policy, the
//! settings' validation and the local cache. The app (`src-tauri/`) plugs in where frames and
//! notices go through [`Outlet`] and [`Observer`].

#![forbid(unsafe_code)]

pub mod cable;
pub mod cache;
pub mod coalescer;
pub mod driver;
mod endpoints;
mod error;
pub mod notifier;
pub mod presenter;
pub mod settings;
pub mod socket;
pub mod state;

pub use endpoints::Endpoints;
pub use error::{Error, Result};
pub use presenter::{Observer, Outlet};
