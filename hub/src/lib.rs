//! Pressroom's hub: a REST API whose writes commit with their events (a transactional outbox),
//! one broadcaster that publishes committed events in seq order, and an Action Cable server.
//!
//! A library so tests start it in-process on a free port; `main.rs` is the CLI around it.

#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod cable;
pub mod config;
pub mod db;
pub mod delivery;
pub mod demo;
pub mod domain;
pub mod error;
pub mod limits;
pub mod origins;
pub mod server;
pub mod signed;

pub use error::HubError;
pub use server::{Hub, RunningHub};
