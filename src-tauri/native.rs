//! Native notifications through notify-rust — the freedesktop service on Linux,
//! NSUserNotificationCenter on macOS, toasts on Windows — shown from one thread of their own so
//! the connection never waits on the desktop's notification service.

use std::sync::mpsc;

use pressroom_client::notifier::Notice;

/// Starts the notification thread for the app `identifier`; `on_click` runs when a notification
/// is clicked, where the platform reports clicks (the freedesktop spec's default action, a toast's
/// activation); `on_unavailable` the first time one cannot be shown (no notification service),
/// which is logged once, not every time.
pub fn spawn(
    identifier: &str,
    on_click: impl Fn() + Clone + Send + 'static,
    on_unavailable: impl Fn() + Send + 'static,
) -> mpsc::Sender<Notice> {
    let template = template(identifier);
    let (notices, incoming) = mpsc::channel::<Notice>();
    std::thread::Builder::new()
        .name("notifications".into())
        .spawn(move || {
            let mut warned = false;
            let mut markup = None;
            for notice in incoming {
                // Asked once, at the first notice: the service is started on demand.
                let markup = *markup.get_or_insert_with(renders_markup);
                if let Err(error) = show(&template, &notice, markup, on_click.clone()) {
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

/// Whether the notification service renders markup in bodies (the freedesktop `body-markup`
/// capability, as KDE and dunst have): customer names and failure reasons are then escaped.
fn renders_markup() -> bool {
    #[cfg(all(unix, not(target_os = "macos")))]
    return notify_rust::get_capabilities().is_ok_and(|caps| caps.iter().any(|c| c == "body-markup"));
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    false
}

/// `text` as literal text in freedesktop body markup.
fn escape_markup(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// What every notification shares: the app's name, the click action, and on macOS and Windows
/// which app the system shows it as.
fn template(identifier: &str) -> notify_rust::Notification {
    let mut notification = notify_rust::Notification::new();
    notification.appname("Pressroom");
    // The freedesktop service names the app by `appname`; a click is the default action.
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        let _ = identifier;
        notification.action("default", "Show Pressroom");
    }
    // The bundle's identifier, else notifications come from Finder. It is found only for an
    // installed bundle (a binary run from the target dir has none).
    #[cfg(target_os = "macos")]
    if let Err(error) = notify_rust::set_application(identifier) {
        tracing::debug!(%error, "notifications show as from Finder");
    }
    // A toast names its app by AppUserModelID, which the installer's Start-menu shortcut gives
    // the identifier; a build run from the target dir has no such shortcut, and keeps notify-rust's
    // default (PowerShell's id), without which no toast would show.
    #[cfg(windows)]
    {
        let exe = std::env::current_exe().unwrap_or_default();
        if !exe.ancestors().any(|dir| dir.file_name().is_some_and(|name| name == "target")) {
            notification.app_id(identifier);
        }
    }
    notification
}

fn show(
    template: &notify_rust::Notification,
    notice: &Notice,
    markup: bool,
    on_click: impl Fn() + Send + 'static,
) -> Result<(), notify_rust::error::Error> {
    let body = if markup { escape_markup(&notice.body) } else { notice.body.clone() };
    let mut notification = template.clone();
    notification.summary(&notice.title).body(&body);
    let handle = notification.show()?;
    // Waiting for a click blocks until the notification closes: on a thread of its own.
    #[cfg(all(unix, not(target_os = "macos")))]
    std::thread::spawn(move || {
        handle.wait_for_action(|action| {
            if action == "default" {
                on_click();
            }
        })
    });
    #[cfg(windows)]
    std::thread::spawn(move || {
        let _ = handle.wait_for_response(|response: &notify_rust::NotificationResponse| {
            if matches!(response, notify_rust::NotificationResponse::Default) {
                on_click();
            }
        });
    });
    // The handle sends the notification as it is dropped, without waiting: waiting for a click
    // would send it again, synchronously. A click brings the app forward (macOS does that).
    #[cfg(target_os = "macos")]
    drop((handle, on_click));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_a_customer_name_is_shown_as_text() {
        assert_eq!(
            escape_markup(r#"<b>Bold</b> <a href="https://phish.example/">Invoice</a> & Co's"#),
            "&lt;b&gt;Bold&lt;/b&gt; &lt;a href=&quot;https://phish.example/&quot;&gt;Invoice&lt;/a&gt; &amp; Co&apos;s"
        );
        assert_eq!(escape_markup("#1 Acme × 40"), "#1 Acme × 40");
    }
}
