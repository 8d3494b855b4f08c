//! A server that speaks the hub's protocol and can be told to misbehave the ways issue 13 found:
//! one oversized frame, a flood of early (out-of-order) broadcasts, a huge summary, backfill pages
//! that claim more events but bring none. Behaving, it serves `events` job orders (seq 1..=n,
//! one epoch) through the summary, the backfill and a plain cable. It binds 127.0.0.1 on a free
//! port and stops when dropped.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use pressroom_protocol::cable::{channel_identifier, ANALYTICS_CHANNEL, SUBPROTOCOL};
use pressroom_protocol::{EventKind, Snapshot, Totals};
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub const EPOCH: &str = "hostile-epoch";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Behave,
    /// After the confirmation, one text frame of this many bytes.
    OversizedFrame(usize),
    /// After the confirmation, this many broadcasts far ahead of the head, in descending seq.
    EarlyFlood(usize),
    /// A summary with this many feed items.
    HugeSummary(usize),
    /// Backfill pages with `has_more: true` and no events.
    EmptyPages,
}

/// What the server did, for tests to await and bound.
#[derive(Default)]
pub struct Counts {
    pub confirmed: AtomicU64,
    /// Oversized frames written out whole.
    pub oversized_sent: AtomicU64,
    /// Floods written out whole.
    pub floods_sent: AtomicU64,
    /// Huge summaries asked for.
    pub huge_summaries: AtomicU64,
    pub empty_pages: AtomicU64,
}

struct Shared {
    behaviour: Mutex<Behaviour>,
    events: AtomicU64,
    /// Bumped to drop every open socket.
    kick: watch::Sender<u64>,
    counts: Counts,
    /// The huge summary's feed, rendered when the behaviour is set (so a slow render never
    /// outlasts the client's request timeout): (items, JSON array body).
    huge_feed: Mutex<Option<(usize, Arc<String>)>>,
}

pub struct Hostile {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: CancellationToken,
}

impl Hostile {
    pub async fn start(behaviour: Behaviour, events: u64) -> Hostile {
        let shared = Arc::new(Shared {
            behaviour: Mutex::new(Behaviour::Behave),
            events: AtomicU64::new(events),
            kick: watch::channel(0).0,
            counts: Counts::default(),
            huge_feed: Mutex::new(None),
        });
        let app = Router::new()
            .route("/cable", get(cable))
            .route("/api/analytics/summary", get(summary))
            .route("/api/events", get(events_page))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, app).with_graceful_shutdown(stopped.cancelled_owned()).await.unwrap();
        });
        let hostile = Hostile { addr, shared, stop };
        hostile.set(behaviour, events);
        hostile
    }

    pub fn cable_url(&self) -> String {
        format!("ws://{}/cable", self.addr)
    }

    /// Changes how the server behaves from the next connection or request on, with `events`
    /// job orders committed.
    pub fn set(&self, behaviour: Behaviour, events: u64) {
        if let Behaviour::HugeSummary(items) = behaviour {
            let feed: Vec<String> = (0..items as u64).map(|n| event(n % 1000 + 1).to_string()).collect();
            *self.shared.huge_feed.lock().unwrap() = Some((items, Arc::new(feed.join(","))));
        }
        self.shared.events.store(events, Ordering::SeqCst);
        *self.shared.behaviour.lock().unwrap() = behaviour;
    }

    /// Drops every open socket (as a restarting server would).
    pub fn kick(&self) {
        self.shared.kick.send_modify(|n| *n += 1);
    }

    pub fn counts(&self) -> &Counts {
        &self.shared.counts
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.kick();
        self.stop.cancel();
    }
}

fn behaviour(shared: &Shared) -> Behaviour {
    *shared.behaviour.lock().unwrap()
}

fn event(seq: u64) -> Value {
    json!({
        "event": EventKind::JobOrderCreated.as_str(),
        "data": {"id": seq, "book_id": 1, "customer": format!("c{seq}"), "quantity": 1},
        "seq": seq,
        "epoch": EPOCH,
        "at": "2026-12-02T10:00:00Z",
    })
}

