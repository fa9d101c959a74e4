//! Fleet identity and readiness on the embedded database: the workspace id and advertised URL
//! in `/v1/status`, and `degraded` (not 503) while the database cannot be written.

use crate::helpers::*;
use reqwest::StatusCode;
use std::time::Duration;

#[tokio::test]
async fn status_names_the_workspace_id_derived_from_host_and_root_and_the_bound_url() {
    let ws = tempfile::tempdir().unwrap();
    let root = ws.path().join("team ws");
    copy_dir(&sample_workspace(), &root);
    let app = TestApp::spawn(&root).await;
    let (s, status) = app.get("/v1/status").await;
    assert_eq!(s, StatusCode::OK);
    let host = invarlockd::fleet::identity::host_name();
    let want = invarlockd::fleet::identity::sanitize(&format!("{host}-team ws"));
    assert_eq!(status["workspace"]["id"], want.as_str(), "{status:#}");
    assert!(want.ends_with("-team-ws"), "{want}");
    assert_eq!(
        status["workspace"]["public_url"],
        format!("http://{}", app.addr).as_str()
    );
    assert_eq!(status["database"]["reachable"], true);
    app.stop().await;
}

#[tokio::test]
async fn a_configured_workspace_id_and_public_url_are_shown_as_given() {
    let ws = tempfile::tempdir().unwrap();
    copy_dir(&sample_workspace(), ws.path());
    let mut cfg = test_config(ws.path());
    cfg.workspace.id = "gpu-07.lab".into();
    cfg.server.public_url = "https://gpu-07.example/invarlockd/".into();
    let app = TestApp::spawn_with(cfg).await;
    let (_, status) = app.get("/v1/status").await;
    assert_eq!(status["workspace"]["id"], "gpu-07.lab");
    // Without the trailing slash: clients append API paths.
    assert_eq!(
        status["workspace"]["public_url"],
        "https://gpu-07.example/invarlockd"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_bad_workspace_id_stops_the_daemon_naming_the_key() {
    let ws = tempfile::tempdir().unwrap();
    let mut cfg = test_config(ws.path());
    cfg.workspace.id = "../etc".into();
    let err = invarlockd::app::Application::build(cfg)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("workspace.id"), "{err}");
}

#[tokio::test]
async fn a_daemon_whose_database_is_gone_is_degraded_not_unready_and_still_serves_status() {
    let ws = tempfile::tempdir().unwrap();
    copy_dir(&sample_workspace(), ws.path());
    let app = TestApp::spawn(ws.path()).await;
    app.wait_indexed(
        app.get("/v1/status").await.1["index"]["attempts"]["total"]
            .as_u64()
            .unwrap(),
    )
    .await;
    let (s, ready) = app.get("/readyz").await;
    assert_eq!(
        (s, ready["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );

    // Every connection closed: no query or write can succeed any more.
    app.state.store.close().await;
    app.state.records.close().await;
    let (s, ready) = app.get("/readyz").await;
    assert_eq!(s, StatusCode::OK, "{ready:#}");
    assert_eq!(ready["status"], "degraded", "{ready:#}");
    assert!(
        ready["reason"].as_str().unwrap().contains("database"),
        "{ready:#}"
    );
    let degraded = eventually(Duration::from_secs(10), || async {
        let (s, st) = app.get("/v1/status").await;
        (s == StatusCode::OK && st["database"]["reachable"] == false).then_some(st)
    })
    .await
    .expect("status says the database is unreachable");
    assert_eq!(degraded["database"]["outages"], 1);
    // A read that needs the database says so, and when to ask again.
    let r = app
        .client
        .get(app.url("/v1/attempts"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "2");
    let p: serde_json::Value = r.json().await.unwrap();
    assert_eq!(p["code"], "database_unavailable", "{p:#}");
    assert!(degraded["database"]["last_error"].is_string());
    assert!(degraded["index"]["attempts"]["total"].as_u64() > Some(0));
    app.stop().await;
}

#[tokio::test]
async fn lists_filter_by_workspace_and_every_item_names_its_own() {
    let ws = tempfile::tempdir().unwrap();
    copy_dir(&sample_workspace(), ws.path());
    let mut cfg = test_config(ws.path());
    cfg.workspace.id = "gpu-01".into();
    let app = TestApp::spawn_with(cfg).await;
    let (_, all) = app.get("/v1/attempts?limit=1000").await;
    let items = all["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|a| a["workspace"] == "gpu-01"), "{all:#}");
    let (_, own) = app.get("/v1/attempts?limit=1000&workspace=gpu-01").await;
    assert_eq!(own["items"], all["items"]);
    for path in [
        "/v1/attempts",
        "/v1/runs",
        "/v1/mappings",
        "/v1/promotions",
        "/v1/audit",
        "/v1/unrecognized",
    ] {
        // Another workspace's view of this database: nothing of it here.
        let (s, other) = app.get(&format!("{path}?workspace=gpu-02")).await;
        assert_eq!(s, StatusCode::OK, "{path}: {other:#}");
        assert_eq!(other["items"], serde_json::json!([]), "{path}");
        let (s, bad) = app.get(&format!("{path}?workspace=..%2Fx")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}: {bad:#}");
        assert_eq!(bad["field"], "workspace");
    }
    let (_, runs) = app.get("/v1/runs").await;
    assert!(runs["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["workspace"] == "gpu-01"));
    let id = items[0]["id"].as_str().unwrap();
    let (s, one) = app.get(&format!("/v1/attempts/{id}")).await;
    assert_eq!((s, &one["workspace"]), (StatusCode::OK, &"gpu-01".into()));
    let (s, _) = app
        .get(&format!("/v1/attempts/{id}?workspace=gpu-02"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, check) = app.get("/v1/audit/verify").await;
    assert_eq!((s, &check["workspace"]), (StatusCode::OK, &"gpu-01".into()));
    app.stop().await;
}

#[tokio::test]
async fn a_rescan_of_another_workspace_is_misdirected() {
    let ws = tempfile::tempdir().unwrap();
    copy_dir(&sample_workspace(), ws.path());
    let app = TestApp::spawn(ws.path()).await;
    let resp = app
        .client
        .post(app.url("/v1/rescan?workspace=gpu-02"))
        .bearer_auth(app.admin_token())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let p: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(p["code"], "misdirected");
    assert_eq!(p["workspace"], "gpu-02");
    let own = app.get("/v1/status").await.1["workspace"]["id"].clone();
    let resp = app
        .client
        .post(app.url(&format!("/v1/rescan?workspace={}", own.as_str().unwrap())))
        .bearer_auth(app.admin_token())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    app.stop().await;
}
