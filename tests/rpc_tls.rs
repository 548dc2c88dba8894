//! (d) The daemon RPC over TLS and with digest authentication, on loopback, regtest (a
//! fresh xmrd: only the genesis block):
//! - `--rpc-ssl enabled --restricted-rpc` with a certificate made here: a rustls client
//!   that trusts it gets `get_info` (restricted: what monerod hides is hidden); a client
//!   that does not trust it fails its handshake; a plaintext client gets no HTTP answer;
//! - `--rpc-ssl autodetect --rpc-login user:pass`: a plaintext request without
//!   credentials is answered 401 with monerod's two digest challenges, one with the right
//!   digest gets its answer, and the real monero-wallet-rpc with `--daemon-login` refreshes
//!   against xmrd both in plaintext and over TLS (`--daemon-ssl enabled`).
//!
//! Needs no chain data; the wallet part skips with a message when monero-wallet-rpc is
//! not installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use md5::{Digest, Md5};
use serde_json::{json, Value};
use xmrd::testdata::realpeer::{json_rpc, temp_dir, wait_for, KillOnDrop};

const TLS_ONLY: (u16, u16, u16) = (22420, 22421, 22422);
const AUTODETECT: (u16, u16, u16) = (22423, 22424, 22425);
const WALLET: u16 = 22426;

fn spawn_xmrd(dir: &Path, (p2p, rpc, dead): (u16, u16, u16), extra: &[&str]) -> KillOnDrop {
    std::fs::create_dir_all(dir).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_xmrd"))
        .args(xmrd::testdata::realpeer::XMRD_REGTEST_FLAGS)
        .args(["--shards", "2", "--p2p-bind-port", &p2p.to_string()])
        .args(["--add-exclusive-node", &format!("127.0.0.1:{dead}")])
        .args([
            "--rpc-bind-ip",
            "127.0.0.1",
            "--rpc-bind-port",
            &rpc.to_string(),
        ])
        .args(extra)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .stdout(std::fs::File::create(dir.join("xmrd.log")).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    KillOnDrop(child)
}

/// A self-signed certificate for 127.0.0.1/localhost, written as PEM files.
fn make_cert(dir: &Path) -> (String, String, Vec<u8>) {
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.key_pair.serialize_pem()).unwrap();
    (
        cert.display().to_string(),
        key.display().to_string(),
        made.cert.der().to_vec(),
    )
}

fn request(path: &str, body: &str, auth: Option<&str>) -> String {
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Sends `req` over TLS trusting `trusted` (DER); the whole answer, or the handshake's
/// error.
fn tls_exchange(port: u16, trusted: &[u8], req: &str) -> Result<String, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(trusted.to_vec()))
        .map_err(|e| e.to_string())?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let sock = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    match tls.read_to_end(&mut out) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !out.is_empty() => {}
        Err(e) => return Err(e.to_string()),
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn plain_exchange(port: u16, req: &str) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let _ = s.write_all(req.as_bytes());
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn body_json(answer: &str) -> Value {
    let at = answer.find("\r\n\r\n").expect("an HTTP answer");
    serde_json::from_str(&answer[at + 4..]).expect("a JSON body")
}

const GET_INFO: &str = r#"{"jsonrpc":"2.0","id":"0","method":"get_info"}"#;

