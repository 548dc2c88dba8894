//! The thread-per-core runtime: one pinned glommio executor (io_uring underneath) per
//! shard, sharing nothing.
//!
//! It owns threads, placement, shutdown and the plumbing every shard needs (listening
//! with `SO_REUSEPORT` on every shard, outbound placement on the least-loaded shard,
//! cross-shard messages, blocking work off the executor). It knows nothing of Monero:
//! the node hands it one async function per shard and gets a [`Shard`] handle there.
//!
//! Rules: an executor never blocks (disk and crypto go through
//! [`Shard::spawn_blocking`]); state is owned by one shard; cross-shard traffic is
//! messages over bounded channels ([`Mesh`]), sent with `try_send` so that a full inbox
//! never stalls the sender.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use glommio;
use glommio::channels::channel_mesh::{Full, MeshBuilder, Receivers, Senders};
use glommio::{CpuSet, LocalExecutorPoolBuilder, PoolPlacement};

pub mod latency;
mod mesh;
pub use mesh::Mesh;

/// How often a shard looks at the process-wide shutdown flag (set by SIGINT/SIGTERM).
pub const SHUTDOWN_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Slots in each shard-to-shard channel. Senders use `try_send` and count drops.
pub const MESH_CHANNEL_CAPACITY: usize = 1024;

/// Smallest `RLIMIT_MEMLOCK` glommio can run an executor with (measured: 512 KiB).
pub const MIN_MEMLOCK_BYTES: u64 = 512 * 1024;

/// I/O buffer memory each executor registers with io_uring. glommio's default (10 MiB)
/// cannot be registered as non-root under the usual 8 MiB `ulimit -l`; 1 MiB fits and
/// our buffers are small.
pub const IO_MEMORY_BYTES: usize = 1024 * 1024;

/// Errors of the runtime.
#[derive(Debug, thiserror::Error)]
pub enum ShardsError {
    /// glommio could not start the executors.
    #[error("cannot start shard executors: {0}")]
    Executor(String),
    /// A CPU list names a CPU this machine does not have online.
    #[error("CPU {0} is not online")]
    NoSuchCpu(usize),
    /// The memory-lock limit is below what an executor needs.
    #[error("RLIMIT_MEMLOCK is {have} bytes; glommio needs at least {need} (raise `ulimit -l` or LimitMEMLOCK=)")]
    MemLock {
        /// The limit in force.
        have: u64,
        /// What is needed.
        need: u64,
    },
    /// Installing the signal handlers failed.
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
}

/// Which CPUs run shards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// One shard per online CPU.
    AllCores,
    /// `n` shards spread over the online CPUs.
    Count(usize),
    /// One shard pinned to each listed CPU.
    Cpus(Vec<usize>),
}

/// Per-shard load counters, readable from any shard (used to place outbound
/// connections on the least-loaded shard).
#[derive(Debug)]
pub struct Loads(Vec<AtomicUsize>);

impl Loads {
    /// The load of `shard`.
    pub fn get(&self, shard: usize) -> usize {
        self.0
            .get(shard)
            .map_or(usize::MAX, |a| a.load(Ordering::Relaxed))
    }

    /// Adds `delta` (may be negative) to `shard`'s load.
    pub fn add(&self, shard: usize, delta: isize) {
        if let Some(a) = self.0.get(shard) {
            if delta >= 0 {
                a.fetch_add(delta.unsigned_abs(), Ordering::Relaxed);
            } else {
                a.fetch_sub(delta.unsigned_abs(), Ordering::Relaxed);
            }
        }
    }

    /// The shard with the smallest load (lowest index on ties).
    pub fn least_loaded(&self) -> usize {
        (0..self.0.len()).min_by_key(|&i| self.get(i)).unwrap_or(0)
    }

    /// Loads of all shards.
    pub fn snapshot(&self) -> Vec<usize> {
        (0..self.0.len()).map(|i| self.get(i)).collect()
    }
}

/// What a shard's function gets: who it is and the shared plumbing.
pub struct Shard<M: Send + 'static> {
    /// This shard's index, 0-based.
    pub id: usize,
    /// How many shards run.
    pub count: usize,
    /// Every shard's load.
    pub loads: Arc<Loads>,
    /// Messages to and from the other shards.
    pub mesh: Mesh<M>,
    shutdown: Arc<AtomicBool>,
}

impl<M: Send + 'static> Shard<M> {
    /// Whether shutdown was requested (signal or [`Shard::request_shutdown`]).
    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::Relaxed)
    }

    /// Asks every shard to stop.
    pub fn request_shutdown(&self) {
        self.shutdown.store(true, Ordering::Relaxed);
    }

    /// Resolves once shutdown is requested.
    pub async fn shutdown_requested(&self) {
        while !self.is_shutting_down() {
            glommio::timer::sleep(SHUTDOWN_POLL_INTERVAL).await;
        }
    }

    /// Runs blocking work on a helper thread and awaits its result without blocking
    /// this executor.
    pub async fn spawn_blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> R {
        glommio::executor().spawn_blocking(f).await
    }
}

/// Fails early, with the fix, when the memory-lock limit is too small for glommio.
pub fn check_memlock() -> Result<(), ShardsError> {
    use nix::sys::resource::{getrlimit, Resource};
    match getrlimit(Resource::RLIMIT_MEMLOCK) {
        Ok((soft, _)) if soft < MIN_MEMLOCK_BYTES => Err(ShardsError::MemLock {
            have: soft,
            need: MIN_MEMLOCK_BYTES,
        }),
        _ => Ok(()),
    }
}

