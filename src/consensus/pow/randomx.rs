//! The RandomX hasher: monerod's `rx_slow_hash` (`src/crypto/rx-slow-hash.c`) for a pool
//! of worker threads.
//!
//! Like monerod it keeps light caches for at most two seeds, the current one and the next
//! ([`MAX_LIGHT_SEEDS`]), so that an epoch switch finds the next cache warm
//! ([`RandomXHasher::prepare`]), and in fast mode a dataset for the main chain's seed only
//! ([`RandomXHasher::set_main_seed`], as `rx_set_main_seedhash`), built on a background
//! thread while hashes of that seed go on in light mode. Any other seed (an alternative
//! chain's) is hashed in light mode and never triggers a dataset build.
//!
//! A VM is not thread-safe, so each seed keeps a pool of VMs: a hash checks one out (or
//! makes one), runs without any lock held, and puts it back. The pool's mutex is held for
//! a push or a pop, never during a hash, so hashes run in parallel on every worker thread
//! and the pool settles at one VM per concurrent worker. Measured (`benches/pow.rs`): a
//! hash through the pool costs the same as on a bare randomx-rs VM (within noise), and
//! two threads hash 1.9–2.1 times as fast as one.
//!
//! Dataset build: randomx-rs 1.6 only offers `RandomXDataset::new`, which initialises all
//! 34 M items on the calling thread (~51 s here). Splitting the items over threads needs
//! the C library's `randomx_init_dataset` on a dataset and cache of our own, i.e. our own
//! FFI for the whole fast path (~27–32 s on two cores, DEPENDENCIES.md). That is under 2x
//! on these machines, and the build runs in the background while light mode carries on,
//! so xmrd keeps to randomx-rs; on many-core machines the FFI route would scale.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use randomx_rs::{RandomXCache, RandomXDataset, RandomXError, RandomXFlag, RandomXVM};

use super::mode::{mem_available_bytes, RandomXMode, AUTO_FAST_MIN_MEM_AVAILABLE_BYTES};
use super::shared::{PooledVm, SharedCache, SharedDataset};

/// Seeds whose light cache is kept at once: the current seed and the next (monerod's main
/// and secondary caches). A third seed evicts the least recently used one.
pub const MAX_LIGHT_SEEDS: usize = 2;

/// Why a RandomX hash could not be computed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PowError {
    /// The RandomX library failed (allocation of a cache, dataset or VM).
    #[error("RandomX: {0}")]
    RandomX(#[from] RandomXError),
    /// randomx-rs refuses to hash an empty input; a hashing blob is never empty.
    #[error("empty PoW hashing blob")]
    EmptyBlob,
    /// The library returned a hash of the wrong length.
    #[error("RandomX returned {0} bytes, not 32")]
    HashLength(usize),
}

/// A RandomX hasher shared by worker threads: cheap to clone (all clones share the caches,
/// dataset and VMs), `Send + Sync`, usable behind an `Arc` as well.
#[derive(Clone, Debug)]
pub struct RandomXHasher {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    mode: RandomXMode,
    /// `RandomXFlag::get_recommended_flags()`: hardware AES, JIT and the best Argon2 for
    /// this CPU where available. Never large pages (they fail on these machines).
    flags: RandomXFlag,
    /// Light seeds, most recently used first, at most [`MAX_LIGHT_SEEDS`].
    light: Mutex<Vec<Arc<LightSeed>>>,
    fast: Mutex<FastState>,
    /// Signalled whenever a dataset build ends.
    fast_changed: Condvar,
}

/// The fast-mode state: which seed is the main chain's, and its dataset.
#[derive(Debug, Default)]
struct FastState {
    /// The main chain's seed, as last given to `set_main_seed`.
    main: Option<Box<[u8]>>,
    /// Whether the mode wanted a dataset at the last `set_main_seed`.
    wanted: bool,
    /// The built dataset (at most one: 2 GiB each).
    ready: Option<Arc<FastSeed>>,
    /// The seed whose dataset a background thread is building.
    building: Option<Box<[u8]>>,
    /// A seed whose dataset could not be built: not retried until the main seed changes.
    failed: Option<Box<[u8]>>,
}

/// One seed in light mode: its cache (made on first use) and its VMs.
#[derive(Debug)]
struct LightSeed {
    key: Box<[u8]>,
    /// Held while the cache is initialised (0.4–0.8 s), so concurrent first users of a seed
    /// wait for one initialisation instead of each making one.
    cache: Mutex<Option<SharedCache>>,
    vms: VmPool,
}

/// One seed in fast mode: its dataset and its VMs.
#[derive(Debug)]
struct FastSeed {
    key: Box<[u8]>,
    dataset: SharedDataset,
    vms: VmPool,
}

