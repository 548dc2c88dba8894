//! Dandelion++ routing for relayed transactions, sans-IO, with monerod's parameters
//! (`cryptonote_config.h`, `levin_notify.cpp`, `tx_pool.cpp`): each epoch (10 min plus up
//! to 30 s) the node is a fluff node with probability 20 %, else a stem node with two
//! outbound stem peers; in a stem epoch a stem transaction goes on to the stem peer its
//! source is mapped to, and waits under an embargo (exponential, 39 s on average): if it
//! is not seen fluffed by then, this node fluffs it itself.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::Rng;

/// Peers as the node numbers them.
pub type PeerKey = u64;

/// `CRYPTONOTE_DANDELIONPP_STEMS`: outbound stem peers per epoch.
pub const CRYPTONOTE_DANDELIONPP_STEMS: usize = 2;
/// `CRYPTONOTE_DANDELIONPP_FLUFF_PROBABILITY`: percent of epochs a node fluffs.
pub const CRYPTONOTE_DANDELIONPP_FLUFF_PROBABILITY: u32 = 20;
/// `CRYPTONOTE_DANDELIONPP_MIN_EPOCH` (10 minutes).
pub const CRYPTONOTE_DANDELIONPP_MIN_EPOCH: Duration = Duration::from_secs(600);
/// `CRYPTONOTE_DANDELIONPP_EPOCH_RANGE`: random extra epoch length, up to 30 s.
pub const CRYPTONOTE_DANDELIONPP_EPOCH_RANGE: Duration = Duration::from_secs(30);
/// `CRYPTONOTE_DANDELIONPP_EMBARGO_AVERAGE`: mean of the exponential embargo.
pub const CRYPTONOTE_DANDELIONPP_EMBARGO_AVERAGE: Duration = Duration::from_secs(39);

/// Where a batch of transactions goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// On along the stem, to this peer.
    Stem(PeerKey),
    /// To every peer but the source.
    Fluff,
}

/// The Dandelion++ state of one node.
#[derive(Debug)]
pub struct Dandelion {
    fluffing: bool,
    epoch_end: Option<Instant>,
    stems: Vec<PeerKey>,
    /// Source peer → its stem peer for this epoch (monerod's `connection_map`).
    map: HashMap<PeerKey, PeerKey>,
    embargo: HashMap<[u8; 32], Instant>,
}

impl Default for Dandelion {
    fn default() -> Self {
        Self::new()
    }
}

impl Dandelion {
    /// A node before its first epoch.
    pub fn new() -> Self {
        Dandelion {
            fluffing: false,
            epoch_end: None,
            stems: Vec::new(),
            map: HashMap::new(),
            embargo: HashMap::new(),
        }
    }

    /// Whether this epoch fluffs everything.
    pub fn fluffing(&self) -> bool {
        self.fluffing
    }

    /// The stem peers of this epoch.
    pub fn stems(&self) -> &[PeerKey] {
        &self.stems
    }

    /// Starts a new epoch when the current one is over (or a stem peer is gone):
    /// fluff with [`CRYPTONOTE_DANDELIONPP_FLUFF_PROBABILITY`], else up to
    /// [`CRYPTONOTE_DANDELIONPP_STEMS`] stem peers drawn from `outbound`.
    pub fn tick(&mut self, now: Instant, outbound: &[PeerKey], rng: &mut impl Rng) {
        let over = self.epoch_end.is_none_or(|e| now >= e);
        let lost = self.stems.iter().any(|s| !outbound.contains(s));
        if !over && !lost {
            return;
        }
        if over {
            self.fluffing = rng.gen_range(0..100) < CRYPTONOTE_DANDELIONPP_FLUFF_PROBABILITY;
            let extra = rng.gen_range(0.0..=CRYPTONOTE_DANDELIONPP_EPOCH_RANGE.as_secs_f64());
            self.epoch_end =
                Some(now + CRYPTONOTE_DANDELIONPP_MIN_EPOCH + Duration::from_secs_f64(extra));
        }
        let mut pick: Vec<PeerKey> = outbound.to_vec();
        let mut stems = Vec::new();
        while stems.len() < CRYPTONOTE_DANDELIONPP_STEMS && !pick.is_empty() {
            stems.push(pick.swap_remove(rng.gen_range(0..pick.len())));
        }
        self.stems = stems;
        self.map.clear();
    }

    /// Where transactions from `source` go: a fluff relay is fluffed; a stem relay is
    /// fluffed in a fluff epoch, else sent to `source`'s stem peer (never back to the
    /// source; fluffed when no stem peer is left).
    pub fn route(&mut self, source: PeerKey, stem: bool) -> Route {
        if !stem || self.fluffing {
            return Route::Fluff;
        }
        if let Some(s) = self.map.get(&source) {
            if *s != source && self.stems.contains(s) {
                return Route::Stem(*s);
            }
        }
        // The least used stem that is not the source.
        let mut uses: Vec<(usize, PeerKey)> = self
            .stems
            .iter()
            .filter(|s| **s != source)
            .map(|s| (self.map.values().filter(|v| *v == s).count(), *s))
            .collect();
        uses.sort_unstable();
        match uses.first() {
            Some((_, s)) => {
                self.map.insert(source, *s);
                Route::Stem(*s)
            }
            None => Route::Fluff,
        }
    }

