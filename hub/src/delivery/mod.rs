//! How a committed event reaches every subscriber, one stage per module:
//! [`outbox`] (each write appends its events in its own transaction, and reports them through a
//! [`CommitSink`](outbox::CommitSink) once committed) → [`ordering`] (reordering: strictly in seq
//! order, each once, gaps filled from the outbox) → [`broadcaster`] (the only publisher) →
//! [`fanout`] (one encoding per identifier, a bounded queue per connection) and [`history`] (the
//! latest events in memory, for catching up), and, with several
//! hubs, [`pubsub`] (Redis: each hub's commits reach the others' broadcasters).

pub mod broadcaster;
pub mod fanout;
pub mod history;
pub mod ordering;
pub mod outbox;
pub mod pubsub;
