//! Router tests (tower `oneshot`) of the attempts, runs and mappings handlers over an indexed
//! copy of the corpus workspace.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use invarlockd::app::Application;
use invarlockd::config::Config;
use serde_json::Value;
use std::path::Path;
use tower::ServiceExt;

#[path = "support/workspace_copy.rs"]
mod workspace_copy;
use workspace_copy::copy_dir;

const REPO: &str = env!("CARGO_MANIFEST_DIR");

struct Api {
    router: axum::Router,
    _ws: tempfile::TempDir,
}

impl Api {
    async fn corpus() -> Api {
        let ws = tempfile::tempdir().unwrap();
        copy_dir(&Path::new(REPO).join("examples/workspace"), ws.path());
        let _ = std::fs::remove_dir_all(ws.path().join(".invarlockd"));
        std::fs::create_dir_all(ws.path().join("runs/ci_quant8/20261128_204243")).unwrap();
        let mut cfg = Config::default();
        cfg.workspace.root = ws.path().to_path_buf();
        cfg.server.listen = "127.0.0.1:0".parse().unwrap();
        cfg.index.timezone = "UTC".into();
        let app = Application::build(cfg).await.unwrap();
        let state = app.state();
        state.indexer.full_scan().await.unwrap();
        Api {
            router: invarlockd::http::router(state),
            _ws: ws,
        }
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let (parts, body) = resp.into_parts();
        (
            parts.status,
            parts.headers,
            body.collect().await.unwrap().to_bytes().to_vec(),
        )
    }