/// Idle VMs of one seed. The lock is held to push or pop, never while hashing.
#[derive(Debug, Default)]
struct VmPool {
    idle: Mutex<Vec<PooledVm>>,
}

impl RandomXHasher {
    /// A hasher in `mode` with the library's recommended flags for this CPU. Allocates
    /// nothing until the first hash, `prepare` or `set_main_seed`.
    pub fn new(mode: RandomXMode) -> Self {
        Self::with_flags(mode, RandomXFlag::get_recommended_flags())
    }

    /// A hasher with explicit RandomX flags (benchmarks compare flag sets with this).
    /// Large pages and full memory are stripped: the hasher decides per VM.
    pub fn with_flags(mode: RandomXMode, flags: RandomXFlag) -> Self {
        let flags = flags & !(RandomXFlag::FLAG_LARGE_PAGES | RandomXFlag::FLAG_FULL_MEM);
        RandomXHasher {
            shared: Arc::new(Shared {
                mode,
                flags,
                light: Mutex::new(Vec::new()),
                fast: Mutex::new(FastState::default()),
                fast_changed: Condvar::new(),
            }),
        }
    }

    /// The mode this hasher was made with.
    pub fn mode(&self) -> RandomXMode {
        self.shared.mode
    }

    /// The RandomX flags in use.
    pub fn flags(&self) -> RandomXFlag {
        self.shared.flags
    }

    /// The RandomX hash of a block's hashing blob (`Block::serialize_pow_hash()`) under
    /// `seed`, the id of the block at [`seed_height`](super::seed_height): monerod's
    /// `rx_slow_hash`. Uses the dataset when `seed` is the main seed and its dataset is
    /// built, light mode otherwise. The first hash of a seed not yet prepared initialises
    /// its cache (0.4–0.8 s). Blocks for 30–40 ms (light) or ~5.5 ms (fast): call it from
    /// a worker thread.
    pub fn hash(&self, seed: &[u8; 32], blob: &[u8]) -> Result<[u8; 32], PowError> {
        self.shared.hash(seed, blob)
    }

    /// Warms the light cache for `seed` (normally the next seed, see
    /// [`next_seed_height`](super::next_seed_height)) on a background thread, so the
    /// first hash after the epoch switch does not wait for it. Returns at once; does
    /// nothing if the seed is already known.
    pub fn prepare(&self, seed: [u8; 32]) {
        Shared::prepare(&self.shared, &seed);
    }

    /// Names the main chain's current seed, monerod's `rx_set_main_seedhash`, with how
    /// many blocks the node is behind the network (for [`RandomXMode::Auto`]). If the
    /// mode wants a dataset, builds it for this seed on a background thread (~51 s on one
    /// core), dropping the previous seed's dataset first so that at most one is in memory;
    /// hashes go on in light mode meanwhile. If it no longer wants one (auto near the tip),
    /// drops the dataset. Cheap when nothing changes: call it on every new tip.
    pub fn set_main_seed(&self, seed: [u8; 32], blocks_behind: u64) {
        Shared::set_main_seed(&self.shared, &seed, blocks_behind);
    }

    /// Whether the dataset for `seed` is built and in use.
    pub fn dataset_ready(&self, seed: &[u8; 32]) -> bool {
        self.shared.fast_seed(seed).is_some()
    }

    /// Waits up to `timeout` for the dataset of `seed` to be built; returns whether it is.
    /// Returns early, false, if no build for `seed` is running.
    pub fn wait_for_dataset(&self, seed: &[u8; 32], timeout: Duration) -> bool {
        self.shared.wait_for_dataset(seed, timeout)
    }
}

impl Shared {
    fn hash(&self, key: &[u8], blob: &[u8]) -> Result<[u8; 32], PowError> {
        if blob.is_empty() {
            return Err(PowError::EmptyBlob);
        }
        if self.mode != RandomXMode::Light {
            if let Some(fast) = self.fast_seed(key) {
                let flags = self.flags | RandomXFlag::FLAG_FULL_MEM;
                return fast.vms.hash(blob, || {
                    RandomXVM::new(flags, None, Some(fast.dataset.handle()))
                });
            }
        }
        let (seed, _) = self.light_seed(key);
        seed.vms.hash(blob, || {
            let cache = seed.cache(self.flags)?;
            RandomXVM::new(self.flags, Some(cache), None)
        })
    }

