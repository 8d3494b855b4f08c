//! Property: whatever the network and the hub do — drops, stalls, duplicated and reordered live
//! events, hub restarts, new epochs, slow HTTP answers — once things calm down the machine is
//! `Live` and the dashboard equals the hub's truth.

use std::collections::VecDeque;
use std::time::Duration;

use pressroom_protocol::cable::{channel_identifier, ANALYTICS_CHANNEL};
use pressroom_protocol::{ConnectionState, Event, EventKind, EventsPage, ServerFrame, Snapshot};
use proptest::prelude::*;
use serde_json::json;

use super::tests::{broadcast, Sim};
use super::{Action, Input, Mode};

#[derive(Debug, Clone)]
enum Op {
    /// The hub commits an event; its broadcast arrives at once.
    Commit(u8),
    /// …arrives twice.
    CommitTwice(u8),
    /// …is held back and arrives after later ones.
    CommitLate(u8),
    /// …is lost because the connection breaks.
    CommitAndDrop(u8),
    /// Deliver what was held back, newest first.
    DeliverLate,
    /// The connection breaks.
    Drop,
    /// The link goes silent (no pings) for 7 s.
    Stall,
    /// The hub restarts: `server_restart`, then the socket closes.
    Restart,
    /// The hub comes back on a new database: a new epoch, counting from nothing.
    NewEpoch,
    /// The hub answers the oldest pending HTTP request.
    AnswerHttp,
    /// Time passes, with pings while connected.
    Wait(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<u8>().prop_map(Op::Commit),
        1 => any::<u8>().prop_map(Op::CommitTwice),
        1 => any::<u8>().prop_map(Op::CommitLate),
        1 => any::<u8>().prop_map(Op::CommitAndDrop),
        1 => Just(Op::DeliverLate),
        1 => Just(Op::Drop),
        1 => Just(Op::Stall),
        1 => Just(Op::Restart),
        1 => Just(Op::NewEpoch),
        3 => Just(Op::AnswerHttp),
        2 => (1u8..8).prop_map(Op::Wait),
    ]
}

const KINDS: [EventKind; 6] = EventKind::KNOWN;

/// The hub and the network around the machine.
struct World {
    sim: Sim,
    epoch: u32,
    log: Vec<Event>,
    truth: Snapshot,
    socket_up: bool,
    subscribed: bool,
    late: Vec<Event>,
    http: VecDeque<Action>,
    seen: usize,
}

impl World {
    fn new(seed: u64) -> Self {
        let mut world = World {
            sim: Sim::new(Mode::default(), seed),
            epoch: 1,
            log: Vec::new(),
            truth: Snapshot { epoch: Some("epoch-1".into()), seq: Some(0), ..Snapshot::default() },
            socket_up: false,
            subscribed: false,
            late: Vec::new(),
            http: VecDeque::new(),
            seen: 0,
        };
        world.feed(Input::Start);
        world
    }

    /// Feeds an input and plays the server's part for whatever the machine asks in return.
    fn feed(&mut self, input: Input) {
        self.sim.feed(input);
        self.serve();
    }

    /// Lets the clock run, serving what the timers that fire ask for.
    fn advance(&mut self, by: Duration) {
        self.sim.advance(by);
        self.serve();
    }

    /// Plays the server's part for every action the machine took since the last call.
    fn serve(&mut self) {
        while self.seen < self.sim.actions.len() {
            let action = self.sim.actions[self.seen].1.clone();
            self.seen += 1;
            match action {
                Action::OpenSocket => {
                    self.socket_up = true;
                    self.subscribed = false;
                    self.late.clear();
                    self.sim.feed(Input::SocketOpened);
                    self.sim.feed(Input::Frame(ServerFrame::Welcome.to_json()));
                }
                Action::Send(text) if text.contains("subscribe") && self.socket_up => {
                    self.subscribed = true;
                    let confirm = ServerFrame::ConfirmSubscription {
                        identifier: channel_identifier(ANALYTICS_CHANNEL),
                    };
                    self.sim.feed(Input::Frame(confirm.to_json()));
                }
                Action::CloseSocket => self.close(),
                fetch @ (Action::FetchSnapshot { .. } | Action::FetchEvents { .. }) => {
                    self.http.push_back(fetch)
                }
                _ => {}
            }
        }
    }

    fn close(&mut self) {
        self.socket_up = false;
        self.subscribed = false;
        self.late.clear();
    }

    fn drop_link(&mut self) {
        if self.socket_up {
            self.close();
            self.feed(Input::SocketClosed);
        }
    }

