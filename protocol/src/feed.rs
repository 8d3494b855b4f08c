//! The activity feed: the latest events, newest first, under one bound for everyone who keeps
//! it — the hub's summary, the desktop backend (and its cache) and the webview.

use serde::{Deserialize, Serialize};

/// How many events the feed keeps: what the dashboard shows, and enough for the system panel's
/// event rate over its window at the rates the hub is built for.
pub const FEED_LIMIT: usize = 200;

/// Newest first, never longer than [`FEED_LIMIT`]. Serialised as a plain list; a longer list
/// (an older cache) reads as its newest [`FEED_LIMIT`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent, bound(deserialize = "T: Deserialize<'de>"))]
pub struct Feed<T>(#[serde(deserialize_with = "newest")] Vec<T>);

fn newest<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    let mut items = Vec::<T>::deserialize(deserializer)?;
    items.truncate(FEED_LIMIT);
    Ok(items)
}

impl<T> Default for Feed<T> {
    fn default() -> Self {
        Feed(Vec::new())
    }
}

impl<T> Feed<T> {
    /// One event, the newest.
    pub fn push(&mut self, item: T) {
        self.prepend([item]);
    }

    /// Items newer than everything kept, newest first; the oldest beyond the bound go.
    pub fn prepend(&mut self, newest_first: impl IntoIterator<Item = T>) {
        let newer: Vec<T> = newest_first.into_iter().take(FEED_LIMIT).collect();
        self.0.truncate(FEED_LIMIT - newer.len());
        self.0.splice(0..0, newer);
    }
}

impl<T> std::ops::Deref for Feed<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T> FromIterator<T> for Feed<T> {
    /// From items newest first.
    fn from_iter<I: IntoIterator<Item = T>>(newest_first: I) -> Self {
        Feed(newest_first.into_iter().take(FEED_LIMIT).collect())
    }
}

impl<T> From<Feed<T>> for Vec<T> {
    fn from(feed: Feed<T>) -> Vec<T> {
        feed.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_come_first_and_the_oldest_beyond_the_bound_go() {
        let mut feed = Feed::default();
        for n in 1..=FEED_LIMIT + 5 {
            feed.push(n);
        }
        assert_eq!(feed.len(), FEED_LIMIT);
        assert_eq!((feed[0], feed[FEED_LIMIT - 1]), (FEED_LIMIT + 5, 6));
        feed.prepend([1002, 1001]);
        assert_eq!((feed.len(), feed[0], feed[1], feed[2]), (FEED_LIMIT, 1002, 1001, FEED_LIMIT + 5));
        feed.prepend(5000..5000 + FEED_LIMIT * 2);
        assert_eq!((feed.len(), feed[0], feed[FEED_LIMIT - 1]), (FEED_LIMIT, 5000, 5000 + FEED_LIMIT - 1));
    }

    #[test]
    fn a_longer_list_reads_as_its_newest_items() {
        let list: Vec<usize> = (0..FEED_LIMIT * 3).collect();
        let feed: Feed<usize> = serde_json::from_value(serde_json::json!(list)).unwrap();
        assert_eq!(&*feed, &list[..FEED_LIMIT]);
        assert_eq!(serde_json::to_value(&feed).unwrap(), serde_json::json!(list[..FEED_LIMIT]));
        assert_eq!(&*(0..FEED_LIMIT + 1).collect::<Feed<_>>(), &list[..FEED_LIMIT]);
    }
}
