//! The daemon over a copy of the real corpus workspace gives the manifest's answers.

use crate::helpers::*;
use reqwest::StatusCode;

#[path = "../support/manifest.rs"]
mod manifest;
use manifest::{attempt_id, expected_status, manifest};

pub async fn assert_manifest_answers(app: &TestApp) {
    let m = manifest();
    for run in m["runs"].as_array().unwrap() {
        let id = attempt_id(run["path"].as_str().unwrap());
        let got = app
            .attempt(&id)
            .await
            .unwrap_or_else(|| panic!("{id} not indexed"));
        assert_eq!(
            got["status"],
            expected_status(run),
            "status of {id}: {got:#}"
        );
        if got["status"] != "pass" {
            assert!(
                got["reason"].as_str().is_some_and(|r| !r.is_empty()),
                "{id} has no reason"
            );
        }
    }
    let (status, mappings) = app.get("/v1/mappings?limit=1000").await;
    assert_eq!(status, StatusCode::OK);
    let items = mappings["items"].as_array().unwrap();
    for run in m["runs"].as_array().unwrap() {
        let Some(base) = run["paired_with_baseline"].as_object() else {
            continue;
        };
        if run["success"] != true && run["runner_status"] != "rollback" {
            continue; // a failed attempt left no report to pair
        }
        let subject = attempt_id(run["path"].as_str().unwrap());
        let baseline = attempt_id(base["path"].as_str().unwrap());
        assert!(
            items.iter().any(|i| i["subject"] == subject.as_str()
                && i["baseline"]["attempt"] == baseline.as_str()),
            "mapping {subject} -> {baseline} missing in {items:#?}"
        );
    }
}

#[tokio::test]
async fn every_manifest_attempt_has_the_manifest_status_and_every_mapping_appears() {
    let ws = corpus_copy();
    let app = TestApp::spawn(ws.path()).await;
    assert_manifest_answers(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn a_restart_and_a_deleted_index_give_the_same_answers() {
    if skip_on_postgres("deletes index.db (a server index has no file)") {
        return;
    }
    let ws = corpus_copy();
    let app = TestApp::spawn(ws.path()).await;
    let (_, before) = app.get("/v1/attempts?limit=1000").await;
    app.stop().await;

    let app = TestApp::spawn(ws.path()).await;
    let (_, again) = app.get("/v1/attempts?limit=1000").await;
    assert_eq!(before["items"], again["items"]);
    app.stop().await;

    std::fs::remove_file(ws.path().join(".invarlockd/index.db")).unwrap();
    let app = TestApp::spawn(ws.path()).await;
    let (_, rebuilt) = app.get("/v1/attempts?limit=1000").await;
    assert_eq!(before["items"], rebuilt["items"]);
    assert_manifest_answers(&app).await;
    app.stop().await;
}
