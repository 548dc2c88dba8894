//! Thread-shareable wrappers around randomx-rs handles: the only `unsafe` of the PoW module.
//!
//! randomx-rs 1.6 keeps raw C pointers in its `RandomXCache`, `RandomXDataset` and
//! `RandomXVM`, so none of them is `Send` or `Sync`. The RandomX library itself supports
//! what monerod does in `rx-slow-hash.c` and what xmrd needs: one initialised cache or
//! dataset read at once by VMs on many threads, and each VM used by one thread at a time
//! (monerod keeps VMs thread-local; xmrd checks them out of a pool). These wrappers assert
//! exactly that and expose nothing that could mutate a shared handle; each `unsafe impl`
//! carries its own `#[allow(unsafe_code)]` and `// SAFETY:` argument. Exercised by
//! `hashes_the_same_input_from_several_threads_at_once` and
//! `a_vm_made_on_one_thread_hashes_on_another` in `pow::tests`.

use randomx_rs::{RandomXCache, RandomXDataset, RandomXVM};

/// A RandomX cache, initialised with its key by `RandomXCache::new`; read-only after that.
#[derive(Clone, Debug)]
pub(super) struct SharedCache(RandomXCache);

impl SharedCache {
    pub(super) fn new(cache: RandomXCache) -> Self {
        SharedCache(cache)
    }

    /// A new handle to the same cache (an `Arc` clone inside randomx-rs).
    pub(super) fn handle(&self) -> RandomXCache {
        self.0.clone()
    }
}

// SAFETY: a `RandomXCache` is an `Arc` around one `randomx_cache*`. randomx-rs offers no
// way to change the cache after `RandomXCache::new` has run `randomx_init_cache`: the
// only uses of a shared handle are cloning the `Arc` (atomic) and passing the pointer to
// `randomx_create_vm` / `randomx_init_dataset`, which only read the cache (monerod's
// light VMs on several threads share one cache the same way). The last handle to drop
// calls `randomx_release_cache`, which has no thread affinity.
#[allow(unsafe_code)]
unsafe impl Send for SharedCache {}
// SAFETY: as for `Send`: `&SharedCache` only clones the `Arc` or hands the read-only
// cache to the library, which reads it concurrently from many threads by design.
#[allow(unsafe_code)]
unsafe impl Sync for SharedCache {}

/// A RandomX dataset, fully initialised by `RandomXDataset::new(.., 0)`; read-only after.
#[derive(Clone, Debug)]
pub(super) struct SharedDataset(RandomXDataset);

impl SharedDataset {
    pub(super) fn new(dataset: RandomXDataset) -> Self {
        SharedDataset(dataset)
    }

    /// A new handle to the same dataset.
    pub(super) fn handle(&self) -> RandomXDataset {
        self.0.clone()
    }
}

// SAFETY: a `RandomXDataset` is an `Arc` around one `randomx_dataset*` (and a handle to
// the cache it was built from). `RandomXDataset::new` returns only after
// `randomx_init_dataset` has written every item; afterwards randomx-rs only reads it
// (`randomx_create_vm`, `randomx_vm_set_dataset`, `get_data`) and fast VMs on several
// threads read one dataset at once by design (monerod's `main_dataset`). The last handle
// calls `randomx_release_dataset`, which has no thread affinity.
#[allow(unsafe_code)]
unsafe impl Send for SharedDataset {}
// SAFETY: as for `Send`: shared access only clones the `Arc` or reads the dataset.
#[allow(unsafe_code)]
unsafe impl Sync for SharedDataset {}

/// A RandomX VM owned by one thread at a time: it moves between threads through the VM
/// pool's mutex but is never shared (it is deliberately not `Sync`).
#[derive(Debug)]
pub(super) struct PooledVm(RandomXVM);

impl PooledVm {
    pub(super) fn new(vm: RandomXVM) -> Self {
        PooledVm(vm)
    }

    pub(super) fn vm(&self) -> &RandomXVM {
        &self.0
    }
}

// SAFETY: a `randomx_vm` has no thread affinity (no thread-local state; the library
// saves and restores the caller's floating-point environment around each hash), so it
// may move to another thread as long as only one thread uses it at a time, which
// ownership guarantees since `PooledVm` is not `Sync`. Its handles to the cache or
// dataset are covered by the `SharedCache` / `SharedDataset` arguments above.
#[allow(unsafe_code)]
unsafe impl Send for PooledVm {}