#[test]
fn tls_only_rpc_serves_a_trusting_client_and_refuses_plaintext() {
    let work = temp_dir("rpc-tls-only").unwrap();
    let (cert, key, der) = make_cert(&work);
    let _x = spawn_xmrd(
        &work,
        TLS_ONLY,
        &[
            "--rpc-ssl",
            "enabled",
            "--rpc-ssl-certificate",
            &cert,
            "--rpc-ssl-private-key",
            &key,
            "--restricted-rpc",
        ],
    );
    let answer = wait_for("xmrd's RPC over TLS", 60, || {
        tls_exchange(TLS_ONLY.1, &der, &request("/json_rpc", GET_INFO, None)).ok()
    });
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let info = body_json(&answer);
    assert_eq!(info["result"]["height"], 1, "{info}");
    assert_eq!(info["result"]["nettype"], "fakechain");

    // --restricted-rpc hides what monerod hides.
    assert_eq!(info["result"]["restricted"], true);
    assert_eq!(info["result"]["start_time"], 0);
    assert_eq!(info["result"]["version"], "");
    let hidden = tls_exchange(
        TLS_ONLY.1,
        &der,
        &request(
            "/json_rpc",
            r#"{"jsonrpc":"2.0","id":"0","method":"get_bans"}"#,
            None,
        ),
    )
    .unwrap();
    assert_eq!(body_json(&hidden)["error"]["code"], -32601, "{hidden}");
    let no_peers = tls_exchange(TLS_ONLY.1, &der, &request("/get_peer_list", "{}", None)).unwrap();
    assert!(no_peers.starts_with("HTTP/1.1 404"), "{no_peers}");

    // A client that trusts another certificate does not get through the handshake.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let refused = tls_exchange(
        TLS_ONLY.1,
        other.cert.der(),
        &request("/get_height", "{}", None),
    );
    assert!(
        refused.is_err(),
        "an untrusted certificate was accepted: {refused:?}"
    );

    // Plaintext to the TLS-only port: no HTTP answer.
    let plain = plain_exchange(TLS_ONLY.1, &request("/get_height", "{}", None));
    assert!(!plain.starts_with("HTTP/"), "plaintext was served: {plain}");
    let _ = std::fs::remove_dir_all(&work);
}

