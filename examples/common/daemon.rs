//! The daemon in-process for the benchmarks (started, waited for, stopped) and what they
//! measure on it: when attempts appear on its event stream, and latency percentiles.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A daemon running on a tokio task until [`Served::stop`].
pub struct Served {
    pub addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), invarlockd::app::AppError>>,
}

/// Builds the daemon from `cfg` and serves it; it may not be ready yet (see [`Served::ready`]).
pub async fn serve(cfg: invarlockd::config::Config) -> Served {
    let app = invarlockd::app::Application::build(cfg).await.unwrap();
    let addr = app.local_addr();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    Served { addr, stop, task }
}

impl Served {
    /// Polls `/readyz` until it answers 2xx (the initial scan is done); panics after `deadline`.
    pub async fn ready(&self, deadline: Duration) {
        let client = reqwest::Client::new();
        let end = Instant::now() + deadline;
        loop {
            let ready = client
                .get(format!("http://{}/readyz", self.addr))
                .send()
                .await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(Instant::now() < end, "daemon not ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Asks the daemon to stop and waits until it has.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

/// When each attempt id was first seen on an event stream.
pub type Seen = Arc<Mutex<HashMap<String, Instant>>>;

/// Records when each attempt id first appears on a daemon's event stream (published once its
/// index has committed): observing, not polling, which would load the daemon it measures.
pub async fn watch_events(addr: SocketAddr, seen: Seen) -> tokio::task::JoinHandle<()> {
    use futures::StreamExt;
    let mut sse = reqwest::Client::new()
        .get(format!("http://{addr}/v1/events"))
        .send()
        .await
        .unwrap()
        .bytes_stream();
    tokio::spawn(async move {
        let mut buf = String::new();
        while let Some(Ok(chunk)) = sse.next().await {
            let now = Instant::now();
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) else {
                    continue;
                };
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(data.trim()) {
                    if let Some(a) = v["data"]["attempt"].as_str() {
                        seen.lock().unwrap().entry(a.to_string()).or_insert(now);
                    }
                }
            }
        }
    })
}

/// Polls `done` every 50 ms until it holds or `deadline` has passed (a benchmark reports what
/// was missed rather than failing).
pub async fn poll_until(deadline: Duration, mut done: impl FnMut() -> bool) {
    let end = Instant::now() + deadline;
    while Instant::now() < end && !done() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Milliseconds from `written_at` until `id` was seen; infinite when it never was.
pub fn visible_after_ms(seen: &Seen, id: &str, written_at: Instant) -> f64 {
    seen.lock().unwrap().get(id).map_or(f64::INFINITY, |t| {
        t.saturating_duration_since(written_at).as_secs_f64() * 1000.0
    })
}

/// The `p` quantile (0..=1) of sorted values, by nearest rank; NaN when there are none.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Sorts measured values ascending (for [`percentile`]).
pub fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v
}
