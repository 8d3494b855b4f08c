//! Typed bindings to the Tauri backend through `window.__TAURI__` (`withGlobalTauri`).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use pressroom_protocol::settings::{SettingsPatch, SettingsView};
use pressroom_protocol::DashboardView;
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn tauri_invoke(command: &str, args: JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "event"], js_name = listen, catch)]
    async fn tauri_listen(event: &str, handler: &js_sys::Function) -> Result<JsValue, JsValue>;
}

/// Why a call to the backend failed, in words for the screen.
#[derive(Debug, Clone, PartialEq)]
pub struct BridgeError(pub String);

impl BridgeError {
    fn from_js(value: JsValue) -> Self {
        // Commands reject with the backend's serialised error: `{"kind", "message"}`.
        let message = js_sys::Reflect::get(&value, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .or_else(|| value.as_string())
            .unwrap_or_else(|| format!("{value:?}"));
        BridgeError(message)
    }
}

async fn invoke<T: DeserializeOwned>(command: &str, args: JsValue) -> Result<T, BridgeError> {
    let value = tauri_invoke(command, args).await.map_err(BridgeError::from_js)?;
    serde_wasm_bindgen::from_value(value).map_err(|e| BridgeError(e.to_string()))
}

/// The backend's whole current view.
pub async fn dashboard() -> Result<DashboardView, BridgeError> {
    invoke("dashboard", JsValue::UNDEFINED).await
}

/// Runs a command that answers nothing; a failure is reported, not returned.
pub fn fire(command: &'static str) {
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(error) = invoke::<()>(command, JsValue::UNDEFINED).await {
            gloo::console::error!(format!("{command} failed: {}", error.0));
        }
    });
}

pub async fn settings() -> Result<SettingsView, BridgeError> {
    invoke("settings", JsValue::UNDEFINED).await
}

/// Why a settings change was refused: a message per invalid field.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SettingsRefused {
    pub message: String,
    pub fields: BTreeMap<String, String>,
}

/// Applies a settings change; refused as a whole, with a message per invalid field.
pub async fn update_settings(patch: &SettingsPatch) -> Result<SettingsView, SettingsRefused> {
    let args = js_sys::Object::new();
    let patch = serde_wasm_bindgen::to_value(patch).expect("a patch converts");
    js_sys::Reflect::set(&args, &"patch".into(), &patch).expect("an object takes a property");
    match tauri_invoke("update_settings", args.into()).await {
        Ok(value) => serde_wasm_bindgen::from_value(value)
            .map_err(|e| SettingsRefused { message: e.to_string(), ..SettingsRefused::default() }),
        Err(error) => {
            let fields = js_sys::Reflect::get(&error, &"fields".into())
                .ok()
                .and_then(|f| serde_wasm_bindgen::from_value(f).ok())
                .unwrap_or_default();
            Err(SettingsRefused { message: BridgeError::from_js(error).0, fields })
        }
    }
}

/// A subscription to a backend event; dropping it stops listening.
pub struct Listener {
    inner: Rc<ListenerInner>,
}

struct ListenerInner {
    handler: Closure<dyn FnMut(JsValue)>,
    unlisten: RefCell<Option<js_sys::Function>>,
    dropped: Cell<bool>,
}

impl ListenerInner {
    fn unlisten(unlisten: &js_sys::Function) {
        if let Err(error) = unlisten.call0(&JsValue::NULL) {
            gloo::console::warn!("unlisten failed", error);
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.inner.dropped.set(true);
        if let Some(unlisten) = self.inner.unlisten.borrow_mut().take() {
            ListenerInner::unlisten(&unlisten);
        }
    }
}

/// Calls `on_payload` with each `event`'s payload, decoded as `T`.
pub fn listen<T: DeserializeOwned + 'static>(
    event: &'static str,
    on_payload: impl Fn(T) + 'static,
    on_error: impl Fn(BridgeError) + 'static,
) -> Listener {
    let on_error = Rc::new(on_error);
    let handler = {
        let on_error = on_error.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            let payload = js_sys::Reflect::get(&event, &"payload".into()).unwrap_or(JsValue::UNDEFINED);
            match serde_wasm_bindgen::from_value(payload) {
                Ok(payload) => on_payload(payload),
                Err(error) => on_error(BridgeError(format!("unreadable {event:?} payload: {error}"))),
            }
        })
    };
    let inner = Rc::new(ListenerInner { handler, unlisten: RefCell::new(None), dropped: Cell::new(false) });
    let registering = inner.clone();
    wasm_bindgen_futures::spawn_local(async move {
        match tauri_listen(event, registering.handler.as_ref().unchecked_ref()).await {
            Ok(unlisten) => {
                let unlisten: js_sys::Function = unlisten.unchecked_into();
                // The component may have gone while the registration was under way.
                if registering.dropped.get() {
                    ListenerInner::unlisten(&unlisten);
                } else {
                    *registering.unlisten.borrow_mut() = Some(unlisten);
                }
            }
            Err(error) => on_error(BridgeError::from_js(error)),
        }
    });
    Listener { inner }
}
