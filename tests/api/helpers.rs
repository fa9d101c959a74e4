use invarlockd::app::Application;
use invarlockd::config::Config;
use reqwest::StatusCode;
use serde_json::Value;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const REPO: &str = env!("CARGO_MANIFEST_DIR");

#[path = "../support/workspace_copy.rs"]
mod workspace_copy;
#[allow(unused_imports)] // not every suite that includes these helpers copies a workspace
pub use workspace_copy::{copy_dir, corpus_copy};

/// The sample workspace shipped in the repo (real InvarLock 0.3.6 artifacts).
pub fn sample_workspace() -> PathBuf {
    Path::new(REPO).join("examples/workspace")
}

/// The names of the entries of `dir`, sorted.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub root: PathBuf,
    pub client: reqwest::Client,
    /// The running daemon's state, for tests that reach behind the API (e.g. close its pools).
    pub state: invarlockd::http::AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    /// The fresh PostgreSQL database of this daemon, dropped with it
    /// (`INVARLOCKD_TEST_BACKEND=postgres`).
    _db: Option<invarlockd::storage::testing::TestDb>,
}

/// Whether the suite runs on PostgreSQL (`INVARLOCKD_TEST_BACKEND=postgres`, as .ci/run's
/// second pass does) instead of the embedded SQLite files.
pub fn on_postgres() -> bool {
    std::env::var("INVARLOCKD_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// For tests of what only an index or records *file* can suffer (deleted, replaced, tampered
/// with on disk): true, after saying so, when the suite runs on PostgreSQL.
pub fn skip_on_postgres(what: &str) -> bool {
    if on_postgres() {
        eprintln!("not on PostgreSQL: {what}");
    }
    on_postgres()
}

pub fn test_config(root: &Path) -> Config {
    let mut cfg = Config::default();
    cfg.workspace.root = root.to_path_buf();
    cfg.server.listen = "127.0.0.1:0".parse().unwrap();
    cfg.watch.debounce = Duration::from_millis(50);
    cfg
}

impl TestApp {
    pub async fn spawn(root: &Path) -> TestApp {
        TestApp::spawn_with(test_config(root)).await
    }

    pub async fn spawn_with(mut cfg: Config) -> TestApp {
        // Logs only when asked for: RUST_LOG=debug cargo test -- --nocapture
        if std::env::var_os("RUST_LOG").is_some() {
            invarlockd::telemetry::init(&cfg.log);
        }
        let db = match on_postgres() && cfg.database.url.is_empty() {
            true => {
                let db = invarlockd::storage::testing::TestDb::create()
                    .await
                    .expect("INVARLOCKD_TEST_BACKEND=postgres needs INVARLOCKD_TEST_PG");
                cfg.database.url = db.url.clone();
                Some(db)
            }
            false => None,
        };
        let root = cfg.workspace.root.clone();
        let app = Application::build(cfg).await.expect("daemon builds");
        let addr = app.local_addr();
        let state = app.state();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            app.run_until(async {
                let _ = rx.await;
            })
            .await
            .expect("daemon runs");
        });
        let t = TestApp {
            addr,
            root,
            client: reqwest::Client::new(),
            state,
            stop: Some(tx),
            task: Some(task),
            _db: db,
        };
        t.wait_ready().await;
        t
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let resp = self.client.get(self.url(path)).send().await.unwrap();
        let status = resp.status();
        let body = resp.bytes().await.unwrap();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// POSTs `body` as it is, without a token: the whole response.
    pub async fn post_bytes(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn wait_ready(&self) {
        eventually(Duration::from_secs(60), || async {
            let r = self.client.get(self.url("/readyz")).send().await.ok()?;
            (r.status() == StatusCode::OK).then_some(())
        })
        .await
        .expect("daemon became ready");
    }

    /// Waits until `/v1/status` counts exactly `n` attempts (e.g. after a retention move).
    pub async fn wait_indexed(&self, n: u64) {
        let ok = eventually(Duration::from_secs(30), || async {
            let (_, s) = self.get("/v1/status").await;
            (s["index"]["attempts"]["total"].as_u64() == Some(n)).then_some(())
        })
        .await;
        assert!(ok.is_some(), "index never reached {n} attempts");
    }

    /// The `action` of each audit entry `/v1/audit?limit=1000` lists.
    pub async fn audit_actions(&self) -> Vec<String> {
        let (_, audit) = self.get("/v1/audit?limit=1000").await;
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["action"].as_str().unwrap().to_string())
            .collect()
    }

    /// The indexed attempt, or None when it is not (yet) in the index.
    pub async fn attempt(&self, id: &str) -> Option<Value> {
        let (status, body) = self.get(&format!("/v1/attempts/{id}")).await;
        (status == StatusCode::OK).then_some(body)
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}

/// Polls `f` until it returns Some or the deadline passes. The only way tests wait.
pub async fn eventually<T, F, Fut>(deadline: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let end = Instant::now() + deadline;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if Instant::now() > end {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A passing report and its events from the sample workspace, to build new attempts from.
pub fn template_attempt() -> (Vec<u8>, Vec<u8>) {
    let dir = sample_workspace().join("runs/quant8/20261128_204141");
    (
        std::fs::read(dir.join("report.json")).unwrap(),
        std::fs::read(dir.join("events.jsonl")).unwrap(),
    )
}

/// A minimal valid report (§2.1) and events ending in runner success: cheap to write 10k times.
pub fn small_attempt(seed: u32) -> (Vec<u8>, Vec<u8>) {
    let report = format!(
        r#"{{"meta": {{"model_id": "tiny", "adapter": "hf_llama", "commit": "", "ts": "2026-11-28T23:00:00", "seed": {seed}, "seeds": {{"python": {seed}, "numpy": {seed}, "torch": null}}}},
 "data": {{"dataset": "local_jsonl", "dataset_hash": "0123456789abcdef0123456789abcdef"}},
 "edit": {{"name": "noop"}}, "guards": [{{"name": "invariants", "passed": true}}],
 "metrics": {{"primary_metric": {{"kind": "ppl_causal", "final": 20.5, "ratio_vs_baseline": NaN}}}},
 "artifacts": {{}}, "flags": {{"guard_recovered": false}}}}"#
    );
    let events = concat!(
        r#"{"timestamp": "2026-11-28T23:00:00", "session_id": "session_1", "component": "logger", "operation": "session_start", "level": "INFO"}"#,
        "\n",
        r#"{"timestamp": "2026-11-28T23:00:01", "session_id": "session_1", "component": "runner", "operation": "complete", "level": "INFO", "data": {"status": "success"}}"#,
        "\n",
        r#"{"timestamp": "2026-11-28T23:00:02", "session_id": "session_1", "component": "logger", "operation": "session_end", "level": "INFO"}"#,
        "\n"
    );
    (report.into_bytes(), events.as_bytes().to_vec())
}

impl TestApp {
    /// The admin token the daemon generated at first start.
    pub fn admin_token(&self) -> String {
        std::fs::read_to_string(self.root.join(".invarlockd/admin.token"))
            .expect("admin token written at start")
            .trim()
            .to_string()
    }
}
