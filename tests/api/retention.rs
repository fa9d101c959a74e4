//! Retention over real directories: exact plans, stale plans refused, bad input, auth.

use crate::helpers::*;
use crate::promote::post;
use reqwest::StatusCode;
use serde_json::{json, Value};

const ZERO: &str = "0s";

pub(crate) async fn plan(app: &TestApp, body: Value) -> (StatusCode, Value) {
    post(app, "/v1/retention/plan", body, Some(&app.admin_token())).await
}

pub(crate) async fn apply(app: &TestApp, id: &str) -> (StatusCode, Value) {
    let body = json!({ "plan_id": id });
    post(app, "/v1/retention/apply", body, Some(&app.admin_token())).await
}

pub(crate) async fn restore(app: &TestApp, id: &str) -> (StatusCode, Value) {
    let body = json!({ "plan_id": id });
    post(app, "/v1/retention/restore", body, Some(&app.admin_token())).await
}

/// Plans with `body` and applies that plan, both answered 200: the plan's id and apply's answer.
pub(crate) async fn plan_and_apply(app: &TestApp, body: Value) -> (String, Value) {
    let (s, p) = plan(app, body).await;
    assert_eq!(s, StatusCode::OK, "{p:#}");
    let id = p["id"].as_str().unwrap().to_string();
    let (s, applied) = apply(app, &id).await;
    assert_eq!(s, StatusCode::OK, "{applied:#}");
    (id, applied)
}

/// Asserts the answer is the 409 `plan_stale` problem.
pub(crate) fn assert_stale(s: StatusCode, b: &Value) {
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::CONFLICT, Some("plan_stale")),
        "{b:#}"
    );
}

