//! Shared machinery for the per-protocol parsers: the result of parsing one
//! frame ([`Parsed`]), a bounded per-direction byte buffer that remembers
//! which syscall each byte came from ([`ByteStream`]), and a bounded queue
//! of requests waiting for their response ([`PendingQueue`]).

use std::collections::VecDeque;

use super::{Direction, ProtocolCounters, Role};

/// The outcome of parsing one frame at the start of a buffer.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed<T> {
    /// A whole frame: the first `consumed` bytes of the buffer.
    Frame { frame: T, consumed: usize },
    /// The buffer holds the start of a frame (or nothing): nothing was
    /// consumed; call again with more bytes.
    NeedMore,
    /// The buffer does not start with a frame of this protocol.
    Invalid(&'static str),
}

impl<T> Parsed<T> {
    pub fn is_need_more(&self) -> bool {
        matches!(self, Parsed::NeedMore)
    }
}

/// Which direction carries requests, given the traced process's role.
pub fn request_direction(role: Role) -> Direction {
    match role {
        Role::Server => Direction::Ingress,
        Role::Client | Role::Unknown => Direction::Egress,
    }
}

/// One direction of a connection: the bytes not yet parsed, with the
/// timestamp of the chunk each byte arrived in. Bounded: when more than
/// `max` bytes are pending, the oldest are dropped (and reported).
#[derive(Debug)]
pub struct ByteStream {
    buf: Vec<u8>,
    /// Bytes of `buf` already consumed (compacted lazily).
    head: usize,
    /// Absolute stream offset of `buf[0]`.
    base: u64,
    /// (absolute offset of a chunk's first byte, its timestamp), ascending.
    marks: VecDeque<(u64, u64)>,
    max: usize,
}

impl ByteStream {
    pub fn new(max: usize) -> Self {
        ByteStream {
            buf: Vec::new(),
            head: 0,
            base: 0,
            marks: VecDeque::new(),
            max: max.max(1),
        }
    }

    /// The bytes not yet consumed.
    pub fn bytes(&self) -> &[u8] {
        &self.buf[self.head..]
    }

    pub fn len(&self) -> usize {
        self.buf.len() - self.head
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends one chunk. Returns how many of the oldest bytes had to be
    /// dropped to stay within the bound (0 normally).
    pub fn push(&mut self, data: &[u8], timestamp_ns: u64) -> usize {
        if data.is_empty() {
            return 0;
        }
        let end = self.base + self.buf.len() as u64;
        self.marks.push_back((end, timestamp_ns));
        self.buf.extend_from_slice(data);
        let over = self.len().saturating_sub(self.max);
        if over > 0 {
            self.consume(over);
        }
        self.compact();
        over
    }

    /// Drops the first `n` unconsumed bytes (all of them if `n` is larger).
    pub fn consume(&mut self, n: usize) {
        self.head += n.min(self.len());
        let pos = self.base + self.head as u64;
        // Keep the mark covering `pos`, drop the ones before it.
        while self.marks.len() > 1 && self.marks[1].0 <= pos {
            self.marks.pop_front();
        }
        if self.is_empty() {
            self.base += self.buf.len() as u64;
            self.buf.clear();
            self.head = 0;
            self.marks.clear();
        }
    }

    pub fn clear(&mut self) {
        self.consume(self.len());
    }

    /// Timestamp of the chunk holding the unconsumed byte at `offset`
    /// (0 if the buffer is empty).
    pub fn timestamp_at(&self, offset: usize) -> u64 {
        let pos = self.base + (self.head + offset) as u64;
        let mut ts = 0;
        for &(start, t) in &self.marks {
            if start > pos {
                break;
            }
            ts = t;
        }
        ts
    }

    fn compact(&mut self) {
        if self.head > 0 && self.head * 2 >= self.buf.len() {
            self.buf.drain(..self.head);
            self.base += self.head as u64;
            self.head = 0;
        }
    }
}

/// A bounded FIFO of requests waiting for responses. Pushing beyond the
/// bound drops the oldest request and counts it as unmatched.
#[derive(Debug)]
pub struct PendingQueue<T> {
    items: VecDeque<T>,
    max: usize,
}

impl<T> PendingQueue<T> {
    pub fn new(max: usize) -> Self {
        PendingQueue {
            items: VecDeque::new(),
            max: max.max(1),
        }
    }

    pub fn push(&mut self, item: T, counters: &ProtocolCounters) {
        if self.items.len() >= self.max {
            self.items.pop_front();
            ProtocolCounters::add(&counters.unmatched_requests, 1);
        }
        self.items.push_back(item);
    }

    pub fn pop_front(&mut self) -> Option<T> {
        self.items.pop_front()
    }

    pub fn front(&self) -> Option<&T> {
        self.items.front()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Removes and returns the first item matching `pred`.
    pub fn take_first(&mut self, pred: impl Fn(&T) -> bool) -> Option<T> {
        let i = self.items.iter().position(pred)?;
        self.items.remove(i)
    }

    /// Drops everything, counting each as an unmatched request.
    pub fn drain_unmatched(&mut self, counters: &ProtocolCounters) {
        ProtocolCounters::add(&counters.unmatched_requests, self.items.len() as u64);
        self.items.clear();
    }
}

/// Skips bytes of `buf` from `from` until `is_start` accepts a position;
/// returns that position, or `buf.len()` if none does.
pub fn scan_for(buf: &[u8], from: usize, is_start: impl Fn(&[u8]) -> bool) -> usize {
    (from..buf.len())
        .find(|&i| is_start(&buf[i..]))
        .unwrap_or(buf.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_stream_tracks_timestamps_and_bounds() {
        let mut s = ByteStream::new(8);
        assert_eq!(s.push(b"abc", 10), 0);
        assert_eq!(s.push(b"def", 20), 0);
        assert_eq!(s.timestamp_at(0), 10);
        assert_eq!(s.timestamp_at(2), 10);
        assert_eq!(s.timestamp_at(3), 20);
        s.consume(4);
        assert_eq!(s.bytes(), b"ef");
        assert_eq!(s.timestamp_at(0), 20);
        // 2 + 9 = 11 > 8: the 3 oldest bytes go.
        assert_eq!(s.push(b"ghijklmno", 30), 3);
        assert_eq!(s.bytes(), b"hijklmno");
        assert_eq!(s.timestamp_at(0), 30);
        s.clear();
        assert!(s.is_empty());
        assert_eq!(s.timestamp_at(0), 0);
    }

    #[test]
    fn pending_queue_is_bounded() {
        let c = ProtocolCounters::default();
        let mut q = PendingQueue::new(2);
        q.push(1, &c);
        q.push(2, &c);
        q.push(3, &c);
        assert_eq!(q.len(), 2);
        assert_eq!(q.front(), Some(&2));
        assert_eq!(
            c.unmatched_requests
                .load(std::sync::atomic::Ordering::Relaxed),
            1
        );
        assert_eq!(q.take_first(|x| *x == 3), Some(3));
    }
}
