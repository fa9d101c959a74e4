//! Starting the real daemon binary as a child process: its address is what it logs as
//! `listening` (JSON logs on stderr), its token what it wrote at start.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Spawns `cmd` (an `invarlockd serve` on `root` logging JSON) with stdout discarded and
/// waits up to 60 s for its address. Answers the child, its base URL and the admin token.
/// Whatever on stderr is not a log record (e.g. why the daemon refused to start) reaches the
/// test's output.
pub fn spawn_listening(mut cmd: Command, root: &Path) -> (Child, String, String) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("daemon starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                eprintln!("daemon: {line}");
                continue;
            };
            if v["fields"]["message"] == "listening" {
                let _ = tx.send(v["fields"]["addr"].as_str().unwrap_or_default().to_string());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("daemon reports its address");
    let token = std::fs::read_to_string(root.join(".invarlockd/admin.token"))
        .unwrap()
        .trim()
        .to_string();
    (child, format!("http://{addr}"), token)
}
