//! Pacing: at most one request per interval across everyone sharing a
//! client. The time of the last request sits behind a fair async mutex that
//! is held while waiting, so concurrent callers queue up in arrival order
//! and each goes `interval` after the one before it.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

#[derive(Debug)]
pub(crate) struct Pacer {
    interval: Duration,
    last: Mutex<Option<Instant>>,
}

impl Pacer {
    pub(crate) fn new(interval: Duration) -> Self {
        Pacer { interval, last: Mutex::new(None) }
    }

    /// Waits until a request may start (`interval` after the previous one
    /// started) and records that it does.
    pub(crate) async fn wait_turn(&self) {
        let mut last = self.last.lock().await;
        if let Some(previous) = *last {
            tokio::time::sleep_until(previous + self.interval).await;
        }
        *last = Some(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn callers_are_spaced_by_the_interval() {
        let pacer = std::sync::Arc::new(Pacer::new(Duration::from_secs(3)));
        let start = Instant::now();
        pacer.wait_turn().await;
        assert_eq!(start.elapsed(), Duration::ZERO, "the first request does not wait");
        let (a, b) = (pacer.clone(), pacer.clone());
        let ta = tokio::spawn(async move { a.wait_turn().await });
        let tb = tokio::spawn(async move { b.wait_turn().await });
        ta.await.unwrap();
        tb.await.unwrap();
        assert!(start.elapsed() >= Duration::from_secs(6), "{:?}", start.elapsed());
    }
}
