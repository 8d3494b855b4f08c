//! Any text a client sends on the cable: never a panic, and only the one canonical identifier is
//! ever confirmed; nothing over the identifier limit is echoed back.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use pressroom_hub::cable::{Connection, MAX_IDENTIFIER_BYTES};
use pressroom_hub::delivery::fanout::Fanout;
use pressroom_protocol::ServerFrame;

thread_local! {
    static CONNECTION: RefCell<(Connection, u32)> = RefCell::new((Connection::new(Fanout::new(8)), 0));
}

fuzz_target!(|input: &[u8]| {
    let text = String::from_utf8_lossy(input);
    CONNECTION.with_borrow_mut(|(connection, n)| {
        // A fresh connection now and then, so the per-connection cap is not the only answer.
        *n += 1;
        if *n % 64 == 0 {
            *connection = Connection::new(Fanout::new(8));
        }
        match connection.handle(&text) {
            Some(ServerFrame::ConfirmSubscription { identifier }) => {
                let value: serde_json::Value =
                    serde_json::from_str(&identifier).expect("a confirmed identifier is JSON");
                assert_eq!(
                    value,
                    serde_json::json!({"channel": "AnalyticsChannel"}),
                    "confirmed {identifier:?}"
                );
                assert!(identifier.len() <= MAX_IDENTIFIER_BYTES);
            }
            Some(ServerFrame::RejectSubscription { identifier }) => {
                assert!(identifier.len() <= MAX_IDENTIFIER_BYTES, "echoed {} bytes", identifier.len());
            }
            _ => {}
        }
    });
});
