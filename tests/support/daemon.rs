//! The real daemon binary on a copy of examples/workspace, and the tools the hostile suites
//! use to plant files and to look at trees without following or opening anything.
#![allow(dead_code)] // each suite uses its own subset

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_invarlockd");
pub const SECRET: &str = "TOPSECRET-6f1d2a";

#[path = "workspace_copy.rs"]
mod workspace_copy;
pub use workspace_copy::{copy_dir, sample};
#[path = "listening.rs"]
mod listening;
use listening::spawn_listening;

/// A fresh copy of the sample workspace and a directory outside it holding a secret.
pub fn setup() -> (tempfile::TempDir, tempfile::TempDir) {
    let ws = tempfile::tempdir().unwrap();
    copy_dir(&sample(), ws.path());
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), format!("{SECRET}\n")).unwrap();
    (ws, outside)
}

pub fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o644) },
        0,
        "mkfifo {p:?}"
    );
}

/// A character device (same numbers as /dev/null); needs CAP_MKNOD.
pub fn mknod_dev(p: &Path) -> bool {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    let rc = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o644, libc::makedev(1, 3)) };
    if rc != 0 {
        eprintln!(
            "skipping device files: mknod {p:?} failed ({}); run as root to cover them",
            std::io::Error::last_os_error()
        );
    }
    rc == 0
}

pub fn socket_at(p: &Path) -> std::os::unix::net::UnixListener {
    std::os::unix::net::UnixListener::bind(p).unwrap()
}

/// Every entry below `dir` without following or opening anything but regular files:
/// relative path → what it is (and the sha of regular files).
pub fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    pub fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.map(Result::unwrap) {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let md = std::fs::symlink_metadata(&p).unwrap();
            let what = if md.file_type().is_symlink() {
                format!("link:{:?}", std::fs::read_link(&p).unwrap())
            } else if md.is_dir() {
                walk(root, &p, out);
                "dir".into()
            } else if md.is_file() {
                if md.len() > 64 << 20 {
                    format!("big:{}:{:?}", md.len(), md.modified().unwrap())
                } else {
                    use sha2::Digest;
                    hex::encode(sha2::Sha256::digest(std::fs::read(&p).unwrap()))
                }
            } else {
                format!("special:{:?}", md.file_type())
            };
            out.insert(rel, what);
        }
    }
    walk(dir, dir, &mut out);
    out
}

/// Asserts that `reports/` below `root` is still the tree `before` (see [`tree`]).
pub fn assert_reports_unchanged(root: &Path, before: &BTreeMap<String, String>) {
    assert_eq!(&tree(&root.join("reports")), before, "reports/ changed");
}

/// Asserts that the directory outside the workspace is still the tree `before`.
pub fn assert_outside_unchanged(outside: &Path, before: &BTreeMap<String, String>) {
    assert_eq!(&tree(outside), before, "outside files changed");
}

pub struct Daemon {
    pub child: Child,
    pub url: String,
    pub token: String,
    pub client: reqwest::blocking::Client,
}

impl Daemon {
    pub fn start(root: &Path) -> Daemon {
        Daemon::start_with(root, &[])
    }

    /// Starts the daemon with extra environment variables (e.g. test delays).
    pub fn start_with(root: &Path, env: &[(&str, &str)]) -> Daemon {
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--workspace", root.to_str().unwrap()])
            .envs(env.iter().copied())
            .args(["--listen", "127.0.0.1:0"])
            .env("INVARLOCKD_LOG__FORMAT", "json")
            .env("INVARLOCKD_INDEX__SETTLE", "200ms")
            .env("RUST_LOG", "info");
        let (child, url, token) = spawn_listening(cmd, root);
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let d = Daemon {
            child,
            url,
            token,
            client,
        };
        assert!(
            eventually(Duration::from_secs(60), || d.ready()),
            "daemon became ready"
        );
        d
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.url))
            .send()
            .unwrap();
        (r.status().as_u16(), r.text().unwrap())
    }

    pub fn json(&self, path: &str) -> Value {
        let (s, b) = self.get(path);
        assert_eq!(s, 200, "{path}: {b}");
        serde_json::from_str(&b).unwrap()
    }

    pub fn post(&self, path: &str, body: Value) -> (u16, String) {
        let r = self
            .client
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .unwrap();
        (r.status().as_u16(), r.text().unwrap())
    }

    pub fn ready(&self) -> bool {
        self.client
            .get(format!("{}/readyz", self.url))
            .send()
            .is_ok_and(|r| r.status() == 200)
    }

    pub fn status_of(&self, id: &str) -> Option<Value> {
        let (s, b) = self.get(&format!("/v1/attempts/{id}"));
        (s == 200).then(|| serde_json::from_str(&b).unwrap())
    }

    /// The common end of every case: still ready, a new attempt is indexed, SIGTERM exits 0
    /// within 10 s.
    pub fn finish(mut self, root: &Path) {
        assert!(self.ready(), "daemon still ready");
        write_attempt(root, "fresh/20261201_120000");
        assert!(
            eventually(Duration::from_secs(30), || self
                .status_of("fresh/20261201_120000")
                .is_some_and(|a| a["status"] == "pass")),
            "an attempt written afterwards is indexed"
        );
        let pid = self.child.id() as i32;
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let start = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                assert!(st.success(), "SIGTERM exits 0, got {st:?}");
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "SIGTERM did not stop the daemon within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `f` until it is true or the deadline passes. The only way these tests wait.
pub fn eventually(deadline: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + deadline;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A passing attempt, copied from the sample's quant8 run.
pub fn write_attempt(root: &Path, id: &str) {
    let src = sample().join("runs/quant8/20261128_204141");
    let dir = root.join("runs").join(id);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(src.join("events.jsonl"), dir.join("events.jsonl")).unwrap();
    std::fs::copy(src.join("report.json"), dir.join("report.json")).unwrap();
}

/// Every response body of the read API that could carry file content.
pub fn all_bodies(d: &Daemon, ids: &[&str]) -> String {
    let mut all = String::new();
    for p in [
        "/v1/status",
        "/v1/attempts?limit=1000",
        "/v1/runs",
        "/v1/mappings",
    ] {
        all.push_str(&d.get(p).1);
    }
    for id in ids {
        for suffix in ["", "/report", "/events"] {
            all.push_str(&d.get(&format!("/v1/attempts/{id}{suffix}")).1);
        }
    }
    all
}