async fn summary(State(shared): State<Arc<Shared>>) -> Response {
    let events = shared.events.load(Ordering::SeqCst);
    let snapshot = Snapshot {
        epoch: Some(EPOCH.to_owned()),
        seq: Some(events),
        totals: Totals { job_orders: events, ..Totals::default() },
        ..Snapshot::default()
    };
    let Behaviour::HugeSummary(items) = behaviour(&shared) else {
        return Json(snapshot).into_response();
    };
    shared.counts.huge_summaries.fetch_add(1, Ordering::SeqCst);
    let feed =
        shared.huge_feed.lock().unwrap().clone().filter(|(n, _)| *n == items).expect("rendered by set");
    let feed = feed.1;
    let mut body = serde_json::to_string(&snapshot).unwrap();
    body.pop(); // the closing brace: the feed goes before it
    let body = format!(r#"{body},"recent_activity":[{feed}]}}"#);
    ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[derive(serde::Deserialize)]
struct After {
    after: u64,
    limit: Option<u64>,
}

async fn events_page(State(shared): State<Arc<Shared>>, Query(query): Query<After>) -> Json<Value> {
    let head = shared.events.load(Ordering::SeqCst);
    match behaviour(&shared) {
        Behaviour::EmptyPages => {
            shared.counts.empty_pages.fetch_add(1, Ordering::SeqCst);
            return Json(json!({"epoch": EPOCH, "head_seq": head, "has_more": true, "events": []}));
        }
        // Another epoch sends a client that has a baseline to the (huge) summary.
        Behaviour::HugeSummary(_) => {
            return Json(json!({"epoch": "moved", "head_seq": 0, "has_more": false, "events": []}));
        }
        _ => {}
    }
    let last = head.min(query.after + query.limit.unwrap_or(100));
    let events: Vec<Value> = (query.after + 1..=last).map(event).collect();
    Json(json!({"epoch": EPOCH, "head_seq": head, "has_more": last < head, "events": events}))
}

async fn cable(State(shared): State<Arc<Shared>>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.protocols([SUBPROTOCOL]).on_upgrade(move |socket| serve_socket(shared, socket))
}

async fn serve_socket(shared: Arc<Shared>, mut socket: WebSocket) {
    let mut kick = shared.kick.subscribe();
    let identifier = channel_identifier(ANALYTICS_CHANNEL);
    let text = |value: Value| Message::text(value.to_string());
    if socket.send(text(json!({"type": "welcome"}))).await.is_err() {
        return;
    }
    let mut ping = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = kick.changed() => return,
            _ = ping.tick() => {
                if socket.send(text(json!({"type": "ping", "message": 0}))).await.is_err() {
                    return;
                }
            }
            message = socket.recv() => {
                let Some(Ok(Message::Text(command))) = message else {
                    match message {
                        Some(Ok(_)) => continue,
                        _ => return,
                    }
                };
                let command: Value = serde_json::from_str(command.as_str()).unwrap_or_default();
                if command["command"] != "subscribe" {
                    continue;
                }
                let confirm = json!({"identifier": identifier, "type": "confirm_subscription"});
                if socket.send(text(confirm)).await.is_err() {
                    return;
                }
                shared.counts.confirmed.fetch_add(1, Ordering::SeqCst);
                if misbehave(&shared, &mut socket, &identifier).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Does what the current behaviour says right after a confirmation.
async fn misbehave(shared: &Shared, socket: &mut WebSocket, identifier: &str) -> Result<(), axum::Error> {
    match behaviour(shared) {
        Behaviour::OversizedFrame(bytes) => {
            let filler = "x".repeat(bytes);
            let frame =
                json!({"identifier": identifier, "message": {"event": "note", "data": {"x": filler}}});
            socket.send(Message::text(frame.to_string())).await?;
            shared.counts.oversized_sent.fetch_add(1, Ordering::SeqCst);
        }
        Behaviour::EarlyFlood(frames) => {
            // Far ahead of the head, and newest first: nothing of it can ever be applied.
            let head = shared.events.load(Ordering::SeqCst);
            for n in (0..frames as u64).rev() {
                let frame = json!({"identifier": identifier, "message": event(head + 1_000_000 + n)});
                socket.send(Message::text(frame.to_string())).await?;
            }
            shared.counts.floods_sent.fetch_add(1, Ordering::SeqCst);
        }
        _ => {}
    }
    Ok(())
}
