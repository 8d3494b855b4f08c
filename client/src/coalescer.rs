//! The coalescer, sans IO: events are applied to the state as they arrive, but the webview gets
//! at most one frame per window (exact totals, and the feed items new since the last frame), the
//! chart series at most once a second, and nothing while paused or while no window is visible.

use std::time::{Duration, Instant};

/// Never more than 20 frames a second, whatever the setting says.
pub const MIN_WINDOW: Duration = Duration::from_millis(50);
pub const DEFAULT_WINDOW: Duration = Duration::from_millis(100);
/// The chart's series go out at most this often.
pub const CHART_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// This many events were applied to the state (which keeps the feed and what of it is new).
    Applied(usize),
    /// The state was replaced (a snapshot): the next frame carries everything.
    Replaced,
    Pause,
    Resume,
    /// The clock reached [`Coalescer::deadline`].
    Timeout,
    SetWindow(Duration),
    /// Every window is hidden or minimised: send nothing, remember only that a catch-up is due.
    Hidden,
    /// A window is visible again: one catch-up frame with everything, straight away.
    Shown,
}

/// What a frame should carry besides the exact totals, which are read when it is built.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FramePlan {
    /// The feed is to be replaced by the state's whole feed.
    pub full: bool,
    /// Include the chart's series.
    pub chart: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Frame(FramePlan),
    /// Paused: this many events arrived unseen (emitted at most once per window).
    Unseen(u64),
}

#[derive(Debug)]
pub struct Coalescer {
    window: Duration,
    pending: FramePlan,
    dirty: bool,
    chart_dirty: bool,
    last_frame: Option<Instant>,
    last_chart: Option<Instant>,
    armed: Option<Instant>,
    paused: bool,
    hidden: bool,
    unseen: u64,
    unseen_reported: u64,
}

