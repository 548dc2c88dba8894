//! `p2p-load`: how much an idle handshaken peer costs a node.
//!
//! Starts the node under test (xmrd, or monerod for comparison, both regtest on
//! loopback), opens N connections that handshake and then stay idle, and reports
//! handshakes per second, resident memory per connection and CPU used while idle. The
//! idle window stays under a minute so no timed sync is due.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use xmrd::p2p::{LocalNode, Network};
use xmrd::wire::epee::FieldLayout;
use xmrd::wire::levin::LevinDecoder;
use xmrd::wire::limits::MAX_PACKET;
use xmrd::wire::messages::{HandshakeRequest, Message};

/// Arguments of `p2p-load`.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The xmrd binary to measure.
    #[arg(long)]
    xmrd: Option<PathBuf>,
    /// Also measure monerod (from PATH) in the same run.
    #[arg(long)]
    monerod: bool,
    /// Connections to open (repeatable: 1000,10000).
    #[arg(long, value_delimiter = ',', default_value = "1000")]
    connections: Vec<usize>,
    /// Seconds to stay idle while measuring CPU (under 60, before any timed sync).
    #[arg(long, default_value_t = 30)]
    idle_secs: u64,
    /// First loopback port to use.
    #[arg(long, default_value_t = 48400)]
    port: u16,
}

struct Node {
    name: &'static str,
    child: Child,
    port: u16,
    _dir: TempDir,
    log: Option<PathBuf>,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        xmrd::testdata::terminate(&mut self.child, Duration::from_secs(30));
    }
}

fn temp_dir(tag: &str) -> anyhow::Result<TempDir> {
    let d = std::env::temp_dir().join(format!("xmrd-load-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d)?;
    Ok(TempDir(d))
}

fn start_xmrd(bin: &PathBuf, port: u16, n: usize) -> anyhow::Result<Node> {
    let dir = temp_dir("xmrd")?;
    let log = dir.0.join("xmrd.log");
    let child = Command::new(bin)
        .args(xmrd::testdata::realpeer::XMRD_REGTEST_FLAGS)
        .args(["--p2p-bind-port", &port.to_string()])
        .args(["--max-connections-per-ip", &(n + 10).to_string()])
        .args(["--in-peers", &(n + 10).to_string()])
        .args(["--log-level", "warn,xmrd::node=info"])
        .arg("--data-dir")
        .arg(dir.0.join("data"))
        .stdout(std::fs::File::create(&log)?)
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    Ok(Node {
        name: "xmrd",
        child,
        port,
        _dir: dir,
        log: Some(log),
    })
}

fn start_monerod(port: u16, n: usize) -> anyhow::Result<Node> {
    let dir = temp_dir("monerod")?;
    let child = Command::new("monerod")
        .args(xmrd::testdata::realpeer::MONEROD_SAFE_FLAGS)
        .args([
            "--p2p-bind-port",
            &port.to_string(),
            "--rpc-bind-port",
            &(port + 1).to_string(),
        ])
        .args(["--add-exclusive-node", &format!("127.0.0.1:{}", port + 2)])
        .args([
            "--max-connections-per-ip",
            &(n + 10).to_string(),
            "--log-level",
            "0",
        ])
        .arg("--data-dir")
        .arg(&dir.0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start monerod")?;
    Ok(Node {
        name: "monerod",
        child,
        port,
        _dir: dir,
        log: None,
    })
}

fn wait_listening(port: u16) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("nothing listens on 127.0.0.1:{port}")
}

/// VmRSS of `pid`, in bytes.
fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS")?;
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .context("bad VmRSS")?
        .parse()?;
    Ok(kb * 1024)
}

/// User plus system CPU time of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = stat.rsplit_once(')').context("bad stat")?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = f.get(11).context("no utime")?.parse()?;
    let stime: u64 = f.get(12).context("no stime")?.parse()?;
    Ok(utime + stime)
}

