//! Artifacts of other InvarLock releases in a real corpus workspace: the 0.3.8+ certificate name
//! is indexed, promoted under that name and its archive verified; a 0.5.x run is indexed with
//! its version and refused for promotion; a 0.13+ evidence pack is unrecognized, never read.

use crate::helpers::*;
use crate::promote::{post, promote};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(60);

async fn wait_attempt(app: &TestApp, id: &str) -> Value {
    eventually(DEADLINE, || app.attempt(id))
        .await
        .unwrap_or_else(|| panic!("{id} never indexed"))
}

#[tokio::test]
async fn a_certificate_under_its_0_3_8_name_is_promoted_under_that_name_and_its_archive_verifies() {
    let ws = corpus_copy();
    // What `invarlock report --format report` of 0.3.8+ writes: the same document, renamed,
    // and a manifest with the renamed keys.
    let dir = ws.path().join("reports/rel_quant8_eval");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        ws.path()
            .join("reports/rel_quant8_balanced/evaluation.cert.json"),
        dir.join("evaluation.report.json"),
    )
    .unwrap();
    std::fs::write(
        dir.join("manifest.json"),
        r#"{"files": {"evaluation_report_json": "reports/rel_quant8_eval/evaluation.report.json", "evaluation_report_markdown": "reports/rel_quant8_eval/evaluation_report.md"}}"#,
    )
    .unwrap();
    let app = TestApp::spawn(ws.path()).await;
    wait_attempt(&app, "rel_quant8/20261128_204341").await;
    let token = app.admin_token();
    let (s, b) = promote(&app, json!({ "attempt": "rel_baseline/20261128_204321" })).await;
    assert_eq!(s, StatusCode::CREATED, "{b:#}");
    let (s, b) = promote(&app, json!({ "attempt": "rel_quant8/20261128_204341", "certificate": "reports/rel_quant8_eval/evaluation.report.json", "profile": "release" })).await;
    assert_eq!(s, StatusCode::CREATED, "{b:#}");
    let name = b["name"].as_str().unwrap().to_string();
    let files = names_in(&ws.path().join("reports").join(&name));
    assert_eq!(
        files,
        ["evaluation.report.json", "metadata.json", "report.json"]
    );
    assert_eq!(b["metadata"]["verify"]["invarlock_version"], "0.3.6");
    let (s, b) = post(
        &app,
        &format!("/v1/promotions/{name}/verify"),
        json!({}),
        Some(&token),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b:#}");
    assert_eq!(b["ok"], true, "{b:#}");
    let verify = b["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "certificate_verify")
        .unwrap();
    assert_eq!(
        verify["file"],
        format!("reports/{name}/evaluation.report.json")
    );
    app.stop().await;
}

/// A run as InvarLock 0.5.1's `invarlock evaluate` lays it out (`runs/edited/<ts>`), with the
/// 0.5.1 guard entry shape (`decision` / `diagnostics`), built from a real corpus run.
fn write_0_5_run(root: &Path) {
    let src = root.join("runs/rel_baseline/20261128_204321");
    let dst = root.join("runs/edited/20261201_101500");
    std::fs::create_dir_all(&dst).unwrap();
    let text = std::fs::read_to_string(src.join("report.json")).unwrap();
    let mut report = invarlockd::pyjson::parse(&text).unwrap();
    if let invarlockd::pyjson::Value::Object(m) = &mut report {
        if let Some(invarlockd::pyjson::Value::Object(meta)) = m.get_mut("meta") {
            meta.insert(
                "invarlock_version".into(),
                invarlockd::pyjson::Value::Str("0.5.1".into()),
            );
        }
        if let Some(invarlockd::pyjson::Value::Array(guards)) = m.get_mut("guards") {
            for g in guards {
                if let invarlockd::pyjson::Value::Object(g) = g {
                    for k in ["action", "actions", "warnings", "errors"] {
                        g.shift_remove(k);
                    }
                    g.insert(
                        "decision".into(),
                        invarlockd::pyjson::Value::Str("allow".into()),
                    );
                    g.insert(
                        "diagnostics".into(),
                        invarlockd::pyjson::Value::Array(vec![]),
                    );
                }
            }
        }
    }
    std::fs::write(
        dst.join("report.json"),
        invarlockd::pyjson::dumps(&report, invarlockd::pyjson::DumpStyle::J1),
    )
    .unwrap();
    std::fs::copy(src.join("events.jsonl"), dst.join("events.jsonl")).unwrap();
    std::fs::write(
        dst.join("runtime.manifest.json"),
        r#"{"format": "runtime-manifest"}"#,
    )
    .unwrap();
}

#[tokio::test]
async fn a_0_5_run_is_indexed_with_its_version_refused_for_promotion_and_an_evidence_pack_is_unrecognized(
) {
    let ws = corpus_copy();
    write_0_5_run(ws.path());
    let pack = ws.path().join("runs/evidence/eval-2026-12-01");
    std::fs::create_dir_all(pack.join("runs/subject")).unwrap();
    std::fs::create_dir_all(pack.join("reports")).unwrap();
    std::fs::write(
        pack.join("manifest.json"),
        r#"{"format": "invarlock/evidence-pack-v1", "files": {}}"#,
    )
    .unwrap();
    std::fs::write(pack.join("manifest.signature.json"), "{}").unwrap();
    std::fs::write(
        pack.join("reports/evaluation.report.json"),
        r#"{"format": "invarlock/comparison-report-v3"}"#,
    )
    .unwrap();
    std::fs::write(pack.join("runs/subject/report.json"), "{}").unwrap();
    let app = TestApp::spawn(ws.path()).await;

    let a = wait_attempt(&app, "edited/20261201_101500").await;
    assert_eq!(a["invarlock_version"], "0.5.1", "{a:#}");
    assert_eq!(a["status"], "pass", "{a:#}");
    let (s, b) = promote(&app, json!({ "attempt": "edited/20261201_101500" })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b:#}");
    assert_eq!(b["code"], "unsupported_invarlock_version", "{b:#}");
    assert!(b["detail"].as_str().unwrap().contains("0.3.4 to 0.4.0"));
    assert!(!ws.path().join("reports/edited").exists());

    let (_, page) = app.get("/v1/unrecognized").await;
    let items = page["items"].as_array().unwrap();
    let packs: Vec<_> = items
        .iter()
        .filter(|i| i["kind"] == "evidence_pack")
        .collect();
    assert_eq!(packs.len(), 1, "{page:#}");
    assert_eq!(packs[0]["path"], "evidence/eval-2026-12-01");
    assert!(packs[0]["reason"]
        .as_str()
        .unwrap()
        .contains("invarlock/evidence-pack-v1"));
    // Nothing inside the pack became an attempt; the corpus runs are indexed as before.
    let (_, list) = app.get("/v1/attempts?limit=500").await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert!(ids.iter().all(|id| !id.starts_with("evidence/")), "{ids:?}");
    assert!(ids.contains(&"rel_quant8/20261128_204341"));
    let (s, _) = promote(&app, json!({ "attempt": "rel_baseline/20261128_204321" })).await;
    assert_eq!(s, StatusCode::CREATED);
    app.stop().await;
}
