//! The desktop connection against a server that misbehaves the ways issue 13 found: the client
//! stays up, says what is wrong, and reaches Live with the right totals once the server behaves.

use std::sync::atomic::Ordering;
use std::time::Duration;

use pressroom_client::cable::Mode;
use pressroom_protocol::{ConnectionState, Misbehaviour, Problem};
use pressroom_testkit::client::Client;
use pressroom_testkit::hostile::{Behaviour, Hostile};

/// Generous: real time on a busy machine is not a benchmark.
const WITHIN: Duration = Duration::from_secs(30);

/// Socket only: polling could otherwise paper over a broken stream.
fn socket_only() -> Mode {
    Mode { auto_refresh: false, ..Mode::default() }
}

fn misbehaving(what: fn(&Misbehaviour) -> bool) -> impl Fn(&Problem) -> bool {
    move |problem| matches!(problem, Problem::ServerMisbehaving { what: w } if what(w))
}

async fn recovers(client: &mut Client, job_orders: u64) {
    client.wait_live(WITHIN).await;
    client.wait_dashboard("the server's totals", WITHIN, |s| s.totals.job_orders == job_orders).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_frame_is_refused_reported_and_survived() {
    let server = Hostile::start(Behaviour::OversizedFrame(2 << 20), 5).await;
    let mut client = Client::start(&server.cable_url(), None, socket_only());
    client
        .wait_problem(
            "the oversized message",
            WITHIN,
            misbehaving(|w| matches!(w, Misbehaviour::MessageTooLarge { .. })),
        )
        .await;
    assert!(client.dashboard.view().frame.new_activity.is_empty(), "nothing of it was shown");
    server.set(Behaviour::Behave, 7);
    recovers(&mut client, 7).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_early_frames_is_dropped_for_a_snapshot() {
    let server = Hostile::start(Behaviour::Behave, 5).await;
    let mut client = Client::start(&server.cable_url(), None, socket_only());
    recovers(&mut client, 5).await;
    server.set(Behaviour::EarlyFlood(20_000), 5);
    server.kick();
    client
        .wait_problem(
            "the flood",
            WITHIN,
            misbehaving(|w| matches!(w, Misbehaviour::TooManyEarlyEvents { .. })),
        )
        .await;
    server.set(Behaviour::Behave, 9);
    server.kick();
    recovers(&mut client, 9).await;
    let shown = client.dashboard.snapshot();
    assert_eq!(shown.seq, Some(9), "no flooded seq was taken as real");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_summary_is_cut_off_reported_and_survived() {
    let server = Hostile::start(Behaviour::HugeSummary(300_000), 4).await;
    let mut client = Client::start(&server.cable_url(), None, socket_only());
    client
        .wait_problem(
            "the huge summary",
            WITHIN,
            misbehaving(|w| matches!(w, Misbehaviour::BodyTooLarge { .. })),
        )
        .await;
    assert_eq!(client.dashboard.job_orders(), 0, "nothing of it was applied");
    server.set(Behaviour::Behave, 6);
    recovers(&mut client, 6).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_pages_that_claim_more_are_asked_for_ever_less_often() {
    let server = Hostile::start(Behaviour::Behave, 3).await;
    let mut client = Client::start(&server.cable_url(), None, socket_only());
    recovers(&mut client, 3).await;
    server.set(Behaviour::EmptyPages, 8);
    server.kick();
    client
        .wait_problem("the empty pages", WITHIN, misbehaving(|w| *w == Misbehaviour::EmptyBackfillPage))
        .await;
    assert_ne!(client.view().state, ConnectionState::Live, "not caught up, so not Live");
    // The second empty page comes a second after the first, the third two seconds later.
    let asked = server.counts().empty_pages.load(Ordering::SeqCst);
    assert!(asked <= 3, "{asked} empty pages asked for by the time the problem showed");
    server.set(Behaviour::Behave, 8);
    recovers(&mut client, 8).await;
    let asked = server.counts().empty_pages.load(Ordering::SeqCst);
    assert!(asked <= 4, "no spinning: {asked} empty pages in all");
}
