//! `GET /v1/runs?limit=1000` at many nicknames, before and after the page became one query
//! (issue 15). One command:
//!
//!     cargo run --release --example bench_runs -- --nicknames 10000
//!
//! Generates N nicknames of one attempt each (half baselines, half subjects whose events.jsonl
//! quotes the baseline logloss, so most subjects get a pairing-evidence mapping; the files are
//! hard links to one copy of two sample attempts), starts the daemon on them and, on the index
//! it built, measures every page of `limit=1000`, ROUNDS times:
//! - `before`: the old code path, reproduced here: the page query, then one mapping query per
//!   nickname (what `src/http/runs.rs` did before), shaped into the same JSON;
//! - `after`: `storage::runs::list`, the one query per page, shaped the same way;
//! - `after, HTTP`: `GET /v1/runs?limit=1000` against the daemon (what a client sees).
//!
//! p50/p99 are over all page requests; the ratio compares before and after in the same process
//! on the same file. The workspace is deleted at the end unless `--dir D` keeps it.
//!
//! Measured 2026-12-01 (release, 10,000 nicknames, 5,000 mappings, 2 cores shared with other
//! builds, so noisy): before p50 58.1 ms / p99 173.9 ms; after p50 11.4 ms / p99 38.1 ms
//! (p99 4.6x lower); `GET /v1/runs?limit=1000` over HTTP p50 11.4 ms / p99 20.5 ms.

mod common;

use serde_json::{json, Value};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::SqlitePool;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ROUNDS: usize = 5;
const LIMIT: u32 = 1000;

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = flag(&args, "--nicknames")
        .map(|v| v.parse().expect("--nicknames N"))
        .unwrap_or(10_000);
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = flag(&args, "--dir")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let t = Instant::now();
    generate(&root, n);
    eprintln!("generated {n} nicknames in {:.1?}", t.elapsed());
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(measure(&root, n));
}

/// Two sample attempts: a baseline and a subject paired with it.
const BASELINE: &str = "baseline/20261128_204128";
const SUBJECT: &str = "quant8/20261128_204141";

fn generate(root: &Path, n: usize) {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/workspace/runs");
    let files = root.join(".bench-files");
    for (kind, id) in [("baseline", BASELINE), ("subject", SUBJECT)] {
        std::fs::create_dir_all(files.join(kind)).unwrap();
        for f in ["report.json", "events.jsonl"] {
            let to = files.join(kind).join(f);
            if !to.exists() {
                std::fs::copy(sample.join(id).join(f), &to).unwrap();
            }
        }
    }
    for i in 0..n {
        let (kind, id) = if i % 2 == 0 {
            ("baseline", BASELINE)
        } else {
            ("subject", SUBJECT)
        };
        let ts = id.rsplit('/').next().unwrap();
        let dir = root.join(format!("runs/n{i:06}/{ts}"));
        if dir.join("events.jsonl").exists() {
            continue;
        }
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["report.json", "events.jsonl"] {
            let _ = std::fs::remove_file(dir.join(f));
            std::fs::hard_link(files.join(kind).join(f), dir.join(f)).unwrap();
        }
    }
}

fn config(root: &Path) -> invarlockd::config::Config {
    let mut cfg = invarlockd::config::Config::default();
    cfg.workspace.root = root.to_path_buf();
    cfg.server.listen = "127.0.0.1:0".parse().unwrap();
    cfg.log.level = "warn".into();
    cfg
}

/// The page query of the old code (`storage/runs.rs` before issue 15).
const OLD_PAGE: &str = "
select a.nickname as nickname, count(*) as attempts,
    (select l.id from attempts l where l.nickname = a.nickname order by l.ts desc, l.id desc limit 1) as latest_id,
    (select l.status from attempts l where l.nickname = a.nickname order by l.ts desc, l.id desc limit 1) as latest_status,
    (select p.id from attempts p where p.nickname = a.nickname and p.status = 'pass' order by p.ts desc, p.id desc limit 1) as latest_pass
from attempts a where a.nickname > ? group by a.nickname order by a.nickname limit ?";

/// The old per-nickname mapping query.
const OLD_MAPPING: &str = "select m.subject, m.baseline_attempt, m.baseline_archived, m.how, m.confidence, m.certificate, m.candidates, m.note
    from mappings m join attempts a on a.id = m.subject where a.nickname = ? order by a.ts desc limit 1";

type OldRow = (String, i64, String, String, Option<String>);
type MapRow = (
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
    i64,
    Option<String>,
);

fn mapping_json(m: &MapRow) -> Value {
    json!({"subject": m.0, "baseline": {"attempt": m.1, "archived": m.2}, "how": m.3,
        "confidence": m.4, "certificate": m.5, "candidates": m.6, "note": m.7})
}

