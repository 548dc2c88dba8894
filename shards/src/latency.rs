//! Latency histograms kept per thread, merged only when a snapshot is taken.
//!
//! Every thread that records (a shard, a pool worker, the committer) owns one cell of
//! HdrHistograms keyed by metric name and one optional label. Recording locks only the
//! calling thread's own cell, so the lock is never contended except for the moment a
//! snapshot copies it: no cache line is shared between cores on the recording path. A
//! thread is named by a [`Scope`] (`shard="3"`, or `thread="verify"` for helper
//! threads, which are merged by name at snapshot time).
//!
//! Values are nanoseconds with two significant digits (1 % resolution) from 1 ns to one
//! hour; a larger value is clamped to the top. Snapshots are plain serde data: each
//! series carries its recorded buckets, so a reader rebuilds the exact histogram.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Largest value tracked, in nanoseconds (one hour).
pub const MAX_TRACKED_NANOS: u64 = 3_600 * 1_000_000_000;
/// Significant decimal digits kept (2: values are within 1 %).
pub const SIGNIFICANT_DIGITS: u8 = 2;

/// Metric: how long a ready task waited in a shard's task queue before it ran (a probe
/// task yields and measures how long until it runs again).
pub const TASK_QUEUE_LAG: &str = "xmrd_executor_task_queue_lag_seconds";
/// Metric: how late a shard's timer fired (reactor and task-queue delay together).
pub const TIMER_OVERSHOOT: &str = "xmrd_executor_timer_overshoot_seconds";
/// How often each shard's lag probe runs.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(10);

/// Which thread a histogram belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    /// A shard executor, by index.
    Shard(usize),
    /// Any other thread, by role (threads of one role are merged).
    Thread(String),
}

impl Scope {
    /// The Prometheus label of this scope: `("shard", "3")` or `("thread", "verify")`.
    pub fn label(&self) -> (&'static str, String) {
        match self {
            Scope::Shard(i) => ("shard", i.to_string()),
            Scope::Thread(name) => ("thread", name.clone()),
        }
    }
}

type Key = (&'static str, &'static str, &'static str);

struct Cell {
    scope: Scope,
    /// A few dozen entries at most per thread: a linear scan comparing the static
    /// strings' addresses first beats hashing three strings.
    hists: Mutex<Vec<(Key, Histogram<u64>)>>,
}

fn registry() -> &'static Mutex<Vec<Arc<Cell>>> {
    static REGISTRY: OnceLock<Mutex<Vec<Arc<Cell>>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

thread_local! {
    static CELL: std::cell::RefCell<Option<Arc<Cell>>> = const { std::cell::RefCell::new(None) };
}

/// Names the calling thread's histograms. A thread that records without a scope is
/// named by its thread name with any trailing `-N` index removed (`xmrd-verify-3` →
/// `xmrd-verify`).
pub fn set_scope(scope: Scope) {
    let cell = Arc::new(Cell {
        scope,
        hists: Mutex::new(Vec::new()),
    });
    if let Ok(mut r) = registry().lock() {
        r.push(Arc::clone(&cell));
    }
    CELL.with(|c| *c.borrow_mut() = Some(cell));
}

fn default_scope() -> Scope {
    let name = std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .to_string();
    let role = match name.rsplit_once('-') {
        Some((head, tail)) if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) => {
            head.to_string()
        }
        _ => name,
    };
    Scope::Thread(role)
}

/// A new empty histogram with this module's bounds.
pub fn new_histogram() -> Option<Histogram<u64>> {
    Histogram::new_with_bounds(1, MAX_TRACKED_NANOS, SIGNIFICANT_DIGITS).ok()
}

/// Records `d` under `metric` (no extra label) on the calling thread's histograms.
pub fn record(metric: &'static str, d: Duration) {
    record_labeled(metric, "", "", d);
}

/// Records `d` under `metric` with one extra label (`label="value"`).
pub fn record_labeled(metric: &'static str, label: &'static str, value: &'static str, d: Duration) {
    let nanos = u64::try_from(d.as_nanos())
        .unwrap_or(u64::MAX)
        .clamp(1, MAX_TRACKED_NANOS);
    CELL.with(|c| {
        if c.borrow().is_none() {
            set_scope(default_scope());
        }
        let cell = c.borrow();
        let Some(cell) = cell.as_ref() else { return };
        let Ok(mut hists) = cell.hists.lock() else {
            return;
        };
        let key = (metric, label, value);
        let at = hists
            .iter()
            .position(|(k, _)| same_key(k, &key))
            .or_else(|| hists.iter().position(|(k, _)| *k == key));
        match at.and_then(|i| hists.get_mut(i)) {
            Some((_, h)) => h.saturating_record(nanos),
            None => {
                if let Some(mut h) = new_histogram() {
                    h.saturating_record(nanos);
                    hists.push((key, h));
                }
            }
        }
    });
}