    /// A transaction went on along the stem: it is embargoed for an exponential time
    /// with mean [`CRYPTONOTE_DANDELIONPP_EMBARGO_AVERAGE`].
    pub fn embargo(&mut self, id: [u8; 32], now: Instant, rng: &mut impl Rng) {
        let u: f64 = rng.gen_range(f64::EPSILON..1.0);
        let secs = -u.ln() * CRYPTONOTE_DANDELIONPP_EMBARGO_AVERAGE.as_secs_f64();
        self.embargo
            .insert(id, now + Duration::from_secs_f64(secs.min(3600.0)));
    }

    /// Whether `id` is under embargo (a stem transaction: not shown to other peers).
    pub fn embargoed(&self, id: &[u8; 32]) -> bool {
        self.embargo.contains_key(id)
    }

    /// `id` was seen fluffed, or mined, or left the pool: its embargo ends.
    pub fn release(&mut self, id: &[u8; 32]) {
        self.embargo.remove(id);
    }

    /// Transactions whose embargo ran out: this node fluffs them itself.
    pub fn expired(&mut self, now: Instant) -> Vec<[u8; 32]> {
        let out: Vec<[u8; 32]> = self
            .embargo
            .iter()
            .filter(|(_, t)| now >= **t)
            .map(|(k, _)| *k)
            .collect();
        for k in &out {
            self.embargo.remove(k);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn about_one_epoch_in_five_fluffs_and_epochs_last_ten_minutes() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut d = Dandelion::new();
        let mut now = Instant::now();
        let mut fluffs = 0;
        for _ in 0..2000 {
            d.tick(now, &[1, 2, 3], &mut rng);
            let end = d.epoch_end.unwrap();
            let len = end - now;
            assert!(len >= CRYPTONOTE_DANDELIONPP_MIN_EPOCH);
            assert!(len <= CRYPTONOTE_DANDELIONPP_MIN_EPOCH + CRYPTONOTE_DANDELIONPP_EPOCH_RANGE);
            assert_eq!(d.stems().len(), CRYPTONOTE_DANDELIONPP_STEMS);
            fluffs += usize::from(d.fluffing());
            // Mid-epoch ticks change nothing.
            let before = (d.fluffing(), d.stems().to_vec());
            d.tick(now + Duration::from_secs(1), &[1, 2, 3], &mut rng);
            assert_eq!(before, (d.fluffing(), d.stems().to_vec()));
            now = end;
        }
        assert!(
            (300..500).contains(&fluffs),
            "{fluffs} fluff epochs of 2000"
        );
    }

    #[test]
    fn stem_routes_keep_a_source_on_one_stem_and_never_return_to_it() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut d = Dandelion::new();
        let now = Instant::now();
        // Find a stem epoch.
        while {
            d.epoch_end = None;
            d.tick(now, &[10, 11, 12], &mut rng);
            d.fluffing()
        } {}
        assert_eq!(d.route(5, false), Route::Fluff, "fluff relays fluff");
        let Route::Stem(s) = d.route(5, true) else {
            panic!("a stem epoch stems")
        };
        assert!(d.stems().contains(&s));
        for _ in 0..10 {
            assert_eq!(d.route(5, true), Route::Stem(s));
        }
        // A stem peer that is itself the source goes to the other stem.
        let own = d.stems()[0];
        assert_eq!(d.route(own, true), Route::Stem(d.stems()[1]));
        // Losing a stem peer re-draws the stems within the epoch.
        let left: Vec<PeerKey> = [10, 11, 12].into_iter().filter(|p| *p != s).collect();
        d.tick(now + Duration::from_secs(1), &left, &mut rng);
        assert!(!d.stems().contains(&s));
        // No outbound peers: nothing to stem to, so fluff.
        d.tick(now + Duration::from_secs(2), &[], &mut rng);
        if !d.fluffing() {
            assert_eq!(d.route(5, true), Route::Fluff);
        }
    }

    #[test]
    fn embargoes_average_39_seconds_and_expire() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut d = Dandelion::new();
        let now = Instant::now();
        let n = 5000u32;
        for i in 0..n {
            let mut id = [0u8; 32];
            id[..4].copy_from_slice(&i.to_le_bytes());
            d.embargo(id, now, &mut rng);
        }
        let mean: f64 = d
            .embargo
            .values()
            .map(|t| (*t - now).as_secs_f64())
            .sum::<f64>()
            / f64::from(n);
        assert!((35.0..43.0).contains(&mean), "mean embargo {mean}");
        let early = d.expired(now + Duration::from_secs(10)).len();
        assert!(early > 0 && early < n as usize / 2);
        d.release(&[0; 32]);
        let rest = d.expired(now + Duration::from_secs(7200)).len();
        assert!(rest + early >= n as usize - 1);
        assert!(d.embargo.is_empty());
    }
}