/// One page the old way: 1 + (one per nickname) queries. Returns (bytes, last nickname).
async fn old_page(pool: &SqlitePool, after: &str) -> (usize, Option<String>) {
    let rows: Vec<OldRow> = sqlx::query_as(OLD_PAGE)
        .bind(after)
        .bind(LIMIT as i64 + 1)
        .fetch_all(pool)
        .await
        .unwrap();
    let more = rows.len() > LIMIT as usize;
    let mut items = Vec::new();
    for r in rows.iter().take(LIMIT as usize) {
        let m: Option<MapRow> = sqlx::query_as(OLD_MAPPING)
            .bind(&r.0)
            .fetch_optional(pool)
            .await
            .unwrap();
        items.push(json!({"nickname": r.0, "attempts": r.1,
            "latest": {"id": r.2, "status": r.3}, "latest_pass": r.4,
            "baseline": m.as_ref().map(mapping_json)}));
    }
    let last = items
        .last()
        .map(|v| v["nickname"].as_str().unwrap().to_string());
    let bytes = serde_json::to_vec(&json!({"items": items})).unwrap().len();
    (bytes, if more { last } else { None })
}

/// One page the new way: one query.
async fn new_page(store: &invarlockd::storage::Storage, after: &str) -> (usize, Option<String>) {
    let after = invarlockd::storage::workspace::ListKey {
        key: after.to_string(),
        workspace: store.workspace().to_string(),
    };
    let (rows, next) = store.runs_page(None, Some(&after), LIMIT).await.unwrap();
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            let m = r.mapping();
            json!({"nickname": r.nickname, "attempts": r.attempts,
                "latest": {"id": r.latest_id, "status": r.latest_status}, "latest_pass": r.latest_pass,
                "baseline": m.map(|m| json!({"subject": m.subject, "baseline": {"attempt": m.baseline_attempt,
                    "archived": m.baseline_archived}, "how": m.how, "confidence": m.confidence,
                    "certificate": m.certificate, "candidates": m.candidates, "note": m.note}))})
        })
        .collect();
    let bytes = serde_json::to_vec(&json!({"items": items})).unwrap().len();
    (bytes, next.map(|k| k.key))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(name: &str, mut d: Vec<Duration>) -> Duration {
    d.sort();
    let p99 = percentile(&d, 0.99);
    println!(
        "{name:<14} requests {:>4}  p50 {:>8.2?}  p99 {:>8.2?}",
        d.len(),
        percentile(&d, 0.5),
        p99
    );
    p99
}

async fn measure(root: &Path, n: usize) {
    let served = common::daemon::serve(config(root)).await;
    let addr = served.addr;
    let client = reqwest::Client::new();
    let t = Instant::now();
    served.ready(Duration::from_secs(1800)).await;
    eprintln!("indexed in {:.1?}", t.elapsed());
    let status: Value = client
        .get(format!("http://{addr}/v1/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    println!(
        "nicknames {} (asked {n}), mappings {}, pages of {LIMIT}",
        status["index"]["nicknames"], status["index"]["mappings"]
    );
    let db = config(root).workspace().index_db();
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::new().filename(&db).read_only(true))
        .await
        .unwrap();
    // The new way through the storage API (a second handle on the daemon's index).
    let own = invarlockd::domain::WorkspaceId::default_for(root);
    let store = invarlockd::storage::Storage::open(&db, &own, None)
        .await
        .unwrap();

    let (mut before, mut after, mut http) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let mut cursor = String::new();
        loop {
            let t = Instant::now();
            let (_, next) = old_page(&pool, &cursor).await;
            before.push(t.elapsed());
            match next {
                Some(c) => cursor = c,
                None => break,
            }
        }
        let mut cursor = String::new();
        loop {
            let t = Instant::now();
            let (_, next) = new_page(&store, &cursor).await;
            after.push(t.elapsed());
            match next {
                Some(c) => cursor = c,
                None => break,
            }
        }
        let mut token: Option<String> = None;
        loop {
            let url = match &token {
                Some(t) => format!("http://{addr}/v1/runs?limit={LIMIT}&page_token={t}"),
                None => format!("http://{addr}/v1/runs?limit={LIMIT}"),
            };
            let t = Instant::now();
            let page: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            http.push(t.elapsed());
            match page["next_page_token"].as_str() {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
    }
    let b = report("before", before);
    let a = report("after", after);
    report("after, HTTP", http);
    println!(
        "p99 before / after (same process, same index): {:.1}x",
        b.as_secs_f64() / a.as_secs_f64()
    );
    served.stop().await;
}
