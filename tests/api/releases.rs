//! Real workspaces written by InvarLock 0.3.12 and 0.4.0 (`tests/fixtures/releases/<X>/`, made
//! by `scripts/oracle/make_artifacts.sh` on the corpus's tiny model): every attempt is indexed
//! with its release and the status the run had, the pairing is mapped, the PASS subject is
//! promoted with its real `evaluation.report.json` (0.3.8+ name), the archive verifies, and
//! `POST /v1/verify` follows the run's release and agrees with that release's recorded
//! `invarlock verify --json` in every profile.

use crate::helpers::*;
use crate::promote::{post, promote};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn fixture(release: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/releases")
        .join(release)
}

/// The one attempt of `nick` in the fixture (each nickname ran once).
fn attempt_of(release: &str, nick: &str) -> String {
    let dir = fixture(release).join("workspace/runs").join(nick);
    let mut ts = names_in(&dir);
    assert_eq!(ts.len(), 1, "{nick}: {ts:?}");
    format!("{nick}/{}", ts.pop().unwrap())
}

async fn wait_attempt(app: &TestApp, id: &str) -> Value {
    eventually(Duration::from_secs(60), || app.attempt(id))
        .await
        .unwrap_or_else(|| panic!("{id} never indexed"))
}

/// The real tool's `verify --json` envelope and exit code for `profile`, as recorded.
fn recorded_verify(release: &str, profile: &str) -> (Value, i64) {
    let dir = fixture(release).join("verify");
    let text = std::fs::read_to_string(dir.join(format!("{profile}.json"))).unwrap();
    let exit = std::fs::read_to_string(dir.join(format!("{profile}.exit"))).unwrap();
    (
        serde_json::from_str(text.trim()).unwrap(),
        exit.trim().parse().unwrap(),
    )
}

