//! The HTTP/1.1 server under the router: one task per accepted connection
//! on hyper's connection builder, with the limits that keep slow or idle
//! clients from holding the server ([`ConnectionLimits`]):
//!
//! * **headers**: once the first byte of a request has arrived, its headers
//!   must be complete within `header_timeout`, else the connection is closed;
//! * **bodies**: a request body must arrive whole within `body_timeout` of
//!   its headers; a later read fails with [`BodyTimeout`] (the CSRF check
//!   answers 408, other extractors 4xx);
//! * **idle**: a kept-alive connection with no request for `idle_timeout`
//!   (a new connection that sends nothing, too) is closed;
//! * **cap**: at most `max_connections` connections are served at once; a
//!   connection over the cap is accepted and answered at once with `503
//!   Service Unavailable`, `Retry-After: 1` and `Connection: close`, so the
//!   server keeps answering while it is full.
//!
//! A handler's own time is not limited here (a request being handled is
//! never cut). Shutdown stops accepting, lets each connection finish its
//! request in flight (idle ones close at once) and returns when all are
//! closed.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

/// The limits of [`serve_router`]; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Time for a request's headers, from its first byte (10 s).
    pub header_timeout: Duration,
    /// Time for a request's body, from the end of its headers (30 s).
    pub body_timeout: Duration,
    /// How long a connection may wait for its next request (60 s).
    pub idle_timeout: Duration,
    /// Connections served at once; more are answered 503 (512).
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 512,
        }
    }
}

/// The error a request body gives when it has not arrived within the body
/// timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTimeout;

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimeout {}

