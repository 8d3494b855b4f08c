//! Hooks shared by components.

use yew::prelude::*;

/// The current time (ms since the epoch), ticking every `every_ms` for as long as the component
/// that asks is mounted: the interval is owned by it and dropped with it.
#[hook]
pub fn use_now(every_ms: u32) -> f64 {
    let now = use_state(js_sys::Date::now);
    {
        let now = now.clone();
        use_effect_with(every_ms, move |every| {
            let interval =
                gloo::timers::callback::Interval::new(*every, move || now.set(js_sys::Date::now()));
            move || drop(interval)
        });
    }
    *now
}

/// Milliseconds since the epoch of a time, for comparing with [`use_now`].
pub fn millis(at: chrono::DateTime<chrono::Utc>) -> f64 {
    at.timestamp_millis() as f64
}

/// "just now", "12 s ago", "4 min ago", "2 h ago".
pub fn ago(now_ms: f64, then_ms: f64) -> String {
    let seconds = ((now_ms - then_ms) / 1000.0).max(0.0) as u64;
    match seconds {
        0..=4 => "just now".to_owned(),
        5..=59 => format!("{seconds} s ago"),
        60..=3599 => format!("{} min ago", seconds / 60),
        _ => format!("{} h ago", seconds / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::ago;

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(ago(10_000.0, 8_000.0), "just now");
        assert_eq!(ago(70_000.0, 58_000.0), "12 s ago");
        assert_eq!(ago(300_000.0, 0.0), "5 min ago");
        assert_eq!(ago(7_300_000.0, 0.0), "2 h ago");
        assert_eq!(ago(0.0, 5_000.0), "just now", "a clock a little ahead is not the future");
    }
}
