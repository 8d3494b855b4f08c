use std::collections::BTreeMap;

use pressroom_protocol::settings::{Settings, SettingsPatch, SettingsView, Theme};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::bridge;

#[derive(Properties, PartialEq)]
pub struct SettingsProps {
    pub settings: SettingsView,
    pub on_close: Callback<()>,
    pub on_saved: Callback<SettingsView>,
}

/// The form: the settings being edited, with the numbers kept as typed until the backend
/// validates them, and what is not a setting.
#[derive(Clone, PartialEq)]
struct Form {
    values: Settings,
    refresh_interval_s: String,
    frame_window_ms: String,
    token: String,
    token_touched: bool,
    launch_at_login: bool,
}

impl Form {
    fn from(view: &SettingsView) -> Self {
        Form {
            values: view.settings.clone(),
            refresh_interval_s: view.settings.refresh_interval_s.to_string(),
            frame_window_ms: view.settings.frame_window_ms.to_string(),
            token: String::new(),
            token_touched: false,
            launch_at_login: view.launch_at_login,
        }
    }

    /// The change to send: every setting as shown, the numbers as typed (the backend names what
    /// is wrong with them), the token only when touched, the autostart entry only when changed.
    fn patch(&self, launch_at_login: bool) -> SettingsPatch {
        SettingsPatch {
            token: self.token_touched.then(|| self.token.clone()),
            launch_at_login: (self.launch_at_login != launch_at_login).then_some(self.launch_at_login),
            ..SettingsPatch::all(&self.values)
        }
        .set("refresh_interval_s", self.refresh_interval_s.clone())
        .set("frame_window_ms", self.frame_window_ms.clone())
    }
}

