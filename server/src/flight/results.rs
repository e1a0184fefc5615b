//! Results of script runs kept for the client to fetch output by output.
//!
//! The `run` action (and `GetFlightInfo` with a script command) executes a
//! script once and hands back one ticket per output; the outputs wait here
//! until fetched. The cache is bounded in bytes and in age: the oldest
//! results go first, and evictions are counted.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use polars::prelude::DataFrame;

pub const DEFAULT_RESULT_CACHE_BYTES: usize = 256 << 20;
pub const DEFAULT_RESULT_TTL: Duration = Duration::from_secs(600);

struct Entry {
    id: String,
    created: Instant,
    bytes: usize,
    outputs: Vec<(String, DataFrame)>,
}

pub struct ResultCache {
    max_bytes: usize,
    ttl: Duration,
    entries: Mutex<VecDeque<Entry>>,
    next_id: AtomicU64,
    evicted: AtomicU64,
}

impl ResultCache {
    pub fn new(max_bytes: usize, ttl: Duration) -> Self {
        ResultCache {
            max_bytes,
            ttl,
            entries: Mutex::new(VecDeque::new()),
            next_id: AtomicU64::new(1),
            evicted: AtomicU64::new(0),
        }
    }

    /// Keep `outputs`; returns the id tickets refer to. A result larger
    /// than the whole cache is still kept (alone) so it can be fetched once.
    pub fn insert(&self, outputs: Vec<(String, DataFrame)>) -> String {
        let id = format!(
            "r{}-{:x}",
            self.next_id.fetch_add(1, Ordering::Relaxed),
            std::process::id()
        );
        let bytes = outputs.iter().map(|(_, df)| df.estimated_size()).sum();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        self.expire(&mut entries);
        let mut held: usize = entries.iter().map(|e| e.bytes).sum();
        while !entries.is_empty() && held + bytes > self.max_bytes {
            if let Some(old) = entries.pop_front() {
                held -= old.bytes;
                self.evicted.fetch_add(1, Ordering::Relaxed);
            }
        }
        entries.push_back(Entry {
            id: id.clone(),
            created: Instant::now(),
            bytes,
            outputs,
        });
        id
    }

    /// One output of a kept result (frames share their buffers; no copy).
    pub fn get(&self, id: &str, output: &str) -> Option<DataFrame> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        self.expire(&mut entries);
        entries
            .iter()
            .find(|e| e.id == id)
            .and_then(|e| e.outputs.iter().find(|(n, _)| n == output))
            .map(|(_, df)| df.clone())
    }

    pub fn evicted(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    fn expire(&self, entries: &mut VecDeque<Entry>) {
        while entries
            .front()
            .is_some_and(|e| e.created.elapsed() > self.ttl)
        {
            entries.pop_front();
            self.evicted.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::df;

    fn frame(n: i64) -> DataFrame {
        df!("x" => (0..n).collect::<Vec<i64>>()).unwrap()
    }

    #[test]
    fn oldest_results_go_first_when_full() {
        let one = frame(1000).estimated_size();
        let cache = ResultCache::new(one * 2, DEFAULT_RESULT_TTL);
        let a = cache.insert(vec![("out".into(), frame(1000))]);
        let b = cache.insert(vec![("out".into(), frame(1000))]);
        let c = cache.insert(vec![("out".into(), frame(1000))]);
        assert!(cache.get(&a, "out").is_none());
        assert!(cache.get(&b, "out").is_some());
        assert!(cache.get(&c, "out").is_some());
        assert!(cache.get(&c, "other").is_none());
        assert_eq!(cache.evicted(), 1);
    }

    #[test]
    fn results_expire() {
        let cache = ResultCache::new(1 << 20, Duration::from_millis(1));
        let a = cache.insert(vec![("out".into(), frame(10))]);
        std::thread::sleep(Duration::from_millis(5));
        assert!(cache.get(&a, "out").is_none());
    }
}
