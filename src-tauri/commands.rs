//! Commands the webview invokes.

use pressroom_protocol::DashboardView;
use tauri::State;

use crate::driver::{Command, DriverHandle};
use crate::state::SharedDashboard;

/// The whole current view: what a window shows when it (re)loads.
#[tauri::command]
pub fn dashboard(state: State<'_, SharedDashboard>) -> DashboardView {
    state.view()
}

/// Try the connection again now, skipping any wait.
#[tauri::command]
pub fn reconnect_now(driver: State<'_, DriverHandle>) {
    driver.send(Command::ReconnectNow);
}
