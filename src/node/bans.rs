//! Host failures and bans, as monerod's `add_host_fail` / `block_host` /
//! `block_subnet`: more than `FAILS_BEFORE_BAN` failures ban the IP for `BAN_DURATION`.
//! `--ban-list FILE` adds permanent bans (one IP or IPv4 subnet `a.b.c.d/n` per line,
//! `#` comments); RPC `set_bans` bans hosts and IPv4 subnets for a time.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use crate::p2p::constants::{BAN_DURATION, FAILS_BEFORE_BAN};

/// Most hosts whose failures are remembered; past it the table is cleared (an attacker
/// spraying addresses cannot grow it without bound). monerod keeps an unbounded map.
pub const MAX_FAILING_HOSTS: usize = 65_536;

/// The file timed bans are saved to in the data directory.
pub const BANS_FILE: &str = "bans.json";

/// Saves timed bans (from [`BanList::timed_bans`]) atomically into `dir`, so bans
/// survive a restart as monerod's `p2pstate.bin` keeps its blocked hosts.
pub fn save_timed(dir: &Path, bans: &[(IpAddr, u64)]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_vec(bans).map_err(std::io::Error::other)?;
    let tmp = dir.join(format!("{BANS_FILE}.tmp"));
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
    }
    std::fs::rename(tmp, dir.join(BANS_FILE))
}

/// An IPv4 subnet, as monerod's `ipv4_network_subnet`: the address with its host bits
/// cleared, and the prefix length (0–32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv4Subnet {
    network: Ipv4Addr,
    prefix: u8,
}

impl Ipv4Subnet {
    /// `a.b.c.d/n` (monerod's `get_ipv4_subnet_address` without an implicit /32): `None`
    /// when there is no `/`, the prefix is over 32 or the address does not parse.
    pub fn parse(s: &str) -> Option<Ipv4Subnet> {
        let (ip, prefix) = s.split_once('/')?;
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 32)?;
        let ip: Ipv4Addr = ip.parse().ok()?;
        Some(Ipv4Subnet {
            network: Ipv4Addr::from(u32::from(ip) & Self::mask(prefix)),
            prefix,
        })
    }

    fn mask(prefix: u8) -> u32 {
        u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
    }

    /// Whether `ip` is in the subnet.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & Self::mask(self.prefix) == u32::from(self.network)
    }
}

impl std::fmt::Display for Ipv4Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// What a failure did to the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostFailure {
    /// Counted.
    Counted(u32),
    /// The host is now banned.
    Banned,
}

/// The entries of a ban table still in force at `now`, sorted, with the time left on each
/// (`None`: permanent).
fn in_force<K: Copy + Ord>(
    table: &HashMap<K, Option<Instant>>,
    now: Instant,
) -> Vec<(K, Option<Duration>)> {
    let mut v: Vec<_> = table
        .iter()
        .filter_map(|(k, until)| match until {
            None => Some((*k, None)),
            Some(t) => t.checked_duration_since(now).map(|left| (*k, Some(left))),
        })
        .collect();
    v.sort();
    v
}

/// Failures and bans per IP, and banned IPv4 subnets.
#[derive(Debug, Default)]
pub struct BanList {
    fails: HashMap<IpAddr, u32>,
    banned: HashMap<IpAddr, Option<Instant>>,
    subnets: HashMap<Ipv4Subnet, Option<Instant>>,
}

impl BanList {
    /// Loads permanent bans from a `--ban-list` file, if given.
    pub fn load(path: Option<&Path>) -> anyhow::Result<BanList> {
        let mut b = BanList::default();
        if let Some(p) = path {
            let text = std::fs::read_to_string(p)
                .map_err(|e| anyhow::anyhow!("cannot read ban list {}: {e}", p.display()))?;
            for (n, line) in text.lines().enumerate() {
                let line = line.split('#').next().unwrap_or("").trim();
                if line.is_empty() {
                    continue;
                }
                if let Some(subnet) = Ipv4Subnet::parse(line) {
                    b.subnets.insert(subnet, None);
                    continue;
                }
                let ip: IpAddr = line.parse().map_err(|e| {
                    anyhow::anyhow!(
                        "{}:{}: {line:?} is not an IP address or IPv4 subnet: {e}",
                        p.display(),
                        n + 1
                    )
                })?;
                b.banned.insert(ip, None);
            }
        }
        Ok(b)
    }

