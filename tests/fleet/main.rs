//! Several daemons on one PostgreSQL database: real daemon binaries on temp workspaces.
//!
//! Outside CI a test skips (with a message) when no PostgreSQL is available; under CI=true it
//! never skips (`.ci/run` starts the server).
#[path = "../support/daemon.rs"]
mod daemon;
#[path = "../support/private_pg.rs"]
mod private_pg;

mod one_id;
mod outage;
mod two_daemons;

use daemon::{copy_dir, sample, Daemon};
use invarlockd::storage::testing::TestDb;
use std::path::Path;

/// A fresh database on the shared test server (`INVARLOCKD_TEST_PG`, started by `.ci/run`),
/// dropped at the end; None (after saying why) when there is none outside CI.
pub fn fresh_database() -> Option<TestDb> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(TestDb::create())
}

/// A daemon of workspace `id` on `root`, indexing into `database`.
pub fn start(root: &Path, id: &str, database: &str) -> Daemon {
    Daemon::start_with(
        root,
        &[
            ("INVARLOCKD_DATABASE__URL", database),
            ("INVARLOCKD_WORKSPACE__ID", id),
        ],
    )
}

/// A workspace holding one passing baseline attempt, `<nickname>/<ts>`, copied from the
/// sample's rel_baseline run.
pub fn workspace_with_baseline(nickname_ts: &str) -> tempfile::TempDir {
    let ws = tempfile::tempdir().unwrap();
    let dir = ws.path().join("runs").join(nickname_ts);
    copy_dir(&sample().join("runs/rel_baseline/20261128_204321"), &dir);
    std::fs::create_dir_all(ws.path().join("reports")).unwrap();
    ws
}

/// The ids (with their workspace) a daemon lists, whole fleet, every page.
pub fn listed(d: &Daemon, query: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = d.json(&format!("/v1/attempts?limit=1000{query}{token}"));
        out.extend(page["items"].as_array().unwrap().iter().map(|a| {
            (
                a["workspace"].as_str().unwrap_or("").to_string(),
                a["id"].as_str().unwrap().to_string(),
            )
        }));
        match page["next_page_token"].as_str() {
            Some(t) => token = format!("&page_token={t}"),
            None => return out,
        }
    }
}