fn ids(plan: &Value, key: &str) -> Vec<String> {
    let mut v: Vec<String> = plan[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["attempt"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// Writes `n` passing attempts of `nick`, one minute apart.
fn attempts(root: &std::path::Path, nick: &str, n: u32) {
    for m in 0..n {
        let dir = root.join(format!("runs/{nick}/20261101_10{m:02}00"));
        std::fs::create_dir_all(&dir).unwrap();
        let (report, events) = small_attempt(m);
        std::fs::write(dir.join("events.jsonl"), events).unwrap();
        std::fs::write(dir.join("report.json"), report).unwrap();
    }
}

/// `n` passing attempts of `q`, each archived under reports/q<m>/ with the same bytes, so that
/// nothing is protected as un-archived evidence.
pub(crate) fn archived_attempts(root: &std::path::Path, n: u32) {
    attempts(root, "q", n);
    for m in 0..n {
        let d = root.join(format!("reports/q{m}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(
            root.join(format!("runs/q/20261101_10{m:02}00/report.json")),
            d.join("report.json"),
        )
        .unwrap();
    }
}

#[tokio::test]
async fn on_the_promoted_corpus_keep_last_1_deletes_exactly_the_superseded_archived_and_old_failed_attempts(
) {
    let ws = corpus_copy();
    let app = TestApp::spawn(ws.path()).await;
    let token = app.admin_token();
    // Promote everything that can be: baselines, and the one subject whose certificate passes.
    for a in [
        "baseline/20261128_204115",
        "baseline/20261128_204128",
        "ci_baseline/20261128_204228",
        "drift_baseline/20261128_204358",
        "acc_baseline/20261128_204430",
        "drift_quant8_unpaired/20261128_204419",
    ] {
        let (s, b) = post(
            &app,
            "/v1/promotions",
            json!({ "attempt": a }),
            Some(&token),
        )
        .await;
        assert!(s.is_success(), "{a}: {b:#}");
    }
    let (s, b) = post(&app, "/v1/promotions", json!({ "attempt": "rel_quant8/20261128_204341", "certificate": "reports/rel_quant8_balanced/evaluation.cert.json", "profile": "release" }), Some(&token)).await;
    assert!(s.is_success(), "{b:#}");
    let (s, p) = plan(
        &app,
        json!({ "keep_last": 1, "keep_within": ZERO, "failed_keep_within": ZERO }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{p:#}");
    // baseline's older attempt is archived and superseded; ci_quant8's two failures are old.
    assert_eq!(
        ids(&p, "delete"),
        [
            "baseline/20261128_204115",
            "ci_quant8/20261128_204243",
            "ci_quant8/20261128_204253"
        ],
        "{p:#}"
    );
    for k in p["keep"].as_array().unwrap() {
        assert!(k["reason"].as_str().is_some_and(|r| !r.is_empty()), "{k:#}");
    }
    assert_eq!(p["totals"]["delete_count"], 3);
    app.stop().await;
}

#[tokio::test]
async fn a_plan_goes_stale_when_a_condemned_attempt_changes_a_newer_one_arrives_or_a_kept_one_goes()
{
    let ws = tempfile::tempdir().unwrap();
    archived_attempts(ws.path(), 4);
    let app = TestApp::spawn(ws.path()).await;
    app.wait_indexed(4).await;
    let body = json!({ "keep_last": 1, "keep_within": ZERO });

    let (_, p) = plan(&app, body.clone()).await;
    assert_eq!(ids(&p, "delete").len(), 3, "{p:#}");
    std::fs::write(
        ws.path().join("runs/q/20261101_100000/notes.txt"),
        "changed",
    )
    .unwrap();
    // No waiting for the watcher: apply itself looks at the directories before moving anything.
    let (s, b) = apply(&app, p["id"].as_str().unwrap()).await;
    assert_stale(s, &b);

    let (_, p) = plan(&app, body.clone()).await;
    attempts(ws.path(), "q", 5);
    let (s, b) = apply(&app, p["id"].as_str().unwrap()).await;
    assert_stale(s, &b);

    let (_, p) = plan(&app, body.clone()).await;
    let kept = ids(&p, "keep")[0].clone();
    std::fs::remove_dir_all(ws.path().join("runs").join(&kept)).unwrap();
    let (s, b) = apply(&app, p["id"].as_str().unwrap()).await;
    assert_stale(s, &b);
    app.stop().await;
}

#[tokio::test]
async fn apply_moves_to_trash_and_restore_puts_everything_back() {
    let ws = tempfile::tempdir().unwrap();
    archived_attempts(ws.path(), 3);
    let app = TestApp::spawn(ws.path()).await;
    app.wait_indexed(3).await;
    let (id, _) = plan_and_apply(&app, json!({ "keep_last": 1, "keep_within": ZERO })).await;
    assert!(!ws.path().join("runs/q/20261101_100000").exists());
    assert!(ws
        .path()
        .join(format!(
            ".invarlockd/trash/{id}/q/20261101_100000/report.json"
        ))
        .exists());
    app.wait_indexed(1).await;
    let (_, status) = app.get("/v1/status").await;
    assert!(
        status["retention"]["trash_bytes"].as_u64().unwrap() > 0,
        "{status:#}"
    );
    let (s, _) = apply(&app, &id).await;
    assert_eq!(s, StatusCode::CONFLICT, "a plan applies once");
    let (s, r) = restore(&app, &id).await;
    assert_eq!(s, StatusCode::OK, "{r:#}");
    assert!(ws
        .path()
        .join("runs/q/20261101_100000/report.json")
        .exists());
    app.wait_indexed(3).await;
    let actions = app.audit_actions().await;
    assert_eq!(
        actions.iter().filter(|a| **a == "retention.moved").count(),
        2
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "retention.restored")
            .count(),
        2
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_plans_and_unauthorised_applies_are_refused() {
    let ws = tempfile::tempdir().unwrap();
    let mut cfg = test_config(ws.path());
    cfg.retention.plan_ttl = std::time::Duration::from_millis(1);
    let app = TestApp::spawn_with(cfg).await;
    let (s, b) = apply(&app, "rp-nope").await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    for (body, field) in [
        (json!({ "keep_last": -1 }), "keep_last"),
        (json!({ "keep_last": 1e12 }), "keep_last"),
        (json!({ "keep_within": "-3d" }), "keep_within"),
        (json!({ "keep_within": "5000years" }), "keep_within"),
        (json!({ "failed_keep_within": 7 }), "failed_keep_within"),
    ] {
        let (s, b) = plan(&app, body.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {b:#}");
        assert_eq!(b["field"], field, "{body}: {b:#}");
    }
    let (_, p) = plan(&app, json!({})).await;
    let id = p["id"].as_str().unwrap().to_string();
    let expires = chrono::DateTime::parse_from_rfc3339(p["expires_at"].as_str().unwrap()).unwrap();
    eventually(std::time::Duration::from_secs(5), || async {
        (chrono::Utc::now() > expires).then_some(())
    })
    .await;
    let (s, b) = apply(&app, &id).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::CONFLICT, Some("plan_expired")),
        "{b:#}"
    );
    let (s, _) = post(&app, "/v1/retention/apply", json!({ "plan_id": id }), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = post(
        &app,
        "/v1/retention/apply",
        json!({ "plan_id": id }),
        Some("wrong-token"),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn a_plan_body_with_a_form_content_type_is_refused_like_a_promotion_body() {
    let ws = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(ws.path()).await;
    let token = app.admin_token();
    for path in ["/v1/retention/plan", "/v1/promotions"] {
        // What `curl -d` sends: a form content type.
        let resp = app
            .client
            .post(app.url(path))
            .bearer_auth(&token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(r#"{"keep_last":1}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{path}");
        let body: Value = resp.json().await.unwrap();
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("application/json"),
            "{path}: {body}"
        );
    }
    // No body at all still plans with the configured policy.
    let resp = app
        .client
        .post(app.url("/v1/retention/plan"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn a_json_array_body_is_refused_where_an_object_is_expected_and_nothing_is_planned() {
    let ws = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(ws.path()).await;
    let token = app.admin_token();
    // serde would read `[null, null, null]` as a struct of defaults: a plan with the default
    // policy (found by schemathesis).
    for path in [
        "/v1/retention/plan",
        "/v1/retention/apply",
        "/v1/retention/restore",
        "/v1/promotions",
    ] {
        let (s, b) = post(&app, path, json!([null, null, null]), Some(&token)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}: {b:#}");
        assert!(
            b["detail"]
                .as_str()
                .unwrap()
                .contains("expected a JSON object"),
            "{path}: {b:#}"
        );
    }
    app.stop().await;
}
