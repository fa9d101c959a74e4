//! Conditional GETs: every change gives every answer it alters a new ETag, so a revalidating
//! client never keeps an out-of-date answer (no stale 304).

use crate::helpers::*;
use crate::promote::post;
use crate::retention::{plan_and_apply, restore};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

const OLD: &str = "q/20261101_100000";
const NEW: &str = "q/20261101_100500";

/// What a dashboard polls.
const POLLED: &[&str] = &[
    "/v1/status",
    "/v1/runs",
    "/v1/runs/q",
    "/v1/attempts",
    "/v1/attempts?nickname=q&limit=50",
    "/v1/attempts?status=PASS",
    "/v1/attempts/q/20261101_100000",
    "/v1/attempts/q/20261101_100100",
    "/v1/attempts/q/20261101_100500",
    "/v1/mappings",
    "/v1/promotions",
    "/v1/audit",
];

type Seen = BTreeMap<&'static str, (Option<String>, StatusCode, Value)>;

async fn fetch(
    app: &TestApp,
    path: &str,
    tag: Option<&str>,
) -> (Option<String>, StatusCode, Value) {
    let mut req = app.client.get(app.url(path));
    if let Some(t) = tag {
        req = req.header(header::IF_NONE_MATCH, t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let etag = resp
        .headers()
        .get(header::ETAG)
        .map(|v| v.to_str().unwrap().to_string());
    if status.is_success() {
        assert_eq!(
            resp.headers()
                .get(header::CACHE_CONTROL)
                .map(|v| v.to_str().unwrap()),
            Some("no-cache"),
            "{path}"
        );
    }
    let body = resp.bytes().await.unwrap();
    (
        etag,
        status,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

async fn snapshot(app: &TestApp) -> Seen {
    let mut seen = Seen::new();
    for p in POLLED {
        seen.insert(p, fetch(app, p, None).await);
    }
    seen
}

/// The property, checked against what the client saw before: an answer that differs now is
/// never confirmed with a 304 for the old tag. Returns the paths whose answer changed.
async fn check(app: &TestApp, before: &Seen) -> Vec<&'static str> {
    let mut changed = Vec::new();
    for (path, (tag, status, body)) in before {
        let now = fetch(app, path, None).await;
        if (now.1, &now.2) == (*status, body) {
            continue;
        }
        changed.push(*path);
        if let Some(t) = tag {
            let (_, s, _) = fetch(app, path, Some(t)).await;
            assert_ne!(
                s,
                StatusCode::NOT_MODIFIED,
                "{path}: its answer changed but the old tag {t} still got 304"
            );
            assert_ne!(
                now.0.as_ref(),
                Some(t),
                "{path}: new answer under the old tag: was {body:#} now {:#}",
                now.2
            );
        }
    }
    changed
}

/// Makes a change, then polls (checking the property each round) until every path in
/// `expect` has changed.
async fn after_change(app: &TestApp, before: Seen, what: &str, expect: &[&str]) -> Seen {
    let mut done = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !expect.iter().all(|e| done.contains(e)) {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: expected {expect:?} to change, saw {done:?}"
        );
        for p in check(app, &before).await {
            if !done.contains(&p) {
                done.push(p);
            }
        }
        tokio::task::yield_now().await;
    }
    snapshot(app).await
}

fn write_attempt(root: &std::path::Path, id: &str, seed: u32) {
    let dir = root.join("runs").join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let (report, events) = small_attempt(seed);
    std::fs::write(dir.join("events.jsonl"), events).unwrap();
    std::fs::write(dir.join("report.json"), report).unwrap();
}

#[tokio::test]
async fn every_kind_of_change_gives_every_answer_it_alters_a_new_etag() {
    if skip_on_postgres("lists carry no ETag on a shared database (another daemon's commits do not move this daemon's generation; docs/fleet.md)") {
        return;
    }
    let ws = tempfile::tempdir().unwrap();
    for (m, id) in [
        "q/20261101_100000",
        "q/20261101_100100",
        "q/20261101_100200",
    ]
    .iter()
    .enumerate()
    {
        write_attempt(ws.path(), id, m as u32);
        // Archived, so that retention may delete all but the newest.
        let d = ws.path().join(format!("reports/q{m}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(
            ws.path().join("runs").join(id).join("report.json"),
            d.join("report.json"),
        )
        .unwrap();
    }
    // A baseline that can be promoted.
    copy_dir(
        &sample_workspace().join("runs/baseline/20261128_204128"),
        &ws.path().join("runs/b/20261101_110000"),
    );
    let app = TestApp::spawn(ws.path()).await;
    let token = app.admin_token();
    eventually(Duration::from_secs(30), || async {
        let (_, s) = app.get("/v1/status").await;
        (s["index"]["attempts"]["total"].as_u64() == Some(4)).then_some(())
    })
    .await
    .expect("indexed");

    // On PostgreSQL other daemons may write to the database, which no counter of this one
    // sees: lists and items are answered in full, never tagged (docs/fleet.md); the status,
    // served from memory, keeps its tag.
    let shared = std::env::var("INVARLOCKD_TEST_BACKEND").is_ok_and(|b| b == "postgres");
    let polled = if shared {
        let (tag, s, _) = fetch(&app, "/v1/attempts?nickname=q", None).await;
        assert_eq!(
            (s, tag),
            (StatusCode::OK, None),
            "a list on a shared database"
        );
        "/v1/status"
    } else {
        "/v1/attempts?nickname=q"
    };
    // Unchanged: a tagged answer, then 304 for its tag without a body.
    let unchanged = eventually(Duration::from_secs(30), || async {
        let (tag, s, _) = fetch(&app, polled, None).await;
        assert_eq!(s, StatusCode::OK);
        let tag = tag?;
        let (again, s, _) = fetch(&app, polled, Some(&tag)).await;
        (s == StatusCode::NOT_MODIFIED && again.as_deref() == Some(tag.as_str())).then_some(())
    })
    .await;
    assert!(
        unchanged.is_some(),
        "an unchanged {polled} is never confirmed with 304"
    );

    let attempts = [
        "/v1/attempts",
        "/v1/attempts?nickname=q&limit=50",
        "/v1/runs/q",
    ];
    let root = ws.path().to_path_buf();

    let before = snapshot(&app).await;
    write_attempt(&root, NEW, 7);
    let mut expect = attempts.to_vec();
    expect.extend(["/v1/status", "/v1/attempts/q/20261101_100500"]);
    let before = after_change(&app, before, "attempt indexed", &expect).await;

    write_attempt(&root, OLD, 9);
    // /v1/status: its last_index_event_at moves (the snapshot is republished).
    let before = after_change(
        &app,
        before,
        "attempt updated",
        &["/v1/status", "/v1/attempts/q/20261101_100000"],
    )
    .await;

    std::fs::remove_dir_all(root.join("runs").join(NEW)).unwrap();
    let mut expect = attempts.to_vec();
    expect.extend(["/v1/status", "/v1/attempts/q/20261101_100500"]);
    let before = after_change(&app, before, "attempt removed", &expect).await;

    let (s, b) = post(
        &app,
        "/v1/promotions",
        json!({ "attempt": "b/20261101_110000" }),
        Some(&token),
    )
    .await;
    assert!(s.is_success(), "{b:#}");
    // /v1/status: one more evidence directory.
    let before = after_change(
        &app,
        before,
        "promotion",
        &["/v1/status", "/v1/promotions", "/v1/audit"],
    )
    .await;

    let body = json!({ "keep_last": 1, "keep_within": "0s", "failed_keep_within": "0s" });
    let (id, _) = plan_and_apply(&app, body).await;
    let mut expect = attempts.to_vec();
    // The updated attempt is no longer archived, so it stays; its older sibling goes.
    expect.extend(["/v1/status", "/v1/audit", "/v1/attempts/q/20261101_100100"]);
    let before = after_change(&app, before, "retention apply", &expect).await;

    let (s, b) = restore(&app, &id).await;
    assert_eq!(s, StatusCode::OK, "{b:#}");
    after_change(&app, before, "retention restore", &expect).await;
    app.stop().await;
}

/// The page cache behind the index's lists: while pollers keep every page cached, each new
/// attempt is in every page fetched once `/v1/status` counts it (a page kept from before the
/// write would not be).
#[tokio::test]
async fn a_polled_page_never_lags_behind_what_the_status_already_counts() {
    let ws = tempfile::tempdir().unwrap();
    write_attempt(ws.path(), "q/20261101_090000", 0);
    let app = std::sync::Arc::new(TestApp::spawn(ws.path()).await);
    app.wait_indexed(1).await;
    let pages = [
        "/v1/attempts?limit=1000",
        "/v1/attempts?nickname=q&limit=1000",
        "/v1/runs/q?limit=1000",
    ];
    let stop = tokio_util::sync::CancellationToken::new();
    let pollers: Vec<_> = (0..4)
        .map(|_| {
            let (app, stop) = (app.clone(), stop.clone());
            tokio::spawn(async move {
                let mut served = 0u64;
                while !stop.is_cancelled() {
                    for p in pages.iter().chain(["/v1/runs"].iter()) {
                        let (s, _) = app.get(p).await;
                        assert_eq!(s, StatusCode::OK, "{p}");
                        served += 1;
                    }
                }
                served
            })
        })
        .collect();
    for k in 1..=12u32 {
        let id = format!("q/20261101_09{k:02}00");
        write_attempt(ws.path(), &id, k);
        app.wait_indexed(1 + u64::from(k)).await;
        for p in pages {
            let (s, body) = app.get(p).await;
            assert_eq!(s, StatusCode::OK, "{p}");
            let ids: Vec<&str> = body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap())
                .collect();
            assert_eq!(ids.len(), 1 + k as usize, "{p} after {id}: {ids:?}");
            assert_eq!(ids[0], id, "{p}: the newest attempt comes first");
        }
        let (_, runs) = app.get("/v1/runs").await;
        assert_eq!(runs["items"][0]["attempts"], 1 + k, "{runs:#}");
        assert_eq!(runs["items"][0]["latest"]["id"], id.as_str());
    }
    stop.cancel();
    for p in pollers {
        assert!(p.await.unwrap() > 0, "the pollers ran");
    }
    match std::sync::Arc::try_unwrap(app) {
        Ok(app) => app.stop().await,
        Err(_) => panic!("a poller still holds the app"),
    }
}
