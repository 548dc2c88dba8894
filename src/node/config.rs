//! Command-line flags, named and defaulted as monerod's.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use clap::Parser;
use xmrd_shards::Placement;

use crate::p2p::Network;

/// Which network, as monerod's `--testnet` / `--stagenet` / `--regtest`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkChoice {
    /// Mainnet.
    Mainnet,
    /// Testnet.
    Testnet,
    /// Stagenet.
    Stagenet,
    /// A private regtest chain (mainnet ids and genesis).
    Regtest,
}

/// xmrd, a Monero node daemon. Flags follow monerod's names and defaults.
#[derive(Parser, Debug, Clone)]
#[command(version, about, long_about = None, args_override_self = true)]
pub struct Args {
    /// A TOML file of flags: keys are the long flag names (`out-peers = 12`,
    /// `add-peer = ["1.2.3.4:18080"]`, `regtest = true`); flags given on the command
    /// line win over the file.
    #[arg(long)]
    pub config_file: Option<PathBuf>,
    /// Run on testnet.
    #[arg(long, conflicts_with_all = ["stagenet", "regtest"])]
    pub testnet: bool,
    /// Run on stagenet.
    #[arg(long, conflicts_with_all = ["regtest"])]
    pub stagenet: bool,
    /// Run a private regtest chain (mainnet network id and genesis).
    #[arg(long)]
    pub regtest: bool,
    /// Data directory (default ~/.bitmonero, with testnet/stagenet subfolders).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Interface to listen on for P2P.
    #[arg(long, default_value = "0.0.0.0")]
    pub p2p_bind_ip: IpAddr,
    /// Port to listen on for P2P (default 18080, 28080 testnet, 38080 stagenet).
    #[arg(long)]
    pub p2p_bind_port: Option<u16>,
    /// Manually add a peer (host:port).
    #[arg(long, value_parser = parse_peer)]
    pub add_peer: Vec<SocketAddr>,
    /// A peer to stay connected to (host:port).
    #[arg(long, value_parser = parse_peer)]
    pub add_priority_node: Vec<SocketAddr>,
    /// Connect only to these peers (host:port).
    #[arg(long, value_parser = parse_peer)]
    pub add_exclusive_node: Vec<SocketAddr>,
    /// Outbound connections to keep.
    #[arg(long, default_value_t = 12)]
    pub out_peers: usize,
    /// Inbound connections allowed (-1: unlimited, still under a hard cap).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub in_peers: i64,
    /// Inbound connections allowed from one IP.
    #[arg(long, default_value_t = 1)]
    pub max_connections_per_ip: usize,
    /// Do not tell peers our P2P port (we then never enter their white lists).
    #[arg(long)]
    pub hide_my_port: bool,
    /// Accepted for monerod compatibility: xmrd never maps ports with UPnP/IGD.
    #[arg(long)]
    pub no_igd: bool,
    /// A file of IPs to ban, one per line (as monerod's --ban-list).
    #[arg(long)]
    pub ban_list: Option<PathBuf>,
    /// Number of shards (pinned executor threads); default: one per core.
    #[arg(long, conflicts_with = "shard_cpus")]
    pub shards: Option<usize>,
    /// CPUs to pin one shard each to, e.g. 0,1.
    #[arg(long, value_delimiter = ',')]
    pub shard_cpus: Vec<usize>,
    /// Log filter (tracing syntax, e.g. info or xmrd=debug); default: `RUST_LOG` if set,
    /// else info.
    #[arg(long)]
    pub log_level: Option<String>,
    /// Log line format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Serve Prometheus metrics (`GET /metrics`) and latency snapshots
    /// (`GET /snapshot.json`) on this address, e.g. 127.0.0.1:18091. Off by default;
    /// SIGUSR1 writes a snapshot into the data directory either way.
    #[arg(long)]
    pub metrics_bind: Option<SocketAddr>,
    /// RandomX proof-of-work mode: light (256 MiB cache per seed, 30-40 ms per hash, as
    /// monerod by default), fast (2 GiB dataset, ~5 ms per hash, as monerod with
    /// MONERO_RANDOMX_FULL_MEM) or auto (the default: fast when synced, so that a new
    /// block is checked in one fast hash before relay, or when an epoch or more behind,
    /// if ~2.8 GiB of memory is available; light otherwise).
    #[arg(long, value_enum, default_value_t = crate::consensus::pow::RandomXMode::Auto)]
    pub randomx_mode: crate::consensus::pow::RandomXMode,
    /// Threads of the block/transaction verification pool (0: one per core). monerod's
    /// nearest knob is `--max-concurrency`.
    #[arg(long, default_value_t = 0)]
    pub verify_threads: usize,
    /// Fast block sync (monerod's flag and default): 1 trusts the block-hash groups of
    /// `--fast-block-sync-data` and skips proof of work, signatures and proofs below their
    /// last group, still checking every block's id, weight and structure; 0 verifies
    /// everything.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub fast_block_sync: u8,
    /// The block-hash groups for fast sync, in the format of monero's
    /// `src/blocks/checkpoints.dat` (which monerod compiles in; on mainnet only that very
    /// file, SHA-256 2aea941d…2d16, is taken). Default: `checkpoints.dat` in the data
    /// directory, if there is one (on regtest only a named file is used).
    #[arg(long)]
    pub fast_block_sync_data: Option<PathBuf>,
    /// Regtest only: every block's difficulty is N (monerod's `--fixed-difficulty`).
    #[arg(long, requires = "regtest")]
    pub fixed_difficulty: Option<u64>,
    /// Download buffer bound in bytes (monerod's `--block-download-max-size`; 0: the
    /// default, 100 MB).
    #[arg(long, default_value_t = 0)]
    pub block_download_max_size: usize,
    /// Transaction pool weight bound in bytes (monerod's `--max-txpool-weight`).
    #[arg(long, default_value_t = crate::txpool::DEFAULT_TXPOOL_MAX_WEIGHT)]
    pub max_txpool_weight: u64,
    /// Interface for the daemon RPC.
    #[arg(long, default_value = "127.0.0.1")]
    pub rpc_bind_ip: IpAddr,
    /// Port for the daemon RPC (default 18081, 28081 testnet, 38081 stagenet; regtest
    /// uses mainnet's, as monerod).
    #[arg(long)]
    pub rpc_bind_port: Option<u16>,
    /// Hide what monerod's `--restricted-rpc` hides (peers, bans, node figures, mining).
    #[arg(long)]
    pub restricted_rpc: bool,
    /// Interface for the second, restricted RPC server (`--rpc-restricted-bind-port`).
    #[arg(long, default_value = "127.0.0.1")]
    pub rpc_restricted_bind_ip: IpAddr,
    /// Port for a second RPC server that is always restricted, beside the main one
    /// (same login and TLS), as monerod's.
    #[arg(long)]
    pub rpc_restricted_bind_port: Option<u16>,
    /// `user:pass`: require HTTP digest authentication on the RPC.
    #[arg(long)]
    pub rpc_login: Option<String>,
    /// TLS on the RPC port: enabled (TLS only), disabled, or autodetect (monerod's
    /// default: TLS when the client starts a handshake).
    #[arg(long, value_enum, default_value_t = crate::rpc::tls::SslMode::Autodetect)]
    pub rpc_ssl: crate::rpc::tls::SslMode,
    /// PEM certificate (chain) for RPC TLS; none: a self-signed one is made at start.
    #[arg(long, requires = "rpc_ssl_private_key")]
    pub rpc_ssl_certificate: Option<PathBuf>,
    /// PEM private key for `--rpc-ssl-certificate`.
    #[arg(long, requires = "rpc_ssl_certificate")]
    pub rpc_ssl_private_key: Option<PathBuf>,
    /// Upload budget for serving the chain to syncing peers, in kB/s, node-wide
    /// (monerod's flag and default; monerod limits all its upload by it, xmrd only served
    /// history: relays are never held back). 0: no limit.
    #[arg(long, default_value_t = super::serve::DEFAULT_LIMIT_RATE_UP_KBPS)]
    pub limit_rate_up: u64,
    /// The same budget per peer, in kB/s (0: no per-peer limit).
    #[arg(long, default_value_t = super::serve::DEFAULT_LIMIT_RATE_UP_PER_PEER_KBPS)]
    pub limit_rate_up_per_peer: u64,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Errors reading `--config-file`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    /// The file could not be read.
    #[error("--config-file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not TOML.
    #[error("--config-file {path}: {source}")]
    Toml {
        /// The file.
        path: String,
        /// Why.
        source: Box<toml::de::Error>,
    },
    /// A key's value is not a string, number, boolean or a list of those.
    #[error("--config-file {path}: key {key}: {why}")]
    Value {
        /// The file.
        path: String,
        /// The key.
        key: String,
        /// Why.
        why: &'static str,
    },
    /// The flags (from the file and the command line) do not parse.
    #[error("{0}")]
    Flags(#[from] clap::Error),
}

/// Turns a config file's TOML into command-line flags (`key = v` → `--key v`).
pub fn config_file_flags(text: &str, path: &str) -> Result<Vec<String>, ConfigFileError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| ConfigFileError::Toml {
        path: path.to_string(),
        source: Box::new(e),
    })?;
    let bad = |key: &str, why| ConfigFileError::Value {
        path: path.to_string(),
        key: key.to_string(),
        why,
    };
    let scalar = |key: &str, v: &toml::Value| -> Result<String, ConfigFileError> {
        match v {
            toml::Value::String(s) => Ok(s.clone()),
            toml::Value::Integer(i) => Ok(i.to_string()),
            toml::Value::Float(f) => Ok(f.to_string()),
            toml::Value::Boolean(b) => Ok(b.to_string()),
            _ => Err(bad(key, "expected a string, number or boolean")),
        }
    };
    let mut flags = Vec::new();
    for (key, value) in &table {
        let flag = format!("--{}", key.replace('_', "-"));
        if flag == "--config-file" {
            return Err(bad(key, "a config file cannot name another"));
        }
        match value {
            toml::Value::Boolean(true) => flags.push(flag),
            toml::Value::Boolean(false) => {}
            toml::Value::Array(items) => {
                for item in items {
                    flags.push(flag.clone());
                    flags.push(scalar(key, item)?);
                }
            }
            other => {
                flags.push(flag);
                flags.push(scalar(key, other)?);
            }
        }
    }
    Ok(flags)
}

