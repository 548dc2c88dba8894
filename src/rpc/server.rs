//! The HTTP side: every shard listens on the RPC port (`SO_REUSEPORT`, the kernel
//! spreads connections) and serves its connections with hyper's HTTP/1.1 (keep-alive)
//! over glommio's io_uring sockets, optionally inside rustls. A request is read whole
//! (bounded), then answered on a blocking helper thread (the store is read from disk;
//! no executor waits on it).

use std::cell::Cell;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use futures_lite::{AsyncRead, AsyncWrite};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use xmrd_shards::glommio;
use xmrd_shards::glommio::net::{TcpListener, TcpStream};

use super::auth::{Challenge, DigestAuth, Session};
use super::limits::*;
use super::tls::{SslMode, TlsSetup};
use super::{dispatch, Answer, Api};
use crate::node::Shared;

/// What every shard's server shares.
pub struct RpcServer {
    /// The calls.
    pub api: Arc<Api>,
    /// TLS, when enabled or autodetected.
    pub tls: Option<TlsSetup>,
    /// `--rpc-login`.
    pub auth: Option<Arc<DigestAuth>>,
    /// Open connections over all shards.
    pub open: Arc<AtomicUsize>,
    /// Open connections per client IP (a map lookup under the lock, never held across
    /// an await).
    pub per_ip: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>,
    /// Where every shard listens.
    pub bind: SocketAddr,
}

