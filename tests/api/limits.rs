//! Every public input is bounded (issue 10, part B): slow and surplus connections, verify's
//! concurrency and tree size, body types, names, query parameters and `Last-Event-ID`, each
//! played against a real daemon on 127.0.0.1:0.

use crate::helpers::*;
use crate::promote::post;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the peer closes (or errors), or None if it is still open after `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(within, read).await.ok().map(|()| got)
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected_and_others_are_served() {
    let ws = tempfile::tempdir().unwrap();
    let mut cfg = test_config(ws.path());
    cfg.server.header_read_timeout = Duration::from_millis(500);
    let app = TestApp::spawn_with(cfg).await;
    let mut slow = TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let mut silent = TcpStream::connect(app.addr).await.unwrap();
    for s in [&mut slow, &mut silent] {
        let got = closed_within(s, Duration::from_secs(10)).await;
        let got = got.expect("the daemon closes a connection whose header never completes");
        // hyper may answer 408 before closing; it never answers the unfinished request.
        assert!(!String::from_utf8_lossy(&got).contains("200 OK"));
    }
    assert_eq!(app.get("/healthz").await.0, StatusCode::OK);
    app.stop().await;
}

/// A keep-alive connection that has been served once (so the daemon accepted it) and now sits
/// idle, holding its connection slot.
async fn served_then_idle(addr: std::net::SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&got).contains("\"ok\"") {
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .expect("served")
            .unwrap();
        assert!(n > 0, "closed before answering");
        got.extend_from_slice(&buf[..n]);
    }
    s
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_unserved_until_a_slot_frees() {
    let ws = tempfile::tempdir().unwrap();
    let mut cfg = test_config(ws.path());
    cfg.server.max_connections = 2;
    cfg.server.header_read_timeout = Duration::from_secs(30);
    let mut app = TestApp::spawn_with(cfg).await;
    // The readiness poll's pooled connection would hold a slot: close it with its client.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    app.client = client.clone();
    let mut held = vec![served_then_idle(app.addr).await];
    held.push(served_then_idle(app.addr).await);
    // Both slots are held by idle clients: a third is not served...
    let url = app.url("/healthz");
    let third = tokio::spawn(async move { client.get(url).send().await.map(|r| r.status()) });
    let early = tokio::time::timeout(Duration::from_millis(700), async {
        while !third.is_finished() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        early.is_err(),
        "a request beyond the connection cap was served"
    );
    // ...until one of them leaves.
    held.pop();
    let status = tokio::time::timeout(Duration::from_secs(10), third)
        .await
        .expect("served once a slot freed")
        .unwrap()
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    drop(held);
    app.stop().await;
}

#[tokio::test]
async fn verify_beyond_its_concurrency_limit_is_a_503_with_retry_after_before_the_body_is_read() {
    let ws = tempfile::tempdir().unwrap();
    let mut cfg = test_config(ws.path());
    cfg.verify.max_concurrent = 1;
    let app = TestApp::spawn_with(cfg).await;
    // A verification whose body is still arriving holds the only slot.
    let mut uploading = TcpStream::connect(app.addr).await.unwrap();
    uploading
        .write_all(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"a\": ")
        .await
        .unwrap();
    let busy = eventually(Duration::from_secs(10), || async {
        let r = app
            .client
            .post(app.url("/v1/verify"))
            .body(vec![b' '; 60_000_000])
            .send()
            .await
            .ok()?;
        (r.status() == StatusCode::SERVICE_UNAVAILABLE).then_some(r)
    })
    .await
    .expect("a second verification is refused while the first runs");
    assert_eq!(busy.headers()["retry-after"], "1");
    assert_eq!(busy.headers()["content-type"], "application/problem+json");
    let p: Value = busy.json().await.unwrap();
    assert_eq!(p["code"], "overloaded");
    // Once the first finishes, verification is open again.
    drop(uploading);
    let verdict = eventually(Duration::from_secs(10), || async {
        let r = app
            .client
            .post(app.url("/v1/verify"))
            .body("{}")
            .send()
            .await
            .ok()?;
        (r.status() == StatusCode::OK).then_some(())
    })
    .await;
    assert!(verdict.is_some(), "the slot was given back");
    app.stop().await;
}

#[tokio::test]
async fn a_certificate_tree_beyond_max_values_is_a_413_but_a_huge_flat_array_gets_its_verdict() {
    let ws = tempfile::tempdir().unwrap();
    let mut cfg = test_config(ws.path());
    cfg.verify.max_values = 1000;
    let app = TestApp::spawn_with(cfg).await;
    let wide = format!("{{\"a\": [{}0]}}", "0,".repeat(5000));
    let resp = app.post_bytes("/v1/verify", wide).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let p: Value = resp.json().await.unwrap();
    assert_eq!(p["code"], "certificate_too_complex");
    // A root that is not an object is never looked into: any size gets the real verdict.
    let flat = format!("[{}0]", "0,".repeat(2_000_000));
    let resp = app
        .client
        .post(app.url("/v1/verify"))
        .header("content-type", "application/json")
        .body(flat)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["invarlockd"]["exit_code"], 1, "{v:#}");
    assert_eq!(v["summary"]["ok"], false);
    app.stop().await;
}

#[tokio::test]
async fn a_post_body_of_another_media_type_is_a_415_and_one_without_a_type_is_json() {
    let ws = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(ws.path()).await;
    let token = app.admin_token();
    for path in [
        "/v1/verify",
        "/v1/promotions",
        "/v1/retention/plan",
        "/v1/retention/apply",
        "/v1/retention/restore",
    ] {
        let resp = app
            .client
            .post(app.url(path))
            .bearer_auth(&token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{path}");
        let p: Value = resp.json().await.unwrap();
        assert_eq!(p["code"], "unsupported_media_type", "{path}");
    }
    // No Content-Type at all: read as JSON (a plan with the configured policy).
    let resp = app
        .client
        .post(app.url("/v1/retention/plan"))
        .bearer_auth(&token)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app
        .client
        .post(app.url("/v1/promotions"))
        .bearer_auth(&token)
        .body("{\"nickname\": \"nobody\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}

#[tokio::test]
async fn promotion_names_and_nicknames_with_bidi_format_or_control_characters_or_outer_spaces_are_refused(
) {
    let ws = corpus_copy();
    let app = TestApp::spawn(ws.path()).await;
    let token = app.admin_token();
    for name in [
        "rel\u{202e}nosj.exe",
        "a\u{2066}b",
        "zero\u{200b}width",
        " ",
        " lead",
        "trail ",
        "bell\u{7}",
    ] {
        let (s, b) = post(
            &app,
            "/v1/promotions",
            json!({ "attempt": "rel_baseline/20261128_204321", "name": name }),
            Some(&token),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{name:?}: {b:#}");
        assert_eq!(b["code"], "invalid_name", "{name:?}");
        assert_eq!(b["field"], "name", "{name:?}");
    }
    let (s, b) = post(
        &app,
        "/v1/promotions",
        json!({ "nickname": "rel\u{202e}quant8" }),
        Some(&token),
    )
    .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_name"))
    );
    // A run directory under such a nickname is reported as unrecognized, never listed as a run.
    let dir = ws.path().join("runs/evil\u{202e}gnp/20261201_000000");
    std::fs::create_dir_all(&dir).unwrap();
    let (report, events) = small_attempt(1);
    std::fs::write(dir.join("events.jsonl"), events).unwrap();
    std::fs::write(dir.join("report.json"), report).unwrap();
    let seen = eventually(Duration::from_secs(20), || async {
        let (_, u) = app.get("/v1/unrecognized").await;
        u["items"]
            .as_array()?
            .iter()
            .any(|i| i["path"].as_str().is_some_and(|p| p.contains('\u{202e}')))
            .then_some(())
    })
    .await;
    assert!(
        seen.is_some(),
        "the bidi nickname is reported as unrecognized"
    );
    let (_, runs) = app.get("/v1/runs?limit=1000").await;
    assert!(!runs.to_string().contains('\u{202e}'));
    app.stop().await;
}

#[tokio::test]
async fn certificate_path_errors_do_not_tell_where_or_whether_outside_paths_exist() {
    let ws = corpus_copy();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("c.json"), "{}").unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("c.json"),
        ws.path().join("reports/to.json"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("absent.json"),
        ws.path().join("reports/gone.json"),
    )
    .unwrap();
    let app = TestApp::spawn(ws.path()).await;
    let token = app.admin_token();
    let secret = outside.path().to_string_lossy().into_owned();
    let mut details = Vec::new();
    for cert in ["reports/to.json", "reports/gone.json"] {
        let (s, b) = post(
            &app,
            "/v1/promotions",
            json!({ "attempt": "rel_quant8/20261128_204341", "certificate": cert }),
            Some(&token),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{cert}: {b:#}");
        let detail = b["detail"].as_str().unwrap().to_string();
        assert!(!detail.contains(&secret), "{detail}");
        details.push(detail.replace(cert, "X"));
    }
    assert_eq!(
        details[0], details[1],
        "existing and missing targets answer alike"
    );
    app.stop().await;
}

/// Every GET route with the parameters it takes, for the query policy.
const ROUTES: &[&str] = &[
    "/v1/attempts",
    "/v1/runs",
    "/v1/runs/quant8",
    "/v1/unrecognized",
    "/v1/mappings",
    "/v1/promotions",
    "/v1/audit",
    "/v1/attempts/quant8/20261128_204141/events",
];

#[tokio::test]
async fn unknown_or_repeated_query_parameters_are_a_400_naming_them_on_every_route() {
    let ws = corpus_copy();
    let app = TestApp::spawn(ws.path()).await;
    for route in ROUTES {
        assert_eq!(
            app.get(&format!("{route}?limit=2")).await.0,
            StatusCode::OK,
            "{route}"
        );
        let (s, b) = app.get(&format!("{route}?limit=2&colour=red")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{route}: {b:#}");
        assert_eq!(b["field"], "colour", "{route}");
        assert_eq!(b["code"], "bad_request", "{route}");
        let (s, b) = app.get(&format!("{route}?limit=2&limit=3")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{route}: {b:#}");
        assert_eq!(b["field"], "limit", "{route}");
    }
    for route in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/status",
        "/v1/audit/verify",
        "/v1/attempts/quant8/20261128_204141",
        "/v1/attempts/quant8/20261128_204141/report",
        "/",
    ] {
        let (s, b) = app.get(&format!("{route}?limit=2")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{route}: {b:#}");
        assert_eq!(b["field"], "limit", "{route}");
    }
    let resp = app
        .client
        .get(app.url("/v1/events?x=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    app.stop().await;
}

#[tokio::test]
async fn a_last_event_id_that_overflows_or_is_not_a_number_is_a_400_and_u64_max_never_wraps() {
    let ws = tempfile::tempdir().unwrap();
    let app = TestApp::spawn(ws.path()).await;
    for bad in [
        "18446744073709551616",
        "99999999999999999999999",
        "-1",
        "abc",
        "1e3",
    ] {
        let resp = app
            .client
            .get(app.url("/v1/events"))
            .header("last-event-id", bad)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
        let p: Value = resp.json().await.unwrap();
        assert_eq!(p["field"], "Last-Event-ID", "{bad}");
    }
    // The largest id: beyond anything issued, so the stream starts from the latest with a reset.
    let mut resp = app
        .client
        .get(app.url("/v1/events"))
        .header("last-event-id", "18446744073709551615")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let first = tokio::time::timeout(Duration::from_secs(10), resp.chunk())
        .await
        .expect("the stream starts at once")
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&first).contains("event: reset"),
        "{first:?}"
    );
    drop(resp);
    app.stop().await;
}