    /// The light seed for `key`, made most recently used; whether it was just added.
    fn light_seed(&self, key: &[u8]) -> (Arc<LightSeed>, bool) {
        let evicted;
        let found = {
            let mut seeds = lock(&self.light);
            if let Some(i) = seeds.iter().position(|s| *s.key == *key) {
                seeds[..=i].rotate_right(1);
                return (Arc::clone(&seeds[0]), false);
            }
            let seed = Arc::new(LightSeed {
                key: key.into(),
                cache: Mutex::new(None),
                vms: VmPool::default(),
            });
            seeds.insert(0, Arc::clone(&seed));
            let keep = seeds.len().min(MAX_LIGHT_SEEDS);
            evicted = seeds.split_off(keep);
            seed
        };
        // Freed outside the lock (256 MiB each) once in-flight hashes return their VMs.
        drop(evicted);
        (found, true)
    }

    fn prepare(this: &Arc<Self>, key: &[u8]) {
        let (seed, added) = this.light_seed(key);
        if !added {
            return;
        }
        let flags = this.flags;
        spawn("randomx-prepare", move || {
            if let Err(e) = seed.cache(flags) {
                tracing::warn!(error = %e, "RandomX: could not prepare the next seed's cache");
            }
        });
    }

    fn fast_seed(&self, key: &[u8]) -> Option<Arc<FastSeed>> {
        let state = lock(&self.fast);
        state.ready.as_ref().filter(|f| *f.key == *key).cloned()
    }

    fn set_main_seed(this: &Arc<Self>, key: &[u8], blocks_behind: u64) {
        let mut dropped = None;
        let start_build = {
            let mut state = lock(&this.fast);
            let holding = state.ready.is_some() || state.building.is_some();
            let mem = match this.mode {
                // A dataset we hold (or are building) is freed before the next is built:
                // count it as available.
                RandomXMode::Auto if RandomXMode::auto_distance(blocks_behind) => {
                    mem_available_bytes().map(|m| {
                        if holding {
                            m.saturating_add(super::RANDOMX_DATASET_BYTES)
                        } else {
                            m
                        }
                    })
                }
                _ => None,
            };
            let keep = this.mode == RandomXMode::Auto
                && (state.ready.as_ref().is_some_and(|f| *f.key == *key)
                    || state.building.as_deref() == Some(key));
            let wanted = keep || this.mode.wants_dataset(blocks_behind, mem);
            if state.main.as_deref() != Some(key) {
                state.failed = None;
            }
            state.main = Some(key.into());
            state.wanted = wanted;
            let have = state.ready.as_ref().is_some_and(|f| *f.key == *key);
            if !wanted {
                dropped = state.ready.take();
                false
            } else if have || state.building.is_some() || state.failed.as_deref() == Some(key) {
                // A running build for an older seed starts this one when it ends.
                false
            } else {
                dropped = state.ready.take();
                state.building = Some(key.into());
                true
            }
        };
        if dropped.is_some() {
            tracing::info!("RandomX: dropping the dataset of the previous main seed");
        }
        // The dataset memory is freed here (or when in-flight fast hashes finish).
        drop(dropped);
        // The main seed's light cache: for hashes while the dataset builds, and the
        // dataset is built from it.
        Shared::prepare(this, key);
        if !start_build {
            return;
        }
        if this.mode == RandomXMode::Fast
            && mem_available_bytes().is_some_and(|m| m < AUTO_FAST_MIN_MEM_AVAILABLE_BYTES)
        {
            tracing::warn!(
                "RandomX: fast mode with little available memory; the 2 GiB dataset may not fit"
            );
        }
        let builder = Arc::clone(this);
        let first: Box<[u8]> = key.into();
        if !spawn("randomx-dataset", move || builder.build_datasets(first)) {
            lock(&this.fast).building = None;
            this.fast_changed.notify_all();
        }
    }

    /// Builds the dataset for `key`, then for whatever seed became main meanwhile, until
    /// the latest main seed has its dataset or no longer wants one.
    fn build_datasets(&self, mut key: Box<[u8]>) {
        loop {
            let started = Instant::now();
            tracing::info!(seed = %hex::encode(&key), "RandomX: building the dataset");
            let built = self.build_dataset(&key);
            let mut state = lock(&self.fast);
            state.building = None;
            let is_main = state.main.as_deref() == Some(&*key);
            match built {
                Ok(fast) if is_main && state.wanted => {
                    tracing::info!(
                        seconds = started.elapsed().as_secs_f64(),
                        "RandomX: dataset built, hashing in fast mode"
                    );
                    state.ready = Some(Arc::new(fast));
                }
                Ok(_) => tracing::info!("RandomX: discarding a dataset the main chain moved past"),
                Err(e) => {
                    tracing::warn!(error = %e, "RandomX: no dataset, staying in light mode");
                    state.failed = Some(key.clone());
                }
            }
            let next = match (&state.main, &state.ready) {
                (Some(main), ready)
                    if state.wanted
                        && ready.as_ref().is_none_or(|f| f.key != *main)
                        && state.failed.as_deref() != Some(&**main) =>
                {
                    Some(main.clone())
                }
                _ => None,
            };
            if let Some(main) = &next {
                state.building = Some(main.clone());
            }
            drop(state);
            self.fast_changed.notify_all();
            match next {
                Some(main) => key = main,
                None => return,
            }
        }
    }

