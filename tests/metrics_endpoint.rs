//! The operators' metrics, end to end: a regtest xmrd with `--metrics-bind`, a levin peer
//! (xmrd's own sans-IO machine over a plain socket) that handshakes with it, and scrapes of
//! `/metrics` parsed by a strict reader of the Prometheus text format. Then SIGUSR1, and
//! the snapshot file it writes. Ports 22400-22403.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use xmrd::metrics::NodeSnapshot;
use xmrd::p2p::{Connection, Event, LocalNode, Network};
use xmrd::testdata::realpeer::KillOnDrop;
use xmrd::wire::messages::CoreSyncData;

const METRICS_PORT: u16 = 22400;
const P2P_PORT: u16 = 22401;

/// A sample's labels.
type Labels = BTreeMap<String, String>;

/// One sample line.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A parsed exposition: families by name (type, help) and samples in order.
#[derive(Debug, Default)]
struct Exposition {
    types: HashMap<String, String>,
    helps: HashMap<String, String>,
    samples: Vec<Sample>,
}

fn is_name(s: &str, colon: bool) -> bool {
    let mut b = s.bytes();
    let first_ok = |c: u8| c.is_ascii_alphabetic() || c == b'_' || (colon && c == b':');
    matches!(b.next(), Some(c) if first_ok(c))
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || (colon && c == b':'))
}

/// The family a sample belongs to (a histogram's `_bucket`, `_sum`, `_count`).
fn family_of<'a>(name: &'a str, types: &HashMap<String, String>) -> Option<&'a str> {
    if types.contains_key(name) {
        return Some(name);
    }
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix) {
            if types.get(base).is_some_and(|t| t == "histogram") {
                return Some(base);
            }
        }
    }
    None
}

