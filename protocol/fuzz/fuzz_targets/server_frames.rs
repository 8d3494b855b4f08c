//! Any text a server sends on the cable, through what the client does with it: the frame parser,
//! then a broadcast's event decoder and `Snapshot::apply`. Never a panic; a frame that parses
//! encodes back to one that parses the same; an event applies at most once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pressroom_protocol::snapshot::Applied;
use pressroom_protocol::{Event, ServerFrame, Snapshot};

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else { return };
    let Ok(frame) = ServerFrame::parse(text) else { return };
    let again = ServerFrame::parse(&frame.to_json()).expect("an encoded frame parses");
    assert_eq!(again, frame, "a frame survives encoding");
    if let ServerFrame::Broadcast { message, .. } = frame {
        let Ok(event) = serde_json::from_value::<Event>(message) else { return };
        let mut snapshot = Snapshot { epoch: event.epoch.clone(), ..Snapshot::default() };
        snapshot.apply(&event);
        if event.seq.is_some() {
            snapshot.seq = event.seq;
            assert_eq!(snapshot.apply(&event), Applied::AlreadySeen, "a replay is not counted");
        }
    }
});