/// Whether `ip` counts as private for the per-IP bound (loopback, RFC 1918, link-local,
/// unique-local IPv6), as monerod's `is_local`/`is_loopback`.
fn is_private(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        std::net::IpAddr::V6(v6) => {
            v6.is_loopback()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

impl RpcServer {
    /// Takes a connection slot for `ip`, within the total and per-IP bounds.
    fn admit(&self, ip: std::net::IpAddr) -> bool {
        let cap = if is_private(ip) {
            RPC_MAX_CONNECTIONS_PER_PRIVATE_IP
        } else {
            RPC_MAX_CONNECTIONS_PER_PUBLIC_IP
        };
        let Ok(mut per_ip) = self.per_ip.lock() else {
            return false;
        };
        let n = per_ip.entry(ip).or_insert(0);
        if *n >= cap {
            return false;
        }
        if self.open.fetch_add(1, Ordering::Relaxed) >= RPC_MAX_CONNECTIONS {
            self.open.fetch_sub(1, Ordering::Relaxed);
            return false;
        }
        *n += 1;
        true
    }

    /// Gives back the slot [`Self::admit`] took.
    fn release(&self, ip: std::net::IpAddr) {
        self.open.fetch_sub(1, Ordering::Relaxed);
        if let Ok(mut per_ip) = self.per_ip.lock() {
            if let Some(n) = per_ip.get_mut(&ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    per_ip.remove(&ip);
                }
            }
        }
    }
}

/// Builds the RPC servers the flags ask for: the main one (restricted with
/// `--restricted-rpc`) and, with `--rpc-restricted-bind-port`, a second one that is
/// always restricted. Both take the same TLS (a self-signed certificate is made here when
/// none is given) and digest login, as monerod's.
pub fn setup(shared: &Arc<Shared>) -> anyhow::Result<Vec<Arc<RpcServer>>> {
    let cfg = &shared.config.rpc;
    for bind in std::iter::once(cfg.bind).chain(cfg.restricted_bind) {
        if bind.port() == shared.config.p2p_bind_port {
            anyhow::bail!("RPC port {} is the P2P port", bind.port());
        }
    }
    if cfg
        .restricted_bind
        .is_some_and(|r| r.port() == cfg.bind.port())
    {
        anyhow::bail!("--rpc-restricted-bind-port is --rpc-bind-port");
    }
    let tls = TlsSetup::new(
        cfg.ssl,
        cfg.certificate.as_deref(),
        cfg.private_key.as_deref(),
    )?;
    let auth = match &cfg.login {
        Some(l) => {
            Some(Arc::new(DigestAuth::parse(l).ok_or_else(|| {
                anyhow::anyhow!("--rpc-login must be user:pass")
            })?))
        }
        None => None,
    };
    let cache = Arc::new(super::data::Cache::default());
    let servers = std::iter::once((cfg.bind, cfg.restricted))
        .chain(cfg.restricted_bind.map(|b| (b, true)))
        .map(|(bind, restricted)| {
            let open = Arc::new(AtomicUsize::new(0));
            let api = Arc::new(Api::new(
                Arc::clone(shared),
                restricted,
                Arc::clone(&open),
                Arc::clone(&cache),
            ));
            tracing::info!(
                %bind,
                ssl = ?cfg.ssl,
                restricted,
                login = auth.is_some(),
                "daemon RPC configured"
            );
            Arc::new(RpcServer {
                api,
                tls: tls.clone(),
                auth: auth.clone(),
                open,
                per_ip: Default::default(),
                bind,
            })
        })
        .collect();
    Ok(servers)
}

/// Starts this shard's RPC listener (`SO_REUSEPORT`: every shard binds the port). A port
/// that cannot be bound is logged and the node runs on without RPC (monerod refuses to
/// start instead; several test nodes on one machine would otherwise all fail on 18081).
pub fn listen(shard: usize, server: Arc<RpcServer>) -> Option<glommio::Task<()>> {
    match TcpListener::bind(server.bind) {
        Ok(l) => {
            if shard == 0 {
                tracing::info!(bind = %server.bind, "daemon RPC listening");
            }
            Some(glommio::spawn_local(accept_loop(server, l)))
        }
        Err(e) => {
            tracing::error!(bind = %server.bind, "daemon RPC not started: cannot listen: {e}");
            None
        }
    }
}

/// Accepts RPC connections on `bind` until the task is dropped.
pub async fn accept_loop(server: Arc<RpcServer>, listener: TcpListener) {
    loop {
        let stream = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("rpc accept failed: {e}");
                glommio::timer::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(peer) = stream.peer_addr() else {
            continue;
        };
        if !server.admit(peer.ip()) {
            tracing::debug!(%peer, "rpc connection refused: too many open");
            continue;
        }
        let s = Arc::clone(&server);
        glommio::spawn_local(async move {
            if let Err(e) = connection(&s, stream, peer).await {
                tracing::debug!(%peer, "rpc connection ended: {e}");
            }
            s.release(peer.ip());
        })
        .detach();
    }
}

/// One connection: TLS or plain as configured (autodetect: a TLS record header as first
/// byte), then HTTP/1.1 until the client closes, idles out or breaks a bound.
async fn connection(
    server: &Arc<RpcServer>,
    stream: TcpStream,
    peer: SocketAddr,
) -> io::Result<()> {
    let activity = Rc::new(Activity::new());
    match &server.tls {
        None => serve_http(server, Io::new(stream, &activity), peer, &activity).await,
        Some(tls) => {
            let is_tls = match tls.mode {
                SslMode::Enabled => true,
                SslMode::Autodetect => {
                    let mut first = [0u8; 1];
                    let peeked = futures_lite::future::or(
                        async {
                            stream
                                .peek(&mut first)
                                .await
                                .map(Some)
                                .map_err(io::Error::from)
                        },
                        async {
                            glommio::timer::sleep(NEW_CONNECTION_TIMEOUT).await;
                            Ok(None)
                        },
                    )
                    .await?;
                    match peeked {
                        Some(n) if n > 0 => first[0] == TLS_HANDSHAKE_RECORD,
                        _ => return Ok(()),
                    }
                }
                SslMode::Disabled => false,
            };
            if !is_tls {
                return serve_http(server, Io::new(stream, &activity), peer, &activity).await;
            }
            let accept = tls.acceptor.accept(stream);
            let tls_stream = futures_lite::future::or(async { accept.await.map(Some) }, async {
                glommio::timer::sleep(NEW_CONNECTION_TIMEOUT).await;
                Ok(None)
            })
            .await?;
            match tls_stream {
                Some(s) => serve_http(server, Io::new(s, &activity), peer, &activity).await,
                None => Ok(()),
            }
        }
    }
}

/// First byte of a TLS handshake record (`ContentType::Handshake`), what autodetect
/// looks for as monerod's `ssl_support_t::e_ssl_support_autodetect` does.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

async fn serve_http<T>(
    server: &Arc<RpcServer>,
    io: Io<T>,
    peer: SocketAddr,
    activity: &Rc<Activity>,
) -> io::Result<()>
where
    T: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let s = Arc::clone(server);
    let act = Rc::clone(activity);
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let s = Arc::clone(&s);
        let act = Rc::clone(&act);
        async move {
            act.busy.set(act.busy.get() + 1);
            let r = handle(&s, req, peer, &act).await;
            act.busy.set(act.busy.get().saturating_sub(1));
            act.requests.set(act.requests.get() + 1);
            act.touch();
            Ok::<_, Infallible>(r)
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .keep_alive(true)
        .max_headers(HTTP_MAX_HEADERS)
        .max_buf_size(HTTP_MAX_HEADER_LEN_BYTES.max(8192))
        .header_read_timeout(None);
    let conn = builder.serve_connection(io, service);
    let watchdog = async {
        loop {
            glommio::timer::sleep(std::time::Duration::from_secs(1)).await;
            if activity.expired() {
                return Ok(());
            }
        }
    };
    futures_lite::future::or(async { conn.await.map_err(io::Error::other) }, watchdog).await
}

/// When a connection last moved bytes, how many requests it served and how many are
/// being answered: what its idle bound is measured against.
struct Activity {
    /// The connection's digest-auth nonce and count (`--rpc-login`).
    session: std::cell::RefCell<Session>,
    last: Cell<Instant>,
    requests: Cell<u64>,
    busy: Cell<u32>,
    started: Instant,
}

impl Activity {
    fn new() -> Self {
        let now = Instant::now();
        Activity {
            session: Default::default(),
            last: Cell::new(now),
            requests: Cell::new(0),
            busy: Cell::new(0),
            started: now,
        }
    }

    fn touch(&self) {
        self.last.set(Instant::now());
    }

    fn expired(&self) -> bool {
        if self.busy.get() > 0 {
            return self.last.get().elapsed() > REQUEST_TIMEOUT;
        }
        if self.requests.get() == 0 {
            return self.started.elapsed() > NEW_CONNECTION_TIMEOUT
                && self.last.get().elapsed() > NEW_CONNECTION_TIMEOUT;
        }
        self.last.get().elapsed() > IDLE_CONNECTION_TIMEOUT
    }
}

/// Reads a request whole (bounded), checks the login, answers it off the executor.
async fn handle(
    server: &RpcServer,
    req: Request<Incoming>,
    peer: SocketAddr,
    conn: &Activity,
) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let authorization = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_RPC_CONTENT_LENGTH_BYTES as u64) {
        return status_only(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let body = match Limited::new(req.into_body(), MAX_RPC_CONTENT_LENGTH_BYTES)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => return status_only(StatusCode::PAYLOAD_TOO_LARGE),
    };
    // The login is checked once the (bounded) body is read, as epee reads the whole
    // request first: an unread body would make hyper close the connection, and the
    // client's digest retry must come on the same connection (the nonce is per
    // connection).
    if let Some(auth) = &server.auth {
        let mut session = conn.session.borrow_mut();
        if let Challenge::Unauthorized(stale) =
            auth.check(&mut session, method.as_str(), authorization.as_deref())
        {
            let mut r = status_only(StatusCode::UNAUTHORIZED);
            for h in auth.challenges(&session, stale) {
                if let Ok(v) = hyper::header::HeaderValue::from_str(&h) {
                    r.headers_mut().append(hyper::header::WWW_AUTHENTICATE, v);
                }
            }
            return r;
        }
    }
    let api = Arc::clone(&server.api);
    let started = Instant::now();
    let answer = glommio::executor()
        .spawn_blocking(move || dispatch(&api, &path, &body))
        .await;
    tracing::trace!(%peer, took = ?started.elapsed(), "rpc request answered");
    match answer {
        Answer::Json(body) => with_body(StatusCode::OK, "application/json", body),
        Answer::Binary(body) => with_body(StatusCode::OK, "application/octet-stream", body),
        Answer::Status(code) => status_only(code),
    }
}

