//! Two daemons on two workspaces and one database: each reads the whole fleet, mutations go to
//! the owner, and each workspace's audit chain verifies on its own.

use crate::daemon::{eventually, write_attempt};
use crate::{listed, start, workspace_with_baseline};
use serde_json::{json, Value};
use std::time::Duration;

#[test]
fn attempts_of_both_workspaces_are_listed_by_either_daemon_and_mutations_go_to_the_owner() {
    let Some(db) = crate::fresh_database() else {
        return;
    };
    let a_ws = workspace_with_baseline("a_baseline/20261201_100000");
    let b_ws = workspace_with_baseline("b_baseline/20261201_110000");
    let a = start(a_ws.path(), "gpu-a", &db.url);
    let b = start(b_ws.path(), "gpu-b", &db.url);
    write_attempt(a_ws.path(), "alpha/20261201_120000");
    write_attempt(b_ws.path(), "beta/20261201_130000");

    let want = [
        ("gpu-a", "a_baseline/20261201_100000"),
        ("gpu-a", "alpha/20261201_120000"),
        ("gpu-b", "b_baseline/20261201_110000"),
        ("gpu-b", "beta/20261201_130000"),
    ];
    for d in [&a, &b] {
        let all = eventually(Duration::from_secs(30), || {
            let got = listed(d, "");
            want.iter()
                .all(|(w, id)| got.contains(&(w.to_string(), id.to_string())))
        });
        assert!(all, "{} lists {:?}", d.url, listed(d, ""));
        // `workspace=` narrows to one workspace.
        let only_b = listed(d, "&workspace=gpu-b");
        assert_eq!(only_b.len(), 2, "{only_b:?}");
        assert!(only_b.iter().all(|(w, _)| w == "gpu-b"), "{only_b:?}");
    }
    // An item of the other workspace is found by its plain id, and names its workspace.
    let beta = a.json("/v1/attempts/beta/20261201_130000");
    assert_eq!(beta["workspace"], "gpu-b");
    assert_eq!(beta["status"], "pass");
    let (s, body) = a.get("/v1/attempts/beta/20261201_130000?workspace=gpu-a");
    assert_eq!(s, 404, "{body}");

    // A promotion of gpu-b's attempt asked of gpu-a: 421 naming the owner and its URL.
    let (s, body) = a.post(
        "/v1/promotions",
        json!({ "attempt": "b_baseline/20261201_110000" }),
    );
    let p: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(s, 421, "{p:#}");
    assert_eq!(p["code"], "misdirected");
    assert_eq!(p["workspace"], "gpu-b");
    assert_eq!(p["public_url"], b.url.as_str());
    // Files of another host are not served here either: the owner has them.
    let (s, body) = a.get("/v1/attempts/beta/20261201_130000/report");
    assert_eq!(s, 421, "{body}");
    assert!(
        !b_ws.path().join("reports/b_baseline").exists(),
        "nothing archived by the wrong daemon"
    );

    // The owner promotes; either daemon lists the promotion with its workspace.
    let (s, body) = b.post(
        "/v1/promotions",
        json!({ "attempt": "b_baseline/20261201_110000" }),
    );
    assert_eq!(s, 201, "{body}");
    let (s, body) = a.post(
        "/v1/promotions",
        json!({ "attempt": "a_baseline/20261201_100000" }),
    );
    assert_eq!(s, 201, "{body}");
    for d in [&a, &b] {
        let promos = d.json("/v1/promotions?origin=invarlockd");
        let names: Vec<(String, String)> = promos["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["workspace"].as_str().unwrap().to_string(),
                    p["name"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        assert!(
            names.contains(&("gpu-b".into(), "b_baseline".into()))
                && names.contains(&("gpu-a".into(), "a_baseline".into())),
            "{names:?}"
        );
    }

    // The audit log: each workspace's entries, each chain verifying on its own.
    for d in [&a, &b] {
        for (ws, subject) in [("gpu-a", "a_baseline"), ("gpu-b", "b_baseline")] {
            let log = d.json(&format!("/v1/audit?workspace={ws}"));
            let items = log["items"].as_array().unwrap();
            assert!(items.iter().all(|e| e["workspace"] == ws), "{log:#}");
            assert!(
                items
                    .iter()
                    .any(|e| e["subject"].as_str().unwrap_or("").contains(subject)),
                "{ws}: {log:#}"
            );
            let check = d.json(&format!("/v1/audit/verify?workspace={ws}"));
            assert_eq!(check["ok"], true, "{ws}: {check:#}");
            assert!(check["entries"].as_u64() > Some(0), "{ws}: {check:#}");
        }
        // Unfiltered, the log holds both workspaces.
        let all = d.json("/v1/audit?limit=1000");
        let spaces: std::collections::BTreeSet<&str> = all["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["workspace"].as_str())
            .collect();
        assert_eq!(spaces.into_iter().collect::<Vec<_>>(), ["gpu-a", "gpu-b"]);
    }

    // /v1/status: both workspaces with their last contact and counts, own first (the other
    // workspace's part is refreshed with each heartbeat).
    let mut st = Value::Null;
    let seen = eventually(Duration::from_secs(10), || {
        st = a.json("/v1/status");
        st["workspaces"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["id"] == "gpu-b" && w["counts"]["evidence_dirs"].as_u64() == Some(1))
    });
    assert!(seen, "{st:#}");
    let spaces = st["workspaces"].as_array().unwrap();
    assert_eq!(spaces[0]["id"], "gpu-a", "{st:#}");
    assert_eq!(spaces[0]["own"], true);
    let other = spaces.iter().find(|w| w["id"] == "gpu-b").expect("gpu-b");
    assert_eq!(other["public_url"], b.url.as_str());
    assert!(other["last_contact_at"].is_string() && other["live"] == true);
    assert_eq!(other["counts"]["attempts"]["total"], 2, "{other:#}");
    // The status page groups by workspace.
    let (s, html) = a.get("/");
    assert_eq!(s, 200);
    assert!(html.contains("gpu-a") && html.contains("gpu-b"), "{html}");
}