    /// Whether `ip` is banned at `now`, itself or by its subnet.
    pub fn is_banned(&mut self, ip: IpAddr, now: Instant) -> bool {
        if let IpAddr::V4(v4) = ip {
            if !self.subnets.is_empty() {
                self.subnets
                    .retain(|_, until| until.is_none_or(|t| now < t));
                if self.subnets.keys().any(|s| s.contains(v4)) {
                    return true;
                }
            }
        }
        match self.banned.get(&ip) {
            Some(None) => true,
            Some(Some(until)) if now < *until => true,
            Some(Some(_)) => {
                self.banned.remove(&ip);
                false
            }
            None => false,
        }
    }

    /// Adds `score` failures to `ip`; bans it past the threshold.
    pub fn add_fail(&mut self, ip: IpAddr, score: u32, now: Instant) -> HostFailure {
        if self.fails.len() >= MAX_FAILING_HOSTS && !self.fails.contains_key(&ip) {
            self.fails.clear();
        }
        let fails = self.fails.entry(ip).or_insert(0);
        *fails += score;
        if *fails > FAILS_BEFORE_BAN {
            self.fails.remove(&ip);
            self.banned.insert(ip, Some(now + BAN_DURATION));
            HostFailure::Banned
        } else {
            HostFailure::Counted(*fails)
        }
    }

    /// Bans `ip` for `duration` (`None`: until restart), as RPC `set_bans` does.
    pub fn ban(&mut self, ip: IpAddr, duration: Option<std::time::Duration>, now: Instant) {
        self.banned.insert(ip, duration.map(|d| now + d));
    }

    /// Lifts a ban on `ip`.
    pub fn unban(&mut self, ip: IpAddr) {
        self.banned.remove(&ip);
    }

    /// Bans the IPv4 subnet for `duration` (`None`: until restart), as RPC `set_bans`
    /// does with `a.b.c.d/n`.
    pub fn ban_subnet(&mut self, subnet: Ipv4Subnet, duration: Option<Duration>, now: Instant) {
        self.subnets.insert(subnet, duration.map(|d| now + d));
    }

    /// Lifts a subnet ban.
    pub fn unban_subnet(&mut self, subnet: Ipv4Subnet) {
        self.subnets.remove(&subnet);
    }

    /// The subnet bans in force at `now` and the time left on each (`None`: permanent).
    pub fn subnet_bans(&self, now: Instant) -> Vec<(Ipv4Subnet, Option<Duration>)> {
        in_force(&self.subnets, now)
    }

    /// The bans in force at `now` and the time left on each (`None`: permanent).
    pub fn bans(&self, now: Instant) -> Vec<(IpAddr, Option<std::time::Duration>)> {
        in_force(&self.banned, now)
    }

    /// How many hosts and subnets are banned.
    pub fn banned_count(&self) -> usize {
        self.banned.len() + self.subnets.len()
    }

    /// The timed bans still running at `now`, as (IP, unix time they end), for saving.
    pub fn timed_bans(&self, now: Instant) -> Vec<(IpAddr, u64)> {
        let unix_now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let mut v: Vec<(IpAddr, u64)> = self
            .banned
            .iter()
            .filter_map(|(ip, until)| {
                let left = until.as_ref()?.checked_duration_since(now)?;
                Some((*ip, (unix_now + left).as_secs()))
            })
            .collect();
        v.sort();
        v
    }

