//! The app's commands get `allow-<command>` permissions: the capability in `tauri.conf.json`
//! grants the webview those and nothing it does not use.
fn main() {
    let commands = tauri_build::AppManifest::new().commands(&[
        "dashboard",
        "reconnect_now",
        "pause",
        "resume",
        "settings",
        "update_settings",
        "new_window",
        "open_logs",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(commands))
        .expect("the Tauri configuration and capabilities are valid");
}