impl Coalescer {
    pub fn new(window: Duration) -> Self {
        Coalescer {
            window: window.max(MIN_WINDOW),
            pending: FramePlan::default(),
            dirty: false,
            chart_dirty: false,
            last_frame: None,
            last_chart: None,
            armed: None,
            paused: false,
            hidden: false,
            unseen: 0,
            unseen_reported: 0,
        }
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    /// When a frame (or the chart, or the unseen count) is next due: call back with
    /// [`Input::Timeout`] then.
    pub fn deadline(&self) -> Option<Instant> {
        self.armed
    }

    pub fn handle(&mut self, input: Input, now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        match input {
            Input::Applied(count) => {
                if self.paused {
                    self.unseen += count as u64;
                }
                self.chart_dirty = true;
                self.dirty = true;
            }
            Input::Replaced => {
                self.pending = FramePlan { full: true, ..FramePlan::default() };
                self.chart_dirty = true;
                self.dirty = true;
            }
            Input::Pause => {
                self.paused = true;
                self.unseen = 0;
                self.unseen_reported = 0;
                out.push(Output::Unseen(0));
            }
            Input::Resume => {
                if self.paused {
                    self.paused = false;
                    // One catch-up frame with everything, straight away.
                    self.pending = FramePlan { full: true, chart: true };
                    self.dirty = true;
                    self.chart_dirty = true;
                    self.emit(now, &mut out);
                    return out;
                }
            }
            Input::Hidden => {
                self.hidden = true;
                // The frame on show carries everything: nothing piles up while hidden.
                self.pending = FramePlan { full: true, ..FramePlan::default() };
                self.dirty = true;
                self.chart_dirty = true;
            }
            Input::Shown => {
                if self.hidden {
                    self.hidden = false;
                    if !self.paused {
                        self.pending.chart = true;
                        self.emit(now, &mut out);
                        return out;
                    }
                }
            }
            Input::Timeout => self.armed = None,
            Input::SetWindow(window) => self.window = window.max(MIN_WINDOW),
        }
        self.flush(now, &mut out);
        out
    }

    /// Emits what is due, or sets the deadline for when it will be.
    fn flush(&mut self, now: Instant, out: &mut Vec<Output>) {
        if self.hidden {
            return;
        }
        let frame_due = self.last_frame.map_or(now, |last| last + self.window);
        if self.paused {
            if self.unseen != self.unseen_reported {
                if now >= frame_due {
                    self.unseen_reported = self.unseen;
                    self.last_frame = Some(now);
                    out.push(Output::Unseen(self.unseen));
                } else {
                    self.arm(frame_due);
                }
            }
            return;
        }
        if self.dirty {
            if now >= frame_due {
                self.emit(now, out);
            } else {
                self.arm(frame_due);
            }
        }
        if self.chart_dirty && !self.dirty {
            // Only the chart is waiting: wake when it may go.
            let chart_due = self.last_chart.map_or(now, |last| last + CHART_EVERY);
            if chart_due > now {
                self.arm(chart_due.max(frame_due));
            } else if now >= frame_due {
                self.dirty = true;
                self.emit(now, out);
            } else {
                self.arm(frame_due);
            }
        }
    }

    fn emit(&mut self, now: Instant, out: &mut Vec<Output>) {
        let mut plan = std::mem::take(&mut self.pending);
        let chart_due = self.last_chart.is_none_or(|last| now >= last + CHART_EVERY);
        if self.chart_dirty && (chart_due || plan.chart) {
            plan.chart = true;
            self.chart_dirty = false;
            self.last_chart = Some(now);
        } else {
            plan.chart = false;
        }
        self.dirty = false;
        self.last_frame = Some(now);
        out.push(Output::Frame(plan));
        if self.chart_dirty {
            let chart_due = self.last_chart.map_or(now, |last| last + CHART_EVERY);
            self.arm(chart_due);
        }
    }

    /// Wants a call back by `at` (an earlier wish stands).
    fn arm(&mut self, at: Instant) {
        if self.armed.is_none_or(|armed| armed > at) {
            self.armed = Some(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pressroom_protocol::Feed;

    /// Drives a coalescer through a schedule of inputs, firing its timer when asked. Events are
    /// numbers in a feed kept as the state keeps it; its frames build the feed a window shows.
    struct Sim {
        coalescer: Coalescer,
        start: Instant,
        frames: Vec<(Duration, FramePlan)>,
        unseen: Vec<u64>,
        feed: Feed<i64>,
        /// Items joined the feed since the last frame, as the state counts them.
        unsent: usize,
        shown: Feed<i64>,
        /// Items that reached the window as new, over all frames.
        delivered: usize,
    }

    impl Sim {
        fn new(window: Duration) -> Self {
            Sim {
                coalescer: Coalescer::new(window),
                start: Instant::now(),
                frames: vec![],
                unseen: vec![],
                feed: Feed::default(),
                unsent: 0,
                shown: Feed::default(),
                delivered: 0,
            }
        }

        /// Events `ids` are applied to the state at `at`.
        fn arrive(&mut self, ids: impl IntoIterator<Item = i64>, at: Duration) {
            self.run_timer_until(at);
            let mut count = 0;
            for id in ids {
                self.feed.push(id);
                count += 1;
            }
            self.unsent += count;
            self.apply(Input::Applied(count), self.start + at);
        }

        fn feed(&mut self, input: Input, at: Duration) {
            self.run_timer_until(at);
            self.apply(input, self.start + at);
        }

        fn apply(&mut self, input: Input, now: Instant) {
            for output in self.coalescer.handle(input, now) {
                match output {
                    Output::Frame(plan) => {
                        // What the state puts in the frame, applied as the window does.
                        if plan.full {
                            self.shown = self.feed.clone();
                        } else {
                            let new = self.unsent.min(self.feed.len());
                            self.shown.prepend(self.feed.iter().take(new).copied());
                            self.delivered += new;
                        }
                        self.unsent = 0;
                        self.frames.push((now - self.start, plan));
                    }
                    Output::Unseen(n) => self.unseen.push(n),
                }
            }
        }

        fn run_timer_until(&mut self, at: Duration) {
            while let Some(due) = self.coalescer.deadline().filter(|due| *due <= self.start + at) {
                self.apply(Input::Timeout, due);
            }
        }
    }

    #[test]
    fn a_flood_gets_at_most_one_frame_per_window_and_loses_no_item() {
        let mut sim = Sim::new(DEFAULT_WINDOW);
        // 1000 events in one second, one every millisecond.
        for n in 0..1000 {
            sim.arrive([n], Duration::from_millis(n as u64));
        }
        sim.run_timer_until(Duration::from_secs(2));
        let times: Vec<Duration> = sim.frames.iter().map(|(t, _)| *t).collect();
        for pair in times.windows(2) {
            assert!(pair[1] - pair[0] >= DEFAULT_WINDOW, "frames {:?} and {:?} too close", pair[0], pair[1]);
        }
        assert!(sim.frames.len() <= 11, "{} frames for one second", sim.frames.len());
        assert_eq!(sim.delivered, 1000, "every item once");
        assert_eq!(&*sim.shown, &*sim.feed, "the window shows the state's feed, newest first");
        assert_eq!(sim.shown[0], 999);
    }

    #[test]
    fn the_first_change_goes_out_at_once() {
        let mut sim = Sim::new(DEFAULT_WINDOW);
        sim.arrive([1], Duration::from_millis(5));
        assert_eq!(sim.frames.len(), 1);
        assert_eq!(sim.frames[0].0, Duration::from_millis(5));
    }

    #[test]
    fn the_window_is_never_under_fifty_milliseconds() {
        let mut sim = Sim::new(Duration::ZERO);
        for n in 0..100 {
            sim.arrive([n], Duration::from_millis(n as u64 * 5));
        }
        sim.run_timer_until(Duration::from_secs(1));
        assert!(sim.frames.windows(2).all(|w| w[1].0 - w[0].0 >= MIN_WINDOW));
    }

    #[test]
    fn chart_series_go_out_at_most_once_a_second() {
        let mut sim = Sim::new(DEFAULT_WINDOW);
        for n in 0..50 {
            sim.arrive([n], Duration::from_millis(n as u64 * 100));
        }
        sim.run_timer_until(Duration::from_secs(7));
        let charts: Vec<Duration> = sim.frames.iter().filter(|(_, p)| p.chart).map(|(t, _)| *t).collect();
        assert!(charts.windows(2).all(|w| w[1] - w[0] >= CHART_EVERY), "{charts:?}");
        assert!(charts.len() >= 5, "the chart keeps up: {charts:?}");
        let last_change = Duration::from_millis(4900);
        assert!(charts.last().unwrap() >= &last_change, "the last change reaches the chart too");
    }

    #[test]
    fn pause_freezes_frames_counts_unseen_events_and_resume_catches_up_in_one_frame() {
        let mut sim = Sim::new(DEFAULT_WINDOW);
        sim.arrive([1], Duration::ZERO);
        sim.feed(Input::Pause, Duration::from_millis(10));
        for n in 2..=31 {
            sim.arrive([n], Duration::from_millis(10 * n as u64));
        }
        sim.run_timer_until(Duration::from_secs(2));
        assert_eq!(sim.frames.len(), 1, "no frame while paused");
        assert_eq!(*sim.unseen.last().unwrap(), 30);
        assert!(sim.unseen.len() <= 6, "the count is coalesced too: {:?}", sim.unseen);
        sim.feed(Input::Resume, Duration::from_secs(3));
        assert_eq!(sim.frames.len(), 2);
        let (at, plan) = &sim.frames[1];
        assert_eq!(*at, Duration::from_secs(3));
        assert!(plan.full && plan.chart, "one catch-up frame with everything");
        assert_eq!(&*sim.shown, &*sim.feed);
    }

    #[test]
    fn a_long_pause_counts_every_event_but_keeps_only_the_newest_items() {
        let mut sim = Sim::new(DEFAULT_WINDOW);
        sim.feed(Input::Pause, Duration::ZERO);
        for n in 0..20_000 {
            sim.arrive([n], Duration::from_millis(1 + n as u64 / 10));
        }
        sim.run_timer_until(Duration::from_secs(3));
        assert_eq!(*sim.unseen.last().unwrap(), 20_000, "the count is exact");
        assert_eq!(sim.frames.len(), 0);
        sim.feed(Input::Resume, Duration::from_secs(4));
        assert!(sim.frames[0].1.full, "the catch-up replaces the feed: {:?}", sim.frames);
        assert_eq!(sim.shown[0], 19_999);
    }

    #[test]
    fn a_replaced_state_sends_a_full_frame() {
        let mut sim = Sim::new(DEFAULT_WINDOW);
        sim.arrive([1], Duration::ZERO);
        sim.arrive([2], Duration::from_millis(10));
        sim.feed(Input::Replaced, Duration::from_millis(20));
        sim.arrive([3], Duration::from_millis(30));
        sim.run_timer_until(Duration::from_secs(1));
        let (_, plan) = &sim.frames[1];
        assert!(plan.full, "the full frame covers the events around it");
        assert_eq!(&*sim.shown, &*sim.feed);
    }

    #[test]
    fn hidden_sends_nothing_and_showing_sends_one_full_frame() {
        let mut sim = Sim::new(DEFAULT_WINDOW);
        sim.arrive([1], Duration::ZERO);
        assert_eq!(sim.frames.len(), 1);
        sim.feed(Input::Hidden, Duration::from_millis(10));
        for n in 0..1000 {
            sim.arrive([n + 2], Duration::from_millis(20 + n as u64));
        }
        sim.run_timer_until(Duration::from_secs(60));
        assert_eq!(sim.frames.len(), 1, "no frame while hidden");

        sim.feed(Input::Shown, Duration::from_secs(61));
        assert_eq!(sim.frames.len(), 2);
        let (at, plan) = &sim.frames[1];
        assert_eq!(*at, Duration::from_secs(61), "at once");
        assert!(plan.full && plan.chart, "the catch-up carries everything: {plan:?}");
        assert_eq!(&*sim.shown, &*sim.feed);
        sim.feed(Input::Shown, Duration::from_secs(62));
        assert_eq!(sim.frames.len(), 2, "showing again changes nothing");
    }

    #[test]
    fn paused_and_hidden_shows_the_unseen_count_on_show() {
        let mut sim = Sim::new(DEFAULT_WINDOW);
        sim.feed(Input::Pause, Duration::ZERO);
        sim.feed(Input::Hidden, Duration::from_millis(10));
        sim.arrive([1, 2], Duration::from_secs(1));
        sim.run_timer_until(Duration::from_secs(5));
        assert_eq!(sim.unseen, [0]);
        sim.feed(Input::Shown, Duration::from_secs(6));
        assert!(sim.frames.is_empty(), "still paused");
        assert_eq!(sim.unseen, [0, 2]);
    }
}
