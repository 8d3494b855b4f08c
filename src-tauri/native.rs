//! Native notifications through notify-rust, shown from one thread of their own so the
//! connection never waits on the desktop's notification service.

use std::sync::mpsc;

use crate::notifier::Notice;

/// Starts the notification thread; `on_click` runs when a notification is clicked, where the
/// platform reports clicks (the freedesktop spec's default action); `on_unavailable` the first
/// time one cannot be shown (no notification service), which is logged once, not every time.
pub fn spawn(
    on_click: impl Fn() + Clone + Send + 'static,
    on_unavailable: impl Fn() + Send + 'static,
) -> mpsc::Sender<Notice> {
    let (notices, incoming) = mpsc::channel::<Notice>();
    std::thread::Builder::new()
        .name("notifications".into())
        .spawn(move || {
            let mut warned = false;
            for notice in incoming {
                if let Err(error) = show(&notice, on_click.clone()) {
                    if warned {
                        tracing::debug!(%error, "could not show a notification");
                    } else {
                        warned = true;
                        tracing::warn!(%error, "could not show a notification; further failures are logged at debug");
                        on_unavailable();
                    }
                }
            }
        })
        .expect("the notification thread starts");
    notices
}

fn show(notice: &Notice, on_click: impl Fn() + Send + 'static) -> Result<(), notify_rust::error::Error> {
    let mut notification = notify_rust::Notification::new();
    notification.appname("Pressroom").summary(&notice.title).body(&notice.body);
    #[cfg(all(unix, not(target_os = "macos")))]
    notification.action("default", "Show Pressroom");
    let handle = notification.show()?;
    #[cfg(all(unix, not(target_os = "macos")))]
    // Waiting for a click blocks until the notification closes: on a thread of its own.
    std::thread::spawn(move || {
        handle.wait_for_action(|action| {
            if action == "default" {
                on_click();
            }
        })
    });
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    drop((handle, on_click));
    Ok(())
}
