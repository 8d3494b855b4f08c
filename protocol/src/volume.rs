//! Job-order volume: counts per minute for the last hour and per hour for the last day.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// Buckets in `per_minute`.
pub const MINUTES: usize = 60;
/// Buckets in `per_hour`.
pub const HOURS: usize = 24;

/// The count of job orders created in the bucket starting at `t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bucket {
    pub t: DateTime<Utc>,
    pub count: u64,
}

/// Contiguous buckets, oldest first, the last one holding the newest job order seen (or now).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobOrderVolume {
    pub per_minute: Vec<Bucket>,
    pub per_hour: Vec<Bucket>,
}

/// Which series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Minute,
    Hour,
}

impl Granularity {
    fn width(self) -> TimeDelta {
        match self {
            Granularity::Minute => TimeDelta::minutes(1),
            Granularity::Hour => TimeDelta::hours(1),
        }
    }

    fn len(self) -> usize {
        match self {
            Granularity::Minute => MINUTES,
            Granularity::Hour => HOURS,
        }
    }

    /// The start of the bucket holding `at`.
    pub fn floor(self, at: DateTime<Utc>) -> DateTime<Utc> {
        let width = self.width().num_seconds();
        let secs = at.timestamp();
        DateTime::from_timestamp(secs - secs.rem_euclid(width), 0).expect("a floored time is in range")
    }
}

impl JobOrderVolume {
    /// Zeroed series whose last buckets hold `now`.
    pub fn empty_at(now: DateTime<Utc>) -> Self {
        let mut volume = JobOrderVolume::default();
        volume.advance_to(now);
        volume
    }

    fn series_mut(&mut self, granularity: Granularity) -> &mut Vec<Bucket> {
        match granularity {
            Granularity::Minute => &mut self.per_minute,
            Granularity::Hour => &mut self.per_hour,
        }
    }

    /// Slides both windows forward so their last buckets hold `now`, dropping the oldest.
    pub fn advance_to(&mut self, now: DateTime<Utc>) {
        for granularity in [Granularity::Minute, Granularity::Hour] {
            let (len, width) = (granularity.len(), granularity.width());
            let newest = granularity.floor(now);
            let series = self.series_mut(granularity);
            let oldest_kept = newest - width * (len as i32 - 1);
            series.retain(|bucket| bucket.t >= oldest_kept && bucket.t <= newest);
            let mut t = series.last().map_or(oldest_kept, |last| last.t + width);
            while t <= newest {
                series.push(Bucket { t, count: 0 });
                t += width;
            }
            if series.first().is_some_and(|first| first.t > oldest_kept) {
                let missing = series[0].t;
                let mut front = Vec::with_capacity(len);
                let mut t = oldest_kept;
                while t < missing {
                    front.push(Bucket { t, count: 0 });
                    t += width;
                }
                series.splice(0..0, front);
            }
        }
    }

    /// Adds `count` job orders to the bucket holding `at`; a time older than the window is
    /// ignored, a newer one slides the window forward.
    pub fn add(&mut self, granularity: Granularity, at: DateTime<Utc>, count: u64) {
        let start = granularity.floor(at);
        if self.series_mut(granularity).last().is_none_or(|last| start > last.t) {
            self.advance_to(at);
        }
        if let Some(bucket) = self.series_mut(granularity).iter_mut().rev().find(|b| b.t == start) {
            bucket.count += count;
        }
    }

    /// Counts one job order created at `at` in both series.
    pub fn record(&mut self, at: DateTime<Utc>) {
        self.add(Granularity::Minute, at, 1);
        self.add(Granularity::Hour, at, 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn empty_series_are_full_length_and_end_at_now() {
        let volume = JobOrderVolume::empty_at(at("2026-11-27T10:32:45Z"));
        assert_eq!(volume.per_minute.len(), MINUTES);
        assert_eq!(volume.per_hour.len(), HOURS);
        assert_eq!(volume.per_minute.last().unwrap().t, at("2026-11-27T10:32:00Z"));
        assert_eq!(volume.per_minute[0].t, at("2026-11-27T09:33:00Z"));
        assert_eq!(volume.per_hour.last().unwrap().t, at("2026-11-27T10:00:00Z"));
        assert!(volume.per_minute.iter().all(|b| b.count == 0));
    }

    #[test]
    fn recording_counts_in_both_series_and_slides_the_window() {
        let mut volume = JobOrderVolume::empty_at(at("2026-11-27T10:32:00Z"));
        volume.record(at("2026-11-27T10:32:10Z"));
        volume.record(at("2026-11-27T10:32:50Z"));
        volume.record(at("2026-11-27T10:35:01Z"));
        assert_eq!(volume.per_minute.len(), MINUTES);
        let last: Vec<u64> = volume.per_minute.iter().rev().take(4).map(|b| b.count).collect();
        assert_eq!(last, [1, 0, 0, 2], "10:35, 10:34, 10:33, 10:32");
        assert_eq!(volume.per_hour.last().unwrap().count, 3);
        assert_eq!(volume.per_minute.last().unwrap().t, at("2026-11-27T10:35:00Z"));
    }

    #[test]
    fn times_before_the_window_are_ignored_and_big_jumps_reset() {
        let mut volume = JobOrderVolume::empty_at(at("2026-11-27T10:00:00Z"));
        volume.record(at("2026-11-27T08:00:00Z"));
        assert!(volume.per_minute.iter().all(|b| b.count == 0), "two hours old: outside the minute window");
        assert_eq!(volume.per_hour.iter().map(|b| b.count).sum::<u64>(), 1, "inside the hour window");
        volume.record(at("2026-11-29T10:00:00Z"));
        assert_eq!(volume.per_minute.iter().map(|b| b.count).sum::<u64>(), 1);
        assert_eq!(volume.per_hour.iter().map(|b| b.count).sum::<u64>(), 1, "the old hour slid out");
        assert_eq!(volume.per_hour.len(), HOURS);
    }

    #[test]
    fn buckets_stay_contiguous() {
        let mut volume = JobOrderVolume::default();
        volume.add(Granularity::Minute, at("2026-11-27T10:00:00Z"), 5);
        volume.advance_to(at("2026-11-27T10:07:30Z"));
        for pair in volume.per_minute.windows(2) {
            assert_eq!(pair[1].t - pair[0].t, TimeDelta::minutes(1));
        }
        assert_eq!(volume.per_minute.iter().map(|b| b.count).sum::<u64>(), 5);
    }
}
