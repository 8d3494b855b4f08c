//! Any text a server sends on the cable, through what the client does with it: the frame parser,
//! then a broadcast's event decoder, `InOrder` and `Snapshot::apply`. Never a panic; a frame that
//! parses encodes back to one that parses the same; an event with a seq is released at most once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pressroom_protocol::in_order::InOrder;
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
        if let Some(seq) = event.seq {
            let mut order = InOrder::new(seq.saturating_sub(1));
            assert!(order.offer(seq, event.clone()), "the next seq is taken");
            assert!(!order.offer(seq, event), "a replay is not");
        }
    }
});