    fn build_dataset(&self, key: &[u8]) -> Result<FastSeed, PowError> {
        let (seed, _) = self.light_seed(key);
        let cache = seed.cache(self.flags)?;
        // All items on this one thread (see "Dataset build" in the module notes).
        let dataset = RandomXDataset::new(RandomXFlag::FLAG_DEFAULT, cache, 0)?;
        Ok(FastSeed {
            key: key.into(),
            dataset: SharedDataset::new(dataset),
            vms: VmPool::default(),
        })
    }

    fn wait_for_dataset(&self, key: &[u8], timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = lock(&self.fast);
        loop {
            if state.ready.as_ref().is_some_and(|f| *f.key == *key) {
                return true;
            }
            if state.building.is_none() {
                return false;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .fast_changed
                .wait_timeout(state, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}

impl LightSeed {
    /// A handle to this seed's cache, initialising it on first use.
    fn cache(&self, flags: RandomXFlag) -> Result<RandomXCache, RandomXError> {
        let mut slot = lock(&self.cache);
        if let Some(cache) = &*slot {
            return Ok(cache.handle());
        }
        let started = Instant::now();
        let cache = RandomXCache::new(flags, &self.key)?;
        tracing::debug!(
            seed = %hex::encode(&self.key),
            seconds = started.elapsed().as_secs_f64(),
            "RandomX: cache initialised"
        );
        let handle = cache.clone();
        *slot = Some(SharedCache::new(cache));
        Ok(handle)
    }
}

impl VmPool {
    /// Hashes `blob` on an idle VM, or on a new one from `make`, and returns it to the pool.
    fn hash(
        &self,
        blob: &[u8],
        make: impl FnOnce() -> Result<RandomXVM, RandomXError>,
    ) -> Result<[u8; 32], PowError> {
        let idle = lock(&self.idle).pop();
        let vm = match idle {
            Some(vm) => vm,
            None => PooledVm::new(make()?),
        };
        let hash = vm.vm().calculate_hash(blob);
        lock(&self.idle).push(vm);
        let hash = hash?;
        <[u8; 32]>::try_from(hash.as_slice()).map_err(|_| PowError::HashLength(hash.len()))
    }

    #[cfg(test)]
    fn idle(&self) -> usize {
        lock(&self.idle).len()
    }
}

/// Locks, recovering from poisoning: every critical section here leaves the data valid
/// (a push, a pop, a field assignment), so a panic elsewhere cannot corrupt it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Spawns a named background thread; logs and returns false if the OS refuses.
fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> bool {
    match std::thread::Builder::new().name(name.into()).spawn(f) {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(error = %e, thread = name, "RandomX: could not start a thread");
            false
        }
    }
}

/// Test access to the hasher's internals (keys of any length, as in the RandomX reference
/// vectors, and the pool and seed bookkeeping).
#[cfg(test)]
impl RandomXHasher {
    pub(super) fn hash_with_key(&self, key: &[u8], blob: &[u8]) -> Result<[u8; 32], PowError> {
        self.shared.hash(key, blob)
    }

    pub(super) fn set_main_key(&self, key: &[u8], blocks_behind: u64) {
        Shared::set_main_seed(&self.shared, key, blocks_behind);
    }

    pub(super) fn prepare_key(&self, key: &[u8]) {
        Shared::prepare(&self.shared, key);
    }

    pub(super) fn wait_for_dataset_key(&self, key: &[u8], timeout: Duration) -> bool {
        self.shared.wait_for_dataset(key, timeout)
    }

    /// Light seeds held, most recently used first.
    pub(super) fn light_keys(&self) -> Vec<Vec<u8>> {
        lock(&self.shared.light)
            .iter()
            .map(|s| s.key.to_vec())
            .collect()
    }

    /// Whether the light cache of `key` is initialised.
    pub(super) fn light_cache_ready(&self, key: &[u8]) -> bool {
        lock(&self.shared.light)
            .iter()
            .find(|s| *s.key == *key)
            .is_some_and(|s| lock(&s.cache).is_some())
    }

    /// Idle VMs in the light pool of `key`.
    pub(super) fn idle_light_vms(&self, key: &[u8]) -> usize {
        lock(&self.shared.light)
            .iter()
            .find(|s| *s.key == *key)
            .map_or(0, |s| s.vms.idle())
    }
}