/// Whether two keys are the same static strings (by address).
fn same_key(a: &Key, b: &Key) -> bool {
    std::ptr::eq(a.0, b.0) && std::ptr::eq(a.1, b.1) && std::ptr::eq(a.2, b.2)
}

/// Times a closure and records its duration.
pub fn time<T>(metric: &'static str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    record(metric, t.elapsed());
    r
}

/// One histogram of a snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// The metric name (Prometheus style, unit in the name).
    pub metric: String,
    /// The thread it was recorded on.
    pub scope: Scope,
    /// The extra label, if any (e.g. `command` → `timed_sync`).
    pub labels: BTreeMap<String, String>,
    /// Samples recorded.
    pub count: u64,
    /// `(value in ns, samples)` for every non-empty bucket, ascending: enough to rebuild
    /// the histogram exactly.
    pub buckets: Vec<(u64, u64)>,
}

impl Series {
    /// Rebuilds the histogram.
    pub fn histogram(&self) -> Option<Histogram<u64>> {
        let mut h = new_histogram()?;
        for &(v, n) in &self.buckets {
            h.record_n(v.clamp(1, MAX_TRACKED_NANOS), n).ok()?;
        }
        Some(h)
    }

    fn from_histogram(metric: &str, scope: Scope, key: (&str, &str), h: &Histogram<u64>) -> Self {
        let mut labels = BTreeMap::new();
        if !key.0.is_empty() {
            labels.insert(key.0.to_string(), key.1.to_string());
        }
        Series {
            metric: metric.to_string(),
            scope,
            labels,
            count: h.len(),
            buckets: h
                .iter_recorded()
                .map(|v| {
                    (
                        h.highest_equivalent(v.value_iterated_to()),
                        v.count_at_value(),
                    )
                })
                .collect(),
        }
    }
}

/// Every histogram of the process at one moment, per scope, merged by scope.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySnapshot {
    /// The series, sorted by metric, scope and labels.
    pub series: Vec<Series>,
}

type Merged = BTreeMap<(String, Scope, String, String), Histogram<u64>>;

/// Histograms of threads that have ended, folded together by scope so that threads
/// which come and go do not grow the registry.
fn retired() -> &'static Mutex<Merged> {
    static RETIRED: OnceLock<Mutex<Merged>> = OnceLock::new();
    RETIRED.get_or_init(Default::default)
}

fn merge_into(merged: &mut Merged, scope: &Scope, copies: Vec<(Key, Histogram<u64>)>) {
    for ((metric, label, value), h) in copies {
        let key = (
            metric.to_string(),
            scope.clone(),
            label.to_string(),
            value.to_string(),
        );
        match merged.get_mut(&key) {
            Some(m) => {
                let _ = m.add(&h);
            }
            None => {
                merged.insert(key, h);
            }
        }
    }
}

/// Copies every thread's histograms (each cell is locked only while it is copied).
/// Cells of threads that have ended move to the retired set.
pub fn snapshot() -> LatencySnapshot {
    let cells: Vec<Arc<Cell>> = match registry().lock() {
        Ok(mut r) => {
            // A cell only the registry holds belongs to a thread that has ended.
            let (gone, live): (Vec<_>, Vec<_>) =
                r.drain(..).partition(|c| Arc::strong_count(c) == 1);
            *r = live.clone();
            if let Ok(mut old) = retired().lock() {
                for cell in gone {
                    let copies = match cell.hists.lock() {
                        Ok(mut h) => h.drain(..).collect(),
                        Err(_) => continue,
                    };
                    merge_into(&mut old, &cell.scope, copies);
                }
            }
            live
        }
        Err(_) => Vec::new(),
    };
    let mut merged: Merged = retired().lock().map(|m| m.clone()).unwrap_or_default();
    for cell in cells {
        let copies: Vec<(Key, Histogram<u64>)> = match cell.hists.lock() {
            Ok(h) => h.iter().map(|(k, v)| (*k, v.clone())).collect(),
            Err(_) => continue,
        };
        merge_into(&mut merged, &cell.scope, copies);
    }
    LatencySnapshot {
        series: merged
            .into_iter()
            .map(|((metric, scope, label, value), h)| {
                Series::from_histogram(&metric, scope, (&label, &value), &h)
            })
            .collect(),
    }
}

