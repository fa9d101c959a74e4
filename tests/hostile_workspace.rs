//! The workspace is untrusted input: each class of hostile file is played against the real
//! daemon binary on a copy of examples/workspace. For each: no byte outside the workspace is
//! read (the secret never appears in a response) or written (outside files unchanged), nothing
//! in reports/ changes, the daemon stays ready, an attempt written afterwards is indexed, and
//! SIGTERM exits 0 within 10 s.

#[path = "support/daemon.rs"]
mod daemon;

use daemon::*;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::{Duration, Instant};

#[test]
fn symlinks_to_files_outside_to_the_state_dir_and_to_directories_are_never_followed() {
    let (ws, outside) = setup();
    let root = ws.path();
    let secret = outside.path().join("secret");
    // A report that would pass, outside, reachable only through links.
    write_attempt(outside.path(), "out/20261201_000000");
    let out_attempt = outside.path().join("runs/out/20261201_000000");
    let evil = root.join("runs/evil/20261201_000000");
    std::fs::create_dir_all(&evil).unwrap();
    symlink(&secret, evil.join("report.json")).unwrap();
    symlink(
        root.join(".invarlockd/admin.token"),
        evil.join("events.jsonl"),
    )
    .unwrap();
    symlink(&secret, evil.join("notes.txt")).unwrap();
    std::fs::create_dir_all(root.join("runs/linked")).unwrap();
    symlink(&out_attempt, root.join("runs/linked/20261201_000000")).unwrap();
    symlink(outside.path().join("runs/out"), root.join("runs/linknick")).unwrap();
    symlink(
        outside.path().join("runs/out"),
        root.join("reports/linked_evidence"),
    )
    .unwrap();
    std::fs::create_dir_all(root.join("reports/hostile")).unwrap();
    symlink(&secret, root.join("reports/hostile/report.json")).unwrap();
    symlink(&secret, root.join("reports/hostile/evaluation.cert.json")).unwrap();
    let (reports_before, outside_before) = (tree(&root.join("reports")), tree(outside.path()));

    let d = Daemon::start(root);
    let token = d.token.clone();
    assert!(
        eventually(Duration::from_secs(30), || d
            .status_of("evil/20261201_000000")
            .is_some_and(|a| a["status"] == "invalid")),
        "a symlinked report.json makes its attempt invalid: {:?}",
        d.get("/v1/attempts/evil/20261201_000000")
    );
    let a = d.status_of("evil/20261201_000000").unwrap();
    assert!(a["reason"].as_str().unwrap().contains("symlink"), "{a:#}");
    for id in ["linked/20261201_000000", "linknick/20261201_000000"] {
        assert!(d.status_of(id).is_none(), "{id} reached through a symlink");
    }
    let (s, b) = d.get("/v1/attempts/evil/20261201_000000/report");
    assert_eq!(s, 422, "{b}");
    let (s, b) = d.get("/v1/attempts/evil/20261201_000000/events");
    assert_eq!(s, 422, "{b}");
    // A certificate path through a symlink is refused, and says nothing of its target.
    let (s, b) = d.post(
        "/v1/promotions",
        serde_json::json!({ "attempt": "quant8/20261128_204141", "certificate": "reports/hostile/evaluation.cert.json" }),
    );
    assert_eq!(s, 400, "{b}");
    // Planted while the daemon runs: the watcher path refuses it too.
    let late = root.join("runs/late/20261201_000000");
    std::fs::create_dir_all(&late).unwrap();
    symlink(&secret, late.join("report.json")).unwrap();
    assert!(eventually(Duration::from_secs(30), || d
        .status_of("late/20261201_000000")
        .is_some_and(|a| a["status"] == "invalid")));
    let bodies = all_bodies(
        &d,
        &[
            "evil/20261201_000000",
            "late/20261201_000000",
            "linked/20261201_000000",
        ],
    ) + &b;
    assert!(!bodies.contains(SECRET), "the secret leaked");
    assert!(!bodies.contains(&token), "the admin token leaked");
    assert!(
        !bodies.contains(&outside.path().to_string_lossy().to_string()),
        "an outside path leaked"
    );
    assert_reports_unchanged(root, &reports_before);
    assert_outside_unchanged(outside.path(), &outside_before);
    d.finish(root);
}

