//! Each counter of what can go wrong moves when that thing happens to a real daemon.

use crate::exposition::value;
use crate::helpers::*;
use crate::workflow::{post, promote_baseline, scrape, write_attempt_and_wait};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

/// Runs `sql` on every SQLite file of the daemon's state directory that has `table`, from a
/// second connection (the daemon keeps its own; WAL lets both write).
async fn sabotage(app: &TestApp, table: &str, sql: &str) {
    let mut done = 0;
    for entry in std::fs::read_dir(app.root.join(".invarlockd")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("db") {
            continue;
        }
        let url = format!("sqlite://{}", path.display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let (has,): (i64,) =
            sqlx::query_as("select count(*) from sqlite_master where type = 'table' and name = ?")
                .bind(table)
                .fetch_one(&pool)
                .await
                .unwrap();
        if has == 1 {
            sqlx::query(sql).execute(&pool).await.unwrap();
            done += 1;
        }
        pool.close().await;
    }
    assert!(done > 0, "no database of the daemon has a table {table}");
}

/// Polls the scrape until `name{labels}` exceeds `floor`.
/// The value of the series in a fresh scrape.
async fn current(app: &TestApp, name: &str, labels: &[(&str, &str)]) -> f64 {
    value(&scrape(app).await, name, labels)
}

async fn moves_past(app: &TestApp, name: &str, labels: &[(&str, &str)], floor: f64) -> f64 {
    eventually(Duration::from_secs(30), || async {
        let v = current(app, name, labels).await;
        (v > floor).then_some(v)
    })
    .await
    .unwrap_or_else(|| panic!("{name}{labels:?} stayed at {floor}"))
}

#[tokio::test]
async fn audit_appends_count_and_a_failing_database_is_counted_as_a_database_error() {
    let _serial = crate::SERIAL.lock().await;
    let ws = corpus_copy();
    let app = TestApp::spawn(ws.path()).await;
    let appends = (
        "invarlockd_audit_appends_total",
        [("action", "promotion.created")],
    );
    let db_errors = (
        "invarlockd_db_errors_total",
        [("backend", "sqlite"), ("kind", "database")],
    );
    let before = scrape(&app).await;
    promote_baseline(&app).await;
    moves_past(
        &app,
        appends.0,
        &appends.1,
        value(&before, appends.0, &appends.1),
    )
    .await;

    sabotage(&app, "audit_log", "create trigger no_audit before insert on audit_log begin select raise(abort, 'audit refused by the test'); end").await;
    let before = scrape(&app).await;
    let (s, b) = post(
        &app,
        "/v1/promotions",
        json!({ "attempt": "ci_baseline/20261128_204228" }),
    )
    .await;
    assert!(s.is_server_error(), "{s} {b:#}");
    moves_past(
        &app,
        db_errors.0,
        &db_errors.1,
        value(&before, db_errors.0, &db_errors.1),
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_scan_the_database_refuses_is_counted_as_aborted_and_the_watcher_as_unhealthy() {
    let _serial = crate::SERIAL.lock().await;
    let ws = corpus_copy();
    let app = TestApp::spawn(ws.path()).await;
    write_attempt_and_wait(&app, "before/20261201_090000").await;
    let before = scrape(&app).await;
    let refresh = [("scan", "refresh"), ("cause", "database")];
    let full = [("scan", "full"), ("cause", "database")];
    sabotage(&app, "attempts", "create trigger no_attempts before insert on attempts begin select raise(abort, 'index refused by the test'); end").await;
    let dir = app.root.join("runs/after/20261201_100000");
    std::fs::create_dir_all(&dir).unwrap();
    let (report, events) = small_attempt(3);
    std::fs::write(dir.join("events.jsonl"), events).unwrap();
    std::fs::write(dir.join("report.json"), report).unwrap();
    // The refresh fails, and so does the reconcile the watcher runs to repair it.
    moves_past(
        &app,
        "invarlockd_scans_aborted_total",
        &refresh,
        value(&before, "invarlockd_scans_aborted_total", &refresh),
    )
    .await;
    moves_past(
        &app,
        "invarlockd_scans_aborted_total",
        &full,
        value(&before, "invarlockd_scans_aborted_total", &full),
    )
    .await;
    let text = scrape(&app).await;
    assert_eq!(value(&text, "invarlockd_watcher_healthy", &[]), 0.0);
    app.stop().await;
}

#[tokio::test]
async fn a_certificate_that_fails_verification_is_counted_as_not_ok() {
    let _serial = crate::SERIAL.lock().await;
    let ws = corpus_copy();
    let app = TestApp::spawn(ws.path()).await;
    let labels = [("source", "api"), ("ok", "false")];
    let before = current(&app, "invarlockd_verifications_total", &labels).await;
    let resp = app
        .client
        .post(app.url("/v1/verify"))
        .bearer_auth(app.admin_token())
        .body("{\"not\": \"a certificate\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    moves_past(&app, "invarlockd_verifications_total", &labels, before).await;
    app.stop().await;
}

#[tokio::test]
async fn a_verification_refused_because_every_slot_is_busy_is_counted_as_concurrency() {
    use tokio::io::AsyncWriteExt;
    let _serial = crate::SERIAL.lock().await;
    let ws = tempfile::tempdir().unwrap();
    let mut cfg = test_config(ws.path());
    cfg.verify.max_concurrent = 1;
    let app = TestApp::spawn_with(cfg).await;
    let labels = [("reason", "concurrency")];
    let before = current(&app, "invarlockd_verify_rejected_total", &labels).await;
    // A verification whose body is still arriving holds the only slot.
    let mut uploading = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /v1/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"a\": ",
        app.admin_token()
    );
    uploading.write_all(head.as_bytes()).await.unwrap();
    let refused = eventually(Duration::from_secs(10), || async {
        let r = app
            .client
            .post(app.url("/v1/verify"))
            .bearer_auth(app.admin_token())
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .ok()?;
        (r.status() == StatusCode::SERVICE_UNAVAILABLE).then_some(())
    })
    .await;
    assert!(refused.is_some(), "a second verification was never refused");
    moves_past(&app, "invarlockd_verify_rejected_total", &labels, before).await;
    drop(uploading);
    app.stop().await;
}

#[tokio::test]
async fn a_certificate_too_large_to_verify_within_the_memory_bound_is_counted_as_memory() {
    let _serial = crate::SERIAL.lock().await;
    let ws = tempfile::tempdir().unwrap();
    let mut cfg = test_config(ws.path());
    cfg.verify.max_values = 10;
    let app = TestApp::spawn_with(cfg).await;
    let labels = [("reason", "memory")];
    let before = current(&app, "invarlockd_verify_rejected_total", &labels).await;
    let cert =
        std::fs::read(sample_workspace().join("reports/rel_quant8_balanced/evaluation.cert.json"))
            .unwrap();
    let r = app
        .client
        .post(app.url("/v1/verify"))
        .bearer_auth(app.admin_token())
        .header("content-type", "application/json")
        .body(cert)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    moves_past(&app, "invarlockd_verify_rejected_total", &labels, before).await;
    app.stop().await;
}
