use super::*;
use serde_json::json;

/// Runs each named case (an `async fn(Records)` on empty records of workspace `test`) on a
/// SQLite file and on a fresh PostgreSQL database (skipped without a server outside CI).
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            use super::*;

            #[tokio::test]
            async fn on_sqlite() {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("state/records.db");
                super::$case(Records::open(&path, None, &own()).await.unwrap()).await;
            }

            #[tokio::test]
            async fn on_postgres() {
                let Some(db) = crate::storage::testing::TestDb::create().await else {
                    return;
                };
                let r = Records::open_postgres(&db.url, &own()).await.unwrap();
                super::$case(r.clone()).await;
                r.close().await;
            }
        }
    )*};
}

on_both_backends!(
    audit_order_comes_from_the_database_and_the_chain_verifies,
    completing_an_intent_appends_its_entries_once_and_closes_it,
    an_intent_that_does_not_parse_stops_recovery,
);

fn entry(subject: &str) -> AuditEntry {
    AuditEntry::new(
        "promotion.created",
        subject,
        Some("admin"),
        json!({ "k": 1 }),
    )
}

async fn audit_order_comes_from_the_database_and_the_chain_verifies(r: Records) {
    let a = r.append_audit(&entry("a")).await.unwrap();
    let b = r.append_audit(&entry("b")).await.unwrap();
    assert_eq!((a.seq, b.seq), (1, 2));
    assert_eq!(b.prev_hash, a.hash);
    let check = r.check_chain("test").await.unwrap();
    assert!(check.ok, "{check:?}");
    assert_eq!(check.entries, 2);
}

async fn completing_an_intent_appends_its_entries_once_and_closes_it(r: Records) {
    let id = r
        .open_intent(IntentKind::Promotion, &json!({ "archives": [] }))
        .await
        .unwrap();
    assert_eq!(
        r.open_intents::<serde_json::Value>(IntentKind::Promotion)
            .await
            .unwrap()
            .len(),
        1
    );
    r.complete_intent(id, &[entry("a"), entry("b")])
        .await
        .unwrap();
    assert!(r
        .open_intents::<serde_json::Value>(IntentKind::Promotion)
        .await
        .unwrap()
        .is_empty());
    // A second completion is refused and appends nothing.
    assert!(r.complete_intent(id, &[entry("c")]).await.is_err());
    assert_eq!(r.audit_page(None, 0, 10).await.unwrap().len(), 2);
}

async fn an_intent_that_does_not_parse_stops_recovery(r: Records) {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Strict {
        archives: Vec<String>,
    }
    r.open_intent(IntentKind::Promotion, &json!({ "archives": 3 }))
        .await
        .unwrap();
    let err = r.open_intents::<Strict>(IntentKind::Promotion).await;
    assert!(matches!(err, Err(StorageError::Corrupt(_))), "{err:?}");
}

#[tokio::test]
async fn records_of_an_older_index_are_taken_over_once() {
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("index.db");
    {
        let opts = options(&index).unwrap();
        let pool = SqlitePoolOptions::new().connect_with(opts).await.unwrap();
        for sql in [
            "create table audit_log (seq integer primary key autoincrement, at text not null, action text not null, subject text not null, actor text, detail text not null, prev_hash text not null, hash text not null, created_at text not null default 'x')",
            "insert into audit_log (seq, at, action, subject, actor, detail, prev_hash, hash) values (1, 't', 'promotion.created', 'q8', null, '{}', '0', 'h1')",
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
    let path = dir.path().join("records.db");
    let r = Records::open(&path, Some(&index), &own()).await.unwrap();
    assert_eq!(r.audit_page(None, 0, 10).await.unwrap()[0].subject, "q8");
    let next = r.append_audit(&entry("later")).await.unwrap();
    assert_eq!(
        next.seq, 2,
        "the sequence continues after the imported rows"
    );
    r.close().await;
    let again = Records::open(&path, Some(&index), &own()).await.unwrap();
    assert_eq!(again.audit_page(None, 0, 10).await.unwrap().len(), 2);
}

fn own() -> crate::domain::WorkspaceId {
    crate::domain::WorkspaceId::parse("test").unwrap()
}
