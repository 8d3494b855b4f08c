//! The live connection's logic, free of IO: the machine that decides what to do, the sequencer
//! that applies events exactly once in order, and the backoff that spaces retries.

pub mod backoff;
pub mod machine;
pub mod sequencer;

pub use machine::{Action, FetchError, Input, Machine, Mode, Timer};

#[cfg(test)]
mod property;
#[cfg(test)]
mod tests;
