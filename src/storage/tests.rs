//! Storage as callers see it: operations, scopes, the registry.

use super::*;
use testing::{attempt_row as attempt, write_indexed as write};

#[tokio::test]
async fn opening_applies_migrations_and_the_index_is_writable() {
    let dir = tempfile::tempdir().unwrap();
    let s = Storage::open_test(&dir.path().join("state/index.db")).await;
    s.check_writable().await.unwrap();
    let summary = s.status_summary().await.unwrap();
    assert_eq!(summary["attempts"]["total"], 0);
    let live = s.sqlite();
    let (mode,): (String,) = sqlx::query_as("pragma journal_mode")
        .fetch_one(live.index().reader())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn page_tokens_round_trip_and_garbage_is_rejected() {
    let t = encode_token(&("20261128_204141", "a/b"));
    assert_eq!(decode_token::<(String, String)>(&t).unwrap().1, "a/b");
    assert!(decode_token::<(String, String)>("!!").is_none());
}

/// Runs each named case (an `async fn(Storage)` on an empty index whose workspace is `test`)
/// on SQLite and on a fresh PostgreSQL database (skipped without a server outside CI).
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            use super::*;

            #[tokio::test]
            async fn on_sqlite() {
                let dir = tempfile::tempdir().unwrap();
                super::$case(Storage::open_test(&dir.path().join("index.db")).await).await;
            }

            #[tokio::test]
            async fn on_postgres() {
                let Some(db) = testing::TestDb::create().await else {
                    return;
                };
                let s = Storage::open_postgres(&db.url, &test_ws("test"), None)
                    .await
                    .unwrap();
                s.register_workspace().await.unwrap();
                super::$case(s.clone()).await;
                s.close().await;
            }
        }
    )*};
}

on_both_backends!(
    rows_name_their_workspace_and_a_scope_of_another_workspace_finds_nothing,
    the_registry_lists_this_daemon_with_its_last_contact,
);

fn test_ws(id: &str) -> crate::domain::WorkspaceId {
    crate::domain::WorkspaceId::parse(id).unwrap()
}

async fn rows_name_their_workspace_and_a_scope_of_another_workspace_finds_nothing(s: Storage) {
    let a = attempt("q8", "20261201_000000", "pass");
    write(&s, std::slice::from_ref(&a)).await;

    let mine = s.attempt("test", &a.id).await.unwrap().unwrap();
    assert_eq!(mine.workspace, "test");
    assert!(s.attempt("elsewhere", &a.id).await.unwrap().is_none());
    assert_eq!(s.attempt_workspaces(&a.id).await.unwrap(), ["test"]);
    assert!(s
        .attempt_workspaces("q8/20261201_000001")
        .await
        .unwrap()
        .is_empty());

    let all = attempts::AttemptFilter::default();
    let (page, _) = s.attempts_page(&all, None, 10).await.unwrap();
    assert_eq!(
        page.iter()
            .map(|r| r.workspace.as_str())
            .collect::<Vec<_>>(),
        ["test"]
    );
    let other = attempts::AttemptFilter {
        workspace: Some("elsewhere".into()),
        ..Default::default()
    };
    assert!(s
        .attempts_page(&other, None, 10)
        .await
        .unwrap()
        .0
        .is_empty());

    let (runs, _) = s.runs_page(None, None, 10).await.unwrap();
    assert_eq!(
        (runs[0].workspace.as_str(), runs[0].nickname.as_str()),
        ("test", "q8")
    );
    assert!(s
        .runs_page(Some("elsewhere"), None, 10)
        .await
        .unwrap()
        .0
        .is_empty());
    assert_eq!(
        s.status_counts(Some("test")).await.unwrap().by_status,
        [("pass".to_string(), 1)]
    );
    assert!(s
        .status_counts(Some("elsewhere"))
        .await
        .unwrap()
        .by_status
        .is_empty());
    let running = s.running_attempts().await.unwrap();
    assert!(running.iter().all(|r| r.workspace == "test"));
}

async fn the_registry_lists_this_daemon_with_its_last_contact(s: Storage) {
    s.register_workspace().await.unwrap();
    let before = s.workspaces().await.unwrap();
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].id, "test");
    assert_eq!(before[0].host, workspace::host_name());
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    s.heartbeat().await.unwrap();
    let after = s.workspaces().await.unwrap();
    assert!(after[0].last_contact_at > before[0].last_contact_at);
    assert_eq!(after[0].started_at, before[0].started_at);
}

/// The heartbeat's writability probe changes nothing an answer shows: it moves no generation
/// (else every ETag and kept page of the index would expire every two seconds); a real write
/// after it moves the generation by exactly one.
#[tokio::test]
async fn the_writability_probe_moves_no_generation_and_a_real_write_moves_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = Storage::open_test(&dir.path().join("index.db")).await;
    let stable = || async {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if let Some(g) = s.generation.stable() {
                return g;
            }
            assert!(std::time::Instant::now() < deadline, "never settled");
            tokio::task::yield_now().await;
        }
    };
    let before = stable().await;
    for _ in 0..5 {
        s.check_writable().await.unwrap();
    }
    // A read on the writer: it gets the connection only after the probes' releases ran.
    s.fingerprints().await.unwrap();
    assert_eq!(stable().await, before, "the probes moved the generation");
    write(&s, &[attempt("n", "20261101_000000", "pass")]).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let after = loop {
        let now = stable().await;
        if now != before {
            break now;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the write never settled"
        );
        tokio::task::yield_now().await;
    };
    assert_eq!((after.0, after.1), (before.0, before.1 + 1));
}
