//! A PostgreSQL 15 server of the test's own, in a temp dir on a free port: the outage tests
//! stop and start it, which must never touch the shared server other suites use.
#![allow(dead_code)] // each suite uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = "/usr/lib/postgresql/15/bin";

pub struct PrivatePg {
    /// Holds the data directory, the socket directory and the log.
    dir: tempfile::TempDir,
    pub port: u16,
    /// `postgres://invarlockd@127.0.0.1:<port>/invarlockd` (trust auth, loopback only).
    pub url: String,
}

/// Whether a missing server may skip a test: never under CI=true.
fn may_skip() -> bool {
    std::env::var("CI").map_or(true, |v| v != "true")
}

impl PrivatePg {
    /// A running server with an empty `invarlockd` database, or None (with a message) when
    /// PostgreSQL 15 is not installed and the test may be skipped.
    pub fn start(test: &str) -> Option<PrivatePg> {
        if !Path::new(BIN).join("initdb").exists() {
            assert!(
                may_skip(),
                "{test}: PostgreSQL 15 is not installed ({BIN}) and CI=true never skips"
            );
            eprintln!("skipping {test}: PostgreSQL 15 not installed at {BIN}");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        // initdb and postgres refuse to run as root: as root, the files and the server belong
        // to the `postgres` account.
        if is_root() {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path()));
        }
        let port = free_port();
        let pg = PrivatePg {
            port,
            url: format!("postgres://invarlockd@127.0.0.1:{port}/invarlockd"),
            dir,
        };
        run(pg
            .command("initdb")
            .args([
                "--username=invarlockd",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ])
            .arg("-D")
            .arg(pg.data()));
        pg.start_again();
        run(pg.command("createdb").args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "invarlockd",
            "invarlockd",
        ]));
        Some(pg)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, tool: &str) -> Command {
        let path = Path::new(BIN).join(tool);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    /// Starts the server (again) and waits until it accepts connections (`pg_ctl -w`).
    pub fn start_again(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        run(self
            .command("pg_ctl")
            .arg("start")
            .arg("-w")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("log"))
            .args(["-o", &opts]));
    }

    /// Stops the server the way a crash does (`-m immediate`: no checkpoint, every connection
    /// cut), waiting until it is gone.
    pub fn kill(&self) {
        run(self
            .command("pg_ctl")
            .args(["stop", "-w", "-m", "immediate", "-D"])
            .arg(self.data()));
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["stop", "-m", "immediate", "-D"])
            .arg(self.data())
            .output();
    }
}

fn is_root() -> bool {
    // The test process's effective uid, from procfs (no unsafe needed).
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
