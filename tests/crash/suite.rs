//! SIGKILL at random points during promotions, retention applies and restores, some of them on
//! a state directory that fills up. After every restart: no partial directory, every archive
//! invarlockd made and every move it did has exactly one audit entry, the chain verifies, and
//! restores of earlier plans still work.
//!
//! The seed is random and printed; INVARLOCKD_CRASH_SEED=<seed> replays a run, and
//! INVARLOCKD_CRASH_N=<n> changes the number of promotions (default 200).

use super::*;
use std::collections::BTreeMap;

fn seed() -> u64 {
    let seed = match std::env::var("INVARLOCKD_CRASH_SEED") {
        Ok(s) => s.trim().parse().expect("INVARLOCKD_CRASH_SEED is a u64"),
        Err(_) => {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            t.as_nanos() as u64 ^ (std::process::id() as u64) << 32
        }
    };
    eprintln!("crash seed {seed} (replay: INVARLOCKD_CRASH_SEED={seed})");
    seed
}

fn count() -> usize {
    std::env::var("INVARLOCKD_CRASH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

const OLD: &str = "20261128_204358";
const NEW: &str = "20261128_204500";

/// `n` nicknames, each with two attempts of identical bytes: promoting the old one archives
/// both (same sha256), so a keep_last=1 plan may move every old one.
fn workspace(root: &Path, n: usize) {
    let template = sample().join("runs/drift_baseline").join(OLD);
    for i in 0..n {
        for ts in [OLD, NEW] {
            copy_dir(&template, &root.join(format!("runs/crash{i:03}/{ts}")));
        }
    }
}

fn audit(d: &Daemon) -> Vec<Value> {
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let path = match &token {
            Some(t) => format!("/v1/audit?limit=1000&page_token={t}"),
            None => "/v1/audit?limit=1000".to_string(),
        };
        let (s, v) = d.get(&path);
        assert_eq!(s, 200, "{v}");
        items.extend(v["items"].as_array().unwrap().iter().cloned());
        match v["next_page_token"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => return items,
        }
    }
}

/// The invariants that must hold after any crash, checked right after a restart.
fn check(d: &Daemon, root: &Path, external: &[String], plans: &[String], seed: u64) {
    let ctx = format!("(seed {seed})");
    assert_no_partial_archives(root, external);
    let (_, chain) = d.get("/v1/audit/verify");
    assert_eq!(chain["ok"], true, "{chain} {ctx}");
    let entries = audit(d);
    let mut created: BTreeMap<String, usize> = BTreeMap::new();
    let mut moved: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut restored: BTreeMap<(String, String), usize> = BTreeMap::new();
    for e in &entries {
        let subject = e["subject"].as_str().unwrap().to_string();
        let plan = e["detail"]["plan_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        match e["action"].as_str().unwrap() {
            "promotion.created" => *created.entry(subject).or_default() += 1,
            "retention.moved" => *moved.entry((plan, subject)).or_default() += 1,
            "retention.restored" => *restored.entry((plan, subject)).or_default() += 1,
            _ => {}
        }
    }
    for e in std::fs::read_dir(root.join("reports")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if !external.contains(&name) {
            assert_eq!(
                created.get(&name).copied().unwrap_or(0),
                1,
                "reports/{name} must have exactly one audit entry {ctx}"
            );
        }
    }
    for (name, n) in &created {
        assert_eq!(*n, 1, "{name} audited {n} times {ctx}");
        assert!(root.join("reports").join(name).is_dir(), "{name} {ctx}");
    }
    for plan in plans {
        let (s, p) = d.get(&format!("/v1/retention/plans/{plan}"));
        assert_eq!(s, 200, "{p} {ctx}");
        assert!(
            !matches!(
                p["state"].as_str(),
                Some("applying" | "restoring" | "purging")
            ),
            "recovery left {plan} {} {ctx}",
            p["state"]
        );
        for m in p["moves"].as_array().unwrap() {
            let key = (plan.clone(), m["attempt"].as_str().unwrap().to_string());
            let (from, trash) = (
                root.join(m["from"].as_str().unwrap()),
                root.join(m["trash"].as_str().unwrap()),
            );
            let n_moved = moved.get(&key).copied().unwrap_or(0);
            let n_restored = restored.get(&key).copied().unwrap_or(0);
            match m["state"].as_str().unwrap() {
                "moved" => {
                    assert!(trash.is_dir() && !from.exists(), "{key:?} {ctx}");
                    assert_eq!((n_moved, n_restored), (1, 0), "{key:?} {ctx}");
                }
                "restored" => {
                    // (A later plan may have moved the same attempt again.)
                    assert!(!trash.exists(), "{key:?} {ctx}");
                    assert_eq!((n_moved, n_restored), (1, 1), "{key:?} {ctx}");
                }
                other => panic!("{key:?} left {other} {ctx}"),
            }
        }
    }
}

/// Kills the daemon after a random delay, from another thread.
fn killer(d: &Daemon, rng: &mut Lcg, max_ms: u64) -> std::thread::JoinHandle<()> {
    let pid = d.child.id();
    let delay = Duration::from_millis(10 + rng.next(max_ms));
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    })
}

const WIDEN: [(&str, &str); 3] = [
    ("INVARLOCKD_TEST_PROMOTE_DELAY_MS", "3"),
    ("INVARLOCKD_TEST_PROMOTE_AUDIT_DELAY_MS", "3"),
    ("INVARLOCKD_TEST_RETENTION_DELAY_MS", "2"),
];

