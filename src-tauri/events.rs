//! Where the driver's output goes. The app emits it to every webview as Tauri events; tests
//! record it instead.

use pressroom_protocol::view::{CONNECTION_EVENT, FRAME_EVENT};
use pressroom_protocol::{ConnectionView, Frame};
use tauri::{AppHandle, Emitter, Runtime};

pub trait Outlet: Send + Sync + 'static {
    fn connection(&self, view: &ConnectionView);
    fn frame(&self, frame: &Frame);
}

impl<R: Runtime> Outlet for AppHandle<R> {
    fn connection(&self, view: &ConnectionView) {
        if let Err(error) = self.emit(CONNECTION_EVENT, view) {
            tracing::warn!(%error, "could not emit the connection state");
        }
    }

    fn frame(&self, frame: &Frame) {
        if let Err(error) = self.emit(FRAME_EVENT, frame) {
            tracing::warn!(%error, "could not emit a frame");
        }
    }
}
