//! A daemon that has done everything an operator would watch: indexed (at start and from a
//! filesystem event), promoted, verified (an archive and a posted certificate) and applied
//! retention. Its scrape is what the promtool and dashboard tests check.

use crate::exposition::value;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

pub async fn post(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    let resp = app
        .client
        .post(app.url(path))
        .bearer_auth(app.admin_token())
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

pub async fn scrape(app: &TestApp) -> String {
    let resp = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let ctype = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    resp.text().await.unwrap()
}

/// Writes a new passing attempt and waits until the API shows it.
pub async fn write_attempt_and_wait(app: &TestApp, id: &str) {
    let dir = app.root.join("runs").join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let (report, events) = small_attempt(7);
    std::fs::write(dir.join("events.jsonl"), events).unwrap();
    std::fs::write(dir.join("report.json"), report).unwrap();
    let seen = eventually(Duration::from_secs(30), || async {
        app.attempt(id).await.filter(|a| a["status"] == "pass")
    })
    .await;
    assert!(seen.is_some(), "{id} never indexed");
}

const REL_CERT: &str = "reports/rel_quant8_balanced/evaluation.cert.json";

/// Promotes the corpus's release baseline (answered 201).
pub async fn promote_baseline(app: &TestApp) {
    let body = json!({ "attempt": "rel_baseline/20261128_204321" });
    let (s, b) = post(app, "/v1/promotions", body).await;
    assert_eq!(s, StatusCode::CREATED, "{b:#}");
}

/// Runs the whole workflow and returns the scrape taken at the end.
pub async fn busy_daemon_scrape() -> String {
    let ws = corpus_copy();
    let app = TestApp::spawn(ws.path()).await;
    let db_errors = value(&scrape(&app).await, "invarlockd_db_errors_total", &[]);
    write_attempt_and_wait(&app, "fresh/20261201_100000").await;

    promote_baseline(&app).await;
    let (s, b) = post(&app, "/v1/promotions", json!({ "attempt": "rel_quant8/20261128_204341", "certificate": REL_CERT, "profile": "release" })).await;
    assert_eq!(s, StatusCode::CREATED, "{b:#}");
    let (s, b) = post(&app, "/v1/promotions/rel_quant8/verify", json!({})).await;
    assert_eq!((s, &b["ok"]), (StatusCode::OK, &json!(true)), "{b:#}");

    let cert = std::fs::read(ws.path().join(REL_CERT)).unwrap();
    let resp = app
        .client
        .post(app.url("/v1/verify?profile=release"))
        .bearer_auth(app.admin_token())
        .body(cert)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    let (s, plan) = post(
        &app,
        "/v1/retention/plan",
        json!({ "keep_last": 1, "keep_within": "0s", "failed_keep_within": "0s" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{plan:#}");
    assert!(
        plan["totals"]["delete_count"].as_u64().unwrap() > 0,
        "{plan:#}"
    );
    let (s, b) = post(
        &app,
        "/v1/retention/apply",
        json!({ "plan_id": plan["id"] }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b:#}");

    // A raw id in a path must show up only as its route template.
    let (s, _) = app.get("/v1/attempts/rel_quant8/20261128_204341").await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.get("/no/such/route/with-an-id-123").await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let text = scrape(&app).await;
    assert_eq!(
        value(&text, "invarlockd_db_errors_total", &[]),
        db_errors,
        "a healthy workflow (and its scrapes) met database errors"
    );
    app.stop().await;
    text
}

#[tokio::test]
async fn a_daemon_that_indexed_promoted_verified_and_applied_retention_passes_promtool_check_metrics(
) {
    use crate::exposition::*;
    let _serial = crate::SERIAL.lock().await;
    let text = busy_daemon_scrape().await;
    let types = families(&text);
    for m in invarlockd::metrics::CATALOGUE {
        assert!(
            text.contains(&format!("# HELP {} ", m.name)),
            "no HELP for {}",
            m.name
        );
        let want = format!("{:?}", m.kind).to_lowercase();
        assert_eq!(types.get(m.name), Some(&want), "TYPE of {}", m.name);
    }
    for name in [
        "process_resident_memory_bytes",
        "process_virtual_memory_bytes",
        "process_open_fds",
        "process_max_fds",
        "process_cpu_seconds_total",
        "process_start_time_seconds",
    ] {
        assert!(types.contains_key(name), "{name} missing");
        assert!(value(&text, name, &[]) > 0.0, "{name} is zero");
    }
    assert!(
        !types.values().any(|t| t == "summary"),
        "summaries cannot be aggregated"
    );
    assert_eq!(
        value(
            &text,
            "invarlockd_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    // What the workflow did shows.
    for (name, labels) in [
        ("invarlockd_promotions_total", vec![("kind", "subject")]),
        ("invarlockd_promotions_total", vec![("kind", "baseline")]),
        (
            "invarlockd_verifications_total",
            vec![("source", "promotion"), ("ok", "true")],
        ),
        ("invarlockd_verifications_total", vec![("source", "api")]),
        ("invarlockd_retention_moves_total", vec![]),
        ("invarlockd_retention_moved_bytes_total", vec![]),
        (
            "invarlockd_audit_appends_total",
            vec![("action", "retention.moved")],
        ),
        ("invarlockd_scans_total", vec![("scan", "full")]),
        ("invarlockd_scans_total", vec![("scan", "refresh")]),
        ("invarlockd_event_to_visible_seconds_count", vec![]),
        ("invarlockd_index_lag_seconds_count", vec![]),
        ("invarlockd_attempts", vec![("status", "pass")]),
        ("invarlockd_runs_bytes", vec![]),
        ("invarlockd_retention_trash_bytes", vec![]),
        ("invarlockd_index_db_bytes", vec![]),
        ("invarlockd_records_db_bytes", vec![]),
        (
            "invarlockd_last_reconcile_success_timestamp_seconds",
            vec![],
        ),
    ] {
        assert!(
            value(&text, name, &labels) > 0.0,
            "{name}{labels:?} did not move"
        );
    }
    // Routes are templates: no nickname or attempt id ever becomes a label value.
    let routes: Vec<String> = samples(&text)
        .into_iter()
        .filter(|s| s.name == "invarlockd_http_requests_total")
        .map(|s| s.labels["route"].clone())
        .collect();
    assert!(
        routes.iter().any(|r| r == "/v1/attempts/{*rest}"),
        "{routes:?}"
    );
    assert!(routes.iter().any(|r| r == "unmatched"), "{routes:?}");
    assert!(
        !routes
            .iter()
            .any(|r| r.contains("rel_quant8") || r.contains("123")),
        "{routes:?}"
    );

    let Some(promtool) = promtool() else { return };
    let mut child = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && report.trim().is_empty(),
        "promtool check metrics:\n{report}\n---\n{text}"
    );
}