#[test]
fn sigkill_at_random_points_during_200_promotions_and_retention_applies_and_restores_audits_everything_once(
) {
    let seed = seed();
    let mut rng = Lcg(seed);
    let n = count();
    let ws = tempfile::tempdir().unwrap();
    let root = ws.path();
    copy_dir(&sample().join("reports"), &root.join("reports"));
    let external = external_names(root);
    workspace(root, n);
    let mut plans: Vec<String> = Vec::new();
    let mut done = vec![false; n];
    let mut kills = 0;
    // Promotions, killed at random moments until every one has been answered.
    while done.iter().any(|d| !d) {
        let d = Daemon::start(root, &WIDEN);
        check(&d, root, &external, &plans, seed);
        let k = killer(&d, &mut rng, 1500);
        for (i, finished) in done.iter_mut().enumerate() {
            if *finished {
                continue;
            }
            let attempt = format!("crash{i:03}/{OLD}");
            match d.post("/v1/promotions", json!({ "attempt": attempt })) {
                Ok((201 | 200, _)) => *finished = true,
                Ok((s, v)) => panic!("{attempt}: unexpected {s} {v} (seed {seed})"),
                Err(_) => break,
            }
        }
        k.join().unwrap();
        d.kill();
        kills += 1;
    }
    // Retention: plan, apply, restore, each interrupted at a random point, three times over.
    for _cycle in 0..3 {
        let d = Daemon::start(root, &WIDEN);
        check(&d, root, &external, &plans, seed);
        let (s, p) = d
            .post(
                "/v1/retention/plan",
                json!({ "keep_last": 1, "keep_within": "0s" }),
            )
            .unwrap();
        assert_eq!(s, 200, "{p} (seed {seed})");
        let id = p["id"].as_str().unwrap().to_string();
        assert_eq!(p["delete"].as_array().unwrap().len(), n, "(seed {seed})");
        plans.push(id.clone());
        // Killed during the apply, during the restore, or after both.
        let k = killer(&d, &mut rng, 3000);
        if d.post("/v1/retention/apply", json!({ "plan_id": id }))
            .is_ok()
        {
            let _ = d.post("/v1/retention/restore", json!({ "plan_id": id }));
        }
        k.join().unwrap();
        d.kill();
        kills += 1;
        // The restart finishes what was interrupted; a restore is asked again, and killed.
        let d = Daemon::start(root, &WIDEN);
        check(&d, root, &external, &plans, seed);
        let k = killer(&d, &mut rng, 3000);
        let r = d.post("/v1/retention/restore", json!({ "plan_id": id }));
        k.join().unwrap();
        d.kill();
        kills += 1;
        if let Ok((s, v)) = r {
            assert!(s == 200 || s == 409, "restore: {s} {v} (seed {seed})");
        }
        // Restores of earlier plans still work after any crash: finish this one for sure.
        let d = Daemon::start(root, &[]);
        check(&d, root, &external, &plans, seed);
        let (s, v) = d.get(&format!("/v1/retention/plans/{id}"));
        assert_eq!(s, 200);
        if v["state"] == "applied" {
            let (s, v) = d
                .post("/v1/retention/restore", json!({ "plan_id": id }))
                .unwrap();
            assert_eq!(s, 200, "{v} (seed {seed})");
        }
        check(&d, root, &external, &plans, seed);
        d.kill();
    }
    eprintln!(
        "{kills} kills, {n} promotions, {} plans (seed {seed})",
        plans.len()
    );
    assert!(
        kills >= 4,
        "the daemon was killed {kills} times (seed {seed})"
    );
}

/// A tmpfs of `size`, mounted (as root) at `at`; `None` where mounting is not permitted.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(at.to_path_buf()))
    }

    fn resize(&self, size: &str) {
        let s = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(s.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn on_a_filesystem_that_fills_up_errors_change_nothing_and_every_archive_is_audited_once() {
    let seed = seed();
    let mut rng = Lcg(seed);
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("ws");
    // The whole workspace (runs/, reports/ and the state directory) on a tiny filesystem, so
    // that archives, index.db and records.db all meet ENOSPC / SQLITE_FULL.
    let Some(fs) = Tmpfs::mount(&root, "4m") else {
        eprintln!(
            "SKIPPED: mounting a tmpfs needs root (CAP_SYS_ADMIN); the full-filesystem case was not run"
        );
        return;
    };
    let n = 12;
    workspace(&root, n / 2);
    let external: Vec<String> = Vec::new();
    let mut errors = 0;
    for round in 0..3 {
        let d = Daemon::start(&root, &WIDEN);
        check(&d, &root, &external, &[], seed);
        let k = killer(&d, &mut rng, 2000);
        for i in 0..n / 2 {
            for ts in [OLD, NEW] {
                let before = external_names(&root);
                let attempt = format!("crash{i:03}/{ts}");
                let name = format!("r{round}_{i}_{}", &ts[9..]);
                match d.post(
                    "/v1/promotions",
                    json!({ "attempt": attempt, "name": name }),
                ) {
                    Ok((201 | 200, _)) => {}
                    Ok((_, _)) => {
                        errors += 1;
                        let mut after = external_names(&root);
                        after.retain(|n| !n.starts_with('.'));
                        let mut was = before.clone();
                        was.retain(|n| !n.starts_with('.'));
                        assert_eq!(
                            after, was,
                            "an error answer created an archive (seed {seed})"
                        );
                    }
                    Err(_) => break,
                }
            }
        }
        k.join().unwrap();
        d.kill();
    }
    // Room again: the restart finishes whatever the full filesystem and the kills interrupted.
    fs.resize("64m");
    let d = Daemon::start(&root, &[]);
    check(&d, &root, &external, &[], seed);
    d.kill();
    eprintln!("{errors} error answers on the full filesystem (seed {seed})");
}
