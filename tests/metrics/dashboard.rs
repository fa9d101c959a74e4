//! contrib/grafana/invarlockd.json: a dashboard Grafana can import (the parts of its schema an
//! import relies on) whose every query reads only metrics a real daemon exports.

use crate::exposition::families;
use crate::promql::metric_names;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashSet};

fn dashboard() -> Value {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/grafana/invarlockd.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).expect("dashboard is JSON")
}

/// Every PromQL expression of the dashboard, with where it is.
fn queries(d: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in d["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().into_iter().flatten() {
            out.push((
                p["title"].as_str().unwrap().to_string(),
                t["expr"].as_str().unwrap().to_string(),
            ));
        }
    }
    for v in d["templating"]["list"].as_array().unwrap() {
        if let Some(q) = v["query"]["query"].as_str() {
            // label_values(metric, label) reads `metric`.
            let metric = q
                .trim_start_matches("label_values(")
                .split(',')
                .next()
                .unwrap();
            out.push((format!("variable {}", v["name"]), metric.to_string()));
        }
    }
    out
}

/// The family a sample name belongs to (`x_bucket` of histogram `x` is `x`).
fn family<'a>(name: &'a str, exported: &BTreeMap<String, String>) -> &'a str {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix) {
            if exported.get(base).is_some_and(|t| t == "histogram") {
                return base;
            }
        }
    }
    name
}

#[test]
fn the_dashboard_has_what_a_grafana_import_needs() {
    let d = dashboard();
    assert!(d["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(d["uid"]
        .as_str()
        .is_some_and(|u| !u.is_empty() && u.len() <= 40));
    assert!(d["schemaVersion"].as_u64().is_some_and(|v| v >= 30));
    let vars = d["templating"]["list"].as_array().unwrap();
    let ds = vars
        .iter()
        .find(|v| v["name"] == "datasource")
        .expect("a data source variable");
    assert_eq!(
        (ds["type"].as_str(), ds["query"].as_str()),
        (Some("datasource"), Some("prometheus"))
    );
    let panels = d["panels"].as_array().unwrap();
    assert!(panels.len() > 10);
    let mut ids = HashSet::new();
    for p in panels {
        let title = p["title"].as_str().unwrap_or_default();
        assert!(!title.is_empty(), "{p:#}");
        assert!(
            ids.insert(p["id"].as_u64().expect("numeric panel id")),
            "duplicate id in {title}"
        );
        let g = &p["gridPos"];
        let (x, w, h) = (
            g["x"].as_u64().unwrap(),
            g["w"].as_u64().unwrap(),
            g["h"].as_u64().unwrap(),
        );
        assert!(
            g["y"].as_u64().is_some() && w > 0 && h > 0 && x + w <= 24,
            "{title}: {g}"
        );
        let kind = p["type"].as_str().unwrap();
        assert!(
            ["row", "timeseries", "stat"].contains(&kind),
            "{title}: {kind}"
        );
        if kind == "row" {
            continue;
        }
        assert_eq!(p["datasource"]["type"], "prometheus", "{title}");
        assert_eq!(p["datasource"]["uid"], "${datasource}", "{title}");
        let targets = p["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{title} has no query");
        let mut refs = HashSet::new();
        for t in targets {
            assert!(
                refs.insert(t["refId"].as_str().unwrap()),
                "{title}: duplicate refId"
            );
            assert!(
                t["expr"].as_str().is_some_and(|e| !e.trim().is_empty()),
                "{title}"
            );
            assert_eq!(t["datasource"], p["datasource"], "{title}");
        }
    }
}

#[tokio::test]
async fn every_metric_the_dashboard_queries_is_exported_by_a_busy_daemon() {
    let _serial = crate::SERIAL.lock().await;
    let exported = families(&crate::workflow::busy_daemon_scrape().await);
    let d = dashboard();
    let mut used = BTreeSet::new();
    for (panel, expr) in queries(&d) {
        let names = metric_names(&expr);
        assert!(!names.is_empty(), "{panel}: no metric in {expr}");
        for name in names {
            let fam = family(&name, &exported);
            assert!(
                exported.contains_key(fam),
                "{panel}: {name} is not exported ({expr})"
            );
            used.insert(fam.to_string());
        }
    }
    // What the dashboard is for (issue 18).
    for needed in [
        "invarlockd_attempts",
        "invarlockd_index_lag_seconds",
        "invarlockd_event_to_visible_seconds",
        "invarlockd_http_requests_total",
        "invarlockd_http_request_duration_seconds",
        "invarlockd_files_refused_total",
        "invarlockd_verify_rejected_total",
        "invarlockd_runs_bytes",
        "invarlockd_retention_trash_bytes",
        "invarlockd_retention_moved_bytes_total",
        "process_resident_memory_bytes",
    ] {
        assert!(
            used.contains(needed),
            "the dashboard shows nothing of {needed}"
        );
    }
}
