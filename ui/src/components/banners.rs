use pressroom_protocol::{ConnectionState, ConnectionView};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct BannersProps {
    pub connection: Option<ConnectionView>,
    pub bridge_error: Option<String>,
    pub on_settings: Callback<()>,
}

/// What the user should know about the data on screen: offline, polling, history unavailable,
/// a rejected token or subscription, a failing backend.
#[function_component]
pub fn Banners(props: &BannersProps) -> Html {
    let view = props.connection.as_ref();
    let open_settings = {
        let on_settings = props.on_settings.clone();
        Callback::from(move |_: MouseEvent| on_settings.emit(()))
    };
    html! {
        <div class="banners">
            if let Some(error) = &props.bridge_error {
                <div class="banner error" role="alert">{format!("The app's backend did not answer: {error}")}</div>
            }
            if let Some(problem) = view.and_then(|v| v.problem.as_ref()) {
                <div class="banner error" role="alert" data-testid="problem">
                    <span>{problem.message()}</span>
                    <button class="link" onclick={open_settings}>{"Open settings"}</button>
                </div>
            }
            if let Some(ConnectionState::Offline { cached_at: Some(at), .. }) = view.map(|v| &v.state) {
                <div class="banner warn" role="status" data-testid="offline-banner">
                    {format!(
                        "Offline — showing the data cached at {}. It will update as soon as the hub is reachable.",
                        at.with_timezone(&chrono::Local).format("%H:%M on %b %e")
                    )}
                </div>
            }
            if let Some(ConnectionState::Offline { cached_at: None, .. }) = view.filter(|v| v.problem.is_none()).map(|v| &v.state) {
                <div class="banner warn" role="status" data-testid="offline-banner">
                    {"Offline — neither the hub's live connection nor its REST API answers, and nothing is cached yet. Retrying; check the hub URL in settings if this persists."}
                </div>
            }
            if let Some(ConnectionState::Polling { interval_s }) = view.map(|v| &v.state) {
                <div class="banner warn" role="status" data-testid="polling-banner">
                    {format!("Real-time updates are unavailable: refreshing every {interval_s} s while reconnecting.")}
                </div>
            }
            if view.is_some_and(|v| v.history_unavailable) {
                <div class="banner info" role="status" data-testid="history-banner">
                    {"History unavailable: this server keeps no snapshot or backfill, so totals count events since connecting."}
                </div>
            }
        </div>
    }
}
