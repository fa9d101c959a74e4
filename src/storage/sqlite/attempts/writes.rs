//! Writes of one attempt inside the indexer's transaction: the row with its files and history
//! event, a derived status change, a removal.

use super::super::Tx;
use crate::storage::attempts::{with_attempt_columns, AttemptRow, FileRow};
use crate::storage::StorageError;
use sqlx::{QueryBuilder, Sqlite};

/// The attempt upsert: every column from the one list, `id` the conflict key.
fn upsert_sql() -> String {
    let cols = AttemptRow::COLUMNS;
    let updates: Vec<String> = cols[1..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "insert into attempts ({}) values ({}) on conflict (id) do update set {}, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        cols.join(", "),
        vec!["?"; cols.len()].join(", "),
        updates.join(", ")
    )
}

/// Binds every column of `a` in `AttemptRow::COLUMNS` order.
macro_rules! bind_attempt {
    ($($col:ident: $ty:ty,)*) => {
        fn bind_attempt<'q>(
            q: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
            a: &'q AttemptRow,
        ) -> sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
            q$(.bind(&a.$col))*
        }
    };
}
with_attempt_columns!(bind_attempt);

/// Inserts or replaces an attempt with its file list, and appends a history row when `event`
/// is given (`indexed` for a new attempt, whose old file rows need no deletion; `updated` for a
/// changed one).
pub(super) async fn upsert(
    tx: &mut Tx<'_>,
    a: &AttemptRow,
    files: &[FileRow],
    event: Option<&str>,
) -> Result<(), StorageError> {
    thread_local! {
        static SQL: String = upsert_sql();
    }
    let sql = SQL.with(Clone::clone);
    bind_attempt(sqlx::query(&sql), a)
        .execute(&mut **tx)
        .await?;
    if event != Some("indexed") {
        sqlx::query("delete from attempt_files where attempt_id = ?")
            .bind(&a.id)
            .execute(&mut **tx)
            .await?;
    }
    if !files.is_empty() {
        // One statement for all files (SQLite allows 32766 parameters; 5 per row).
        for chunk in files.chunks(1000) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "insert into attempt_files (attempt_id, name, size, mtime_ns, sha256) ",
            );
            q.push_values(chunk, |mut b, f| {
                b.push_bind(&a.id)
                    .push_bind(&f.name)
                    .push_bind(f.size)
                    .push_bind(f.mtime_ns)
                    .push_bind(&f.sha256);
            });
            q.build().execute(&mut **tx).await?;
        }
    }
    if let Some(event) = event {
        history(
            tx,
            &a.id,
            event,
            Some(&a.status),
            a.reason.as_deref(),
            a.report_sha256.as_deref(),
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn history(
    tx: &mut Tx<'_>,
    id: &str,
    event: &str,
    status: Option<&str>,
    reason: Option<&str>,
    report_sha256: Option<&str>,
) -> Result<(), StorageError> {
    sqlx::query("insert into attempt_history (attempt_id, event, status, reason, report_sha256) values (?, ?, ?, ?, ?)")
        .bind(id)
        .bind(event)
        .bind(status)
        .bind(reason)
        .bind(report_sha256)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Changes only the derived status (time passing, a newer sibling appearing).
pub(super) async fn set_status(
    tx: &mut Tx<'_>,
    id: &str,
    status: &str,
    reason: Option<&str>,
) -> Result<(), StorageError> {
    sqlx::query("update attempts set status = ?, reason = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') where id = ?")
        .bind(status)
        .bind(reason)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    history(tx, id, "updated", Some(status), reason, None).await
}

/// Removes an attempt (files and mapping cascade) and records the removal in the history.
pub(super) async fn remove(tx: &mut Tx<'_>, id: &str) -> Result<bool, StorageError> {
    let gone = sqlx::query("delete from attempts where id = ?")
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected()
        > 0;
    if gone {
        history(
            tx,
            id,
            "removed",
            None,
            Some("the attempt directory is gone"),
            None,
        )
        .await?;
    }
    Ok(gone)
}