#[test]
fn fifos_sockets_and_devices_under_every_name_the_daemon_reads_never_block_it() {
    let (ws, _outside) = setup();
    let root = ws.path();
    let mut _sockets = Vec::new();
    let devices = {
        let probe = root.join("runs/probe_dev");
        let ok = mknod_dev(&probe);
        let _ = std::fs::remove_file(&probe);
        ok
    };
    for (nick, name) in [
        ("fifo_report", "report.json"),
        ("fifo_events", "events.jsonl"),
        ("fifo_other", "model.bin"),
        ("sock_report", "report.json"),
        ("dev_report", "report.json"),
        ("dev_events", "events.jsonl"),
    ] {
        let dir = root.join(format!("runs/{nick}/20261201_000000"));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        if nick.starts_with("fifo") {
            mkfifo(&p);
        } else if nick.starts_with("sock") {
            _sockets.push(socket_at(&p));
        } else if devices {
            mknod_dev(&p);
        }
    }
    // A FIFO where an attempt directory, a nickname directory or the copy should be.
    std::fs::create_dir_all(root.join("runs/fifo_dir")).unwrap();
    mkfifo(&root.join("runs/fifo_dir/20261201_000000"));
    mkfifo(&root.join("runs/fifo_nick"));
    mkfifo(&root.join("runs/quant8/report.json"));
    // Evidence directories holding FIFOs and sockets under the names that are parsed.
    std::fs::create_dir_all(root.join("reports/special")).unwrap();
    for name in ["report.json", "evaluation.cert.json", "metadata.json"] {
        mkfifo(&root.join("reports/special").join(name));
    }
    _sockets.push(socket_at(&root.join("reports/special/x.cert.json")));
    if devices {
        mknod_dev(&root.join("reports/special/dev.report.json"));
    }
    mkfifo(&root.join("reports_fifo"));
    let reports_before = tree(&root.join("reports"));

    let d = Daemon::start(root);
    for nick in ["fifo_report", "sock_report"]
        .into_iter()
        .chain(devices.then_some("dev_report"))
    {
        let id = format!("{nick}/20261201_000000");
        assert!(
            eventually(Duration::from_secs(30), || d
                .status_of(&id)
                .is_some_and(|a| a["status"] == "invalid")),
            "{id} is invalid"
        );
        let started = Instant::now();
        let (s, b) = d.get(&format!("/v1/attempts/{id}/report"));
        assert_eq!(s, 422, "{id}: {b}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
    let (s, b) = d.get("/v1/attempts/fifo_events/20261201_000000/events");
    assert_eq!(s, 422, "{b}");
    // A reconcile completes (before, it hung on the first FIFO it opened).
    let before = d.json("/v1/status")["watcher"]["reconciles"]
        .as_u64()
        .unwrap();
    let (s, b) = d.post("/v1/rescan", serde_json::json!({}));
    assert_eq!(s, 202, "{b}");
    assert!(eventually(Duration::from_secs(30), || d.json("/v1/status")
        ["watcher"]["reconciles"]
        .as_u64()
        .unwrap()
        > before));
    assert_eq!(d.json("/v1/status")["scan"]["degraded"], false);
    let metrics = d.get("/metrics").1;
    assert!(
        metric(
            &metrics,
            "invarlockd_files_refused_total",
            "kind=\"not_regular\""
        ) > 0,
        "{metrics}"
    );
    assert_reports_unchanged(root, &reports_before);
    d.finish(root);
}

#[test]
fn sparse_multi_gigabyte_files_are_refused_without_being_read() {
    let (ws, _outside) = setup();
    let root = ws.path();
    let sparse = |p: &Path, len: u64| {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::File::create(p).unwrap().set_len(len).unwrap();
    };
    let dir = root.join("runs/sparse/20261201_000000");
    sparse(&dir.join("report.json"), 4 << 30);
    sparse(&dir.join("events.jsonl"), 8 << 30);
    sparse(&dir.join("weights.bin"), 16 << 30);
    sparse(&root.join("reports/sparse/report.json"), 4 << 30);
    sparse(&root.join("reports/sparse/evaluation.cert.json"), 4 << 30);
    sparse(&root.join("reports/sparse/metadata.json"), 4 << 30);
    let reports_before = tree(&root.join("reports"));

    let d = Daemon::start(root);
    assert!(eventually(Duration::from_secs(30), || d
        .status_of("sparse/20261201_000000")
        .is_some_and(|a| a["status"] == "invalid")));
    let a = d.status_of("sparse/20261201_000000").unwrap();
    let reason = a["reason"].as_str().unwrap();
    assert!(reason.contains("limits.report_bytes"), "{reason}");
    let (s, b) = d.get("/v1/attempts/sparse/20261201_000000/report");
    assert_eq!(s, 422, "{b}");
    assert!(b.contains("limits.report_bytes"), "{b}");
    let (s, b) = d.get("/v1/attempts/sparse/20261201_000000/events");
    assert_eq!(s, 422, "{b}");
    // Nothing was read whole: the daemon's peak resident memory stays far below 4 GiB.
    let status = std::fs::read_to_string(format!("/proc/{}/status", d.child.id())).unwrap();
    let hwm_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert!(hwm_kb < 1 << 20, "peak RSS {hwm_kb} kB");
    assert_reports_unchanged(root, &reports_before);
    d.finish(root);
}

#[test]
fn symlinks_planted_at_the_names_the_daemon_writes_never_redirect_a_write() {
    let (ws, outside) = setup();
    let root = ws.path();
    let victim = outside.path().join("secret");
    let archived = root.join("reports/quant8_balanced/report.json");
    let nick = root.join("runs/quant8");
    // The old fixed temporary name, the copy's own name, and a leftover of our own.
    symlink(&archived, nick.join(".invarlockd-tmp-report.json")).unwrap();
    symlink(&victim, nick.join("report.json")).unwrap();
    std::fs::write(nick.join(".invarlockd-tmp-0123abcd"), "partial copy").unwrap();
    // A symlinked workspace .gitignore is never appended through.
    symlink(&victim, root.join(".gitignore")).unwrap();
    let (reports_before, outside_before) = (tree(&root.join("reports")), tree(outside.path()));

    let d = Daemon::start(root);
    let copy = nick.join("report.json");
    let want = std::fs::read(nick.join("20261128_204141/report.json")).unwrap();
    assert!(
        eventually(Duration::from_secs(30), || std::fs::symlink_metadata(&copy)
            .is_ok_and(|m| m.is_file())
            && std::fs::read(&copy).is_ok_and(|b| b == want)),
        "the convenience copy replaced the planted symlink with a regular file"
    );
    assert!(
        !nick.join(".invarlockd-tmp-0123abcd").exists(),
        "a leftover temporary file is cleaned at start"
    );
    assert!(std::fs::symlink_metadata(nick.join(".invarlockd-tmp-report.json")).is_ok());
    // A promotion that would update .gitignore.
    let (s, b) = d.post(
        "/v1/promotions",
        serde_json::json!({ "attempt": "baseline/20261128_204128", "name": "hostile_base" }),
    );
    assert!(s == 201 || s == 422, "{s}: {b}");
    let mut after = tree(&root.join("reports"));
    after.retain(|k, _| !k.starts_with("hostile_base"));
    assert_eq!(after, reports_before, "reports/ changed");
    assert_outside_unchanged(outside.path(), &outside_before);
    assert!(std::fs::symlink_metadata(root.join(".gitignore"))
        .unwrap()
        .file_type()
        .is_symlink());
    d.finish(root);
}

/// Number of open descriptors of `pid`.
fn open_fds(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count() as u64
}

fn set_nofile(pid: u32, soft: u64) {
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    let rc = unsafe { libc::prlimit(pid as i32, libc::RLIMIT_NOFILE, std::ptr::null(), &mut old) };
    assert_eq!(rc, 0);
    let new = libc::rlimit {
        rlim_cur: soft,
        rlim_max: old.rlim_max,
    };
    let rc = unsafe { libc::prlimit(pid as i32, libc::RLIMIT_NOFILE, &new, std::ptr::null_mut()) };
    assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
}

/// Sum of the samples of `name` whose labels contain `label`.
fn metric(text: &str, name: &str, label: &str) -> u64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l.contains(label))
        .filter_map(|l| l.rsplit(' ').next())
        .filter_map(|v| v.parse::<f64>().ok())
        .sum::<f64>() as u64
}

