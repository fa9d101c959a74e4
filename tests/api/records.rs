//! Durable records (issue 11): every archive invarlockd makes is audited exactly once, an error
//! answer changes nothing, apply re-checks the archives a plan relied on, stored plans fail
//! closed, and the records survive the index being deleted.

use crate::helpers::*;
use crate::promote::promote;
use crate::retention::{apply, archived_attempts, assert_stale, plan, plan_and_apply, restore};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::Path;

const REL_CERT: &str = "reports/rel_quant8_balanced/evaluation.cert.json";

fn listing(root: &Path) -> Vec<String> {
    names_in(&root.join("reports"))
}

async fn audit(app: &TestApp) -> Vec<Value> {
    let (_, a) = app.get("/v1/audit?limit=1000").await;
    a["items"].as_array().unwrap().clone()
}

async fn records_db(root: &Path) -> sqlx::SqlitePool {
    let db = root.join(".invarlockd/records.db");
    sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_promotion_answered_409_for_a_name_its_own_baseline_would_take_changes_nothing() {
    let ws = corpus_copy();
    let app = TestApp::spawn(ws.path()).await;
    let before = listing(ws.path());
    let (s, b) = promote(&app, json!({ "attempt": "rel_quant8/20261128_204341", "certificate": REL_CERT, "profile": "release", "name": "rel_baseline" })).await;
    assert_eq!(s, StatusCode::CONFLICT, "{b:#}");
    assert_eq!(listing(ws.path()), before, "the 409 left an archive behind");
    assert!(audit(&app).await.is_empty());
    // The same promotion under a free name then archives both, each audited once.
    let (s, b) = promote(&app, json!({ "attempt": "rel_quant8/20261128_204341", "certificate": REL_CERT, "profile": "release" })).await;
    assert_eq!(s, StatusCode::CREATED, "{b:#}");
    let subjects: Vec<String> = audit(&app)
        .await
        .iter()
        .map(|e| e["subject"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(subjects, ["rel_baseline", "rel_quant8"]);
    app.stop().await;
}

#[tokio::test]
async fn apply_refuses_a_plan_whose_condemned_pass_lost_its_archive_and_moves_nothing() {
    let ws = tempfile::tempdir().unwrap();
    archived_attempts(ws.path(), 3);
    let app = TestApp::spawn(ws.path()).await;
    app.wait_indexed(3).await;
    let (s, p) = plan(&app, json!({ "keep_last": 1, "keep_within": "0s" })).await;
    assert_eq!(s, StatusCode::OK, "{p:#}");
    assert_eq!(p["delete"].as_array().unwrap().len(), 2, "{p:#}");
    // The only other copy of the oldest attempt's evidence goes away (no waiting for the
    // watcher: apply must look for itself).
    std::fs::remove_dir_all(ws.path().join("reports/q0")).unwrap();
    let (s, b) = apply(&app, p["id"].as_str().unwrap()).await;
    assert_stale(s, &b);
    assert!(
        b["detail"].as_str().unwrap().contains("reports/q0"),
        "{b:#}"
    );
    assert!(ws
        .path()
        .join("runs/q/20261101_100000/report.json")
        .is_file());
    assert!(ws
        .path()
        .join("runs/q/20261101_100100/report.json")
        .is_file());

    // An archive edited in place (same name, other bytes) is just as stale.
    let (_, p) = plan(&app, json!({ "keep_last": 1, "keep_within": "0s" })).await;
    let condemned: Vec<&str> = p["delete"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["attempt"].as_str().unwrap())
        .collect();
    assert_eq!(condemned, ["q/20261101_100100"], "{p:#}");
    let archived = ws.path().join("reports/q1/report.json");
    let mut bytes = std::fs::read(&archived).unwrap();
    bytes.push(b'\n');
    std::fs::write(&archived, bytes).unwrap();
    let (s, b) = apply(&app, p["id"].as_str().unwrap()).await;
    assert_stale(s, &b);
    assert!(ws
        .path()
        .join("runs/q/20261101_100100/report.json")
        .is_file());
    app.stop().await;
}

#[tokio::test]
async fn a_corrupt_stored_snapshot_or_plan_stops_apply_with_a_clear_error_and_moves_nothing() {
    if skip_on_postgres("corrupts records.db with sqlite") {
        return;
    }
    let ws = tempfile::tempdir().unwrap();
    archived_attempts(ws.path(), 3);
    let app = TestApp::spawn(ws.path()).await;
    app.wait_indexed(3).await;
    for (column, garbage) in [
        ("snapshot", "{}"),
        ("plan", r#"{"delete":[{"attempt":1}]}"#),
    ] {
        let (_, p) = plan(&app, json!({ "keep_last": 1, "keep_within": "0s" })).await;
        let pool = records_db(ws.path()).await;
        sqlx::query(&format!(
            "update retention_plans set {column} = ? where id = ?"
        ))
        .bind(garbage)
        .bind(p["id"].as_str().unwrap())
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        let (s, b) = apply(&app, p["id"].as_str().unwrap()).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::INTERNAL_SERVER_ERROR, Some("record_corrupt")),
            "{column}: {b:#}"
        );
        assert!(b["detail"].as_str().unwrap().contains(column), "{b:#}");
        assert!(ws
            .path()
            .join("runs/q/20261101_100000/report.json")
            .is_file());
    }
    app.stop().await;
}

/// Everything a client can read about what happened, in one value.
async fn answers(app: &TestApp, plan: &str) -> Value {
    let mut v = json!({});
    for path in [
        "/v1/attempts?limit=1000",
        "/v1/mappings?limit=1000",
        "/v1/promotions?limit=1000",
        "/v1/audit?limit=1000",
        "/v1/audit/verify",
    ] {
        let (s, body) = app.get(path).await;
        assert_eq!(s, StatusCode::OK, "{path}: {body:#}");
        v[path] = body;
    }
    let (s, body) = app.get(&format!("/v1/retention/plans/{plan}")).await;
    assert_eq!(s, StatusCode::OK, "{body:#}");
    v["plan"] = body;
    v
}

#[tokio::test]
async fn deleting_the_stopped_daemons_index_keeps_every_answer_and_restores_still_work() {
    if skip_on_postgres("deletes index.db (a server index has no file)") {
        return;
    }
    let ws = corpus_copy();
    let app = TestApp::spawn(ws.path()).await;
    let (_, st) = app.get("/v1/status").await;
    let total = st["index"]["attempts"]["total"].as_u64().unwrap();
    let (s, b) = promote(&app, json!({ "attempt": "rel_quant8/20261128_204341", "certificate": REL_CERT, "profile": "release" })).await;
    assert_eq!(s, StatusCode::CREATED, "{b:#}");
    let (s, b) = promote(&app, json!({ "attempt": "baseline/20261128_204115" })).await;
    assert!(s.is_success(), "{b:#}");
    let body = json!({ "keep_last": 1, "keep_within": "0s", "failed_keep_within": "0s" });
    let (id, b) = plan_and_apply(&app, body).await;
    let moved = b["moves"].as_array().unwrap().len();
    assert!(moved > 0, "{b:#}");
    // Settle: the watcher has seen the moves before the answers are taken.
    let n = total - moved as u64;
    app.wait_indexed(n).await;
    let before = answers(&app, &id).await;
    app.stop().await;

    for f in ["index.db", "index.db-wal", "index.db-shm"] {
        let _ = std::fs::remove_file(ws.path().join(".invarlockd").join(f));
    }
    let app = TestApp::spawn(ws.path()).await;
    app.wait_indexed(n).await;
    let after = answers(&app, &id).await;
    for (k, v) in before.as_object().unwrap() {
        assert_eq!(&after[k], v, "{k} differs after the index was deleted");
    }
    assert!(
        after["/v1/audit?limit=1000"]["items"]
            .as_array()
            .unwrap()
            .len()
            >= 3 + moved
    );
    let (s, r) = restore(&app, &id).await;
    assert_eq!(s, StatusCode::OK, "{r:#}");
    assert!(ws
        .path()
        .join("runs/baseline/20261128_204115/report.json")
        .is_file());
    app.stop().await;
}

#[tokio::test]
async fn deleting_the_running_daemons_index_rebuilds_it_live_and_never_splits_or_changes_its_answers(
) {
    if skip_on_postgres(
        "deletes index.db (a server index has no file; file_replaced is false there)",
    ) {
        return;
    }
    let ws = tempfile::tempdir().unwrap();
    archived_attempts(ws.path(), 3);
    let app = TestApp::spawn(ws.path()).await;
    app.wait_indexed(3).await;
    let (id, _) = plan_and_apply(&app, json!({ "keep_last": 1, "keep_within": "0s" })).await;
    app.wait_indexed(1).await;
    let before = answers(&app, &id).await;

    // Deleted, then recreated empty by another process (which may race the daemon's own
    // rebuild of the path): no answer may come from the new file. The daemon's closed index
    // must let go of every file (its connections and this opener's), or the deleted one stays
    // open (what made this test flaky: a connection parked in a closed pool).
    let state = ws.path().join(".invarlockd");
    for f in ["index.db", "index.db-wal", "index.db-shm"] {
        let _ = std::fs::remove_file(state.join(f));
    }
    let other = invarlockd::storage::Storage::open(&state.join("index.db"), &outsider(), None)
        .await
        .unwrap();
    other.close().await;
    rebuilt_live(&state, &app, &id, &before, 1).await;

    // Deleted and left deleted: the daemon makes a new index.db itself.
    for f in ["index.db", "index.db-wal", "index.db-shm"] {
        let _ = std::fs::remove_file(state.join(f));
    }
    rebuilt_live(&state, &app, &id, &before, 1).await;
    // Only index.db deleted, its -wal and -shm left in place (still the old file's).
    std::fs::remove_file(state.join("index.db")).unwrap();
    rebuilt_live(&state, &app, &id, &before, 1).await;
    app.stop().await;
}

/// Files of this process (the daemon runs in it) that are `db`'s or its sidecars' and deleted.
fn open_deleted(db: &Path) -> Vec<String> {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .map(|l| l.to_string_lossy().into_owned())
        .filter(|l| l.starts_with(&*db.to_string_lossy()) && l.ends_with("(deleted)"))
        .collect()
}

/// Attempts in the database file at `db`, read as another process would (read-only: nothing
/// created or migrated); None while no indexed file is there.
async fn attempts_in_file(db: &Path) -> Option<i64> {
    use sqlx::Connection;
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await.ok()?;
    let n = sqlx::query_scalar("select count(*) from attempts")
        .fetch_one(&mut conn)
        .await
        .ok();
    conn.close().await.ok()?;
    n
}

/// Polls until the daemon has rebuilt its deleted index live: a new index.db at the path holding
/// the `attempts` it indexes, and no file of the deleted one still open. Every poll takes 8
/// concurrent answers (more than one connection in use at once), each equal to `before`: no
/// answer changes or alternates meanwhile.
async fn rebuilt_live(state: &Path, app: &TestApp, plan: &str, before: &Value, attempts: i64) {
    let db = state.join("index.db");
    let rebuilt = eventually(std::time::Duration::from_secs(60), || async {
        let all = futures::future::join_all((0..8).map(|_| answers(app, plan))).await;
        for now in all {
            for (k, v) in before.as_object().unwrap() {
                assert_eq!(&now[k], v, "{k} changed after the index was deleted");
            }
        }
        (open_deleted(&db).is_empty() && attempts_in_file(&db).await == Some(attempts))
            .then_some(())
    })
    .await;
    assert!(
        rebuilt.is_some(),
        "the index was not rebuilt live within 60 s (still open: {:?}, attempts in the file: {:?})",
        open_deleted(&db),
        attempts_in_file(&db).await
    );
    let now = answers(app, plan).await;
    for (k, v) in before.as_object().unwrap() {
        assert_eq!(&now[k], v, "{k} differs after the live rebuild");
    }
}

/// The workspace id of a process that opens the index file beside the daemon.
fn outsider() -> invarlockd::domain::WorkspaceId {
    invarlockd::domain::WorkspaceId::parse("outsider").unwrap()
}