async fn real_release_workspace(release: &str) {
    let ws = tempfile::tempdir().unwrap();
    copy_dir(&fixture(release).join("workspace"), ws.path());
    let app = TestApp::spawn(ws.path()).await;
    let token = app.admin_token();
    let (baseline, error, rel_base, subject) = (
        attempt_of(release, "baseline"),
        attempt_of(release, "ci_quant8"),
        attempt_of(release, "rel_baseline"),
        attempt_of(release, "rel_quant8"),
    );
    // Status as the run ended: exit 0 + runner/complete success (pass); the ci edit paired with
    // the dev baseline aborted with exit 3 and events.jsonl ending in runner/error (error).
    for (id, status) in [
        (&baseline, "pass"),
        (&error, "error"),
        (&rel_base, "pass"),
        (&subject, "pass"),
    ] {
        let a = wait_attempt(&app, id).await;
        assert_eq!(a["status"], status, "{id}: {a:#}");
        if status == "pass" {
            assert_eq!(a["invarlock_version"], release, "{id}: {a:#}");
        }
    }
    let (s, maps) = app.get("/v1/mappings?limit=1000").await;
    assert_eq!(s, StatusCode::OK);
    let items = maps["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|i| i["subject"] == subject.as_str()
                && i["baseline"]["attempt"] == rel_base.as_str()),
        "{subject} -> {rel_base} missing in {items:#?}"
    );

    // The certificate as the real `invarlock report --format report` wrote it.
    let cert = "reports/rel_quant8/evaluation.report.json";
    let (s, b) = promote(&app, json!({ "attempt": rel_base, "name": "rel_baseline" })).await;
    assert_eq!(s, StatusCode::CREATED, "{b:#}");
    let (s, b) = promote(&app, json!({ "attempt": subject, "name": "rel_quant8_pass", "certificate": cert, "profile": "release" })).await;
    assert_eq!(s, StatusCode::CREATED, "{b:#}");
    assert_eq!(
        b["metadata"]["verify"]["invarlock_version"], release,
        "{b:#}"
    );
    let files = names_in(&ws.path().join("reports/rel_quant8_pass"));
    assert_eq!(
        files,
        ["evaluation.report.json", "metadata.json", "report.json"]
    );
    assert_eq!(
        std::fs::read(
            ws.path()
                .join("reports/rel_quant8_pass/evaluation.report.json")
        )
        .unwrap(),
        std::fs::read(ws.path().join(cert)).unwrap()
    );
    let (s, b) = post(
        &app,
        "/v1/promotions/rel_quant8_pass/verify",
        json!({}),
        Some(&token),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b:#}");
    assert_eq!(b["ok"], true, "{b:#}");

    // Verify without naming a release follows the run's own; it agrees with the recording.
    let body = std::fs::read(ws.path().join(cert)).unwrap();
    for profile in ["dev", "ci", "release"] {
        let (want, exit) = recorded_verify(release, profile);
        let r = reqwest::Client::new()
            .post(app.url(&format!("/v1/verify?profile={profile}")))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let got: Value = r.json().await.unwrap();
        assert_eq!(got["invarlockd"]["invarlock_version"], release, "{got:#}");
        assert_eq!(got["summary"], want["summary"], "{profile}: {got:#}");
        assert_eq!(
            got["evaluation_report"], want["evaluation_report"],
            "{got:#}"
        );
        assert_eq!(got["resolution"]["exit_code"], exit, "{profile}: {got:#}");
        let (g, w) = (&got["results"][0], &want["results"][0]);
        for k in [
            "ok",
            "reason",
            "kind",
            "ratio_vs_baseline",
            "ci",
            "recompute",
        ] {
            assert_eq!(g[k], w[k], "{profile} results[0].{k}: {got:#}");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn a_real_0_3_12_workspace_is_indexed_mapped_promoted_and_verified_like_0_3_12() {
    real_release_workspace("0.3.12").await;
}

#[tokio::test]
async fn a_real_0_4_0_workspace_is_indexed_mapped_promoted_and_verified_like_0_4_0() {
    real_release_workspace("0.4.0").await;
}

/// A real InvarLock 0.5.1 `invarlock evaluate` output (`runs/source|edited/<ts>` with runtime
/// manifests, `reports/eval/`), added to the corpus workspace: both runs are indexed with their
/// release and status, promotion and verify refuse them with 422 `unsupported_invarlock_version`
/// naming the supported range, nothing is written to reports/, and every corpus answer is as
/// without them.
#[tokio::test]
async fn a_real_0_5_1_evaluate_output_is_indexed_with_its_release_refused_and_changes_nothing_else()
{
    let ws = corpus_copy();
    let real = fixture("0.5.1").join("workspace");
    copy_dir(&real.join("runs"), &ws.path().join("runs"));
    copy_dir(&real.join("reports"), &ws.path().join("reports"));
    let app = TestApp::spawn(ws.path()).await;
    let token = app.admin_token();
    let (source, edited) = (attempt_of("0.5.1", "source"), attempt_of("0.5.1", "edited"));
    for id in [&source, &edited] {
        let a = wait_attempt(&app, id).await;
        assert_eq!(a["invarlock_version"], "0.5.1", "{id}: {a:#}");
        assert_eq!(a["status"], "pass", "{id}: {a:#}");
    }
    let reports_before = names_in(&ws.path().join("reports"));
    let cert = "reports/eval/evaluation.report.json";
    for body in [
        json!({ "attempt": source }),
        json!({ "attempt": edited, "certificate": cert, "profile": "ci" }),
    ] {
        let (s, b) = post(&app, "/v1/promotions", body, Some(&token)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b:#}");
        assert_eq!(b["code"], "unsupported_invarlock_version", "{b:#}");
        assert!(
            b["detail"].as_str().unwrap().contains("0.3.4 to 0.4.0"),
            "{b:#}"
        );
    }
    let r = reqwest::Client::new()
        .post(app.url("/v1/verify?profile=ci"))
        .header("content-type", "application/json")
        .body(std::fs::read(ws.path().join(cert)).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["code"], "unsupported_invarlock_version", "{b:#}");
    let reports_after = names_in(&ws.path().join("reports"));
    assert_eq!(reports_after, reports_before, "nothing was archived");
    crate::corpus::assert_manifest_answers(&app).await;
    app.stop().await;
}