    fn commit(&mut self, pick: u8) -> Event {
        let kind = KINDS[pick as usize % KINDS.len()].clone();
        let seq = self.truth.seq.unwrap_or(0) + 1;
        let mut event = Event::new(kind, json!({"id": seq}));
        event.seq = Some(seq);
        event.epoch = self.truth.epoch.clone();
        event.at = Some(chrono::DateTime::from_timestamp(1_800_000_000 + seq as i64, 0).unwrap());
        self.truth.apply(&event);
        self.log.push(event.clone());
        event
    }

    fn deliver(&mut self, event: &Event) {
        if self.subscribed {
            self.feed(Input::Frame(broadcast(event).to_json()));
        }
    }

    fn answer_http(&mut self) {
        let Some(request) = self.http.pop_front() else { return };
        match request {
            Action::FetchSnapshot { request } => {
                self.feed(Input::Snapshot { request, result: Ok(self.truth.clone()) });
            }
            Action::FetchEvents { request, after } => {
                // Small pages, so `has_more` is exercised.
                let newer: Vec<Event> = self.log.iter().filter(|e| e.seq.unwrap() > after).cloned().collect();
                let page = EventsPage {
                    epoch: self.truth.epoch.clone().unwrap(),
                    head_seq: self.truth.seq.unwrap_or(0),
                    has_more: newer.len() > 3,
                    events: newer.into_iter().take(3).collect(),
                };
                self.feed(Input::Events { request, result: Ok(page) });
            }
            _ => unreachable!("only fetches are queued"),
        }
    }

    fn wait(&mut self, seconds: u8) {
        for _ in 0..seconds {
            self.advance(Duration::from_secs(1));
            if self.socket_up {
                self.feed(Input::Frame(ServerFrame::Ping { message: 0 }.to_json()));
            }
        }
    }

    fn run(&mut self, op: Op) {
        match op {
            Op::Commit(pick) => {
                let event = self.commit(pick);
                self.deliver(&event);
            }
            Op::CommitTwice(pick) => {
                let event = self.commit(pick);
                self.deliver(&event);
                self.deliver(&event);
            }
            Op::CommitLate(pick) => {
                let event = self.commit(pick);
                if self.subscribed {
                    self.late.push(event);
                }
            }
            Op::CommitAndDrop(pick) => {
                self.commit(pick);
                self.drop_link();
            }
            Op::DeliverLate => {
                for event in std::mem::take(&mut self.late).into_iter().rev() {
                    self.deliver(&event);
                }
            }
            Op::Drop => self.drop_link(),
            Op::Stall => {
                for _ in 0..7 {
                    self.advance(Duration::from_secs(1));
                }
            }
            Op::Restart => {
                if self.subscribed {
                    let restart =
                        ServerFrame::Disconnect { reason: "server_restart".into(), reconnect: true };
                    self.feed(Input::Frame(restart.to_json()));
                }
                self.drop_link();
            }
            Op::NewEpoch => {
                self.drop_link();
                self.epoch += 1;
                self.log.clear();
                self.truth = Snapshot {
                    epoch: Some(format!("epoch-{}", self.epoch)),
                    seq: Some(0),
                    ..Snapshot::default()
                };
            }
            Op::AnswerHttp => self.answer_http(),
            Op::Wait(seconds) => self.wait(seconds),
        }
    }

    /// No more faults: deliver what is late, answer everything, and give retries time.
    fn calm_down(&mut self) {
        self.run(Op::DeliverLate);
        for _ in 0..200 {
            while !self.http.is_empty() {
                self.answer_http();
            }
            if self.sim.state() == ConnectionState::Live {
                return;
            }
            self.wait(1);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn it_always_ends_live_with_the_hubs_numbers(seed in any::<u64>(), ops in prop::collection::vec(op(), 0..60)) {
        let mut world = World::new(seed);
        for op in ops {
            world.run(op);
        }
        world.calm_down();
        prop_assert_eq!(world.sim.state(), ConnectionState::Live);
        // One more event after calming down arrives live and is counted once.
        world.run(Op::Commit(0));
        let dashboard = &world.sim.dashboard;
        prop_assert_eq!(dashboard.totals, world.truth.totals);
        prop_assert_eq!(dashboard.print_exports_by_status, world.truth.print_exports_by_status);
        prop_assert_eq!(dashboard.seq, world.truth.seq);
        prop_assert_eq!(&dashboard.epoch, &world.truth.epoch);
    }
}
