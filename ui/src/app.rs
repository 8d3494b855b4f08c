use pressroom_protocol::view::{CONNECTION_EVENT, FRAME_EVENT};
use pressroom_protocol::{ConnectionView, Frame};
use yew::prelude::*;

use crate::bridge;
use crate::components::feed::ActivityFeed;
use crate::components::header::Header;
use crate::components::totals::TotalCards;
use crate::store::{Action, Dashboard};

#[function_component]
pub fn App() -> Html {
    let store = use_reducer(Dashboard::default);

    {
        let store = store.dispatcher();
        use_effect_with((), move |_| {
            let on_error = {
                let store = store.clone();
                move |error: bridge::BridgeError| store.dispatch(Action::BridgeFailed(error.0))
            };
            // Listen first, then load: a frame emitted meanwhile carries exact totals anyway.
            let frames = {
                let store = store.clone();
                bridge::listen(
                    FRAME_EVENT,
                    move |frame: Frame| store.dispatch(Action::Frame(frame)),
                    on_error.clone(),
                )
            };
            let states = {
                let store = store.clone();
                bridge::listen(
                    CONNECTION_EVENT,
                    move |view: ConnectionView| store.dispatch(Action::Connection(view)),
                    on_error.clone(),
                )
            };
            wasm_bindgen_futures::spawn_local(async move {
                match bridge::dashboard().await {
                    Ok(view) => store.dispatch(Action::Loaded(view)),
                    Err(error) => on_error(error),
                }
            });
            move || drop((frames, states))
        });
    }

    html! {
        <div class="app">
            <Header connection={store.connection.clone()} />
            if let Some(error) = &store.bridge_error {
                <div class="banner error" role="alert">{error}</div>
            }
            if let Some(problem) = store.connection.as_ref().and_then(|c| c.problem.as_ref()) {
                <div class="banner error" role="alert" data-testid="problem">{problem.message()}</div>
            }
            if store.connection.as_ref().is_some_and(|c| c.history_unavailable) {
                <div class="banner info" role="status">
                    {"History unavailable: this server keeps no snapshot or backfill, so totals count events since connecting."}
                </div>
            }
            <main>
                <TotalCards totals={store.totals} />
                <ActivityFeed activity={store.activity.clone()} />
            </main>
        </div>
    }
}
