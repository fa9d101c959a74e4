//! The PostgreSQL half of bench_index (issue 12), run with `--database postgres://…`:
//! - `index-pg`: a cold `full_scan` of the same workspace into a fresh workspace schema;
//! - `serve-pg`: two daemons on one database (the benchmark workspace and a second, empty
//!   one), each written at 50 attempts/s: event→visible latency per attempt, then
//!   `GET /v1/attempts?limit=100` latency over both workspaces.
//!
//! Each run uses workspace ids of its own (`bench-<pid>-a|b`) and removes what it wrote
//! (schemas, registry rows, records) at the end.

use crate::common::{templates, unique_report};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn ids(tag: &str) -> [String; 2] {
    [format!("bench-{tag}-a"), format!("bench-{tag}-b")]
}

fn workspace_id(id: &str) -> invarlockd::domain::WorkspaceId {
    invarlockd::domain::WorkspaceId::parse(id).unwrap()
}

/// A cold full scan of `root` into PostgreSQL (the schema of a new workspace id).
pub fn phase_index(root: &Path, url: &str, tag: &str) {
    super::rt().block_on(async {
        let cfg = super::config(root);
        let store =
            invarlockd::storage::Storage::open_postgres(url, &workspace_id(&ids(tag)[0]), None)
                .await
                .unwrap();
        store.register_workspace().await.unwrap();
        let indexer = invarlockd::index::Indexer::new(
            store,
            invarlockd::index::IndexSettings {
                workspace: cfg.workspace(),
                index: cfg.index.clone(),
                limits: cfg.limits,
            },
        );
        let t = Instant::now();
        let summary = indexer.full_scan().await.unwrap();
        let secs = t.elapsed().as_secs_f64();
        indexer.store().close().await;
        println!(
            "{}",
            serde_json::json!({ "secs": secs, "summary": summary })
        );
    });
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    super::percentile(sorted, p)
}

/// Daemon `id` on `root` with the database at `url`; its address and stop handle.
async fn daemon(
    root: &Path,
    url: &str,
    id: &str,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), invarlockd::app::AppError>>,
) {
    let mut cfg = super::config(root);
    cfg.database.url = url.to_string();
    cfg.workspace.id = id.to_string();
    let app = invarlockd::app::Application::build(cfg).await.unwrap();
    let addr = app.local_addr();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    let client = reqwest::Client::new();
    while client
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .map(|r| !r.status().is_success())
        .unwrap_or(true)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (addr, tx, task)
}

type Seen = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Instant>>>;

/// Records when each attempt id first appears on a daemon's event stream (published once its
/// index has committed).
async fn watch_events(addr: std::net::SocketAddr, seen: Seen) -> tokio::task::JoinHandle<()> {
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

pub fn phase_serve(root: &Path, url: &str, tag: &str) {
    let second = tempfile::tempdir().unwrap();
    for d in ["runs", "reports"] {
        std::fs::create_dir_all(second.path().join(d)).unwrap();
    }
    for i in 0..10 {
        let _ = std::fs::remove_dir_all(root.join(format!("runs/pglive{i:02}")));
    }
    let roots: [PathBuf; 2] = [root.to_path_buf(), second.path().to_path_buf()];
    let [a, b] = ids(tag);
    super::rt().block_on(async {
        let mut daemons = Vec::new();
        for (r, id) in roots.iter().zip([&a, &b]) {
            daemons.push(daemon(r, url, id).await);
        }
        let seen: [Seen; 2] = Default::default();
        let mut readers = Vec::new();
        for (d, s) in daemons.iter().zip(&seen) {
            readers.push(watch_events(d.0, s.clone()).await);
        }
        let (report, events) = templates()[0].clone();
        // 50 attempts/s into each workspace for 10 s, each timed from its report.json closing.
        let mut written: Vec<(usize, String, Instant)> = Vec::new();
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        for i in 0..500usize {
            tick.tick().await;
            for (w, r) in roots.iter().enumerate() {
                let id = format!(
                    "pglive{:02}/20270102_{:02}{:02}{:02}",
                    i % 10,
                    i / 3600,
                    i / 60 % 60,
                    i % 60
                );
                let dir = r.join("runs").join(&id);
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(dir.join("events.jsonl"), &events).unwrap();
                std::fs::write(
                    dir.join("report.json"),
                    unique_report(&report, 80_000_000 + i),
                )
                .unwrap();
                written.push((w, id, Instant::now()));
            }
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline
            && written
                .iter()
                .any(|(w, id, _)| !seen[*w].lock().unwrap().contains_key(id))
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        readers.iter().for_each(|r| r.abort());
        let mut latencies: Vec<f64> = written
            .iter()
            .map(|(w, id, at)| {
                seen[*w].lock().unwrap().get(id).map_or(f64::INFINITY, |t| {
                    t.saturating_duration_since(*at).as_secs_f64() * 1000.0
                })
            })
            .collect();
        latencies.sort_by(|x, y| x.partial_cmp(y).unwrap());
        let list = list_latencies(daemons[0].0).await;
        for (_, stop, task) in daemons {
            let _ = stop.send(());
            task.await.unwrap().unwrap();
        }
        clean(url, &[&a, &b]).await;
        println!(
            "{}",
            serde_json::json!({
                "written": latencies.len(),
                "never_seen": latencies.iter().filter(|l| l.is_infinite()).count(),
                "p50_ms": percentile(&latencies, 0.5),
                "p99_ms": percentile(&latencies, 0.99),
                "list_p50_ms": percentile(&list, 0.5),
                "list_p99_ms": percentile(&list, 0.99),
            })
        );
    });
}

/// `GET /v1/attempts?limit=100` one at a time, 500 times (sorted, ms).
pub async fn list_latencies(addr: std::net::SocketAddr) -> Vec<f64> {
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/v1/attempts?limit=100");
    let mut out = Vec::new();
    for _ in 0..500 {
        let t = Instant::now();
        let r = client.get(&url).send().await.unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        let _ = r.bytes().await.unwrap();
        out.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    out.sort_by(|x, y| x.partial_cmp(y).unwrap());
    out
}

/// Removes what the benchmark's workspaces wrote to the database.
async fn clean(url: &str, ids: &[&str]) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    for id in ids {
        let (schema,): (String,) =
            sqlx::query_as("select index_schema from workspaces where id = $1")
                .bind(id)
                .fetch_one(&mut conn)
                .await
                .unwrap();
        sqlx::query(&format!("drop schema {schema} cascade"))
            .execute(&mut conn)
            .await
            .unwrap();
        for table in [
            "audit_log",
            "verifications",
            "intents",
            "retention_plans",
            "workspaces",
        ] {
            let col = if table == "workspaces" {
                "id"
            } else {
                "workspace"
            };
            sqlx::query(&format!("delete from {table} where {col} = $1"))
                .bind(id)
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
}
