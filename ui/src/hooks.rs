//! Hooks shared by components.

use gloo::events::EventListener;
use gloo::timers::callback::Timeout;
use yew::prelude::*;

/// Whether the page is visible (`document.visibilityState`), following its changes.
#[hook]
pub fn use_page_visible() -> bool {
    let visible = use_state_eq(page_visible);
    {
        let visible = visible.clone();
        use_effect_with((), move |_| {
            let listener = EventListener::new(&gloo::utils::document(), "visibilitychange", move |_| {
                visible.set(page_visible())
            });
            move || drop(listener)
        });
    }
    *visible
}

fn page_visible() -> bool {
    gloo::utils::document().visibility_state() != web_sys::VisibilityState::Hidden
}

/// The current time (ms since the epoch), stepping on every whole multiple of `every_ms` of the
/// clock, so every panel that shows times changes in the same frame. The timer is owned by the
/// component that asks and dropped with it; while the page is hidden nothing ticks, and shown
/// again the time is brought up to date at once.
#[hook]
pub fn use_now(every_ms: u32) -> f64 {
    let visible = use_page_visible();
    let now = use_state(js_sys::Date::now);
    {
        let now = now.clone();
        use_effect_with((*now, every_ms, visible), move |&(shown, every, visible)| {
            let every = f64::from(every);
            let due = (shown / every).floor() * every + every;
            let timer = visible.then(|| {
                let wait = (due - js_sys::Date::now()).max(0.0) as u32;
                Timeout::new(wait, move || now.set(js_sys::Date::now()))
            });
            move || drop(timer)
        });
    }
    *now
}

/// `value`, shown from the next whole multiple of `every_ms` of the clock (the steps of
/// [`use_now`]): however many changes come in between, the latest is shown, in the same frame as
/// the ticking times. Each repaint costs the same whatever it changes, so fewer is what counts.
#[allow(clippy::multiple_bound_locations)] // `#[hook]` repeats the bounds it is given
#[hook]
pub fn use_paced<T: Clone + PartialEq + 'static>(value: T, every_ms: u32) -> T {
    let shown = use_state_eq(|| value.clone());
    {
        let shown = shown.clone();
        use_effect_with(value, move |value| {
            let timer = (*value != *shown).then(|| {
                let value = value.clone();
                Timeout::new(until_step(every_ms), move || shown.set(value))
            });
            move || drop(timer)
        });
    }
    (*shown).clone()
}

/// Milliseconds from now to the next whole multiple of `every_ms` of the clock.
pub fn until_step(every_ms: u32) -> u32 {
    let every = f64::from(every_ms);
    (every - js_sys::Date::now() % every) as u32
}

/// Whether `value` just changed calmly: the change before was at least `calm_ms` earlier.
/// One-shot effects play only then, so under load they neither overlap nor repaint on end.
#[allow(clippy::multiple_bound_locations)] // `#[hook]` repeats the bounds it is given
#[hook]
pub fn use_calm<T: Clone + PartialEq + 'static>(value: &T, calm_ms: f64) -> bool {
    let last = use_mut_ref(|| (value.clone(), f64::NEG_INFINITY, true));
    let mut last = last.borrow_mut();
    if last.0 != *value {
        let now = js_sys::Date::now();
        *last = (value.clone(), now, now - last.1 >= calm_ms);
    }
    last.2
}

/// Milliseconds since the epoch of a time, for comparing with [`use_now`].
pub fn millis(at: chrono::DateTime<chrono::Utc>) -> f64 {
    at.timestamp_millis() as f64
}

/// "just now", "10 s ago" (in steps of 10 s), "4 min ago", "2 h ago": coarse steps, so a
/// relative time changes, and repaints, at most every 10 s.
pub fn ago(now_ms: f64, then_ms: f64) -> String {
    let seconds = ((now_ms - then_ms) / 1000.0).max(0.0) as u64;
    match seconds {
        0..=9 => "just now".to_owned(),
        10..=59 => format!("{} s ago", seconds / 10 * 10),
        60..=3599 => format!("{} min ago", seconds / 60),
        _ => format!("{} h ago", seconds / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::ago;

    #[test]
    fn relative_times_read_naturally_in_coarse_steps() {
        assert_eq!(ago(10_000.0, 1_000.0), "just now");
        assert_eq!(ago(70_000.0, 58_000.0), "10 s ago");
        assert_eq!(ago(70_000.0, 10_500.0), "50 s ago");
        assert_eq!(ago(300_000.0, 0.0), "5 min ago");
        assert_eq!(ago(7_300_000.0, 0.0), "2 h ago");
        assert_eq!(ago(0.0, 5_000.0), "just now", "a clock a little ahead is not the future");
    }
}
