//! Any body sent to a write route, up to validation: never a panic, and what a route accepts is
//! storable (no blank or NUL-bearing text, positive quantities and ids).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pressroom_hub::api::bodies;

fn storable(text: &str) {
    assert!(!text.trim().is_empty() && !text.contains('\0') && text.trim() == text, "accepted {text:?}");
}

fuzz_target!(|input: &[u8]| {
    let Ok(_) = bodies::fields(input) else { return };
    let fields = || bodies::fields(input).expect("parsed once already");
    if let Ok(order) = bodies::new_job_order(fields()) {
        storable(&order.customer);
        assert!(order.quantity >= 1);
    }
    if let Ok(book) = bodies::new_book(fields()) {
        storable(&book.title);
    }
    if let Ok(cover) = bodies::new_cover(fields()) {
        storable(&cover.format);
        storable(&cover.finish);
    }
    if let Ok(id) = bodies::export_job_order(fields()) {
        assert!(id >= 1);
    }
    if let Ok(reason) = bodies::fail_reason(fields()) {
        storable(&reason);
    }
});