    /// Adds the timed bans saved in `dir` that have not ended yet.
    pub fn load_saved(&mut self, dir: &Path, now: Instant) -> anyhow::Result<()> {
        let path = dir.join(BANS_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(anyhow::anyhow!("{}: {e}", path.display())),
        };
        let saved: Vec<(IpAddr, u64)> = serde_json::from_slice(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let unix_now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        for (ip, until) in saved {
            if until > unix_now {
                // Never longer than a fresh ban, whatever the file says.
                let left = Duration::from_secs(until - unix_now).min(BAN_DURATION);
                self.banned.entry(ip).or_insert(Some(now + left));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_than_ten_failures_ban_for_a_day() {
        let mut b = BanList::default();
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        let now = Instant::now();
        for i in 1..=10 {
            assert_eq!(b.add_fail(ip, 1, now), HostFailure::Counted(i));
        }
        assert!(!b.is_banned(ip, now));
        assert_eq!(b.add_fail(ip, 1, now), HostFailure::Banned);
        assert!(b.is_banned(ip, now));
        assert!(!b.is_banned(ip, now + BAN_DURATION));
    }

    #[test]
    fn subnets_parse_as_monerods_and_ban_their_hosts_for_a_time() {
        let s = Ipv4Subnet::parse("10.1.2.3/16").unwrap();
        assert_eq!(s.to_string(), "10.1.0.0/16");
        assert!(s.contains("10.1.255.1".parse().unwrap()));
        assert!(!s.contains("10.2.0.1".parse().unwrap()));
        assert_eq!(
            Ipv4Subnet::parse("1.2.3.4/0").unwrap().to_string(),
            "0.0.0.0/0"
        );
        assert_eq!(
            Ipv4Subnet::parse("1.2.3.4/32").unwrap().to_string(),
            "1.2.3.4/32"
        );
        for bad in ["1.2.3.4", "1.2.3.4/33", "1.2.3/8", "::1/64", "x/8"] {
            assert!(Ipv4Subnet::parse(bad).is_none(), "{bad}");
        }
        let mut b = BanList::default();
        let now = Instant::now();
        b.ban_subnet(s, Some(Duration::from_secs(60)), now);
        assert!(b.is_banned("10.1.9.9".parse().unwrap(), now));
        assert!(!b.is_banned("10.3.9.9".parse().unwrap(), now));
        assert_eq!(b.subnet_bans(now), vec![(s, Some(Duration::from_secs(60)))]);
        assert!(!b.is_banned("10.1.9.9".parse().unwrap(), now + Duration::from_secs(61)));
        b.ban_subnet(s, None, now);
        b.unban_subnet(s);
        assert!(!b.is_banned("10.1.9.9".parse().unwrap(), now));
    }

    #[test]
    fn timed_bans_survive_a_restart() {
        let dir = std::env::temp_dir().join(format!("xmrd-bans-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let now = Instant::now();
        let mut b = BanList::default();
        let ip: IpAddr = "10.9.9.9".parse().unwrap();
        for _ in 0..11 {
            b.add_fail(ip, 1, now);
        }
        save_timed(&dir, &b.timed_bans(now)).unwrap();
        let mut again = BanList::default();
        again.load_saved(&dir, now).unwrap();
        assert!(again.is_banned(ip, now + Duration::from_secs(3600)));
        assert!(!again.is_banned(ip, now + BAN_DURATION + Duration::from_secs(5)));
    }

    #[test]
    fn a_ban_list_file_bans_permanently_and_rejects_garbage() {
        let dir = std::env::temp_dir().join(format!("xmrd-banlist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("bans.txt");
        std::fs::write(&f, "# bad\n10.0.0.1\n\n::1 # v6\n").unwrap();
        let mut b = BanList::load(Some(&f)).unwrap();
        assert!(b.is_banned(
            "10.0.0.1".parse().unwrap(),
            Instant::now() + BAN_DURATION * 9
        ));
        assert!(b.is_banned("::1".parse().unwrap(), Instant::now()));
        std::fs::write(&f, "192.168.7.9/24\n").unwrap();
        let mut b = BanList::load(Some(&f)).unwrap();
        assert!(b.is_banned("192.168.7.200".parse().unwrap(), Instant::now()));
        assert!(!b.is_banned("192.168.8.1".parse().unwrap(), Instant::now()));
        std::fs::write(&f, "not-an-ip\n").unwrap();
        assert!(BanList::load(Some(&f)).is_err());
    }
}
