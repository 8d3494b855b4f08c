//! The app as a Linux user gets it: the binary the .deb installed, not cargo's build, goes Live
//! against a hub and shows a job order the hub commits. scripts/check-packages builds and installs
//! the package, then runs this with `--ignored` and the installed binary in
//! `PRESSROOM_INSTALLED_BIN`; run without that variable it fails rather than passing.

mod support;

use std::path::PathBuf;
use std::process::Command;

use pressroom_testkit::TestHub;
use serde_json::json;
use support::AppWindow;

#[tokio::test]
#[ignore = "needs the installed package: scripts/check-packages builds, installs and runs it"]
async fn the_installed_binary_goes_live_and_shows_a_new_job_order() {
    let binary = std::env::var_os("PRESSROOM_INSTALLED_BIN")
        .map(PathBuf::from)
        .expect("PRESSROOM_INSTALLED_BIN names the installed app binary (scripts/check-packages sets it)");
    // The file the package manager put there, not something copied into place.
    let owner = Command::new("dpkg-query").arg("--search").arg(&binary).output().expect("dpkg-query runs");
    let owner = String::from_utf8_lossy(&owner.stdout);
    assert!(
        owner.lines().any(|line| line.starts_with("pressroom: ")),
        "{} belongs to no installed pressroom package: {owner:?}",
        binary.display()
    );

    let hub = TestHub::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let window =
        AppWindow::launch_binary(&binary, data_dir.path(), &[("PRESSROOM_HUB_URL", &hub.hub.cable_url())])
            .await;
    // No polling and no auto-refresh: only the socket can deliver the new total.
    window.settings(json!({"realtime": true, "auto_refresh": false})).await;
    window.wait_for("connection", "Live", |t| t == "Live").await;
    let before = window.total("job_orders").await;
    hub.post("/api/job_orders", json!({"customer": "Acme", "quantity": 25, "book_title": "Dune"})).await;
    window.wait_total("job_orders", before + 1).await;
    window.wait_total("books", 1).await;

    window.close().await;
    hub.stop().await;
}