/// Everything the backend lets the user set, validated by the backend: a refused change keeps
/// the panel open with each error beside its field.
#[function_component]
pub fn SettingsPanel(props: &SettingsProps) -> Html {
    let form = use_state(|| Form::from(&props.settings));
    let errors = use_state(BTreeMap::<String, String>::new);
    let saving = use_state(|| false);

    let text = |edit: fn(&mut Form, String)| {
        let form = form.clone();
        Callback::from(move |e: InputEvent| {
            let mut next = (*form).clone();
            edit(&mut next, e.target_unchecked_into::<HtmlInputElement>().value());
            form.set(next);
        })
    };
    let check = |edit: fn(&mut Form, bool)| {
        let form = form.clone();
        Callback::from(move |e: Event| {
            let mut next = (*form).clone();
            edit(&mut next, e.target_unchecked_into::<HtmlInputElement>().checked());
            form.set(next);
        })
    };
    let on_theme = {
        let form = form.clone();
        Callback::from(move |e: Event| {
            let mut next = (*form).clone();
            next.values.theme = match e.target_unchecked_into::<HtmlSelectElement>().value().as_str() {
                "light" => Theme::Light,
                "dark" => Theme::Dark,
                _ => Theme::System,
            };
            form.set(next);
        })
    };
    let on_submit = {
        let (form, errors, saving) = (form.clone(), errors.clone(), saving.clone());
        let (on_saved, on_close) = (props.on_saved.clone(), props.on_close.clone());
        let launch_at_login = props.settings.launch_at_login;
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let patch = form.patch(launch_at_login);
            let (errors, saving, on_saved, on_close) =
                (errors.clone(), saving.clone(), on_saved.clone(), on_close.clone());
            saving.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match bridge::update_settings(&patch).await {
                    Ok(view) => {
                        errors.set(BTreeMap::new());
                        on_saved.emit(view);
                        on_close.emit(());
                    }
                    Err(refused) => {
                        let mut fields = refused.fields;
                        if fields.is_empty() {
                            fields.insert("form".to_owned(), refused.message);
                        }
                        errors.set(fields);
                    }
                }
                saving.set(false);
            });
        })
    };
    let close = {
        let on_close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| on_close.emit(()))
    };
    let error = |field: &str| -> Html {
        match errors.get(field) {
            Some(message) => {
                html! { <span class="field-error" data-testid={format!("error-{field}")}>{message}</span> }
            }
            None => html! {},
        }
    };
    let invalid = |field: &str| errors.contains_key(field).then_some("invalid");
    let f = &*form;
    html! {
        <div class="overlay" role="dialog" aria-modal="true" aria-label="Settings">
            <form class="settings" onsubmit={on_submit} data-testid="settings">
                <div class="panel-head">
                    <h2>{"Settings"}</h2>
                    <button type="button" class="button icon" aria-label="Close" onclick={close.clone()}>{"×"}</button>
                </div>
                <fieldset>
                    <legend>{"Connection"}</legend>
                    <label class={classes!(invalid("hub_url"))}>{"Hub URL"}
                        <input data-testid="hub-url" value={f.values.hub_url.clone()} oninput={text(|f, v| f.values.hub_url = v)}
                               placeholder="wss://example.com/cable" spellcheck="false" />
                        {error("hub_url")}
                    </label>
                    <label>{"Token"}
                        <input type="password" value={f.token.clone()} autocomplete="off"
                               placeholder={if props.settings.token_set { "•••••• (set; type to replace, clear to remove)" } else { "none" }}
                               oninput={text(|f, v| { f.token = v; f.token_touched = true; })} />
                    </label>
                    <label class="toggle"><input type="checkbox" data-testid="allow-insecure-token" checked={f.values.allow_insecure_token}
                        onchange={check(|f, v| f.values.allow_insecure_token = v)} />{"Allow sending the token unencrypted (ws://) to another machine"}</label>
                    <div class="row">
                        <label class={classes!(invalid("channel"))}>{"Channel"}
                            <input value={f.values.channel.clone()} oninput={text(|f, v| f.values.channel = v)} />
                            {error("channel")}
                        </label>
                        <label class={classes!(invalid("snapshot_path"))}>{"Snapshot path"}
                            <input value={f.values.snapshot_path.clone()} oninput={text(|f, v| f.values.snapshot_path = v)} />
                            {error("snapshot_path")}
                        </label>
                    </div>
                </fieldset>
                <fieldset>
                    <legend>{"Updates"}</legend>
                    <label class="toggle"><input type="checkbox" data-testid="realtime" checked={f.values.realtime}
                        onchange={check(|f, v| f.values.realtime = v)} />{"Real-time updates"}</label>
                    <label class="toggle"><input type="checkbox" data-testid="auto-refresh" checked={f.values.auto_refresh}
                        onchange={check(|f, v| f.values.auto_refresh = v)} />{"Auto-refresh (and polling when real-time fails)"}</label>
                    <div class="row">
                        <label class={classes!(invalid("refresh_interval_s"))}>{"Refresh every (s)"}
                            <input inputmode="numeric" data-testid="refresh-interval" value={f.refresh_interval_s.clone()}
                                   oninput={text(|f, v| f.refresh_interval_s = v)} />
                            {error("refresh_interval_s")}
                        </label>
                        <label class={classes!(invalid("frame_window_ms"))}>{"Frame window (ms)"}
                            <input inputmode="numeric" value={f.frame_window_ms.clone()} oninput={text(|f, v| f.frame_window_ms = v)} />
                            {error("frame_window_ms")}
                        </label>
                    </div>
                </fieldset>
                <fieldset>
                    <legend>{"Notifications and look"}</legend>
                    <label class="toggle"><input type="checkbox" checked={f.values.notify_job_orders}
                        onchange={check(|f, v| f.values.notify_job_orders = v)} />{"New job orders"}</label>
                    <label class="toggle"><input type="checkbox" checked={f.values.notify_failed_exports}
                        onchange={check(|f, v| f.values.notify_failed_exports = v)} />{"Failed exports"}</label>
                    <label>{"Theme"}
                        <select onchange={on_theme}>
                            <option value="system" selected={f.values.theme == Theme::System}>{"Follow the system"}</option>
                            <option value="light" selected={f.values.theme == Theme::Light}>{"Light"}</option>
                            <option value="dark" selected={f.values.theme == Theme::Dark}>{"Dark"}</option>
                        </select>
                    </label>
                </fieldset>
                <fieldset>
                    <legend>{"Desktop"}</legend>
                    <label class="toggle"><input type="checkbox" data-testid="close-to-tray" checked={f.values.close_to_tray}
                        onchange={check(|f, v| f.values.close_to_tray = v)} />{"Closing the window keeps Pressroom in the tray"}</label>
                    <label class="toggle"><input type="checkbox" data-testid="launch-at-login" checked={f.launch_at_login}
                        onchange={check(|f, v| f.launch_at_login = v)} />{"Start Pressroom when I log in"}</label>
                    {error("launch_at_login")}
                    <div>
                        <button type="button" class="button" data-testid="open-logs"
                                onclick={Callback::from(|_: MouseEvent| bridge::fire("open_logs"))}>{"Open logs folder"}</button>
                    </div>
                    { for props.settings.notes.iter().map(|note| html! { <p class="note" data-testid="settings-note">{note}</p> }) }
                </fieldset>
                {error("form")}
                <div class="actions">
                    <button type="button" class="button" onclick={close}>{"Cancel"}</button>
                    <button type="submit" class="button primary" data-testid="save-settings" disabled={*saving}>{"Save"}</button>
                </div>
            </form>
        </div>
    }
}
