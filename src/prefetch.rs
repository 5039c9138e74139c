//! Read-ahead for historical runs: a source iterator moved to its own
//! thread, handing its items over in bounded batches.
//!
//! A historical run is a pipeline: reading and parsing CSV text on one side,
//! merging, evaluating and writing on the other. [`Prefetch`] lets the two
//! sides run on different cores without changing what either sees: the
//! consumer gets exactly the items the iterator yields, in the same order,
//! including an error item (after which the reading thread stops). Memory is
//! bounded: at most [`DEPTH`] full batches wait in the channel, plus the one
//! being filled and the one being consumed, whatever the length of the
//! history.
//!
//! A panic on the reading thread is re-raised on the consumer's thread when
//! it reaches the end of the items, so a crash can never look like a short
//! file.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Items per batch when one or two sources are read: large enough that the
/// channel's hand-overs (each can wake a sleeping thread, a few
/// microseconds of the run's thread) are rare, small enough (about 320 KB)
/// to stay in the cache. 4096 instead of 1024: run (a) of `benches/run.rs`
/// 6% less CPU, 2.6% less wall time (farm-bench A/B pairs).
pub const BATCH: usize = 4096;

/// Items in flight over all the sources of a run (see [`batch_for`]).
pub const IN_FLIGHT: usize = 8192;

/// The batch size for each of `sources` readers: [`BATCH`] up to two
/// sources, then smaller (at least 64) so that a run over many symbols
/// holds about [`IN_FLIGHT`] items per queue level in all.
pub fn batch_for(sources: usize) -> usize {
    (IN_FLIGHT / sources.max(1)).clamp(64, BATCH)
}

/// Full batches that may wait for the consumer: enough slack that a reader
/// and the run rarely wait for each other (with 2 batches of 1024, run (a)
/// of `benches/run.rs` took 5% longer), at a bounded cost (4 x 4096 bars of
/// about 80 bytes, 1.3 MB, per source; less with more sources, see
/// [`batch_for`]).
pub const DEPTH: usize = 4;

/// An iterator whose items are produced on a separate thread (see the
/// module docs).
pub struct Prefetch<T: Send + 'static> {
    batches: Option<Receiver<Vec<T>>>,
    /// Emptied batches go back to the reading thread for reuse.
    recycle: Option<SyncSender<Vec<T>>>,
    current: std::vec::IntoIter<T>,
    thread: Option<JoinHandle<()>>,
}

impl<T: Send + 'static> Prefetch<T> {
    /// Starts a thread named `name` that drains `iter` into batches of
    /// `batch` items (at least 1).
    ///
    /// # Panics
    /// When the operating system cannot start a thread.
    pub fn spawn<I>(name: String, iter: I, batch: usize) -> Prefetch<T>
    where
        I: Iterator<Item = T> + Send + 'static,
    {
        let size = batch.max(1);
        let (tx, rx) = sync_channel::<Vec<T>>(DEPTH);
        let (recycle_tx, recycle_rx) = sync_channel::<Vec<T>>(DEPTH + 2);
        let thread = std::thread::Builder::new()
            .name(name)
            .spawn(move || {
                let mut iter = iter;
                loop {
                    let mut batch = match recycle_rx.try_recv() {
                        Ok(b) => b,
                        Err(_) => Vec::with_capacity(size),
                    };
                    batch.extend(iter.by_ref().take(size));
                    let last = batch.len() < size;
                    // The consumer hung up (it stopped early): nothing to do.
                    if batch.is_empty() || tx.send(batch).is_err() || last {
                        return;
                    }
                }
            })
            .expect("start a reading thread");
        Prefetch {
            batches: Some(rx),
            recycle: Some(recycle_tx),
            current: Vec::new().into_iter(),
            thread: Some(thread),
        }
    }

    /// Waits for the reading thread and re-raises its panic, if any.
    fn join(&mut self) {
        if let Some(t) = self.thread.take()
            && let Err(panic) = t.join()
        {
            std::panic::resume_unwind(panic);
        }
    }
}

impl<T: Send + 'static> Iterator for Prefetch<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if let Some(item) = self.current.next() {
            return Some(item);
        }
        let rx = self.batches.as_ref()?;
        match rx.recv() {
            Ok(batch) => {
                let done = std::mem::replace(&mut self.current, batch.into_iter());
                if let Some(r) = &self.recycle {
                    let mut empty: Vec<T> = done.collect();
                    empty.clear();
                    if empty.capacity() > 0 {
                        let _ = r.try_send(empty);
                    }
                }
                self.current.next()
            }
            Err(_) => {
                self.batches = None;
                self.join();
                None
            }
        }
    }
}

impl<T: Send + 'static> Drop for Prefetch<T> {
    fn drop(&mut self) {
        // Hang up first so a thread blocked on a full channel wakes and ends.
        self.batches = None;
        self.recycle = None;
        if let Some(t) = self.thread.take() {
            // A panic during an early stop is not re-raised from a drop
            // (that could abort); the run already ended.
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yields_every_item_in_order() {
        for n in [0, 1, BATCH - 1, BATCH, BATCH + 1, 5 * BATCH + 17] {
            let got: Vec<usize> = Prefetch::spawn("t".into(), 0..n, BATCH).collect();
            assert_eq!(got, (0..n).collect::<Vec<_>>(), "n = {n}");
        }
    }

    #[test]
    fn small_batches_too() {
        for size in [1, 2, 64] {
            let got: Vec<u32> = Prefetch::spawn("t".into(), 0..1000, size).collect();
            assert_eq!(got, (0..1000).collect::<Vec<_>>(), "batch {size}");
        }
        assert_eq!(batch_for(1), BATCH);
        assert_eq!(batch_for(2), BATCH);
        assert_eq!(batch_for(8), 1024);
        assert_eq!(batch_for(64), 128);
        assert_eq!(batch_for(1000), 64);
    }

    #[test]
    fn an_error_item_ends_the_stream_in_place() {
        let items = (0..3000).map(|i| if i == 2500 { Err(i) } else { Ok(i) });
        let got: Vec<Result<i32, i32>> = Prefetch::spawn("t".into(), items, BATCH)
            .take_while(|r| r.is_ok())
            .collect();
        assert_eq!(got.len(), 2500);
    }

    #[test]
    fn dropping_early_stops_the_thread() {
        let mut p = Prefetch::spawn("t".into(), 0..u64::MAX, BATCH);
        assert_eq!(p.next(), Some(0));
        drop(p); // must not hang reading the endless source
    }

    #[test]
    fn a_panicking_source_is_not_a_short_file() {
        let items = (0..5000).inspect(|&i| assert!(i < 3000, "reader failed"));
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Prefetch::spawn("t".into(), items, BATCH).count()
        }));
        assert!(r.is_err(), "the panic must reach the consumer");
    }

    #[test]
    fn the_reader_stays_a_bounded_distance_ahead() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let produced = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&produced);
        let items = (0..u64::MAX).inspect(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        let mut p = Prefetch::spawn("t".into(), items, BATCH);
        assert_eq!(p.next(), Some(0));
        // Give the reader every chance to run ahead; it must stop at the bound.
        std::thread::sleep(std::time::Duration::from_millis(100));
        let ahead = produced.load(Ordering::Relaxed);
        assert!(ahead <= (DEPTH + 2) * BATCH, "read {ahead} items ahead");
    }
}
