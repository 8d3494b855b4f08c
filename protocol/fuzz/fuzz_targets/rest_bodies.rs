//! Any body a server answers the summary or the backfill with, through the client's decoders
//! and `Snapshot::apply`: never a panic, whatever the numbers (a hostile summary may claim
//! totals near `u64::MAX`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pressroom_protocol::{EventsPage, Snapshot};

fuzz_target!(|input: &[u8]| {
    if let Ok(mut snapshot) = serde_json::from_slice::<Snapshot>(input) {
        for event in snapshot.recent_activity.to_vec() {
            snapshot.apply(&event);
        }
    }
    if let Ok(page) = serde_json::from_slice::<EventsPage>(input) {
        let mut snapshot = Snapshot::default();
        for event in &page.events {
            snapshot.apply(event);
        }
    }
});
