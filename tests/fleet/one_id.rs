//! One workspace id, one daemon: a second workspace under a live daemon's id is refused at
//! start (naming the key); once that daemon is gone, the id may be taken.

use crate::daemon::{eventually, BIN};
use crate::{start, workspace_with_baseline};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `serve` on `root` as workspace `id` and waits for it to exit (within 60 s): its exit
/// status and what it wrote to stderr.
fn refused_start(root: &std::path::Path, id: &str, db: &str) -> (bool, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--workspace", root.to_str().unwrap()])
        .args(["--listen", "127.0.0.1:0"])
        .env("INVARLOCKD_DATABASE__URL", db)
        .env("INVARLOCKD_WORKSPACE__ID", id)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("a daemon under a taken id kept running");
        }
        std::thread::sleep(Duration::from_millis(25));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.success(), err)
}

#[test]
fn a_second_workspace_under_a_live_daemons_id_is_refused_and_the_id_is_free_once_it_stops() {
    let Some(db) = crate::fresh_database() else {
        return;
    };
    let first_ws = workspace_with_baseline("a_baseline/20261201_100000");
    let other_ws = workspace_with_baseline("b_baseline/20261201_110000");
    let first = start(first_ws.path(), "gpu-same", &db.url);

    let (ok, err) = refused_start(other_ws.path(), "gpu-same", &db.url);
    assert!(!ok, "{err}");
    assert!(err.contains("workspace.id"), "{err}");
    assert!(
        err.contains(&first_ws.path().display().to_string()),
        "names the holder's root: {err}"
    );
    // The holder goes on serving, its rows untouched.
    assert!(first.ready());

    // Stopped, it no longer answers at its URL: the same host may take the id (a workspace
    // moved to another directory).
    drop(first);
    let second = start(other_ws.path(), "gpu-same", &db.url);
    assert!(eventually(Duration::from_secs(10), || second
        .json("/v1/status")["workspace"]["root"]
        == other_ws.path().display().to_string().as_str()));
}