    async fn get(&self, uri: &str) -> (StatusCode, Value) {
        let (status, _, body) = self
            .send(Request::get(uri).body(Body::empty()).unwrap())
            .await;
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn attempts_are_filtered_and_paged_with_opaque_tokens() {
    let api = Api::corpus().await;
    let mut seen = Vec::new();
    let mut uri = "/v1/attempts?limit=5".to_string();
    loop {
        let (status, page) = api.get(&uri).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for i in page["items"].as_array().unwrap() {
            seen.push(i["id"].as_str().unwrap().to_string());
        }
        match page["next_page_token"].as_str() {
            Some(t) => uri = format!("/v1/attempts?limit=5&page_token={t}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 17);
    let mut sorted = seen.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), 17);

    let (_, pass) = api.get("/v1/attempts?status=pass&limit=1000").await;
    assert_eq!(pass["items"].as_array().unwrap().len(), 14);
    let (_, nick) = api.get("/v1/attempts?nickname=ci_quant8").await;
    assert_eq!(nick["items"].as_array().unwrap().len(), 3);
    let (_, edit) = api
        .get("/v1/attempts?edit=quant_rtn&since=2026-11-28T20:42:10Z&until=20261128_204400")
        .await;
    let ids: Vec<_> = edit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "rel_quant8/20261128_204341",
            "ci_quant8/20261128_204305",
            "quant8_clip50_strict/20261128_204215"
        ]
    );
    let (_, ds) = api
        .get("/v1/attempts?dataset_hash=e0753e42020ba495f7cdc9897735e086&limit=1000")
        .await;
    assert!(ds["items"].as_array().unwrap().len() >= 6);
}

#[tokio::test]
async fn a_bad_filter_is_a_400_problem_naming_the_field() {
    let api = Api::corpus().await;
    for (uri, field) in [
        ("/v1/attempts?status=passed", "status"),
        ("/v1/attempts?since=yesterday", "since"),
        ("/v1/attempts?limit=0", "limit"),
        ("/v1/attempts?limit=1001", "limit"),
        ("/v1/attempts?page_token=garbage!", "page_token"),
        ("/v1/mappings?limit=x", "limit"),
    ] {
        let (status, headers, body) = api
            .send(Request::get(uri).body(Body::empty()).unwrap())
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        let p: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(p["code"], "bad_request");
        assert_eq!(p["field"], field, "{uri}: {p}");
    }
}

#[tokio::test]
async fn unknown_nicknames_and_attempts_are_404_problems() {
    let api = Api::corpus().await;
    for uri in [
        "/v1/runs/nope",
        "/v1/attempts/nope/20261128_204141",
        "/v1/attempts/quant8/notats",
    ] {
        let (status, p) = api.get(uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(p["code"], "not_found");
    }
}

#[tokio::test]
async fn attempt_detail_has_digests_files_metrics_and_the_certificate_baseline() {
    let api = Api::corpus().await;
    let (status, a) = api.get("/v1/attempts/quant8/20261128_204141").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(a["status"], "pass");
    assert_eq!(a["run_id"].as_str().unwrap().len(), 16);
    assert_eq!(a["seeds"]["python"], 42);
    assert_eq!(
        a["data"]["dataset_hash"],
        "e0753e42020ba495f7cdc9897735e086"
    );
    assert_eq!(a["edit"]["name"], "quant_rtn");
    assert!(a["provider_digest"]["ids_sha256"].is_string());
    assert_eq!(a["primary_metric"]["kind"], "ppl_causal");
    assert_eq!(a["guards"].as_array().unwrap().len(), 4);
    assert_eq!(
        a["baseline"]["baseline"]["attempt"],
        "baseline/20261128_204128"
    );
    assert_eq!(a["baseline"]["how"], "certificate");
    assert_eq!(a["started_at"], "2026-11-28T20:41:41Z");
    assert_eq!(a["promotions"], serde_json::json!([]));
    let files = a["files"].as_array().unwrap();
    assert!(files
        .iter()
        .all(|f| f["sha256"].as_str().is_some_and(|s| s.len() == 64)));
    // quant8_balanced/report.json is a byte copy of this report.
    assert_eq!(
        a["archived_copies"],
        serde_json::json!(["reports/quant8_balanced/report.json"])
    );

    let (_, b) = api.get("/v1/attempts/baseline/20261128_204115").await;
    assert_eq!(b["primary_metric"]["ratio_vs_baseline"], "NaN");
    let (_, r06) = api
        .get("/v1/attempts/quant8_clip50_strict/20261128_204215")
        .await;
    assert_eq!(r06["status"], "fail");
    assert!(r06["reason"].as_str().unwrap().contains("rollback"));
}

#[tokio::test]
async fn the_raw_report_has_a_sha256_etag_and_honours_if_none_match() {
    let api = Api::corpus().await;
    let uri = "/v1/attempts/quant8/20261128_204141/report";
    let (status, headers, body) = api
        .send(Request::get(uri).body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    let raw = std::fs::read(
        Path::new(REPO).join("examples/workspace/runs/quant8/20261128_204141/report.json"),
    )
    .unwrap();
    assert_eq!(body, raw);
    let tag = headers[header::ETAG].to_str().unwrap().to_string();
    assert!(tag.starts_with("\"sha256:") && tag.len() == 64 + 9, "{tag}");
    let req = Request::get(uri)
        .header(header::IF_NONE_MATCH, &tag)
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = api.send(req).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
}

#[tokio::test]
async fn events_are_paged_by_line_number() {
    let api = Api::corpus().await;
    let (status, p1) = api
        .get("/v1/attempts/ci_quant8/20261128_204253/events?limit=30")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(p1["items"].as_array().unwrap().len(), 30);
    assert_eq!(p1["items"][0]["event"]["operation"], "session_start");
    let after = p1["next_after"].as_u64().unwrap();
    let (_, p2) = api
        .get(&format!(
            "/v1/attempts/ci_quant8/20261128_204253/events?after={after}"
        ))
        .await;
    let items = p2["items"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    assert_eq!(items[0]["line"], 31);
    assert!(p2["next_page_token"].is_null());
    assert_eq!(items.last().unwrap()["event"]["operation"], "session_end");
}

#[tokio::test]
async fn runs_summarise_each_nickname_and_mappings_list_every_link() {
    let api = Api::corpus().await;
    let (_, runs) = api.get("/v1/runs").await;
    let items = runs["items"].as_array().unwrap();
    assert_eq!(items.len(), 14);
    let (status, ci) = api.get("/v1/runs/ci_quant8").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ci["attempts"], 3);
    assert_eq!(ci["latest"]["id"], "ci_quant8/20261128_204305");
    assert_eq!(ci["latest_pass"], "ci_quant8/20261128_204305");
    assert_eq!(
        ci["baseline"]["baseline"]["attempt"],
        "ci_baseline/20261128_204228"
    );
    assert_eq!(ci["items"].as_array().unwrap().len(), 3);

    let (_, m) = api.get("/v1/mappings?limit=1000").await;
    let m = m["items"].as_array().unwrap();
    let q8 = m
        .iter()
        .find(|i| i["subject"] == "quant8/20261128_204141")
        .unwrap();
    assert_eq!(q8["baseline"]["attempt"], "baseline/20261128_204128");
    assert_eq!(
        q8["certificate"],
        "reports/quant8_balanced/evaluation.cert.json"
    );
    let r09 = m
        .iter()
        .find(|i| i["subject"] == "ci_quant8/20261128_204253")
        .unwrap();
    assert_eq!(r09["how"], "pairing_evidence");
    assert_eq!(r09["baseline"]["attempt"], "baseline/20261128_204128");
}