/// A strict reader of the text format, version 0.0.4: every sample's family is typed
/// before it, once; names and label names are valid; label values are quoted with
/// the three escapes only; values are floats.
fn parse_exposition(text: &str) -> Result<Exposition, String> {
    let mut e = Exposition::default();
    if !text.ends_with('\n') {
        return Err("does not end with a newline".into());
    }
    for (no, line) in text.lines().enumerate() {
        let err = |m: &str| format!("line {}: {m}: {line:?}", no + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (kw, name, tail) = (parts.next(), parts.next(), parts.next());
            let (Some(kw), Some(name)) = (kw, name) else {
                return Err(err("short comment"));
            };
            if !is_name(name, true) {
                return Err(err("bad metric name"));
            }
            match kw {
                "TYPE" => {
                    let t = tail.ok_or_else(|| err("no type"))?;
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&t) {
                        return Err(err("unknown type"));
                    }
                    if e.types.insert(name.to_string(), t.to_string()).is_some() {
                        return Err(err("family typed twice"));
                    }
                    if e.samples
                        .iter()
                        .any(|s| family_of(&s.name, &e.types) == Some(name))
                    {
                        return Err(err("TYPE after the family's samples"));
                    }
                }
                "HELP" => {
                    e.helps
                        .insert(name.to_string(), tail.unwrap_or("").to_string());
                }
                _ => {}
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (name_end, has_labels) = match line.find(['{', ' ']) {
            Some(i) => (i, line.as_bytes()[i] == b'{'),
            None => return Err(err("no value")),
        };
        let name = &line[..name_end];
        if !is_name(name, true) {
            return Err(err("bad metric name"));
        }
        let mut labels = BTreeMap::new();
        let mut rest = &line[name_end..];
        if has_labels {
            rest = &rest[1..];
            loop {
                if let Some(r) = rest.strip_prefix('}') {
                    rest = r;
                    break;
                }
                let eq = rest.find('=').ok_or_else(|| err("label without ="))?;
                let lname = &rest[..eq];
                if !is_name(lname, false) {
                    return Err(err("bad label name"));
                }
                rest = rest[eq + 1..]
                    .strip_prefix('"')
                    .ok_or_else(|| err("unquoted label value"))?;
                let mut value = String::new();
                let mut chars = rest.char_indices();
                let end = loop {
                    match chars.next() {
                        Some((_, '\\')) => match chars.next() {
                            Some((_, 'n')) => value.push('\n'),
                            Some((_, '\\')) => value.push('\\'),
                            Some((_, '"')) => value.push('"'),
                            _ => return Err(err("bad escape")),
                        },
                        Some((i, '"')) => break i,
                        Some((_, c)) => value.push(c),
                        None => return Err(err("unterminated label value")),
                    }
                };
                if labels.insert(lname.to_string(), value).is_some() {
                    return Err(err("label twice"));
                }
                rest = &rest[end + 1..];
                if let Some(r) = rest.strip_prefix(',') {
                    rest = r;
                } else if !rest.starts_with('}') {
                    return Err(err("expected , or }"));
                }
            }
        }
        let value_str = rest
            .strip_prefix(' ')
            .ok_or_else(|| err("no space before value"))?;
        let value_str = value_str.split(' ').next().unwrap_or("");
        let value: f64 = match value_str {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            v => v.parse().map_err(|_| err("bad value"))?,
        };
        if family_of(name, &e.types).is_none() {
            return Err(err("sample of an untyped family"));
        }
        e.samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    check_histograms(&e)?;
    Ok(e)
}

/// Buckets are cumulative and end at +Inf, which equals `_count`.
fn check_histograms(e: &Exposition) -> Result<(), String> {
    let mut series: BTreeMap<(String, Labels), Vec<(f64, f64)>> = BTreeMap::new();
    for s in &e.samples {
        if let Some(base) = s.name.strip_suffix("_bucket") {
            let mut l = s.labels.clone();
            let le = l.remove("le").ok_or("bucket without le")?;
            let le: f64 = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().map_err(|_| format!("bad le {le}"))?
            };
            series
                .entry((base.to_string(), l))
                .or_default()
                .push((le, s.value));
        }
    }
    for ((base, labels), buckets) in &series {
        for w in buckets.windows(2) {
            if !(w[0].0 < w[1].0 && w[0].1 <= w[1].1) {
                return Err(format!("{base}{labels:?}: buckets not cumulative"));
            }
        }
        let inf = buckets
            .last()
            .filter(|b| b.0.is_infinite())
            .ok_or("no +Inf")?;
        let count = value(e, &format!("{base}_count"), labels).ok_or("no _count")?;
        if (inf.1 - count).abs() > 0.0 {
            return Err(format!("{base}{labels:?}: +Inf {} != count {count}", inf.1));
        }
    }
    Ok(())
}

fn value(e: &Exposition, name: &str, labels: &BTreeMap<String, String>) -> Option<f64> {
    e.samples
        .iter()
        .find(|s| s.name == name && &s.labels == labels)
        .map(|s| s.value)
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn get(path: &str) -> Option<(String, String)> {
    xmrd::testdata::realpeer::http_get(METRICS_PORT, path)
}

fn scrape() -> Exposition {
    let (status, body) = get("/metrics").expect("scrape");
    assert_eq!(status, "HTTP/1.1 200 OK");
    parse_exposition(&body).unwrap_or_else(|e| panic!("{e}\n{body}"))
}

fn sum_of(e: &Exposition, name: &str, pred: impl Fn(&BTreeMap<String, String>) -> bool) -> f64 {
    e.samples
        .iter()
        .filter(|s| s.name == name && pred(&s.labels))
        .map(|s| s.value)
        .sum()
}

/// Handshakes with xmrd as an outbound peer announcing `height`; returns the open socket
/// (the peer stays connected while it lives).
fn handshake(height: u64) -> TcpStream {
    let local = LocalNode {
        network_id: Network::Mainnet.network_id(),
        peer_id: 0x5eed_0001,
        my_port: 0,
        rpc_port: 0,
        support_flags: 1,
    };
    let claim = CoreSyncData {
        cumulative_difficulty: height,
        current_height: height,
        top_id: [7; 32],
        top_version: Some(16),
        ..Default::default()
    };
    let mut conn = Connection::outbound(local, claim, Instant::now());
    let mut s = TcpStream::connect(("127.0.0.1", P2P_PORT)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut buf = vec![0u8; 1 << 16];
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(Instant::now() < deadline, "no handshake");
        while let Some(out) = conn.poll_transmit() {
            s.write_all(&out).unwrap();
        }
        while let Some(ev) = conn.poll_event() {
            if let Event::Handshaked { .. } = ev {
                return s;
            }
        }
        match s.read(&mut buf) {
            Ok(0) => panic!("xmrd closed the connection"),
            Ok(n) => conn.handle_bytes(Instant::now(), &buf[..n]).unwrap(),
            Err(_) => conn.handle_timeout(Instant::now()).unwrap(),
        }
    }
}

#[test]
fn metrics_endpoint_is_scraped_and_sigusr1_writes_a_snapshot() {
    let work = std::env::temp_dir().join(format!("xmrd-metrics-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let data = work.join("xmrd");
    let log_path = work.join("xmrd.log");
    let child = Command::new(env!("CARGO_BIN_EXE_xmrd"))
        .args(xmrd::testdata::realpeer::XMRD_REGTEST_FLAGS)
        .args(["--p2p-bind-port"])
        .arg(P2P_PORT.to_string())
        .args(["--shards", "2", "--verify-threads", "1"])
        .args(["--metrics-bind", &format!("127.0.0.1:{METRICS_PORT}")])
        // Nothing to dial: the node only takes our inbound connection.
        .args(["--add-exclusive-node", "127.0.0.1:22403"])
        .args(["--log-format", "json"])
        .arg("--data-dir")
        .arg(&data)
        .stdout(std::fs::File::create(&log_path).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let _node = KillOnDrop(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while get("/metrics").is_none() {
        assert!(Instant::now() < deadline, "metrics endpoint never came up");
        std::thread::sleep(Duration::from_millis(200));
    }
    let first = scrape();
    for family in [
        "xmrd_height",
        "xmrd_target_height",
        "xmrd_peers",
        "xmrd_peers_pending",
        "xmrd_peer_drops_total",
        "xmrd_verify_pool_queued_tasks",
        "xmrd_store_size_bytes",
        "process_resident_memory_bytes",
        "xmrd_executor_task_queue_lag_seconds",
        "xmrd_executor_timer_overshoot_seconds",
    ] {
        assert!(first.types.contains_key(family), "no family {family}");
        assert!(first.helps.contains_key(family), "no help for {family}");
    }
    assert_eq!(
        first.types["xmrd_executor_task_queue_lag_seconds"],
        "histogram"
    );
    assert_eq!(first.types["xmrd_peer_drops_total"], "counter");
    // The genesis block is in the store; the store and the process take room.
    assert_eq!(value(&first, "xmrd_height", &labels(&[])), Some(1.0));
    assert!(value(&first, "xmrd_store_size_bytes", &labels(&[])).unwrap() > 0.0);
    assert!(value(&first, "process_resident_memory_bytes", &labels(&[])).unwrap() > 1e6);
    // Both shards probe their executor lag.
    let lag = "xmrd_executor_task_queue_lag_seconds_count";
    for shard in ["0", "1"] {
        let n = value(&first, lag, &labels(&[("shard", shard)])).unwrap_or(0.0);
        assert!(n > 0.0, "shard {shard} has no lag samples");
    }

    let peer = handshake(777);
    // Let the 10 ms lag probes run a few more times before the second scrape.
    std::thread::sleep(Duration::from_millis(300));
    let deadline = Instant::now() + Duration::from_secs(10);
    let second = loop {
        let e = scrape();
        let inbound = sum_of(&e, "xmrd_peers", |l| {
            l.get("direction").map(String::as_str) == Some("in")
        });
        if inbound >= 1.0 || Instant::now() > deadline {
            break e;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        sum_of(&second, "xmrd_peers", |l| l
            .get("direction")
            .map(String::as_str)
            == Some("in")),
        1.0
    );
    assert_eq!(
        value(&second, "xmrd_target_height", &labels(&[])),
        Some(777.0)
    );
    let hs = sum_of(&second, "xmrd_p2p_handshake_seconds_count", |_| true);
    assert_eq!(hs, 1.0, "one handshake timed");
    let by_command = sum_of(&second, "xmrd_p2p_message_handling_seconds_count", |l| {
        l.get("command").map(String::as_str) == Some("HANDSHAKE") && l.contains_key("shard")
    });
    assert_eq!(by_command, 1.0, "the handshake message is timed by command");
    assert!(sum_of(&second, "xmrd_io_uring_write_seconds_count", |_| true) >= 1.0);
    // Counters move: more lag samples now than at the first scrape.
    for shard in ["0", "1"] {
        let l = labels(&[("shard", shard)]);
        let (a, b) = (
            value(&first, lag, &l).unwrap(),
            value(&second, lag, &l).unwrap(),
        );
        assert!(b > a, "shard {shard}: {a} then {b} lag samples");
    }

    // Other paths and methods.
    assert_eq!(get("/nope").unwrap().0, "HTTP/1.1 404 Not Found");
    let (status, json) = get("/snapshot.json").unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    let snap = NodeSnapshot::from_json(json.as_bytes(), "/snapshot.json").unwrap();
    assert_eq!(snap.peers.len(), 2);
    assert_eq!(snap.target_height, 777);

    // SIGUSR1 writes the snapshot file.
    let file = data.join(xmrd::metrics::SNAPSHOT_FILE);
    assert!(!file.exists());
    let ok = Command::new("kill")
        .args(["-USR1", &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !file.exists() {
        assert!(Instant::now() < deadline, "no snapshot file after SIGUSR1");
        std::thread::sleep(Duration::from_millis(100));
    }
    let snap = NodeSnapshot::read(&file).unwrap();
    assert!(snap
        .latency
        .series
        .iter()
        .any(|s| s.metric == "xmrd_p2p_handshake_seconds" && s.count == 1));
    assert!(!snap.sync.is_empty(), "height history sampled");
    drop(peer);
    // JSON logs: every line is one JSON object.
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.lines().count() > 2);
    for line in log.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            v.get("level").is_some() && v.get("fields").is_some(),
            "{line}"
        );
    }
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn the_strict_reader_refuses_malformed_expositions() {
    let ok = "# TYPE a gauge\na{x=\"1\\\"\"} 2\n";
    assert_eq!(parse_exposition(ok).unwrap().samples[0].labels["x"], "1\"");
    for bad in [
        "a 1\n",                                 // untyped
        "# TYPE a gauge\na{x=1} 2\n",            // unquoted
        "# TYPE a gauge\na{x=\"1\"} two\n",      // value
        "# TYPE a gauge\n# TYPE a gauge\na 1\n", // typed twice
        "# TYPE a gauge\na 1",                   // no final newline
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 1\n",
    ] {
        assert!(parse_exposition(bad).is_err(), "accepted {bad:?}");
    }
}
