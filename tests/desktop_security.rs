//! The app against its own webview and its own disk: the page can call the app's commands and
//! no plugin's, and the hub token lives in the OS credential store — never in the settings file,
//! the logs or what the webview is told.

mod support;

use pressroom_hub::auth::Auth;
use pressroom_testkit::TestHub;
use serde_json::json;
use support::desktop::{files_containing, PrivateBus, SecretService};
use support::AppWindow;

const TOKEN: &str = "s3cret-hub-token";

async fn hub_with_token() -> TestHub {
    TestHub::start_with(Auth::new(&[TOKEN.into()], &[]).unwrap()).await
}

#[tokio::test]
async fn the_page_can_call_the_apps_commands_and_no_plugins() {
    let hub = TestHub::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let window = AppWindow::launch_in(data_dir.path(), &[("PRESSROOM_HUB_URL", &hub.hub.cable_url())]).await;
    window.wait_for("connection", "Live", |t| t == "Live").await;
    assert!(window.invoke("dashboard", json!({})).await.is_ok(), "the app's own commands answer");
    let settings_file = data_dir.path().join("settings.json");
    let attempts = [
        ("plugin:store|load", json!({ "path": settings_file })),
        ("plugin:store|get_store", json!({ "path": settings_file })),
        ("plugin:store|save", json!({ "rid": 0 })),
        ("plugin:opener|open_path", json!({ "path": "/etc/passwd" })),
        ("plugin:autostart|enable", json!({})),
        ("plugin:window|set_title", json!({ "label": "main", "value": "pwned" })),
        (
            "plugin:webview|create_webview_window",
            json!({ "options": { "label": "x", "url": "https://evil.example/" } }),
        ),
    ];
    for (command, args) in attempts {
        let refused = window.invoke(command, args).await.expect_err(command);
        assert!(refused.to_string().contains("not allowed"), "{command}: {refused}");
    }
    window.close().await;
    hub.stop().await;
}

#[tokio::test]
async fn the_token_is_kept_in_the_secret_service_and_nowhere_else() {
    let bus = PrivateBus::start();
    let keyring_home = tempfile::tempdir().unwrap();
    let secrets = SecretService::start(&bus, keyring_home.path()).await;
    let hub = hub_with_token().await;
    let data_dir = tempfile::tempdir().unwrap();
    // A settings file from before: the token in it, and in its hub URL.
    let settings_file = data_dir.path().join("settings.json");
    let url_with_token = format!("{}?token={TOKEN}", hub.hub.cable_url());
    std::fs::write(
        &settings_file,
        json!({"settings": {"hub_url": url_with_token, "token": TOKEN, "theme": "dark"}}).to_string(),
    )
    .unwrap();

    let window = AppWindow::launch_in(data_dir.path(), &[("DBUS_SESSION_BUS_ADDRESS", &bus.address)]).await;
    window.wait_for("connection", "Live with the moved token", |t| t == "Live").await;
    assert_eq!(secrets.lookup(&bus, data_dir.path()).as_deref(), Some(TOKEN), "moved into the store");
    let view = window.invoke("settings", json!({})).await.unwrap();
    assert_eq!(
        (view["token_set"].as_bool(), view["hub_url"].as_str()),
        (Some(true), Some(&*hub.hub.cable_url()))
    );
    assert!(!view.to_string().contains(TOKEN), "the webview is never told the token: {view}");

    // A change that leaves the token alone keeps it where it is; a new one replaces it there.
    window.settings(json!({"theme": "light"})).await;
    window.settings(json!({"token": "a-newer-token"})).await;
    assert_eq!(secrets.lookup(&bus, data_dir.path()).as_deref(), Some("a-newer-token"));
    window.close().await;

    let leaked =
        [files_containing(data_dir.path(), TOKEN), files_containing(data_dir.path(), "a-newer-token")];
    assert!(leaked.iter().all(Vec::is_empty), "no file in the data dir holds a token: {leaked:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&settings_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the settings file is the owner's only: {mode:o}");
    }
    hub.stop().await;
}

#[tokio::test]
async fn a_token_from_the_environment_is_used_and_never_kept() {
    let bus = PrivateBus::start();
    let keyring_home = tempfile::tempdir().unwrap();
    let secrets = SecretService::start(&bus, keyring_home.path()).await;
    let hub = hub_with_token().await;
    let data_dir = tempfile::tempdir().unwrap();
    let window = AppWindow::launch_in(
        data_dir.path(),
        &[
            ("DBUS_SESSION_BUS_ADDRESS", &bus.address),
            ("PRESSROOM_HUB_URL", &hub.hub.cable_url()),
            ("PRESSROOM_TOKEN", TOKEN),
        ],
    )
    .await;
    window.wait_for("connection", "Live with the env's token", |t| t == "Live").await;
    window.settings(json!({"theme": "dark"})).await;
    window.close().await;
    assert_eq!(secrets.lookup(&bus, data_dir.path()), None, "not in the store");
    assert_eq!(files_containing(data_dir.path(), TOKEN), Vec::<std::path::PathBuf>::new(), "not on disk");
    hub.stop().await;
}

#[tokio::test]
async fn without_a_credential_store_the_token_is_an_owner_only_file_and_noted() {
    // A bus with no Secret Service on it.
    let bus = PrivateBus::start();
    let hub = hub_with_token().await;
    let data_dir = tempfile::tempdir().unwrap();
    let window = AppWindow::launch_in(
        data_dir.path(),
        &[("DBUS_SESSION_BUS_ADDRESS", &bus.address), ("PRESSROOM_HUB_URL", &hub.hub.cable_url())],
    )
    .await;
    let view = window.settings(json!({"token": TOKEN})).await;
    assert!(
        view["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("No credential store")),
        "{view}"
    );
    window.wait_for("connection", "Live with the new token", |t| t == "Live").await;
    window.close().await;
    let files = files_containing(data_dir.path(), TOKEN);
    assert_eq!(files, [data_dir.path().join("token")], "only the fallback file holds it");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    hub.stop().await;
}

#[tokio::test]
async fn a_launch_that_would_send_the_token_in_clear_text_elsewhere_says_so_and_does_not() {
    let data_dir = tempfile::tempdir().unwrap();
    let window = AppWindow::launch_in(
        data_dir.path(),
        &[("PRESSROOM_HUB_URL", "ws://hub.example/cable"), ("PRESSROOM_TOKEN", TOKEN)],
    )
    .await;
    let view = window.invoke("settings", json!({})).await.unwrap();
    assert!(
        view["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("hub_url would send the token unencrypted to hub.example")),
        "{view}"
    );
    assert_ne!(view["hub_url"], "ws://hub.example/cable", "not used: {view}");
    assert!(!view.to_string().contains(TOKEN));
    window.close().await;
}
