//! The Finder's page cache: the first pages of recent searches (and their month histograms),
//! kept in the process so that going back to a query (backspace, a sort tried and undone, a
//! site revisited) shows its results at once instead of asking the database again.
//!
//! Freshness comes from LISTEN/NOTIFY: a change on a site (anyone's, ours included) drops that
//! site's pages, so a cached page is never older than the last change the app has heard of.

use std::collections::VecDeque;

use super::search_types::{MatchCount, SearchPage, Sort};
use crate::domain::histogram::MonthCount;

/// How many first pages are kept (the least recently used goes first).
pub const CAPACITY: usize = 64;

/// What a first page answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub site_id: i32,
    pub query: String,
    pub sort: Sort,
    pub archive: bool,
}

/// One cached search.
#[derive(Clone, Debug)]
pub struct Entry {
    pub page: SearchPage,
    pub months: Option<Vec<MonthCount>>,
}

/// The cache, with its hit and miss counts (shown on the status line).
#[derive(Clone, Debug, Default)]
pub struct PageCache {
    entries: VecDeque<(Key, Entry)>,
    pub hits: u64,
    pub misses: u64,
}

impl PageCache {
    /// The page for `key`, counting a hit or a miss; a hit becomes the most recent.
    pub fn lookup(&mut self, key: &Key) -> Option<Entry> {
        match self.entries.iter().position(|(k, _)| k == key) {
            Some(i) => {
                self.hits += 1;
                let found = self.entries.remove(i)?;
                let entry = found.1.clone();
                self.entries.push_front(found);
                Some(entry)
            }
            None => {
                self.misses += 1;
                None
            }
        }
    }

    /// Keeps `page` for `key` (replacing an older one), dropping the least recently used beyond
    /// [`CAPACITY`].
    pub fn insert(&mut self, key: Key, page: SearchPage) {
        self.entries.retain(|(k, _)| *k != key);
        self.entries.push_front((key, Entry { page, months: None }));
        self.entries.truncate(CAPACITY);
    }

    /// Adds the month histogram to the cached page of `key`, if it is still there.
    pub fn set_months(&mut self, key: &Key, months: Vec<MonthCount>) {
        if let Some((_, entry)) = self.entries.iter_mut().find(|(k, _)| k == key) {
            entry.months = Some(months);
        }
    }

    /// Adds the match count to the cached page of `key`, if it is still there.
    pub fn set_count(&mut self, key: &Key, count: MatchCount) {
        if let Some((_, entry)) = self.entries.iter_mut().find(|(k, _)| k == key) {
            entry.page.count = Some(count);
        }
    }

    /// Forgets every page of `site_id` (something changed there).
    pub fn invalidate(&mut self, site_id: i32) {
        self.entries.retain(|(k, _)| k.site_id != site_id);
    }

    /// Forgets every page (changes may have been missed, as while the connection was lost).
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Pages kept now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Nothing kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Hits per lookup, when there has been one.
    pub fn hit_rate(&self) -> Option<f64> {
        let total = self.hits + self.misses;
        (total > 0).then(|| self.hits as f64 / total as f64)
    }

    /// This window's cache as a line of the Health screen (informational: the rate depends on
    /// how often queries repeat before their site changes).
    pub fn check(&self) -> crate::domain::health::Check {
        let rate = self.hit_rate().map_or("no searches yet".to_string(), |r| {
            format!("{:.0}%", r * 100.0)
        });
        crate::domain::health::Check {
            name: "Finder page cache",
            value: format!(
                "hit rate {rate} (hits {}, misses {}); {} of {CAPACITY} pages kept",
                self.hits,
                self.misses,
                self.entries.len()
            ),
            verdict: crate::domain::health::Verdict::Ok,
            threshold: "informational (this window): pages are dropped when their site changes"
                .to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::test_support::page;

    fn key(site_id: i32, query: &str) -> Key {
        Key {
            site_id,
            query: query.into(),
            sort: Sort::Relevance,
            archive: false,
        }
    }

    #[test]
    fn hits_misses_recency_and_invalidation() {
        let mut cache = PageCache::default();
        assert!(cache.lookup(&key(1, "a")).is_none());
        cache.insert(key(1, "a"), page(0, 2, false));
        cache.insert(key(2, "a"), page(0, 3, false));
        assert_eq!(
            cache.lookup(&key(1, "a")).map(|e| e.page.hits.len()),
            Some(2)
        );
        assert_eq!((cache.hits, cache.misses), (1, 1));
        assert_eq!(cache.hit_rate(), Some(0.5));
        cache.invalidate(1);
        assert!(cache.lookup(&key(1, "a")).is_none(), "site 1 changed");
        assert!(cache.lookup(&key(2, "a")).is_some(), "site 2 did not");
        let line = cache.check();
        assert_eq!(line.name, "Finder page cache");
        assert!(
            line.value
                .starts_with("hit rate 50% (hits 2, misses 2); 1 of 64 pages kept"),
            "{}",
            line.value
        );
    }

    #[test]
    fn a_count_that_follows_its_page_is_kept_with_it() {
        let mut cache = PageCache::default();
        let mut first = page(0, 2, true);
        first.count = None;
        cache.insert(key(1, "a"), first);
        cache.set_count(&key(1, "a"), MatchCount::AtLeast(1000));
        assert_eq!(
            cache.lookup(&key(1, "a")).and_then(|e| e.page.count),
            Some(MatchCount::AtLeast(1000))
        );
    }

    #[test]
    fn the_least_recently_used_goes_first() {
        let mut cache = PageCache::default();
        for n in 0..CAPACITY {
            cache.insert(key(1, &n.to_string()), page(0, 1, false));
        }
        assert!(
            cache.lookup(&key(1, "0")).is_some(),
            "used again: now the most recent"
        );
        cache.insert(key(1, "new"), page(0, 1, false));
        assert_eq!(cache.len(), CAPACITY);
        assert!(
            cache.lookup(&key(1, "1")).is_none(),
            "the oldest unused one went"
        );
        assert!(cache.lookup(&key(1, "0")).is_some());
    }
}