fn with_body(code: StatusCode, mime: &'static str, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = code;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(mime),
    );
    r
}

fn status_only(code: StatusCode) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = code;
    r
}

/// Size of the bounce buffer between a socket and hyper's read cursor (hyper's cursor
/// is written through `put_slice`, which needs no unsafe code).
const IO_BUFFER_BYTES: usize = 16 * 1024;

/// A glommio (or rustls-over-glommio) stream as hyper's `rt::Read`/`rt::Write`, noting
/// activity for the idle bound.
struct Io<T> {
    inner: T,
    buf: Box<[u8]>,
    activity: Rc<Activity>,
}

impl<T> Io<T> {
    fn new(inner: T, activity: &Rc<Activity>) -> Self {
        Io {
            inner,
            buf: vec![0u8; IO_BUFFER_BYTES].into_boxed_slice(),
            activity: Rc::clone(activity),
        }
    }
}

impl<T: AsyncRead + Unpin> hyper::rt::Read for Io<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut cursor: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let want = cursor.remaining().min(this.buf.len());
        let Some(buf) = this.buf.get_mut(..want) else {
            return Poll::Ready(Ok(()));
        };
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(n)) => {
                if let Some(got) = buf.get(..n) {
                    cursor.put_slice(got);
                }
                this.activity.touch();
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for Io<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(_))) {
            this.activity.touch();
        }
        r
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}
