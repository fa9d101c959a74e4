//! `POST /v1/verify` gives the recorded `invarlock verify --json` verdict for every corpus case.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::path::Path;

fn py(text: &str) -> Value {
    invarlockd::pyjson::parse(text).unwrap().to_serde()
}

/// The recorded `--json` invocations of a verify corpus case.
fn json_invocations(case: &Value) -> impl Iterator<Item = &Value> {
    case["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["mode"] == "json")
}

#[tokio::test]
async fn every_single_file_corpus_case_gets_its_recorded_verdict_over_http() {
    let ws = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(ws.path()).await;
    let dir = Path::new(REPO).join("tests/fixtures/verify");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir.join("results")).unwrap() {
        let case: Value = py(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
        let files = case["files"].as_array().unwrap();
        if files.len() != 1 || !case["baseline"].is_null() {
            continue; // multi-file and --baseline cases are CLI-only
        }
        let file = files[0].as_str().unwrap();
        let Ok(bytes) = std::fs::read(dir.join(file)) else {
            continue;
        };
        for inv in json_invocations(&case) {
            let profile = inv["profile"].as_str().unwrap();
            let resp = app
                .post_bytes(
                    &format!("/v1/verify?profile={profile}&id={file}"),
                    bytes.clone(),
                )
                .await;
            assert_eq!(resp.status(), StatusCode::OK);
            let mut got: Value = resp.json().await.unwrap();
            let stdout = inv["stdout"].as_str().unwrap();
            let mut want = py(stdout.lines().last().unwrap());
            assert_eq!(
                got["invarlockd"]["exit_code"], inv["exit_code"],
                "{} {profile}",
                case["case"]
            );
            got.as_object_mut().unwrap().remove("invarlockd");
            got.as_object_mut().unwrap().remove("ts");
            want.as_object_mut().unwrap().remove("ts");
            assert_eq!(got, want, "{} {profile}", case["case"]);
            checked += 1;
        }
    }
    assert!(checked >= 200, "only {checked} invocations checked");
    app.stop().await;
}

#[tokio::test]
async fn any_bytes_get_a_verdict_and_bad_parameters_a_400() {
    let ws = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(ws.path()).await;
    for body in [
        &b""[..],
        b"\xff\xfe",
        b"[1,2]",
        b"{\"a\": NaN}",
        b"\xef\xbb\xbf{}",
    ] {
        let resp = app.post_bytes("/v1/verify", body.to_vec()).await;
        assert_eq!(resp.status(), StatusCode::OK, "{body:?}");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["summary"]["ok"], false, "{body:?}: {v:#}");
    }
    let deep = "[".repeat(100_000);
    let resp = app.post_bytes("/v1/verify?profile=ci", deep).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app.post_bytes("/v1/verify?profile=prod", "{}").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let p: Value = resp.json().await.unwrap();
    assert_eq!(p["field"], "profile");
    let resp = app.post_bytes("/v1/verify?tolerance=abc", "{}").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    app.stop().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_problem_and_the_daemon_keeps_serving() {
    let ws = tempfile::tempdir().unwrap();
    let mut cfg = test_config(ws.path());
    cfg.server.body_limit_bytes = 1024;
    let app = TestApp::spawn_with(cfg).await;
    let resp = app
        .client
        .post(app.url("/v1/verify"))
        .body(vec![b' '; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let p: Value = resp.json().await.unwrap();
    assert_eq!(p["code"], "payload_too_large");
    assert_eq!(app.get("/healthz").await.0, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn a_named_invarlock_release_gives_that_releases_recorded_verdict_and_says_so() {
    let ws = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(ws.path()).await;
    let dir = Path::new(REPO).join("tests/fixtures/verify");
    let case: Value = py(&std::fs::read_to_string(
        dir.join("0.3.10/results/real__rel_quant8_balanced.json"),
    )
    .unwrap());
    let file = case["files"][0].as_str().unwrap();
    let bytes = std::fs::read(dir.join(file)).unwrap();
    for inv in json_invocations(&case) {
        let profile = inv["profile"].as_str().unwrap();
        let resp = app
            .post_bytes(
                &format!("/v1/verify?profile={profile}&id={file}&invarlock_version=0.3.10"),
                bytes.clone(),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        let mut got: Value = resp.json().await.unwrap();
        let ours = got.as_object_mut().unwrap().remove("invarlockd").unwrap();
        assert_eq!(ours["invarlock_version"], "0.3.10");
        assert_eq!(ours["invarlock_version_source"], "requested");
        assert_eq!(ours["exit_code"], inv["exit_code"], "{profile}");
        got.as_object_mut().unwrap().remove("ts");
        let mut want = py(inv["stdout"].as_str().unwrap().lines().last().unwrap());
        want.as_object_mut().unwrap().remove("ts");
        assert_eq!(got, want, "{profile}");
    }
    // Without the parameter and without a linked indexed run: 0.3.6, said as the default.
    let resp = app.post_bytes("/v1/verify", bytes.clone()).await;
    let got: Value = resp.json().await.unwrap();
    assert_eq!(got["invarlockd"]["invarlock_version"], "0.3.6");
    assert_eq!(got["invarlockd"]["invarlock_version_source"], "default");
    assert!(got.get("certificate").is_some());
    app.stop().await;
}

#[tokio::test]
async fn an_unsupported_invarlock_release_is_a_422_naming_the_supported_range() {
    let ws = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(ws.path()).await;
    for v in ["0.5.1", "0.3.3", "0.13.0", "latest"] {
        let resp = app
            .post_bytes(&format!("/v1/verify?invarlock_version={v}"), b"{}".to_vec())
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(
            resp.headers()["content-type"],
            "application/problem+json",
            "{v}"
        );
        let p: Value = resp.json().await.unwrap();
        assert_eq!(p["code"], "unsupported_invarlock_version", "{v}");
        assert!(
            p["detail"].as_str().unwrap().contains("0.3.4 to 0.4.0"),
            "{p}"
        );
    }
    // A certificate that records a 0.5+ release is refused the same way, not misread.
    let resp = app
        .post_bytes(
            "/v1/verify",
            br#"{"meta": {"invarlock_version": "0.5.1"}}"#.to_vec(),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}
