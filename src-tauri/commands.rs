//! Commands the webview invokes.

use pressroom_protocol::DashboardView;
use tauri::State;

use crate::state::SharedDashboard;

/// The whole current view: what a window shows when it (re)loads.
#[tauri::command]
pub fn dashboard(state: State<'_, SharedDashboard>) -> DashboardView {
    state.view()
}
