use pressroom_protocol::{ConnectionState, ConnectionView};
use yew::prelude::*;

use crate::hooks::use_now;

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    pub connection: Option<ConnectionView>,
    /// When `connection` arrived (ms since the epoch), for the retry countdown.
    pub connection_at: f64,
    pub on_pause: Callback<()>,
    pub on_reconnect: Callback<()>,
    pub on_settings: Callback<()>,
}

/// Product name, the "Live" badge, the connection state in colour and words with its details,
/// and the controls.
#[function_component]
pub fn Header(props: &HeaderProps) -> Html {
    let now = use_now(500);
    let view = props.connection.as_ref();
    let state = view.map(|v| &v.state);
    let class = match state {
        None => "starting",
        Some(ConnectionState::Live) => "live",
        Some(ConnectionState::Connecting | ConnectionState::Reconnecting { .. }) => "reconnecting",
        Some(ConnectionState::Polling { .. } | ConnectionState::AutoRefresh { .. }) => "polling",
        Some(ConnectionState::Manual) => "manual",
        Some(ConnectionState::Offline { .. }) => "offline",
    };
    let label = state.map_or("Starting", ConnectionState::label);
    let detail = state.and_then(|state| match state {
        ConnectionState::Reconnecting { attempt, retry_in_ms } => {
            let left = (*retry_in_ms as f64 - (now - props.connection_at)).max(0.0);
            Some(format!("attempt {attempt}, next try in {} s", (left / 1000.0).ceil() as u64))
        }
        ConnectionState::Polling { interval_s } => {
            Some(format!("real-time unavailable, refreshing every {interval_s} s"))
        }
        ConnectionState::AutoRefresh { interval_s } => {
            Some(format!("real-time off, refreshing every {interval_s} s"))
        }
        ConnectionState::Manual => Some("real-time and auto-refresh off".to_owned()),
        // Stopped (no retry due) for a reason below; a misbehaving server is retried.
        ConnectionState::Offline { retry_in_ms: None, .. } if view.is_some_and(|v| v.problem.is_some()) => {
            Some("stopped — see below".to_owned())
        }
        ConnectionState::Offline { retry_in_ms: Some(retry_in_ms), .. } => {
            let left = (*retry_in_ms as f64 - (now - props.connection_at)).max(0.0);
            Some(format!("can't reach the hub · retrying in {} s", (left / 1000.0).ceil() as u64))
        }
        ConnectionState::Offline { .. } => Some("can't reach the hub".to_owned()),
        _ => None,
    });
    let data_age = view.filter(|v| v.state != ConnectionState::Live).and_then(|v| {
        let at = v.data_at?;
        let what = match v.state {
            ConnectionState::Offline { cached_at: Some(_), .. } => "cached data from",
            _ => "data from",
        };
        let age = age((now - at.timestamp_millis() as f64).max(0.0) / 1000.0);
        Some(format!("{what} {} · {age}", at.with_timezone(&chrono::Local).format("%H:%M")))
    });
    let paused = view.and_then(|v| v.paused);
    let live = state == Some(&ConnectionState::Live);
    let (pause_label, pause_title) = match paused {
        Some(_) => ("Resume", "Resume live updates (Space)"),
        None => ("Pause", "Freeze the view (Space)"),
    };
    let click = |callback: &Callback<()>| {
        let callback = callback.clone();
        Callback::from(move |_: MouseEvent| callback.emit(()))
    };
    html! {
        <header class="header">
            <div class="brand">
                <span class="logo" aria-hidden="true">{"P"}</span>
                <h1>{"Pressroom"}</h1>
                <span class={classes!("live-badge", (live && paused.is_none()).then_some("on"))} data-testid="live-badge">
                    {"Live"}
                </span>
            </div>
            <div class="header-right">
                <div class={classes!("status", class)} role="status" aria-live="polite">
                    <span class="dot" aria-hidden="true"></span>
                    <span class="label" data-testid="connection">{label}</span>
                    if let Some(detail) = detail {
                        <span class="detail" data-testid="connection-detail">{detail}</span>
                    }
                    if let Some(data_age) = data_age {
                        <span class="data-age" data-testid="data-age">{data_age}</span>
                    }
                    if let Some(unseen) = paused {
                        <span class="paused" data-testid="paused">
                            {format!("Paused · {unseen} new {}", if unseen == 1 { "event" } else { "events" })}
                        </span>
                    }
                </div>
                <div class="controls">
                    <button class="button" data-testid="pause" title={pause_title} onclick={click(&props.on_pause)}>
                        {pause_label}
                    </button>
                    <button class="button" data-testid="reconnect" title="Reconnect now (R)" onclick={click(&props.on_reconnect)}>
                        {"Reconnect"}
                    </button>
                    <button class="button icon" data-testid="open-settings" title="Settings (Ctrl+,)" aria-label="Settings" onclick={click(&props.on_settings)}>
                        {"⚙"}
                    </button>
                </div>
            </div>
        </header>
    }
}

/// How long ago, at the coarsest step that reads right.
fn age(seconds: f64) -> String {
    let minutes = (seconds / 60.0).floor() as u64;
    match minutes {
        0 => "just now".to_owned(),
        1..=59 => format!("{minutes} min ago"),
        60..=2879 => format!("{} h ago", minutes / 60),
        _ => format!("{} days ago", minutes / 1440),
    }
}

#[cfg(test)]
mod tests {
    use super::age;

    #[test]
    fn ages_read_at_a_coarse_step() {
        assert_eq!(age(12.0), "just now");
        assert_eq!(age(4.0 * 60.0 + 59.0), "4 min ago");
        assert_eq!(age(3.0 * 3600.0), "3 h ago");
        assert_eq!(age(3.0 * 86400.0), "3 days ago");
    }
}