impl Args {
    /// Parses the command line `argv` (program name first); with `--config-file`, the
    /// file's flags come first so that the command line overrides them.
    pub fn parse_with_config_file(argv: Vec<String>) -> Result<Args, ConfigFileError> {
        let first = Args::try_parse_from(&argv)?;
        let Some(path) = &first.config_file else {
            return Ok(first);
        };
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigFileError::Read {
            path: shown.clone(),
            source,
        })?;
        let file_flags = config_file_flags(&text, &shown)?;
        let mut merged = Vec::with_capacity(argv.len() + file_flags.len());
        let mut it = argv.into_iter();
        merged.extend(it.next());
        merged.extend(file_flags);
        merged.extend(it);
        Ok(Args::try_parse_from(merged)?)
    }
}

fn parse_peer(s: &str) -> Result<SocketAddr, String> {
    s.to_socket_addrs()
        .map_err(|e| format!("{s}: {e}"))?
        .next()
        .ok_or_else(|| format!("{s}: no address"))
}

/// The block-hash data fast sync looks for in the data directory when
/// `--fast-block-sync-data` is not given (the name of monero's source file).
pub(crate) const DEFAULT_BLOCK_HASHES_FILE: &str = "checkpoints.dat";

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The network ids to use.
    pub network: Network,
    /// Which network the operator chose (regtest is mainnet on the wire).
    pub choice: NetworkChoice,
    /// Data directory.
    pub data_dir: PathBuf,
    /// P2P listen address.
    pub p2p_bind_ip: IpAddr,
    /// P2P listen port.
    pub p2p_bind_port: u16,
    /// `--add-peer`.
    pub add_peers: Vec<SocketAddr>,
    /// `--add-priority-node`.
    pub priority_nodes: Vec<SocketAddr>,
    /// `--add-exclusive-node`.
    pub exclusive_nodes: Vec<SocketAddr>,
    /// `--out-peers`.
    pub out_peers: usize,
    /// `--in-peers`, resolved against the hard cap.
    pub in_peers: usize,
    /// `--max-connections-per-ip`.
    pub max_connections_per_ip: usize,
    /// `--hide-my-port`.
    pub hide_my_port: bool,
    /// `--ban-list`.
    pub ban_list: Option<PathBuf>,
    /// Shard placement.
    pub placement: Placement,
    /// `--randomx-mode`.
    pub randomx_mode: crate::consensus::pow::RandomXMode,
    /// `--verify-threads` (0: one per core).
    pub verify_threads: usize,
    /// `--fixed-difficulty` (regtest).
    pub fixed_difficulty: Option<u64>,
    /// `--fast-block-sync` on.
    pub fast_block_sync: bool,
    /// `--fast-block-sync-data` (None: the data directory's `checkpoints.dat`, if any).
    pub fast_block_sync_data: Option<PathBuf>,
    /// `--block-download-max-size` resolved (bytes).
    pub block_download_max_size: usize,
    /// `--max-txpool-weight`.
    pub max_txpool_weight: u64,
    /// `--limit-rate-up` in bytes per second (0: none).
    pub serve_rate: u64,
    /// `--limit-rate-up-per-peer` in bytes per second (0: none).
    pub serve_rate_per_peer: u64,
    /// `--metrics-bind`.
    pub metrics_bind: Option<SocketAddr>,
    /// The daemon RPC's flags.
    pub rpc: RpcConfig,
}

