//! Pressroom's dashboard, rendered by Yew inside the Tauri webview.

mod app;
mod bridge;
mod components;
mod hooks;
mod store;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