fn md5_hex(parts: &[&str]) -> String {
    let mut h = Md5::new();
    for p in parts {
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The `Authorization` answer to a `WWW-authenticate` digest challenge (qop=auth, MD5).
fn digest_answer(challenge: &str, user: &str, pass: &str, method: &str, uri: &str) -> String {
    let nonce = challenge
        .split("nonce=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a nonce");
    let ha1 = md5_hex(&[user, ":monero-rpc:", pass]);
    let ha2 = md5_hex(&[method, ":", uri]);
    let resp = md5_hex(&[&ha1, ":", nonce, ":00000001:c0ffee:auth:", &ha2]);
    format!(
        "Digest username=\"{user}\", realm=\"monero-rpc\", nonce=\"{nonce}\", uri=\"{uri}\", algorithm=MD5, response=\"{resp}\", qop=auth, nc=00000001, cnonce=\"c0ffee\""
    )
}

#[test]
fn digest_login_and_autodetected_tls_serve_monero_wallet_rpc() {
    let work = temp_dir("rpc-login").unwrap();
    let (cert, key, der) = make_cert(&work);
    let _x = spawn_xmrd(
        &work,
        AUTODETECT,
        &[
            "--rpc-ssl",
            "autodetect",
            "--rpc-ssl-certificate",
            &cert,
            "--rpc-ssl-private-key",
            &key,
            "--rpc-login",
            "alice:s3cret:x",
        ],
    );
    // No credentials: 401 with monerod's two challenges.
    let denied = wait_for("xmrd's RPC", 60, || {
        let a = plain_exchange(AUTODETECT.1, &request("/json_rpc", GET_INFO, None));
        (!a.is_empty()).then_some(a)
    });
    assert!(denied.starts_with("HTTP/1.1 401"), "{denied}");
    let challenges: Vec<&str> = denied
        .lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("www-authenticate:"))
        .collect();
    assert_eq!(challenges.len(), 2, "{denied}");
    assert!(challenges[0].contains("Digest qop=\"auth\",algorithm=MD5,realm=\"monero-rpc\""));
    assert!(challenges[1].contains("algorithm=MD5-sess"));

    // Bounds: a body over monerod's 1 MB is refused from its Content-Length; a head with
    // more than 100 headers is refused.
    let big = plain_exchange(
        AUTODETECT.1,
        "POST /json_rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1048577\r\n\r\n",
    );
    assert!(big.starts_with("HTTP/1.1 413"), "{big}");
    let headers: String = (0..150).map(|i| format!("X-H{i}: v\r\n")).collect();
    let many = plain_exchange(
        AUTODETECT.1,
        &format!("POST /get_height HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Length: 2\r\n\r\n{{}}"),
    );
    assert!(many.starts_with("HTTP/1.1 431"), "{many}");

    // Connection bounds: 25 from one loopback IP (monerod 0.18.2's private-IP figure),
    // the 26th is closed at once; and a connection that sends nothing is closed after
    // monerod's 10 s.
    let held: Vec<TcpStream> = (0..25)
        .map(|_| TcpStream::connect(("127.0.0.1", AUTODETECT.1)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let refused = plain_exchange(AUTODETECT.1, &request("/get_height", "{}", None));
    assert!(
        refused.is_empty(),
        "a 26th connection was served: {refused}"
    );
    let started = std::time::Instant::now();
    let mut idle = held.into_iter().next().unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut sink = Vec::new();
    let _ = idle.read_to_end(&mut sink);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(8) && waited < Duration::from_secs(25),
        "an idle new connection was closed after {waited:?}"
    );

    // The right digest on a connection that got the challenge (the nonce is per
    // connection, as monerod's): over TLS on the same port.
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(der.clone()))
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let conn = rustls::ClientConnection::new(
        Arc::new(config),
        rustls::pki_types::ServerName::try_from("localhost").unwrap(),
    )
    .unwrap();
    let sock = TcpStream::connect(("127.0.0.1", AUTODETECT.1)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let keep = request("/get_height", "{}", None).replace("Connection: close\r\n", "");
    tls.write_all(keep.as_bytes()).unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tls.read(&mut buf).unwrap();
    let first = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(first.starts_with("HTTP/1.1 401"), "{first}");
    let challenge = first
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("www-authenticate:"))
        .unwrap()
        .to_string();
    let auth = digest_answer(&challenge, "alice", "s3cret:x", "POST", "/get_height");
    tls.write_all(request("/get_height", "{}", Some(&auth)).as_bytes())
        .unwrap();
    let mut rest = Vec::new();
    let _ = tls.read_to_end(&mut rest);
    let ok = String::from_utf8_lossy(&rest).into_owned();
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert_eq!(body_json(&ok)["height"], 1);

    // The real wallet, plaintext then TLS, with the login.
    // (in the work dir: even `--version` writes a log file where it runs)
    let installed = Command::new("monero-wallet-rpc")
        .arg("--version")
        .current_dir(&work)
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        eprintln!("SKIP: monero-wallet-rpc not installed (apt-get install monero)");
        return;
    }
    for ssl in [
        &["--daemon-ssl", "disabled"][..],
        &["--daemon-ssl", "enabled", "--daemon-ssl-allow-any-cert"][..],
    ] {
        let dir = work.join(format!("wallets-{}", ssl[1]));
        std::fs::create_dir_all(&dir).unwrap();
        let w = KillOnDrop(
            Command::new("monero-wallet-rpc")
                .args(["--daemon-address", &format!("127.0.0.1:{}", AUTODETECT.1)])
                .args(["--daemon-login", "alice:s3cret:x"])
                .args(ssl)
                .args(["--trusted-daemon", "--no-dns", "--disable-rpc-login"])
                .args([
                    "--rpc-bind-ip",
                    "127.0.0.1",
                    "--rpc-bind-port",
                    &WALLET.to_string(),
                ])
                .args(["--rpc-ssl", "disabled", "--non-interactive"])
                .arg("--wallet-dir")
                .arg(&dir)
                .args(["--log-level", "0"])
                .arg("--log-file")
                .arg(dir.join("wallet-rpc.log"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        wait_for("monero-wallet-rpc", 120, || {
            json_rpc(WALLET, "get_version", json!({}))
        });
        json_rpc(
            WALLET,
            "create_wallet",
            json!({"filename": "w", "password": "", "language": "English"}),
        )
        .expect("create_wallet");
        json_rpc(WALLET, "refresh", json!({})).expect("refresh through the login");
        let h = json_rpc(WALLET, "get_height", json!({})).unwrap();
        assert_eq!(h["height"], 1, "wallet over {ssl:?}: {h}");
        drop(w);
    }
    let _ = std::fs::remove_dir_all(&work);
}
