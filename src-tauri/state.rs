//! The dashboard state the backend keeps: one per app, shared by the driver (which writes it)
//! and the commands (which read it).

use std::sync::{Arc, Mutex, MutexGuard};

use pressroom_protocol::snapshot::Applied;
use pressroom_protocol::{ConnectionState, ConnectionView, DashboardView, Event, Frame, Snapshot};

#[derive(Clone)]
pub struct SharedDashboard(Arc<Mutex<DashboardView>>);

impl Default for SharedDashboard {
    fn default() -> Self {
        SharedDashboard(Arc::new(Mutex::new(DashboardView {
            connection: ConnectionView::new(ConnectionState::Connecting),
            snapshot: Snapshot::default(),
        })))
    }
}

impl SharedDashboard {
    fn lock(&self) -> MutexGuard<'_, DashboardView> {
        // The state stays consistent even if a holder panicked: every update is a single assignment
        // or a call to the pure `apply`.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn view(&self) -> DashboardView {
        self.lock().clone()
    }

    pub fn set_connection(&self, connection: ConnectionView) {
        self.lock().connection = connection;
    }

    /// Replaces the snapshot (after fetching one) and returns the frame that shows it.
    pub fn replace(&self, snapshot: Snapshot) -> Frame {
        let mut view = self.lock();
        view.snapshot = snapshot;
        Frame::full(&view.snapshot)
    }

    /// Applies a live event; the frame to send, unless it was already counted.
    pub fn apply(&self, event: Event) -> Option<Frame> {
        let mut view = self.lock();
        match view.snapshot.apply(&event) {
            Applied::AlreadySeen => None,
            Applied::Yes => Some(Frame {
                totals: view.snapshot.totals,
                print_exports_by_status: view.snapshot.print_exports_by_status,
                new_activity: vec![event],
                reset_activity: false,
            }),
        }
    }
}
