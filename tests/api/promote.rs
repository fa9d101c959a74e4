//! Promotion against the real corpus: fail-closed, atomic, immutable, idempotent.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::Path;

pub async fn post(
    app: &TestApp,
    path: &str,
    body: Value,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = app.client.post(app.url(path)).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn promote(app: &TestApp, body: Value) -> (StatusCode, Value) {
    post(app, "/v1/promotions", body, Some(&app.admin_token())).await
}

fn listing(root: &Path) -> Vec<String> {
    names_in(&root.join("reports"))
}

const REL_CERT: &str = "reports/rel_quant8_balanced/evaluation.cert.json";

#[tokio::test]
async fn the_baseline_then_the_passing_subject_are_archived_as_api_md_lays_out() {
    let ws = corpus_copy();
    let app = TestApp::spawn(ws.path()).await;
    let (s, b) = promote(&app, json!({ "attempt": "rel_baseline/20261128_204321" })).await;
    assert_eq!(s, StatusCode::CREATED, "{b:#}");
    let (s, b) = promote(&app, json!({ "attempt": "rel_quant8/20261128_204341", "certificate": REL_CERT, "profile": "release" })).await;
    assert_eq!(s, StatusCode::CREATED, "{b:#}");
    let dir = ws.path().join("reports/rel_quant8");
    let files = names_in(&dir);
    assert_eq!(
        files,
        ["evaluation.cert.json", "metadata.json", "report.json"]
    );
    assert_eq!(
        std::fs::read(dir.join("report.json")).unwrap(),
        std::fs::read(
            ws.path()
                .join("runs/rel_quant8/20261128_204341/report.json")
        )
        .unwrap()
    );
    assert_eq!(
        std::fs::read(dir.join("evaluation.cert.json")).unwrap(),
        std::fs::read(ws.path().join(REL_CERT)).unwrap()
    );
    let meta: Value =
        serde_json::from_slice(&std::fs::read(dir.join("metadata.json")).unwrap()).unwrap();
    assert_eq!(meta["source_attempt"], "rel_quant8/20261128_204341");
    assert_eq!(meta["baseline"]["name"], "rel_baseline");
    assert_eq!(meta["profile"], "release");
    assert_eq!(meta["files"].as_array().unwrap().len(), 2);
    let ignore = std::fs::read_to_string(ws.path().join(".gitignore")).unwrap();
    for line in ["runs/", "reports_*/", ".invarlockd/"] {
        assert!(
            ignore.lines().any(|l| l == line),
            "{line} not in .gitignore: {ignore}"
        );
    }
    // The archived certificate verifies, and the archive proves its pairing and integrity.
    let (s, check) = post(
        &app,
        "/v1/promotions/rel_quant8/verify",
        json!({}),
        Some(&app.admin_token()),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(check["ok"], true, "{check:#}");
    // The same promotion again is idempotent.
    let (s, _) = promote(&app, json!({ "attempt": "rel_quant8/20261128_204341", "certificate": REL_CERT, "profile": "release" })).await;
    assert_eq!(s, StatusCode::OK);
    let (s, got) = app.get("/v1/promotions/rel_quant8").await;
    assert_eq!(s, StatusCode::OK, "{got:#}");
    assert_eq!(got["origin"], "invarlockd");
    app.stop().await;
}

#[tokio::test]
async fn an_unarchived_baseline_is_archived_in_the_same_promotion() {
    let ws = corpus_copy();
    let app = TestApp::spawn(ws.path()).await;
    let (s, b) = promote(&app, json!({ "attempt": "rel_quant8/20261128_204341", "certificate": REL_CERT, "profile": "release" })).await;
    assert_eq!(s, StatusCode::CREATED, "{b:#}");
    assert_eq!(b["baseline_archived"], "rel_baseline");
    assert!(ws.path().join("reports/rel_baseline/report.json").is_file());
    app.stop().await;
}

#[tokio::test]
async fn promoting_onto_identical_external_evidence_is_200_with_null_metadata_as_openapi_says() {
    // Found by schemathesis: reports/acc_baseline holds the same report.json but no metadata.json.
    let ws = corpus_copy();
    let app = TestApp::spawn(ws.path()).await;
    let (s, b) = promote(&app, json!({ "attempt": "acc_baseline/20261128_204430" })).await;
    assert_eq!(s, StatusCode::OK, "{b:#}");
    assert_eq!(b["created"], false);
    assert_eq!(b["metadata"], Value::Null);
    assert!(!ws
        .path()
        .join("reports/acc_baseline/metadata.json")
        .exists());
    app.stop().await;
}

#[tokio::test]
async fn fail_and_error_attempts_and_foreign_or_failing_certificates_are_refused() {
    let ws = corpus_copy();
    let app = TestApp::spawn(ws.path()).await;
    let before = listing(ws.path());
    for attempt in [
        "quant8_clip50_strict/20261128_204215",
        "ci_quant8/20261128_204253",
    ] {
        let (s, b) = promote(&app, json!({ "attempt": attempt })).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("not_pass")),
            "{attempt}: {b:#}"
        );
    }
    // A certificate that verifies and passes every gate, but belongs to another run.
    let (s, b) = promote(
        &app,
        json!({ "attempt": "drift_quant8/20261128_204409", "certificate": REL_CERT }),
    )
    .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("certificate_mismatch")
        ),
        "{b:#}"
    );
    // The subject's own certificate, whose gates failed.
    let (s, b) = promote(&app, json!({ "attempt": "ci_quant8/20261128_204305", "certificate": "reports/ci_quant8_balanced/evaluation.cert.json" })).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")),
        "{b:#}"
    );
    let (s, b) = promote(&app, json!({ "attempt": "quant8/20261128_204141", "certificate": "reports/quant8_balanced/evaluation.cert.json" })).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("certificate_not_verified")
        ),
        "{b:#}"
    );
    assert_eq!(listing(ws.path()), before, "nothing written");
    app.stop().await;
}

