//! Test support for the PostgreSQL backend, used by unit tests and by tests/: a fresh, uniquely
//! named database per test on the server `INVARLOCKD_TEST_PG` names (a URL whose role may
//! create databases), dropped when the test ends.
//!
//! Without a reachable server a test that needs one is skipped with a message, except under
//! `CI=true`, where it fails: CI starts PostgreSQL (.ci/run), so a missing server there is a
//! broken setup, not a reason to pass.

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

/// The variable naming the test server.
pub const TEST_PG: &str = "INVARLOCKD_TEST_PG";

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDb {
    /// The URL of the fresh database.
    pub url: String,
    server: String,
    name: String,
}

fn skip_or_fail(why: &str) -> Option<TestDb> {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("PostgreSQL tests cannot run under CI=true: {why}");
    }
    eprintln!("skipping a PostgreSQL test: {why}");
    None
}

impl TestDb {
    /// Creates the database; None (after saying why) when no server is configured or reachable
    /// outside CI.
    pub async fn create() -> Option<TestDb> {
        let Ok(server) = std::env::var(TEST_PG) else {
            return skip_or_fail(&format!("{TEST_PG} is not set"));
        };
        static N: AtomicU32 = AtomicU32::new(0);
        let mut rnd = [0u8; 4];
        getrandom::fill(&mut rnd).expect("random bytes");
        let name = format!(
            "invarlockd_test_{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst),
            hex::encode(rnd)
        );
        let admin = match PgConnectOptions::from_str(&server) {
            Ok(o) => o,
            Err(e) => panic!("{TEST_PG} is not a PostgreSQL URL: {e}"),
        };
        let mut conn = match admin.connect().await {
            Ok(c) => c,
            Err(e) => return skip_or_fail(&format!("cannot connect to {server}: {e}")),
        };
        sqlx::query(&format!("create database {name}"))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("create database {name} on {server}: {e}"));
        let _ = conn.close().await;
        let url = admin.database(&name).to_url_lossy().to_string();
        Some(TestDb { url, server, name })
    }
}

impl Drop for TestDb {
    /// Drops the database (forcing out connections a failed test left open). Drop cannot
    /// await, so this runs on a thread of its own with its own runtime.
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = PgConnectOptions::from_str(&server)
                    .ok()?
                    .connect()
                    .await
                    .ok()?;
                sqlx::query(&format!("drop database if exists {name} with (force)"))
                    .execute(&mut conn)
                    .await
                    .ok()?;
                conn.close().await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("could not drop the test database {}", self.name);
        }
    }
}

/// An attempt row as unit tests write it: the id and directory follow from the nickname and
/// timestamp, every other field is empty.
#[cfg(test)]
pub(crate) fn attempt_row(nick: &str, ts: &str, status: &str) -> super::attempts::AttemptRow {
    super::attempts::AttemptRow {
        id: format!("{nick}/{ts}"),
        nickname: nick.into(),
        ts: ts.into(),
        dir: format!("runs/{nick}/{ts}"),
        status: status.into(),
        listing_digest: "x".into(),
        ..Default::default()
    }
}

/// Writes the rows in one batch as the indexer does (no files, an `indexed` event each).
#[cfg(test)]
pub(crate) async fn write_indexed(s: &super::Storage, rows: &[super::attempts::AttemptRow]) {
    let batch: Vec<super::attempts::AttemptWrite> = rows
        .iter()
        .map(|row| super::attempts::AttemptWrite {
            row,
            files: &[],
            event: Some("indexed"),
        })
        .collect();
    s.write_attempts(&batch, None).await.unwrap();
}
