//! Interop with the real monerod (Debian's 0.18) on loopback, regtest: xmrd dials
//! monerod, monerod dials xmrd, and both stay connected through two timed syncs while
//! misbehaving peers are dropped. Uses `../shared/realpeer/` to start monerod; skips
//! with a message when monerod or the shared data is missing.

// A test harness: a failed setup step should fail the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use xmrd::p2p::{LocalNode, Network};
use xmrd::testdata::realpeer::{realpeer, wait_for};
use xmrd::wire::epee::FieldLayout;
use xmrd::wire::levin::Header;
use xmrd::wire::messages::{HandshakeRequest, Message};

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("xmrd-interop-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A regtest monerod serving the shared 2000-block chain.
struct Monerod {
    rp: PathBuf,
    work: PathBuf,
    rpc: u16,
    ports: [(String, String); 3],
}

impl Monerod {
    fn start(rp: &Path, tag: &str, p2p: u16, rpc: u16, dead: u16, dial: Option<u16>) -> Monerod {
        let work = temp_dir(tag);
        let chain = work.join("chain");
        let ok = Command::new(rp.join("import-chain.sh"))
            .arg(rp.join("chains/regtest-2000b-300tx.lmdb.xz"))
            .arg(&chain)
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "chain import failed");
        let ports = [
            ("A_P2P".to_string(), p2p.to_string()),
            ("A_RPC".to_string(), rpc.to_string()),
            ("DEAD_PORT".to_string(), dead.to_string()),
        ];
        let mut cmd = Command::new(rp.join("serve-monerod.sh"));
        cmd.arg("start").arg(&chain).arg(work.join("serve"));
        if let Some(d) = dial {
            cmd.arg(format!("127.0.0.1:{d}"));
        }
        let out = cmd.envs(ports.iter().cloned()).output().unwrap();
        assert!(
            out.status.success(),
            "monerod did not start: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        Monerod {
            rp: rp.to_path_buf(),
            work,
            rpc,
            ports,
        }
    }

    fn connections(&self) -> Vec<serde_json::Value> {
        let out = Command::new("python3")
            .arg(self.rp.join("rp.py"))
            .args(["rpc", &self.rpc.to_string(), "get_connections"])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        v["connections"].as_array().cloned().unwrap_or_default()
    }

    /// monerod's view of the connection with `peer_id`, if any.
    fn connection_to(&self, peer_id: &str) -> Option<serde_json::Value> {
        self.connections()
            .into_iter()
            .find(|c| c["peer_id"].as_str() == Some(peer_id))
    }
}

