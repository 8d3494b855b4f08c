use gloo::events::EventListener;
use pressroom_protocol::settings::{SettingsView, Theme, SETTINGS_EVENT};
use pressroom_protocol::view::{CONNECTION_EVENT, FRAME_EVENT};
use pressroom_protocol::{ConnectionView, Frame};
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::bridge;
use crate::components::banners::Banners;
use crate::components::chart::VolumeChart;
use crate::components::exports::Exports;
use crate::components::feed::ActivityFeed;
use crate::components::header::Header;
use crate::components::settings::SettingsPanel;
use crate::components::system::SystemActivity;
use crate::components::totals::TotalCards;
use crate::hooks::use_paced;
use crate::store::{Action, Dashboard};

#[function_component]
pub fn App() -> Html {
    let store = use_reducer(Dashboard::default);
    let settings_open = use_state(|| false);

    // The backend's events feed the store; the initial view and settings are asked for once.
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
                    move |view: ConnectionView| store.dispatch(Action::Connection(view, js_sys::Date::now())),
                    on_error.clone(),
                )
            };
            let settings = {
                let store = store.clone();
                bridge::listen(
                    SETTINGS_EVENT,
                    move |view: SettingsView| store.dispatch(Action::Settings(view)),
                    on_error.clone(),
                )
            };
            wasm_bindgen_futures::spawn_local(async move {
                match bridge::dashboard().await {
                    Ok(view) => {
                        let connection = view.connection.clone();
                        store.dispatch(Action::Loaded(view));
                        store.dispatch(Action::Connection(connection, js_sys::Date::now()));
                    }
                    Err(error) => on_error(error),
                }
                match bridge::settings().await {
                    Ok(view) => store.dispatch(Action::Settings(view)),
                    Err(error) => on_error(error),
                }
            });
            move || drop((frames, states, settings))
        });
    }

    // The theme setting, on the document: light, dark, or following the system.
    use_effect_with(store.settings.as_ref().map(|s| s.settings.theme), |theme| {
        let root = gloo::utils::document_element();
        let value = match theme {
            Some(Theme::Light) => "light",
            Some(Theme::Dark) => "dark",
            _ => "system",
        };
        let _ = root.set_attribute("data-theme", value);
    });

    let paused = store.paused().is_some();
    // Callbacks made once (per `paused`), so a frame does not re-render the panels taking them.
    let on_pause = use_callback(paused, |(), paused| bridge::fire(if *paused { "resume" } else { "pause" }));
    let on_reconnect = use_callback((), |(), _| bridge::fire("reconnect_now"));
    let on_settings = use_callback(settings_open.setter(), |(), open| open.set(true));
    // The data is shown once a second, on the clock's whole seconds, with the ticking times:
    // every repaint costs about the same (software compositing), so the page makes one a second
    // at most, however many frames arrive. Each shows the exact totals of the latest frame.
    let (totals, exports, activity, volume) =
        use_paced((store.totals, store.exports, store.activity.clone(), store.volume.clone()), 1000);

    // Keyboard: Space pauses or resumes, R reconnects, Ctrl/Cmd+, opens the settings.
    {
        let (on_pause, on_reconnect, on_settings) =
            (on_pause.clone(), on_reconnect.clone(), on_settings.clone());
        let settings_open = *settings_open;
        use_effect_with((paused, settings_open), move |_| {
            let listener = EventListener::new(&gloo::utils::document(), "keydown", move |event| {
                let event = event.dyn_ref::<web_sys::KeyboardEvent>().expect("keydown is a keyboard event");
                let typing =
                    event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|el| {
                        matches!(el.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA" | "BUTTON")
                    });
                if (event.ctrl_key() || event.meta_key()) && event.key() == "," {
                    event.prevent_default();
                    on_settings.emit(());
                } else if typing || settings_open || event.ctrl_key() || event.meta_key() || event.alt_key() {
                } else if event.key() == " " {
                    event.prevent_default();
                    on_pause.emit(());
                } else if event.key().eq_ignore_ascii_case("r") {
                    on_reconnect.emit(());
                }
            });
            move || drop(listener)
        });
    }

    let on_close = use_callback(settings_open.setter(), |(), open| open.set(false));
    let on_saved =
        use_callback(store.dispatcher(), |view: SettingsView, store| store.dispatch(Action::Settings(view)));

    html! {
        <div class={classes!("app", paused.then_some("is-paused"))}>
            <Header connection={store.connection.clone()} connection_at={store.connection_at}
                    on_pause={on_pause} on_reconnect={on_reconnect} on_settings={on_settings.clone()} />
            <Banners connection={store.connection.clone()} bridge_error={store.bridge_error.clone()} on_settings={on_settings} />
            <main>
                <TotalCards totals={totals} />
                <div class="grid">
                    <div class="column wide">
                        <VolumeChart volume={volume} />
                        <Exports counts={exports} activity={activity.clone()} />
                    </div>
                    <div class="column">
                        <SystemActivity activity={activity.clone()} exports_running={exports.started} />
                        <ActivityFeed activity={activity} />
                    </div>
                </div>
            </main>
            if *settings_open {
                if let Some(settings) = store.settings.clone() {
                    <SettingsPanel settings={settings} on_close={on_close} on_saved={on_saved} />
                }
            }
        </div>
    }
}
