//! The PostgreSQL half of bench_index (issue 12), run with `--database postgres://…`:
//! - `index-pg`: a cold `full_scan` of the same workspace into a fresh workspace schema;
//! - `serve-pg`: two daemons on one database (the benchmark workspace and a second, empty
//!   one), each written at 50 attempts/s: event→visible latency per attempt, then
//!   `GET /v1/attempts?limit=100` latency over both workspaces.
//!
//! Each run uses workspace ids of its own (`bench-<pid>-a|b`) and removes what it wrote
//! (schemas, registry rows, records) at the end.

use crate::common::daemon::{
    percentile, poll_until, serve, sorted, visible_after_ms, watch_events, Seen, Served,
};
use crate::common::{live_id, templates, write_live_attempt};
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
        let indexer = super::indexer(&cfg, store);
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

/// Daemon `id` on `root` with the database at `url`, ready.
async fn daemon(root: &Path, url: &str, id: &str) -> Served {
    let mut cfg = super::config(root);
    cfg.database.url = url.to_string();
    cfg.workspace.id = id.to_string();
    let d = serve(cfg).await;
    d.ready(Duration::from_secs(1800)).await;
    d
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
            readers.push(watch_events(d.addr, s.clone()).await);
        }
        let (report, events) = templates()[0].clone();
        // 50 attempts/s into each workspace for 10 s, each timed from its report.json closing.
        let mut written: Vec<(usize, String, Instant)> = Vec::new();
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        for i in 0..500usize {
            tick.tick().await;
            for (w, r) in roots.iter().enumerate() {
                let id = live_id("pglive", "20270102", i);
                write_live_attempt(r, &id, (&report, &events), 80_000_000 + i);
                written.push((w, id, Instant::now()));
            }
        }
        poll_until(Duration::from_secs(60), || {
            written
                .iter()
                .all(|(w, id, _)| seen[*w].lock().unwrap().contains_key(id))
        })
        .await;
        readers.iter().for_each(|r| r.abort());
        let latencies = sorted(
            written
                .iter()
                .map(|(w, id, at)| visible_after_ms(&seen[*w], id, *at))
                .collect(),
        );
        let list = list_latencies(daemons[0].addr).await;
        for d in daemons {
            d.stop().await;
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
    sorted(out)
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