/// Scopes with a cell in the registry (for tests of the retirement).
#[cfg(test)]
fn live_scopes() -> Vec<Scope> {
    registry()
        .lock()
        .map(|r| r.iter().map(|c| c.scope.clone()).collect())
        .unwrap_or_default()
}

/// Runs forever on a shard: every [`PROBE_INTERVAL`] it sleeps, records how late the
/// timer fired, then yields once and records how long the ready task waited in the
/// queue before it ran again.
pub async fn probe_executor_lag() {
    loop {
        let asked = Instant::now();
        glommio::timer::sleep(PROBE_INTERVAL).await;
        record(
            TIMER_OVERSHOOT,
            asked.elapsed().saturating_sub(PROBE_INTERVAL),
        );
        let ready = Instant::now();
        futures_lite::future::yield_now().await;
        record(TASK_QUEUE_LAG, ready.elapsed());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_record_apart_and_merge_by_scope() {
        const M: &str = "test_merge_seconds";
        let workers: Vec<_> = (0..3)
            .map(|i| {
                std::thread::Builder::new()
                    .name(format!("merge-worker-{i}"))
                    .spawn(move || {
                        for k in 1..=100u64 {
                            record(M, Duration::from_micros(k * (i + 1)));
                        }
                    })
                    .unwrap()
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        std::thread::spawn(|| {
            set_scope(Scope::Shard(7));
            record_labeled(M, "command", "ping", Duration::from_millis(5));
        })
        .join()
        .unwrap();
        let snap = snapshot();
        let mine: Vec<&Series> = snap.series.iter().filter(|s| s.metric == M).collect();
        // The four threads have ended: their cells were retired, the counts kept.
        assert_eq!(
            snapshot().series.iter().filter(|s| s.metric == M).count(),
            2
        );
        std::thread::Builder::new()
            .name("retire-probe".into())
            .spawn(|| record(M, Duration::from_micros(1)))
            .unwrap()
            .join()
            .unwrap();
        let probe = Scope::Thread("retire-probe".into());
        let again = snapshot();
        assert!(
            !live_scopes().contains(&probe),
            "an ended thread's cell is retired"
        );
        let merged = again
            .series
            .iter()
            .find(|s| s.metric == M && s.scope == probe)
            .unwrap();
        assert_eq!(merged.count, 1);
        assert_eq!(mine.len(), 2, "{mine:?}");
        let pool = mine
            .iter()
            .find(|s| s.scope == Scope::Thread("merge-worker".into()))
            .unwrap();
        assert_eq!(pool.count, 300);
        let h = pool.histogram().unwrap();
        assert_eq!(h.len(), 300);
        // The largest sample is 300 µs (1 % resolution).
        let max = h.max();
        assert!((297_000..=303_000).contains(&max), "{max}");
        let shard = mine.iter().find(|s| s.scope == Scope::Shard(7)).unwrap();
        assert_eq!(
            shard.labels.get("command").map(String::as_str),
            Some("ping")
        );
        assert_eq!(shard.count, 1);
        let p50 = shard.histogram().unwrap().value_at_quantile(0.5);
        assert!((4_950_000..=5_050_000).contains(&p50), "{p50}");
    }

    #[test]
    fn a_series_rebuilds_the_histogram_it_was_made_from() {
        let mut h = new_histogram().unwrap();
        for k in 1..=1000u64 {
            h.record(k * k * 997).unwrap();
        }
        h.record(MAX_TRACKED_NANOS).unwrap();
        let s = Series::from_histogram("m", Scope::Shard(0), ("", ""), &h);
        assert!(s.labels.is_empty());
        let back = s.histogram().unwrap();
        assert_eq!(back.len(), h.len());
        for q in [0.1, 0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(
                back.value_at_quantile(q),
                h.value_at_quantile(q),
                "quantile {q}"
            );
        }
        assert_eq!(back.max(), h.max());
    }

    #[test]
    fn the_lag_probe_records_on_a_shard() {
        let out = crate::run::<(), _, _, _>(crate::Placement::Count(1), |shard| async move {
            glommio::timer::sleep(Duration::from_millis(200)).await;
            shard.id
        })
        .unwrap();
        assert_eq!(out, vec![0]);
        let snap = snapshot();
        let lag = snap
            .series
            .iter()
            .find(|s| s.metric == TASK_QUEUE_LAG && s.scope == Scope::Shard(0))
            .unwrap();
        assert!(lag.count >= 5, "{}", lag.count);
    }
}