/// The daemon RPC's flags, resolved.
#[derive(Debug, Clone)]
pub struct RpcConfig {
    /// `--rpc-bind-ip` and `--rpc-bind-port` (or the network's default port).
    pub bind: SocketAddr,
    /// `--restricted-rpc`.
    pub restricted: bool,
    /// `--rpc-restricted-bind-ip` and `--rpc-restricted-bind-port`, when the port is given.
    pub restricted_bind: Option<SocketAddr>,
    /// `--rpc-login`.
    pub login: Option<String>,
    /// `--rpc-ssl`.
    pub ssl: crate::rpc::tls::SslMode,
    /// `--rpc-ssl-certificate`.
    pub certificate: Option<PathBuf>,
    /// `--rpc-ssl-private-key`.
    pub private_key: Option<PathBuf>,
}

/// monerod's default RPC port per network (`config::RPC_DEFAULT_PORT` and its testnet
/// and stagenet counterparts; `--regtest` is not a network of its own there, so it
/// takes mainnet's).
pub fn default_rpc_port(choice: NetworkChoice) -> u16 {
    match choice {
        NetworkChoice::Mainnet | NetworkChoice::Regtest => 18081,
        NetworkChoice::Testnet => 28081,
        NetworkChoice::Stagenet => 38081,
    }
}

