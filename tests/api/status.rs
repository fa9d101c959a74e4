//! `GET /v1/status` is answered from memory: the counts are a snapshot the writer side
//! republishes after each commit, so polling it runs no query.

use crate::helpers::*;
use reqwest::{header, StatusCode};
use std::time::Duration;

#[tokio::test]
async fn status_answers_from_memory_while_both_databases_are_closed() {
    let ws = tempfile::tempdir().unwrap();
    copy_dir(&sample_workspace(), ws.path());
    let app = TestApp::spawn(ws.path()).await;
    eventually(Duration::from_secs(30), || async {
        let (_, s) = app.get("/v1/status").await;
        (s["initial_scan"]["done"] == true && s["index"]["attempts"]["total"].as_u64() > Some(0))
            .then_some(())
    })
    .await
    .expect("indexed");
    // Tagged: the snapshot is at the live generations, no write pending.
    let before = eventually(Duration::from_secs(30), || async {
        let r = app.client.get(app.url("/v1/status")).send().await.ok()?;
        r.headers().get(header::ETAG)?;
        r.json::<serde_json::Value>().await.ok()
    })
    .await
    .expect("an unchanged status is tagged");
    assert!(before["index"]["attempts"]["total"].as_u64() > Some(0));

    // Every connection to the index and the records is closed: any query now fails.
    app.state.store.close().await;
    app.state.records.close().await;
    let (s, _) = app.get("/v1/attempts").await;
    assert!(s.is_server_error(), "a listing needs the database, got {s}");

    let (s, now) = app.get("/v1/status").await;
    assert_eq!(s, StatusCode::OK, "{now:#}");
    assert_eq!(now["index"], before["index"]);
    assert_eq!(now["retention"], before["retention"]);
    assert!(now["index"]["attempts"]["total"].as_u64() > Some(0));
    // Still tagged and revalidated without a database (the watcher's own state may move the
    // tag meanwhile, so the first answer's tag is not pinned).
    let revalidated = eventually(Duration::from_secs(30), || async {
        let r = app.client.get(app.url("/v1/status")).send().await.ok()?;
        let tag = r.headers().get(header::ETAG)?.clone();
        let again = app
            .client
            .get(app.url("/v1/status"))
            .header(header::IF_NONE_MATCH, tag)
            .send()
            .await
            .ok()?;
        (again.status() == StatusCode::NOT_MODIFIED).then_some(())
    })
    .await;
    assert!(revalidated.is_some(), "never answered 304 from memory");
    app.stop().await;
}

/// The status page's retention line is the status snapshot's too: with the records closed
/// (any query of them fails) the page still answers, with the same line.
#[tokio::test]
async fn the_status_page_shows_retention_from_memory_while_the_records_are_closed() {
    let ws = tempfile::tempdir().unwrap();
    copy_dir(&sample_workspace(), ws.path());
    let app = TestApp::spawn(ws.path()).await;
    eventually(Duration::from_secs(30), || async {
        let (_, s) = app.get("/v1/status").await;
        (s["initial_scan"]["done"] == true).then_some(())
    })
    .await
    .expect("indexed");
    let page = || async {
        let r = app.client.get(app.url("/")).send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    };
    let retention = |html: &str| {
        let start = html
            .find(r#"<p id="retention">"#)
            .expect("a retention line");
        html[start..start + html[start..].find("</p>").unwrap()].to_string()
    };
    let (s, before) = page().await;
    assert_eq!(s, StatusCode::OK);
    assert!(retention(&before).contains("runs/: "), "{before}");

    app.state.records.close().await;
    let (s, _) = app.get("/v1/audit").await;
    assert!(s.is_server_error(), "the records are closed, got {s}");
    let (s, now) = page().await;
    assert_eq!(s, StatusCode::OK, "{now}");
    assert_eq!(retention(&now), retention(&before));
    app.stop().await;
}