impl Drop for Monerod {
    fn drop(&mut self) {
        let _ = Command::new(self.rp.join("serve-monerod.sh"))
            .arg("stop")
            .arg(self.work.join("serve"))
            .envs(self.ports.iter().cloned())
            .status();
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

/// xmrd as a child process, logging at debug level to a file.
struct Xmrd {
    child: Child,
    log: PathBuf,
    data: PathBuf,
}

impl Xmrd {
    fn start(tag: &str, args: &[&str]) -> Xmrd {
        let log =
            std::env::temp_dir().join(format!("xmrd-interop-{tag}-{}.log", std::process::id()));
        let file = std::fs::File::create(&log).unwrap();
        let data = temp_dir(&format!("{tag}-data"));
        let child = Command::new(env!("CARGO_BIN_EXE_xmrd"))
            .args(xmrd::testdata::realpeer::XMRD_REGTEST_FLAGS)
            .args(["--shards", "2"])
            .arg("--data-dir")
            .arg(&data)
            .args(["--log-level", "xmrd=debug,info"])
            .args(args)
            .stdout(file)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Xmrd { child, log, data }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn peer_id(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.log();
            if let Some(i) = log.find("peer_id=") {
                return log[i + 8..i + 24].to_string();
            }
            assert!(Instant::now() < deadline, "xmrd did not start:\n{log}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn count(&self, needle: &str) -> usize {
        self.log().matches(needle).count()
    }
}

impl Drop for Xmrd {
    fn drop(&mut self) {
        xmrd::testdata::terminate(&mut self.child, Duration::from_secs(5));
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// Waits until the connection has lived through two timed-sync intervals (monerod's
/// `live_time` past 2 × 60 s) and xmrd has seen at least four timed syncs (monerod's
/// requests and the answers to its own), then checks monerod still holds the very
/// same connection and xmrd dropped nobody but `expected_drops`.
fn stays_connected_through_two_timed_syncs(
    monerod: &Monerod,
    xmrd: &Xmrd,
    peer_id: &str,
    expected_drops: usize,
) {
    let first = monerod
        .connection_to(peer_id)
        .expect("monerod does not list xmrd");
    let now = wait_for("two timed-sync rounds", 300, || {
        let c = monerod
            .connection_to(peer_id)
            .expect("monerod dropped xmrd");
        let lived = c["live_time"].as_u64().unwrap_or(0) >= 125;
        (lived && xmrd.count("timed sync") >= 4).then_some(c)
    });
    assert_eq!(now["connection_id"], first["connection_id"]);
    assert_eq!(now["state"], "normal");
    assert_eq!(xmrd.count("dropped"), expected_drops, "{}", xmrd.log());
}

/// Opens a raw connection, sends `bytes`, and reports whether xmrd closed it.
fn is_dropped_after_sending(port: u16, bytes: &[u8]) -> bool {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.write_all(bytes);
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // e.g. a response before the drop
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => {
                let _ = s.shutdown(Shutdown::Both);
                return false;
            }
        }
    }
}

fn handshake_from_testnet() -> Vec<u8> {
    let m = Message::HandshakeRequest(HandshakeRequest {
        node_data: LocalNode {
            network_id: Network::Testnet.network_id(),
            peer_id: 12345,
            my_port: 0,
            rpc_port: 0,
            support_flags: 1,
        }
        .node_data(),
        payload_data: Network::Testnet.genesis_sync(),
        layout: FieldLayout::CANONICAL,
    });
    m.to_packet(0)
}

#[test]
fn xmrd_dials_monerod_and_stays_connected_while_bad_peers_are_dropped() {
    let Some(rp) = realpeer() else { return };
    let (p2p, rpc, dead, ours) = (22280, 22281, 22279, 22285);
    let monerod = Monerod::start(&rp, "dial", p2p, rpc, dead, None);
    let xmrd = Xmrd::start(
        "dial",
        &[
            "--p2p-bind-port",
            &ours.to_string(),
            "--add-exclusive-node",
            &format!("127.0.0.1:{p2p}"),
            "--max-connections-per-ip",
            "8",
        ],
    );
    let peer_id = xmrd.peer_id();
    let conn = wait_for("monerod to list xmrd", 30, || {
        monerod.connection_to(&peer_id)
    });
    assert_eq!(conn["incoming"], true, "{conn}");
    assert_eq!(conn["state"], "normal");
    assert_eq!(conn["height"], 1);

    // (c) Misbehaving peers, while the monerod connection carries on.
    assert!(is_dropped_after_sending(
        ours,
        b"GET / HTTP/1.1\r\nHost: xmrd\r\n\r\n"
    ));
    assert!(is_dropped_after_sending(ours, &handshake_from_testnet()));
    let mut oversized = Vec::new();
    Header::notify(2002).write(300 * 1024, &mut oversized);
    assert!(is_dropped_after_sending(ours, &oversized));
    wait_for("three drops logged", 10, || {
        (xmrd.count("dropped:") >= 3).then_some(())
    });
    let log = xmrd.log();
    assert!(log.contains("levin framing: levin: bad signature"), "{log}");
    assert!(log.contains("wrong network id"), "{log}");
    assert!(log.contains("over the"), "{log}");

    assert_eq!(xmrd.count("dropped"), 3);
    // The three drops above are the only ones allowed.
    stays_connected_through_two_timed_syncs(&monerod, &xmrd, &peer_id, 3);
}

#[test]
fn monerod_dials_xmrd_and_stays_connected() {
    let Some(rp) = realpeer() else { return };
    let (p2p, rpc, dead, ours) = (22290, 22291, 22289, 22295);
    // xmrd first, so monerod's first dial finds it listening.
    let xmrd = Xmrd::start("listen", &["--p2p-bind-port", &ours.to_string()]);
    let peer_id = xmrd.peer_id();
    let monerod = Monerod::start(&rp, "listen", p2p, rpc, dead, Some(ours));
    let conn = wait_for("monerod to connect to xmrd", 60, || {
        monerod.connection_to(&peer_id)
    });
    assert_eq!(conn["incoming"], false, "{conn}");
    assert_eq!(conn["state"], "normal");
    stays_connected_through_two_timed_syncs(&monerod, &xmrd, &peer_id, 0);
}
