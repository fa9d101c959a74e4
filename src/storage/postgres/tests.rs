//! Several workspaces in one PostgreSQL database: what one daemon writes every daemon reads,
//! naming its workspace; pages over the fleet neither skip nor repeat; each workspace's audit
//! chain stays whole under concurrent writers; a lost server is `unavailable`.

use crate::domain::WorkspaceId;
use crate::storage::attempts::{AttemptFilter, AttemptRow};
use crate::storage::records::{AuditEntry, Records};
use crate::storage::testing::{attempt_row, write_indexed as write, TestDb};
use crate::storage::workspace::ListKey;
use crate::storage::Storage;

fn ws(id: &str) -> WorkspaceId {
    WorkspaceId::parse(id).unwrap()
}

fn attempt(nick: &str, ts: &str) -> AttemptRow {
    attempt_row(nick, ts, "pass")
}

#[tokio::test]
async fn two_workspaces_in_one_database_are_listed_together_and_page_without_skips_or_repeats() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let a = Storage::open_postgres(&db.url, &ws("gpu-a"), Some("http://a".into()))
        .await
        .unwrap();
    let b = Storage::open_postgres(&db.url, &ws("gpu-b"), None)
        .await
        .unwrap();
    // As a daemon does once it knows the id is its own (fleet::registry::check_unique).
    a.register_workspace().await.unwrap();
    b.register_workspace().await.unwrap();
    // The same ids in both workspaces (two hosts, one nickname, the same second), and one each.
    let shared: Vec<AttemptRow> = (0..5)
        .map(|i| attempt("q8", &format!("2026120{i}_000000")))
        .collect();
    write(&a, &shared).await;
    write(&b, &shared).await;
    write(&a, &[attempt("only-a", "20261209_000000")]).await;
    write(&b, &[attempt("only-b", "20261208_000000")]).await;

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let (page, next) = b
            .attempts_page(&AttemptFilter::default(), after.as_ref(), 3)
            .await
            .unwrap();
        seen.extend(page.into_iter().map(|r| (r.ts, r.id, r.workspace)));
        match next {
            Some(k) => after = Some(k),
            None => break,
        }
    }
    let mut want = seen.clone();
    want.sort_by(|x, y| y.cmp(x));
    want.dedup();
    assert_eq!(seen, want, "newest first, each row once");
    assert_eq!(seen.len(), 12);
    assert_eq!(seen[0].2, "gpu-a", "only-a is the newest");

    let mine = AttemptFilter {
        workspace: Some("gpu-b".into()),
        ..Default::default()
    };
    let (page, _) = a.attempts_page(&mine, None, 100).await.unwrap();
    assert!(page.iter().all(|r| r.workspace == "gpu-b") && page.len() == 6);

    let id = &shared[0].id;
    assert_eq!(b.attempt_workspaces(id).await.unwrap(), ["gpu-b", "gpu-a"]);
    assert_eq!(a.attempt_workspaces(id).await.unwrap(), ["gpu-a", "gpu-b"]);
    let other = a.attempt("gpu-b", id).await.unwrap().unwrap();
    assert_eq!(other.workspace, "gpu-b");
    assert!(a.attempt("gpu-c", id).await.unwrap().is_none());

    let (runs, next) = a.runs_page(None, None, 2).await.unwrap();
    let names: Vec<_> = runs
        .iter()
        .map(|r| (r.nickname.as_str(), r.workspace.as_str()))
        .collect();
    assert_eq!(names, [("only-a", "gpu-a"), ("only-b", "gpu-b")]);
    let key = next.unwrap();
    let (rest, end) = a.runs_page(None, Some(&key), 10).await.unwrap();
    let names: Vec<_> = rest
        .iter()
        .map(|r| (r.nickname.as_str(), r.workspace.as_str()))
        .collect();
    assert_eq!((names, end), (vec![("q8", "gpu-a"), ("q8", "gpu-b")], None));
    let mid = ListKey {
        key: "q8".into(),
        workspace: "gpu-a".into(),
    };
    let (tail, _) = a.runs_page(None, Some(&mid), 10).await.unwrap();
    assert_eq!(tail.len(), 1, "after (q8, gpu-a) comes only (q8, gpu-b)");

    let all = a.status_counts(None).await.unwrap();
    assert_eq!(all.by_status, [("pass".to_string(), 12)]);
    assert_eq!(
        b.status_counts(Some("gpu-a")).await.unwrap().by_status,
        [("pass".to_string(), 6)]
    );
    let registry = b.workspaces().await.unwrap();
    let ids: Vec<_> = registry
        .iter()
        .map(|w| (w.id.as_str(), w.public_url.as_deref()))
        .collect();
    assert_eq!(ids, [("gpu-a", Some("http://a")), ("gpu-b", None)]);
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn each_workspaces_audit_chain_stays_whole_with_many_concurrent_writers() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let mut writers = Vec::new();
    for id in ["gpu-a", "gpu-b"] {
        for _ in 0..3 {
            writers.push(Records::open_postgres(&db.url, &ws(id)).await.unwrap());
        }
    }
    let tasks = writers.iter().enumerate().map(|(n, r)| async move {
        for i in 0..20 {
            let e = AuditEntry::new(
                "promotion.created",
                format!("w{n}-{i}"),
                None,
                serde_json::json!({}),
            );
            r.append_audit(&e).await.unwrap();
        }
    });
    futures::future::join_all(tasks).await;
    for id in ["gpu-a", "gpu-b"] {
        let check = writers[0].check_chain(id).await.unwrap();
        assert!(check.ok, "{id}: {check:?}");
        assert_eq!(check.entries, 60, "{id}: every append is in the chain");
    }
    let page = writers[0].audit_page(Some("gpu-b"), 0, 1000).await.unwrap();
    assert!(page.iter().all(|r| r.workspace == "gpu-b") && page.len() == 60);
    assert_eq!(
        writers[0].audit_page(None, 0, 1000).await.unwrap().len(),
        120
    );
    for r in &writers {
        r.close().await;
    }
}

#[tokio::test]
async fn a_server_that_cannot_be_reached_is_reported_unavailable() {
    // A port nothing listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://invarlockd:invarlockd@127.0.0.1:{port}/invarlockd");
    let err = Storage::open_postgres(&url, &ws("gpu-a"), None)
        .await
        .expect_err("nothing listens there");
    assert!(err.is_unavailable(), "{err:?}");
}