#[test]
fn exhausted_descriptors_abort_the_scan_and_keep_the_index_as_it_was() {
    let (ws, _outside) = setup();
    let root = ws.path();
    let d = Daemon::start(root);
    let ids = |d: &Daemon| -> Vec<String> {
        d.json("/v1/attempts?limit=1000")["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect()
    };
    let before = ids(&d);
    assert!(before.len() > 10);
    // Warm the connection this client keeps alive: new connections will not be accepted.
    d.get("/metrics");
    let pid = d.child.id();
    // The daemon's RLIMIT_NOFILE is lowered to what it holds now (plus one): the next
    // reconcile cannot open runs/ and its directories.
    set_nofile(pid, open_fds(pid) + 1);
    let (s, b) = d.post("/v1/rescan", serde_json::json!({}));
    assert_eq!(s, 202, "{b}");
    assert!(
        eventually(Duration::from_secs(30), || metric(
            &d.get("/metrics").1,
            "invarlockd_scans_aborted_total",
            "cause=\"filesystem\""
        ) >= 1),
        "the scan was aborted"
    );
    set_nofile(pid, 4096);
    let status = d.json("/v1/status");
    assert_eq!(status["scan"]["degraded"], true, "{status:#}");
    assert!(
        status["scan"]["last_error"].as_str().is_some(),
        "{status:#}"
    );
    let ready = d.json("/readyz");
    assert_eq!(ready["status"], "degraded", "{ready:#}");
    let healthy = |d: &Daemon| metric(&d.get("/metrics").1, "invarlockd_watcher_healthy ", "");
    assert_eq!(
        healthy(&d),
        0,
        "a failed reconcile makes the watcher unhealthy"
    );
    assert_eq!(ids(&d), before, "the index was kept as it was");
    // Descriptors back: the next reconcile clears the degraded state.
    let (s, _) = d.post("/v1/rescan", serde_json::json!({}));
    assert_eq!(s, 202);
    assert!(eventually(Duration::from_secs(30), || d.json("/v1/status")
        ["scan"]["degraded"]
        == false));
    // The gauge recovers with the watcher: it does not stay 0 after one error.
    assert_eq!(healthy(&d), 1, "{}", d.get("/metrics").1);
    assert_eq!(d.json("/v1/status")["watcher"]["healthy"], true);
    d.finish(root);
}