impl Config {
    /// Whether loopback and private addresses are kept in the address book: on
    /// regtest and with exclusive nodes (monerod filters them otherwise).
    pub fn allows_local_peers(&self) -> bool {
        self.choice == NetworkChoice::Regtest || !self.exclusive_nodes.is_empty()
    }

    /// The consensus rules of the chosen network.
    pub fn consensus_net(&self) -> crate::consensus::ConsensusNet {
        use crate::consensus::ConsensusNet;
        match self.choice {
            NetworkChoice::Mainnet => ConsensusNet::Mainnet,
            NetworkChoice::Testnet => ConsensusNet::Testnet,
            NetworkChoice::Stagenet => ConsensusNet::Stagenet,
            NetworkChoice::Regtest => ConsensusNet::Regtest {
                fixed_difficulty: self.fixed_difficulty.map(u128::from),
            },
        }
    }

    /// Fast sync's block-hash groups: empty when `--fast-block-sync 0`, or when no file
    /// was named and the data directory has none (on regtest: when no file was named). A named or present file that cannot be
    /// used is an error (the operator asked for it).
    pub fn block_hashes(&self) -> anyhow::Result<crate::consensus::fast_sync::BlockHashGroups> {
        use crate::consensus::fast_sync::BlockHashGroups;
        if !self.fast_block_sync {
            tracing::info!("fast sync off (--fast-block-sync 0): every block is verified in full");
            return Ok(BlockHashGroups::default());
        }
        let (path, named) = match (&self.fast_block_sync_data, self.choice) {
            (Some(p), _) => (p.clone(), true),
            // monerod has no block-hash data for regtest (a private chain), and a regtest
            // node shares mainnet's default data directory: only a named file is used.
            (None, NetworkChoice::Regtest) => return Ok(BlockHashGroups::default()),
            (None, _) => (self.data_dir.join(DEFAULT_BLOCK_HASHES_FILE), false),
        };
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) if !named && e.kind() == std::io::ErrorKind::NotFound => {
                tracing::info!(
                    "fast sync: no block-hash data ({} absent, see --fast-block-sync-data): every block is verified in full",
                    path.display()
                );
                return Ok(BlockHashGroups::default());
            }
            Err(e) => anyhow::bail!("--fast-block-sync-data {}: {e}", path.display()),
        };
        BlockHashGroups::parse(&data, self.consensus_net())
            .map_err(|e| anyhow::anyhow!("--fast-block-sync-data {}: {e}", path.display()))
    }

    /// Resolves flags into a configuration.
    pub fn from_args(a: &Args) -> Config {
        let choice = if a.regtest {
            NetworkChoice::Regtest
        } else if a.testnet {
            NetworkChoice::Testnet
        } else if a.stagenet {
            NetworkChoice::Stagenet
        } else {
            NetworkChoice::Mainnet
        };
        let network = match choice {
            NetworkChoice::Mainnet | NetworkChoice::Regtest => Network::Mainnet,
            NetworkChoice::Testnet => Network::Testnet,
            NetworkChoice::Stagenet => Network::Stagenet,
        };
        let base = a.data_dir.clone().unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default()
                .join(".bitmonero")
        });
        let data_dir = match (a.data_dir.is_some(), choice) {
            (false, NetworkChoice::Testnet) => base.join("testnet"),
            (false, NetworkChoice::Stagenet) => base.join("stagenet"),
            _ => base,
        };
        let placement = if !a.shard_cpus.is_empty() {
            Placement::Cpus(a.shard_cpus.clone())
        } else if let Some(n) = a.shards {
            Placement::Count(n)
        } else {
            Placement::AllCores
        };
        let in_peers = usize::try_from(a.in_peers).map_or(super::MAX_IN_PEERS_HARD_CAP, |n| {
            n.min(super::MAX_IN_PEERS_HARD_CAP)
        });
        Config {
            network,
            choice,
            data_dir,
            p2p_bind_ip: a.p2p_bind_ip,
            p2p_bind_port: a.p2p_bind_port.unwrap_or(network.default_p2p_port()),
            add_peers: a.add_peer.clone(),
            priority_nodes: a.add_priority_node.clone(),
            exclusive_nodes: a.add_exclusive_node.clone(),
            out_peers: a.out_peers,
            in_peers,
            max_connections_per_ip: a.max_connections_per_ip.max(1),
            hide_my_port: a.hide_my_port,
            ban_list: a.ban_list.clone(),
            placement,
            randomx_mode: a.randomx_mode,
            verify_threads: a.verify_threads,
            fixed_difficulty: a.fixed_difficulty,
            fast_block_sync: a.fast_block_sync == 1,
            fast_block_sync_data: a.fast_block_sync_data.clone(),
            block_download_max_size: if a.block_download_max_size == 0 {
                crate::sync::DEFAULT_MAX_BUFFER_BYTES
            } else {
                a.block_download_max_size
            },
            max_txpool_weight: a.max_txpool_weight,
            serve_rate: a.limit_rate_up.saturating_mul(super::serve::KB),
            serve_rate_per_peer: a.limit_rate_up_per_peer.saturating_mul(super::serve::KB),
            metrics_bind: a.metrics_bind,
            rpc: RpcConfig {
                bind: SocketAddr::new(
                    a.rpc_bind_ip,
                    a.rpc_bind_port.unwrap_or(default_rpc_port(choice)),
                ),
                restricted: a.restricted_rpc,
                restricted_bind: a
                    .rpc_restricted_bind_port
                    .map(|port| SocketAddr::new(a.rpc_restricted_bind_ip, port)),
                login: a.rpc_login.clone(),
                ssl: a.rpc_ssl,
                certificate: a.rpc_ssl_certificate.clone(),
                private_key: a.rpc_ssl_private_key.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(v: &[&str]) -> Vec<String> {
        std::iter::once("xmrd")
            .chain(v.iter().copied())
            .map(String::from)
            .collect()
    }

    #[test]
    fn rpc_flags_default_as_monerods() {
        let a = Args::try_parse_from(argv(&["--regtest"])).unwrap();
        let c = Config::from_args(&a);
        // Regtest sets neither --testnet nor --stagenet, so monerod takes mainnet's port.
        assert_eq!(c.rpc.bind, "127.0.0.1:18081".parse().unwrap());
        assert_eq!(c.rpc.ssl, crate::rpc::tls::SslMode::Autodetect);
        assert!(!c.rpc.restricted && c.rpc.login.is_none());
        let port = |f: &[&str]| {
            Config::from_args(&Args::try_parse_from(argv(f)).unwrap())
                .rpc
                .bind
                .port()
        };
        assert_eq!(port(&["--testnet"]), 28081);
        assert_eq!(port(&["--stagenet"]), 38081);
        assert_eq!(port(&[]), 18081);
        assert_eq!(port(&["--rpc-bind-port", "22449"]), 22449);
        assert!(Args::try_parse_from(argv(&["--rpc-ssl-certificate", "c.pem"])).is_err());
    }

    /// `--fast-block-sync` (default 1) and where its data comes from: a named file, else
    /// the data directory's `checkpoints.dat` (not on regtest); a bad or foreign file is an
    /// error, none at all is full verification.
    #[test]
    fn fast_block_sync_data_is_found_and_checked() {
        let dir = crate::testdata::realpeer::temp_dir("fast-sync-config").unwrap();
        let d = dir.to_str().unwrap();
        let groups = |v: &[&str]| {
            let a = Args::try_parse_from(argv(v)).unwrap();
            Config::from_args(&a).block_hashes().map(|g| g.len())
        };
        assert_eq!(Args::try_parse_from(argv(&[])).unwrap().fast_block_sync, 1);
        assert!(Args::try_parse_from(argv(&["--fast-block-sync", "2"])).is_err());
        // Nothing in the data directory: no groups, on every network.
        assert_eq!(groups(&["--data-dir", d]).unwrap(), 0);
        assert_eq!(groups(&["--regtest", "--data-dir", d]).unwrap(), 0);
        // A well-formed file of one group, not monerod's.
        let ids: Vec<[u8; 32]> = (0..512u32)
            .map(|i| monero_oxide::primitives::keccak256(i.to_le_bytes()))
            .collect();
        let data = crate::consensus::fast_sync::BlockHashGroups::from_chain(&ids, &[1; 512]);
        std::fs::write(dir.join(DEFAULT_BLOCK_HASHES_FILE), data.to_bytes()).unwrap();
        // Mainnet refuses it (not monerod's data).
        assert!(groups(&["--data-dir", d]).is_err());
        assert_eq!(
            groups(&["--fast-block-sync", "0", "--data-dir", d]).unwrap(),
            0
        );
        // Regtest ignores the data directory's file, but takes a named one.
        assert_eq!(groups(&["--regtest", "--data-dir", d]).unwrap(), 0);
        let named = dir.join(DEFAULT_BLOCK_HASHES_FILE);
        let named = named.to_str().unwrap();
        assert_eq!(
            groups(&["--regtest", "--fast-block-sync-data", named]).unwrap(),
            1
        );
        // A named file that is missing or malformed stops the node.
        let missing = dir.join("missing.dat");
        assert!(groups(&[
            "--regtest",
            "--fast-block-sync-data",
            missing.to_str().unwrap()
        ])
        .is_err());
        std::fs::write(&missing, [1, 0, 0]).unwrap();
        assert!(groups(&[
            "--regtest",
            "--fast-block-sync-data",
            missing.to_str().unwrap()
        ])
        .is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn config_file_keys_become_flags() {
        let flags = config_file_flags(
            "regtest = true\nhide_my_port = false\nout-peers = 3\nadd-peer = [\"127.0.0.1:1\", \"127.0.0.1:2\"]\n",
            "f",
        )
        .unwrap();
        assert_eq!(
            flags,
            [
                "--add-peer",
                "127.0.0.1:1",
                "--add-peer",
                "127.0.0.1:2",
                "--out-peers",
                "3",
                "--regtest"
            ]
        );
        assert!(config_file_flags("x = { y = 1 }", "f").is_err());
        assert!(config_file_flags("config-file = \"a\"", "f").is_err());
        assert!(config_file_flags("not toml", "f").is_err());
    }

    #[test]
    fn the_shipped_example_config_parses() {
        let flags =
            config_file_flags(include_str!("../../ops/xmrd.toml.example"), "example").unwrap();
        let mut v = vec!["xmrd".to_string()];
        v.extend(flags);
        let a = Args::try_parse_from(v).unwrap();
        assert_eq!(a.metrics_bind, Some("127.0.0.1:18091".parse().unwrap()));
        assert_eq!(a.log_level.as_deref(), Some("info"));
        assert_eq!(a.out_peers, 12);
    }

    #[test]
    fn the_command_line_overrides_the_config_file() {
        let dir = std::env::temp_dir().join(format!("xmrd-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("xmrd.toml");
        std::fs::write(
            &file,
            "regtest = true\nout-peers = 3\nlog-level = \"debug\"\nmetrics-bind = \"127.0.0.1:48409\"\n",
        )
        .unwrap();
        let f = file.to_str().unwrap();
        let a =
            Args::parse_with_config_file(argv(&["--config-file", f, "--out-peers", "5"])).unwrap();
        assert!(a.regtest);
        assert_eq!(a.out_peers, 5);
        assert_eq!(a.log_level.as_deref(), Some("debug"));
        assert_eq!(a.metrics_bind, Some("127.0.0.1:48409".parse().unwrap()));
        let a = Args::parse_with_config_file(argv(&["--config-file", f])).unwrap();
        assert_eq!(a.out_peers, 3);
        std::fs::write(&file, "no-such-flag = 1\n").unwrap();
        let e = Args::parse_with_config_file(argv(&["--config-file", f])).unwrap_err();
        assert!(e.to_string().contains("no-such-flag"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
        // Without a file: plain flags, defaults as before.
        let a = Args::parse_with_config_file(argv(&[])).unwrap();
        assert_eq!(a.out_peers, 12);
        assert_eq!(a.log_format, LogFormat::Text);
        assert!(a.metrics_bind.is_none());
    }
}