#[tokio::test]
async fn a_baseline_without_valid_evaluation_windows_fails_closed() {
    let ws = corpus_copy();
    // Break the baseline's windows; its §5.4 digests do not cover them, so it still matches.
    let path = ws
        .path()
        .join("runs/rel_baseline/20261128_204321/report.json");
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "\"evaluation_windows\": {",
        "\"evaluation_windows\": {\"preview\": 1, \"x\": {",
        1,
    );
    std::fs::write(&path, text).unwrap();
    let app = TestApp::spawn(ws.path()).await;
    let (s, b) = promote(&app, json!({ "attempt": "rel_quant8/20261128_204341", "certificate": REL_CERT, "profile": "release" })).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("pairing_evidence_missing")
        ),
        "{b:#}"
    );
    assert!(!ws.path().join("reports/rel_quant8").exists());
    app.stop().await;
}

#[tokio::test]
async fn hostile_names_and_paths_are_400_and_write_nothing() {
    let ws = corpus_copy();
    let outside = tempfile::tempdir().unwrap();
    std::fs::copy(ws.path().join(REL_CERT), outside.path().join("c.json")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("c.json"),
        ws.path().join("reports/link.cert.json"),
    )
    .unwrap();
    let app = TestApp::spawn(ws.path()).await;
    let before = listing(ws.path());
    let long = "n".repeat(201);
    for name in ["..", "a/b", "a\u{0}b", "/abs", long.as_str(), "../reports"] {
        let (s, b) = promote(
            &app,
            json!({ "attempt": "rel_baseline/20261128_204321", "name": name }),
        )
        .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_name")),
            "{name:?}: {b:#}"
        );
    }
    let abs = outside.path().join("c.json").to_string_lossy().into_owned();
    for cert in [abs.as_str(), "../outside.json", "reports/link.cert.json"] {
        let (s, b) = promote(
            &app,
            json!({ "attempt": "rel_quant8/20261128_204341", "certificate": cert }),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{cert}: {b:#}");
        assert_eq!(b["field"], "certificate");
    }
    assert_eq!(listing(ws.path()), before);
    app.stop().await;
}

#[tokio::test]
async fn twenty_parallel_identical_promotions_give_one_201_and_two_attempts_under_one_name_one_409()
{
    let ws = corpus_copy();
    let app = TestApp::spawn(ws.path()).await;
    let token = app.admin_token();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let client = app.client.clone();
        let url = app.url("/v1/promotions");
        let token = token.clone();
        set.spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "attempt": "ci_baseline/20261128_204228" }))
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    let mut codes = Vec::new();
    while let Some(s) = set.join_next().await {
        codes.push(s.unwrap().as_u16());
    }
    codes.sort();
    assert_eq!(codes.iter().filter(|c| **c == 201).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 200).count(), 19, "{codes:?}");
    let (a, _) = promote(
        &app,
        json!({ "attempt": "rel_baseline/20261128_204321", "name": "shared" }),
    )
    .await;
    let (b, body) = promote(
        &app,
        json!({ "attempt": "ci_baseline/20261128_204228", "name": "shared" }),
    )
    .await;
    assert_eq!(
        (a, b),
        (StatusCode::CREATED, StatusCode::CONFLICT),
        "{body:#}"
    );
    app.stop().await;
}