fn handshake_bytes(peer_id: u64) -> Vec<u8> {
    Message::HandshakeRequest(HandshakeRequest {
        node_data: LocalNode {
            network_id: Network::Mainnet.network_id(),
            peer_id,
            my_port: 0,
            rpc_port: 0,
            support_flags: 1,
        }
        .node_data(),
        payload_data: Network::Mainnet.genesis_sync(),
        layout: FieldLayout::CANONICAL,
    })
    .to_packet(0)
}

/// Connects and handshakes; returns the open socket.
fn handshake(addr: SocketAddr, peer_id: u64) -> anyhow::Result<TcpStream> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(&handshake_bytes(peer_id))?;
    let mut d = LevinDecoder::new(MAX_PACKET);
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            bail!("closed during handshake");
        }
        d.push(buf.get(..n).unwrap_or_default())?;
        while let Some(p) = d.next_packet()? {
            if p.header.command == 1001 && p.header.is_response() {
                return Ok(s);
            }
        }
    }
}

fn measure(node: &mut Node, n: usize, idle: Duration) -> anyhow::Result<serde_json::Value> {
    wait_listening(node.port)?;
    std::thread::sleep(Duration::from_secs(2));
    let pid = node.child.id();
    let rss0 = rss_bytes(pid)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], node.port));
    let t0 = Instant::now();
    let mut socks = Vec::with_capacity(n);
    for i in 0..n {
        socks.push(
            handshake(addr, 0x5eed_0000_0000 + i as u64)
                .with_context(|| format!("{}: handshake {i} of {n}", node.name))?,
        );
    }
    let secs = t0.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(2));
    let rss1 = rss_bytes(pid)?;
    let c0 = cpu_ticks(pid)?;
    std::thread::sleep(idle);
    let c1 = cpu_ticks(pid)?;
    let ticks_per_sec = 100.0; // USER_HZ on Linux
    let idle_cpu = (c1 - c0) as f64 / ticks_per_sec / idle.as_secs_f64();
    // xmrd logs how its peers are spread over the shards when it stops: stop it while
    // the connections are still open.
    let mut spread = serde_json::Value::Null;
    if let Some(log) = &node.log {
        xmrd::testdata::terminate(&mut node.child, Duration::from_secs(30));
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text.lines().rev().find(|l| l.contains("status:")) {
            spread = serde_json::Value::from(line.split("status: ").nth(1).unwrap_or(line));
        }
    }
    drop(socks);
    Ok(serde_json::json!({
        "node": node.name,
        "connections": n,
        "handshakes_per_sec": (n as f64 / secs).round(),
        "rss_before_mib": rss0 as f64 / 1048576.0,
        "rss_after_mib": rss1 as f64 / 1048576.0,
        "rss_per_connection_kib": (rss1.saturating_sub(rss0)) as f64 / n as f64 / 1024.0,
        "idle_cpu_percent_of_one_core": (idle_cpu * 1000.0).round() / 10.0,
        "status_at_stop": spread,
    }))
}

/// Runs the measurements and prints one JSON line per node and size.
pub(crate) fn run(args: &Args) -> anyhow::Result<bool> {
    xmrd_shards_fd_limit();
    if args.xmrd.is_none() && !args.monerod {
        bail!("nothing to measure: give --xmrd BIN and/or --monerod");
    }
    if args.idle_secs >= 60 {
        bail!("--idle-secs must stay under 60 (a timed sync would be due)");
    }
    let idle = Duration::from_secs(args.idle_secs);
    let mut port = args.port;
    for &n in &args.connections {
        if let Some(bin) = &args.xmrd {
            let mut node = start_xmrd(bin, port, n)?;
            println!("{}", measure(&mut node, n, idle)?);
            port += 10;
        }
        if args.monerod {
            let mut node = start_monerod(port, n)?;
            println!("{}", measure(&mut node, n, idle)?);
            port += 10;
        }
    }
    Ok(true)
}

fn xmrd_shards_fd_limit() {
    let _ = xmrd_shards::raise_fd_limit();
}