/// Whether `e` (a body error, as axum passes it on) is, or is caused by, a
/// [`BodyTimeout`].
pub fn is_body_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<BodyTimeout>() {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Over the cap, at most this many connections at a time get their 503;
/// beyond that they are closed without an answer.
const MAX_REFUSING: usize = 64;

/// What a connection over the cap is told.
const BUSY: &str = "The server is busy (too many open connections). Try again in a moment.\n";

/// Serves `app` on `listener` within `limits` until `shutdown` completes,
/// then lets open requests finish (see the module documentation). The
/// peer address reaches handlers as `ConnectInfo<SocketAddr>`.
pub async fn serve_router(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let (close_tx, close_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: wait a little
                // rather than spin; a client that went away: go on.
                tracing::warn!(error = %e, "could not accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        match Arc::clone(&permits).try_acquire_owned() {
            Ok(permit) => {
                let (app, close) = (app.clone(), close_rx.clone());
                tasks.spawn(async move {
                    connection(tcp, peer, app, limits, close).await;
                    drop(permit);
                });
            }
            Err(_) => match Arc::clone(&refusing).try_acquire_owned() {
                Ok(permit) => {
                    tracing::warn!(%peer, max = limits.max_connections, "connection cap reached: answering 503");
                    tasks.spawn(async move {
                        refuse(tcp).await;
                        drop(permit);
                    });
                }
                Err(_) => drop(tcp),
            },
        }
    }
    drop(listener);
    let _ = close_tx.send(true);
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// Answers a connection over the cap with a 503 and closes it, reading
/// what the client sent meanwhile (so that it sees the answer rather than
/// a reset), all within two seconds.
async fn refuse(mut tcp: TcpStream) {
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\nretry-after: 1\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{BUSY}",
        BUSY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        tcp.write_all(answer.as_bytes()).await?;
        tcp.shutdown().await?;
        let mut buf = [0u8; 4096];
        let mut drained = 0usize;
        while drained < 64 * 1024 {
            match tcp.read(&mut buf).await? {
                0 => break,
                n => drained += n,
            }
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
}

/// Serves one connection until it closes, a limit closes it, or shutdown
/// has let its last request finish.
async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: ConnectionLimits,
    mut close: watch::Receiver<bool>,
) {
    let clock = Arc::new(Activity::new());
    let io = TokioIo::new(Watched { inner: tcp, clock: Arc::clone(&clock) });
    let service = ConnService { app, peer, clock: Arc::clone(&clock), body_timeout: limits.body_timeout };
    let mut conn = pin!(hyper::server::conn::http1::Builder::new().keep_alive(true).serve_connection(io, service));
    let mut closing = false;
    loop {
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                break;
            }
            why = watchdog(&clock, &limits) => {
                tracing::debug!(%peer, why, "closing the connection");
                break;
            }
            _ = close.wait_for(|c| *c), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Resolves (with the reason) when the connection is past a deadline:
/// headers begun and not finished within the header timeout, or nothing
/// asked within the idle timeout. Never while a request is being handled.
async fn watchdog(clock: &Activity, limits: &ConnectionLimits) -> &'static str {
    let tick =
        (limits.header_timeout.min(limits.idle_timeout) / 4).clamp(Duration::from_millis(20), Duration::from_secs(1));
    loop {
        tokio::time::sleep(tick).await;
        if clock.busy.load(Ordering::Acquire) > 0 {
            continue;
        }
        let now = clock.now();
        match clock.head_started.load(Ordering::Acquire) {
            0 => {
                let idle_since = Duration::from_millis(clock.idle_since.load(Ordering::Acquire));
                if now.saturating_sub(idle_since) >= limits.idle_timeout {
                    return "idle timeout";
                }
            }
            started => {
                if now.saturating_sub(Duration::from_millis(started - 1)) >= limits.header_timeout {
                    return "header timeout";
                }
            }
        }
    }
}

/// What one connection is doing, shared by its socket, its service and its
/// watchdog; times are milliseconds since the connection was accepted.
struct Activity {
    origin: Instant,
    /// Requests being handled (until their response body is done).
    busy: AtomicUsize,
    /// When the first byte of the next request's headers arrived, plus one;
    /// 0 while no request is begun.
    head_started: AtomicU64,
    /// When the last request finished (0: the connection's start).
    idle_since: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Activity {
            origin: Instant::now(),
            busy: AtomicUsize::new(0),
            head_started: AtomicU64::new(0),
            idle_since: AtomicU64::new(0),
        }
    }

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.now().as_millis()).unwrap_or(u64::MAX - 1)
    }

    /// Bytes arrived: when no request is being handled, a request has begun.
    fn read_some(&self) {
        if self.busy.load(Ordering::Acquire) == 0 && self.head_started.load(Ordering::Acquire) == 0 {
            self.head_started.store(self.millis() + 1, Ordering::Release);
        }
    }

    /// A request's headers are in: it is being handled.
    fn begin(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::AcqRel);
        self.head_started.store(0, Ordering::Release);
        Busy(Arc::clone(self))
    }
}

/// A request being handled; dropped when its response has been written
/// (or abandoned).
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.idle_since.store(self.0.millis(), Ordering::Release);
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The socket, noting when bytes arrive.
struct Watched {
    inner: TcpStream,
    clock: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.clock.read_some();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The router for one connection: adds the peer address and the body
/// deadline to each request, and keeps the connection busy until the
/// response is written.
#[derive(Clone)]
struct ConnService {
    app: Router,
    peer: SocketAddr,
    clock: Arc<Activity>,
    body_timeout: Duration,
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let busy = self.clock.begin();
        let body_timeout = self.body_timeout;
        let mut req = req.map(|body| {
            // No timer for a request without a body (most are GETs).
            let deadline = (!http_body::Body::is_end_stream(&body)).then(|| Box::pin(tokio::time::sleep(body_timeout)));
            Body::new(DeadlineBody { inner: body, deadline })
        });
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let mut app = self.app.clone();
        Box::pin(async move {
            let response = match tower_service::Service::call(&mut app, req).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            Ok(response.map(|body| Body::new(Tracked { inner: body, _busy: busy })))
        })
    }
}

/// A request body that fails with [`BodyTimeout`] once its deadline passes
/// (`None`: the body is empty).
struct DeadlineBody {
    inner: Incoming,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match self.deadline.as_mut().map(|d| d.as_mut().poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Some(Err(Box::new(BodyTimeout)))),
            _ => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that keeps its connection busy until it is dropped.
struct Tracked {
    inner: Body,
    _busy: Busy,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
