//! The panic guard: a handler that panics answers a 500 (an HTML page on
//! the site, `{"error": …}` under `/api/`) that names a request id, and the
//! panic is logged with that id, the method and the path; the connection
//! stays up. [`panic_guard`] is the outermost layer of the router but for
//! the security headers and the proxy check.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;
use crate::error::WebError;

/// Runs the rest of the request, turning a panic into a 500 with a
/// request id (see the module documentation).
pub async fn panic_guard(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let id = req.extensions().get::<crate::metrics::RequestId>().map(|id| id.0.clone());
    match CatchUnwind(Box::pin(next.run(req))).await {
        Ok(response) => response,
        Err(payload) => {
            let request_id = id.unwrap_or_else(request_id);
            tracing::error!(%request_id, %method, %path, panic = %panic_message(payload.as_ref()), "a handler panicked");
            let err = WebError::Panicked { request_id };
            if crate::is_api_path(&path) { err.into_json_response() } else { err.into_html_response(&st.config) }
        }
    }
}

/// A short random id to quote in a report and find in the log.
fn request_id() -> String {
    match paperboy_store::secret::random_hex() {
        Ok(hex) => hex[..16].to_string(),
        Err(_) => format!(
            "{:016x}",
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()) as u64
        ),
    }
}

/// The text a panic was raised with, when it is one.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(not a text)".to_string()
    }
}

/// A future whose panic while being polled becomes `Err(payload)`.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}