/// Raises the soft open-file limit to the hard limit (each peer is a socket) and
/// returns the limit now in force.
pub fn raise_fd_limit() -> u64 {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => {
            if setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
                hard
            } else {
                soft
            }
        }
        Ok((soft, _)) => soft,
        Err(_) => 0,
    }
}

/// Starts the shards and runs `shard_main` on each; returns their results, in shard
/// order, once all have finished. SIGINT and SIGTERM request shutdown (a second one
/// exits at once, as monerod does). Each shard names its latency histograms after its
/// index and runs the executor-lag probe ([`latency::probe_executor_lag`]).
pub fn run<M, G, F, T>(placement: Placement, shard_main: G) -> Result<Vec<T>, ShardsError>
where
    M: Send + 'static,
    G: Fn(Shard<M>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = T> + 'static,
    T: Send + 'static,
{
    check_memlock()?;
    let online: Vec<usize> = CpuSet::online()
        .map_err(|e| ShardsError::Executor(e.to_string()))?
        .into_iter()
        .map(|l| l.cpu)
        .collect();
    let (count, pool) = match placement {
        Placement::AllCores => (
            online.len().max(1),
            PoolPlacement::MaxSpread(online.len().max(1), None),
        ),
        Placement::Count(n) => (n.max(1), PoolPlacement::MaxSpread(n.max(1), None)),
        Placement::Cpus(cpus) => {
            if let Some(bad) = cpus.iter().find(|c| !online.contains(c)) {
                return Err(ShardsError::NoSuchCpu(*bad));
            }
            let set = CpuSet::online()
                .map_err(|e| ShardsError::Executor(e.to_string()))?
                .filter(|l| cpus.contains(&l.cpu));
            (
                cpus.len().max(1),
                PoolPlacement::Fenced(cpus.len().max(1), set),
            )
        }
    };
    let shutdown = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second signal while shutting down exits the process at once.
        signal_hook::flag::register_conditional_shutdown(sig, 1, Arc::clone(&shutdown))
            .map_err(ShardsError::Signals)?;
        signal_hook::flag::register(sig, Arc::clone(&shutdown)).map_err(ShardsError::Signals)?;
    }
    let loads = Arc::new(Loads((0..count).map(|_| AtomicUsize::new(0)).collect()));
    let mesh = MeshBuilder::<M, Full>::full(count, MESH_CHANNEL_CAPACITY);
    let next_id = Arc::new(AtomicUsize::new(0));
    let handles = LocalExecutorPoolBuilder::new(pool)
        .name("xmrd-shard")
        .io_memory(IO_MEMORY_BYTES)
        .on_all_shards(move || {
            let shutdown = Arc::clone(&shutdown);
            let loads = Arc::clone(&loads);
            let next_id = Arc::clone(&next_id);
            let shard_main = shard_main.clone();
            async move {
                let joined: glommio::Result<(Senders<M>, Receivers<M>), ()> = mesh.join().await;
                // Joining only fails for a mesh built with the wrong peer count, which
                // `run` never does; the shard thread then ends and `run` reports it.
                let Ok((senders, receivers)) = joined else {
                    panic!("shard mesh join failed");
                };
                let id = senders.peer_id();
                let _ = next_id.fetch_add(1, Ordering::Relaxed);
                latency::set_scope(latency::Scope::Shard(id));
                glommio::spawn_local(latency::probe_executor_lag()).detach();
                shard_main(Shard {
                    id,
                    count,
                    loads,
                    mesh: Mesh::new(senders, receivers),
                    shutdown,
                })
                .await
            }
        })
        .map_err(|e| ShardsError::Executor(e.to_string()))?;
    handles
        .join_all()
        .into_iter()
        .map(|r| r.map_err(|e| ShardsError::Executor(e.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memlock_limit_is_checked() {
        let (soft, _) =
            nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_MEMLOCK).unwrap();
        assert_eq!(check_memlock().is_ok(), soft >= MIN_MEMLOCK_BYTES);
    }

    #[test]
    fn least_loaded_picks_the_smallest_and_lowest_index() {
        let l = Loads((0..3).map(|_| AtomicUsize::new(0)).collect());
        l.add(0, 2);
        l.add(1, 1);
        l.add(2, 1);
        assert_eq!(l.least_loaded(), 1);
        l.add(1, -1);
        assert_eq!(l.snapshot(), vec![2, 0, 1]);
    }

    #[test]
    fn shards_run_pinned_talk_over_the_mesh_and_use_blocking_work() {
        let out = run::<usize, _, _, _>(Placement::Count(2), |shard| async move {
            let other = (shard.id + 1) % shard.count;
            assert!(shard.mesh.try_send(other, shard.id * 10 + 1));
            let got = shard.mesh.recv_any().await;
            let sum = shard.spawn_blocking(move || got.unwrap_or(0) + 1).await;
            (shard.id, sum)
        })
        .unwrap();
        let mut ids: Vec<usize> = out.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        assert_eq!(ids, vec![0, 1]);
        for (id, sum) in out {
            let other = (id + 1) % 2;
            assert_eq!(sum, other * 10 + 2);
        }
    }
}