#[tokio::test]
async fn tampering_is_named_by_the_archive_check_and_the_audit_chain() {
    if skip_on_postgres("edits records.db with sqlite (the PostgreSQL chain is checked in storage::postgres::tests)") {
        return;
    }
    let ws = corpus_copy();
    let app = TestApp::spawn(ws.path()).await;
    let (s, _) = promote(&app, json!({ "attempt": "rel_quant8/20261128_204341", "certificate": REL_CERT, "profile": "release" })).await;
    assert_eq!(s, StatusCode::CREATED);
    let report = ws.path().join("reports/rel_quant8/report.json");
    let mut bytes = std::fs::read(&report).unwrap();
    let at = bytes.len() / 2;
    bytes[at] = if bytes[at] == b' ' { b'\t' } else { b' ' };
    std::fs::write(&report, bytes).unwrap();
    let (_, check) = post(
        &app,
        "/v1/promotions/rel_quant8/verify",
        json!({}),
        Some(&app.admin_token()),
    )
    .await;
    assert_eq!(check["ok"], false);
    let failed: Vec<&Value> = check["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .collect();
    assert!(
        failed
            .iter()
            .any(|c| c["file"] == "reports/rel_quant8/report.json"),
        "{check:#}"
    );

    let (_, chain) = app.get("/v1/audit/verify").await;
    assert_eq!(chain["ok"], true, "{chain:#}");
    // Edit one audit row directly in the SQLite file.
    let db = ws.path().join(".invarlockd/records.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query("update audit_log set subject = 'forged' where seq = 2")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let (_, chain) = app.get("/v1/audit/verify").await;
    assert_eq!(chain["ok"], false);
    assert_eq!(chain["first_broken"], 2, "{chain:#}");
    app.stop().await;
}

#[tokio::test]
async fn promotions_come_back_from_metadata_json_after_the_index_is_deleted() {
    if skip_on_postgres("deletes index.db (a server index has no file)") {
        return;
    }
    let ws = corpus_copy();
    let app = TestApp::spawn(ws.path()).await;
    let (s, _) = promote(&app, json!({ "attempt": "rel_quant8/20261128_204341", "certificate": REL_CERT, "profile": "release" })).await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, before) = app.get("/v1/promotions?origin=invarlockd").await;
    app.stop().await;
    std::fs::remove_file(ws.path().join(".invarlockd/index.db")).unwrap();
    let app = TestApp::spawn(ws.path()).await;
    let (_, after) = app.get("/v1/promotions?origin=invarlockd").await;
    assert_eq!(before["items"], after["items"]);
    assert_eq!(after["items"].as_array().unwrap().len(), 2, "{after:#}");
    let (_, m) = app.get("/v1/mappings?limit=1000").await;
    assert!(
        m["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["subject"] == "rel_quant8/20261128_204341"),
        "{m:#}"
    );
    app.stop().await;
}

/// Follows `next_page_token` from `path` (which already has a `?`) until the last page.
async fn every_page(app: &TestApp, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut url = path.to_string();
    loop {
        let (status, page) = app.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{url}: {page:#}");
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_page_token"].as_str() {
            Some(token) => url = format!("{path}&page_token={token}"),
            None => return items,
        }
    }
}

#[tokio::test]
async fn promotions_and_audit_page_one_item_at_a_time_to_the_same_lists() {
    let ws = corpus_copy();
    let app = TestApp::spawn(ws.path()).await;
    let (s, _) = promote(&app, json!({ "attempt": "rel_quant8/20261128_204341", "certificate": REL_CERT, "profile": "release" })).await;
    assert_eq!(s, StatusCode::CREATED);
    for list in ["/v1/promotions", "/v1/audit"] {
        let (_, whole) = app.get(&format!("{list}?limit=1000")).await;
        let whole = whole["items"].as_array().unwrap().clone();
        assert!(whole.len() >= 2, "{list}: {whole:#?}");
        assert_eq!(
            every_page(&app, &format!("{list}?limit=1")).await,
            whole,
            "{list}"
        );
    }
    app.stop().await;
}
