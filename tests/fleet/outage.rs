//! PostgreSQL killed under load and started again: both daemons say `degraded` in between,
//! keep answering what they hold in memory, and catch up afterwards; nothing is lost.

use crate::daemon::{eventually, write_attempt, Daemon};
use crate::private_pg::PrivatePg;
use crate::{listed, start, workspace_with_baseline};
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn readiness(d: &Daemon) -> Option<String> {
    let (s, body) = d.get("/readyz");
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    (s == 200).then(|| v["status"].as_str().unwrap_or("").to_string())
}

/// The `i`th attempt of a writer: one a second from midnight (a directory name is a clock).
fn id(tag: &str, i: usize) -> String {
    format!(
        "{tag}/20261202_{:02}{:02}{:02}",
        i / 3600,
        (i / 60) % 60,
        i % 60
    )
}

/// Writes attempts into a workspace until stopped, every 20 ms: the load the outage meets.
fn writer(
    root: std::path::PathBuf,
    tag: &'static str,
    stop: Arc<AtomicBool>,
) -> (Arc<AtomicUsize>, std::thread::JoinHandle<()>) {
    let n = Arc::new(AtomicUsize::new(0));
    let count = n.clone();
    let thread = std::thread::spawn(move || {
        while !stop.load(Ordering::Acquire) {
            let i = count.load(Ordering::Acquire);
            write_attempt(&root, &id(tag, i));
            count.fetch_add(1, Ordering::AcqRel);
            std::thread::sleep(Duration::from_millis(20)); // pacing of the load, not a wait
        }
    });
    (n, thread)
}

#[test]
fn killing_postgresql_under_load_degrades_both_daemons_and_they_catch_up_when_it_returns() {
    let Some(pg) = PrivatePg::start("kill PostgreSQL") else {
        return;
    };
    let a_ws = workspace_with_baseline("a_baseline/20261201_100000");
    let b_ws = workspace_with_baseline("b_baseline/20261201_110000");
    let a = start(a_ws.path(), "gpu-a", &pg.url);
    let b = start(b_ws.path(), "gpu-b", &pg.url);
    let stop = Arc::new(AtomicBool::new(false));
    let (wrote_a, thread_a) = writer(a_ws.path().to_path_buf(), "load_a", stop.clone());
    let (wrote_b, thread_b) = writer(b_ws.path().to_path_buf(), "load_b", stop.clone());
    // Under load: some attempts indexed on both sides before the kill.
    assert!(eventually(Duration::from_secs(30), || {
        listed(&a, "").len() >= 10 && listed(&b, "").len() >= 10
    }));

    // Each workspace's audit chain has an entry from before the outage.
    for (d, attempt) in [
        (&a, "a_baseline/20261201_100000"),
        (&b, "b_baseline/20261201_110000"),
    ] {
        let (s, body) = d.post("/v1/promotions", json!({ "attempt": attempt }));
        assert_eq!(s, 201, "{body}");
    }

    pg.kill();
    for d in [&a, &b] {
        assert!(
            eventually(Duration::from_secs(20), || readiness(d).as_deref()
                == Some("degraded")),
            "{} never said degraded: {:?}",
            d.url,
            readiness(d)
        );
        // Served from memory meanwhile.
        let st = d.json("/v1/status");
        assert_eq!(st["database"]["reachable"], false, "{st:#}");
        assert!(st["index"]["attempts"]["total"].as_u64() > Some(0));
    }
    // A mutation meets the outage before it touches a file: it cannot be recorded first.
    let (s, body) = a.post("/v1/promotions", json!({ "attempt": id("load_a", 0) }));
    assert!(s >= 500, "{s} {body}");
    assert!(!a_ws.path().join("reports/load_a").exists());
    // The load goes on through the outage.
    let during = (
        wrote_a.load(Ordering::Acquire),
        wrote_b.load(Ordering::Acquire),
    );
    assert!(eventually(Duration::from_secs(10), || {
        wrote_a.load(Ordering::Acquire) > during.0 + 10
            && wrote_b.load(Ordering::Acquire) > during.1 + 10
    }));

    pg.start_again();
    for d in [&a, &b] {
        assert!(
            eventually(Duration::from_secs(30), || readiness(d).as_deref()
                == Some("ready")),
            "{} not ready again: {:?}\n{}",
            d.url,
            readiness(d),
            pg.log()
        );
    }
    stop.store(true, Ordering::Release);
    thread_a.join().unwrap();
    thread_b.join().unwrap();
    let (na, nb) = (
        wrote_a.load(Ordering::Acquire),
        wrote_b.load(Ordering::Acquire),
    );
    // Nothing lost: every attempt written before, during and after the outage is listed by
    // both daemons with its workspace.
    let want = |ws: &str, tag: &str, n: usize| -> Vec<(String, String)> {
        (0..n).map(|i| (ws.to_string(), id(tag, i))).collect()
    };
    let mut expected = want("gpu-a", "load_a", na);
    expected.extend(want("gpu-b", "load_b", nb));
    for d in [&a, &b] {
        let caught_up = eventually(Duration::from_secs(60), || {
            let got = listed(d, "");
            expected.iter().all(|e| got.contains(e))
        });
        let got = listed(d, "");
        let missing: Vec<_> = expected.iter().filter(|e| !got.contains(e)).collect();
        assert!(
            caught_up,
            "{} misses {} of {} attempts: {:?}\nlists {} attempts\nstatus {:#}",
            d.url,
            missing.len(),
            expected.len(),
            missing.iter().take(5).collect::<Vec<_>>(),
            got.len(),
            d.json("/v1/status")
        );
        let st = d.json("/v1/status");
        assert_eq!(st["database"]["reachable"], true);
        assert!(st["database"]["outages"].as_u64() >= Some(1), "{st:#}");
        assert!(st["database"]["last_catch_up_at"].is_string(), "{st:#}");
        for ws in ["gpu-a", "gpu-b"] {
            let check = d.json(&format!("/v1/audit/verify?workspace={ws}"));
            assert_eq!(check["ok"], true, "{ws}: {check:#}");
            assert_eq!(check["entries"], 1, "{ws}: {check:#}");
        }
    }
}
