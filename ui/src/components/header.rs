use pressroom_protocol::{ConnectionState, ConnectionView};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    pub connection: Option<ConnectionView>,
}

/// Product name, the "Live" badge and the connection state in colour and words.
#[function_component]
pub fn Header(props: &HeaderProps) -> Html {
    let (class, label, detail) = match &props.connection {
        None => ("starting", "Starting", None),
        Some(view) => {
            let state = &view.state;
            let class = match state {
                ConnectionState::Live => "live",
                ConnectionState::Connecting | ConnectionState::Reconnecting { .. } => "reconnecting",
                ConnectionState::Polling { .. } | ConnectionState::AutoRefresh { .. } => "polling",
                ConnectionState::Manual => "manual",
                ConnectionState::Offline { .. } => "offline",
            };
            let detail = match state {
                ConnectionState::Reconnecting { attempt, retry_in_ms } => {
                    Some(format!("attempt {attempt}, next try in {} s", retry_in_ms.div_ceil(1000)))
                }
                ConnectionState::Polling { interval_s } => {
                    Some(format!("real-time unavailable, refreshing every {interval_s} s"))
                }
                ConnectionState::AutoRefresh { interval_s } => {
                    Some(format!("refreshing every {interval_s} s"))
                }
                ConnectionState::Offline { cached_at: Some(at) } => {
                    Some(format!("showing cached data from {}", at.format("%H:%M")))
                }
                _ => None,
            };
            (class, state.label(), detail)
        }
    };
    let live = matches!(props.connection.as_ref().map(|c| &c.state), Some(ConnectionState::Live));
    html! {
        <header class="header">
            <div class="brand">
                <span class="logo" aria-hidden="true">{"P"}</span>
                <h1>{"Pressroom"}</h1>
                <span class={classes!("live-badge", live.then_some("on"))}>{"Live"}</span>
            </div>
            <div class={classes!("status", class)} role="status" aria-live="polite">
                <span class="dot" aria-hidden="true"></span>
                <span data-testid="connection">{label}</span>
                if let Some(detail) = detail {
                    <span class="detail" data-testid="connection-detail">{detail}</span>
                }
            </div>
        </header>
    }
}
