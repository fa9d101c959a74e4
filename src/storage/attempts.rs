//! The `attempts`, `attempt_files`, `attempt_history` and `unrecognized` tables.

use super::{StorageError, Tx};
use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use std::collections::HashMap;

/// One attempt row, as written by the indexer and read by the API.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct AttemptRow {
    pub id: String,
    pub nickname: String,
    pub ts: String,
    pub started_at: Option<String>,
    pub dir: String,
    pub status: String,
    pub reason: Option<String>,
    pub report_size: Option<i64>,
    pub report_mtime_ns: Option<i64>,
    pub report_sha256: Option<String>,
    pub events_size: Option<i64>,
    pub events_mtime_ns: Option<i64>,
    pub listing_digest: String,
    pub newest_mtime_ns: Option<i64>,
    pub report_valid: bool,
    pub report_error: Option<String>,
    pub model_id: Option<String>,
    pub adapter: Option<String>,
    pub edit_name: Option<String>,
    pub profile: Option<String>,
    pub seed: Option<i64>,
    pub dataset_hash: Option<String>,
    pub preview_hash: Option<String>,
    pub final_hash: Option<String>,
    pub tokenizer_hash: Option<String>,
    pub ids_sha256: Option<String>,
    pub pm_kind: Option<String>,
    pub paired: bool,
    pub window_pairing_reason: Option<String>,
    pub final_logloss_fp: Option<String>,
    pub run_id: Option<String>,
    pub report_hash: Option<String>,
    pub subject_run_id: Option<String>,
    pub subject_report_hash: Option<String>,
    pub guards_not_passed: Option<String>,
    pub overhead_gate_failed: bool,
    pub pm_invalid: bool,
    pub detail: Option<String>,
    pub events_summary: Option<String>,
    pub runner_status: Option<String>,
    pub runner_error: Option<String>,
    pub sessions: Option<i64>,
    pub session_open: bool,
    pub baseline_fp: Option<String>,
    pub events_dataset_hash: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct FileRow {
    pub name: String,
    pub size: i64,
    pub mtime_ns: i64,
    pub sha256: Option<String>,
}

/// What the scanner compares to decide whether an attempt must be read again (keyed by id;
/// a full scan holds one per attempt, so nothing else is in it).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Fingerprint {
    pub listing_digest: String,
    pub status: String,
}

pub async fn fingerprints(pool: &SqlitePool) -> Result<HashMap<String, Fingerprint>, StorageError> {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("select id, listing_digest, status from attempts")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, listing_digest, status)| {
            (
                id,
                Fingerprint {
                    listing_digest,
                    status,
                },
            )
        })
        .collect())
}

pub async fn fingerprint(pool: &SqlitePool, id: &str) -> Result<Option<Fingerprint>, StorageError> {
    Ok(
        sqlx::query_as("select listing_digest, status from attempts where id = ?")
            .bind(id)
            .fetch_optional(pool)
            .await?,
    )
}

const COLUMNS: &[&str] = &[
    "id",
    "nickname",
    "ts",
    "started_at",
    "dir",
    "status",
    "reason",
    "report_size",
    "report_mtime_ns",
    "report_sha256",
    "events_size",
    "events_mtime_ns",
    "listing_digest",
    "newest_mtime_ns",
    "report_valid",
    "report_error",
    "model_id",
    "adapter",
    "edit_name",
    "profile",
    "seed",
    "dataset_hash",
    "preview_hash",
    "final_hash",
    "tokenizer_hash",
    "ids_sha256",
    "pm_kind",
    "paired",
    "window_pairing_reason",
    "final_logloss_fp",
    "run_id",
    "report_hash",
    "subject_run_id",
    "subject_report_hash",
    "guards_not_passed",
    "overhead_gate_failed",
    "pm_invalid",
    "detail",
    "events_summary",
    "runner_status",
    "runner_error",
    "sessions",
    "session_open",
    "baseline_fp",
    "events_dataset_hash",
];

fn upsert_sql() -> String {
    let cols = COLUMNS.join(", ");
    let params = vec!["?"; COLUMNS.len()].join(", ");
    let updates: Vec<String> = COLUMNS[1..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "insert into attempts ({cols}) values ({params}) on conflict (id) do update set {}, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        updates.join(", ")
    )
}

/// Inserts or replaces an attempt with its file list, and appends a history row when `event`
/// is given (`indexed` for a new attempt, whose old file rows need no deletion; `updated` for a
/// changed one).
pub async fn upsert(
    tx: &mut Tx<'_>,
    a: &AttemptRow,
    files: &[FileRow],
    event: Option<&str>,
) -> Result<(), StorageError> {
    thread_local! {
        static SQL: String = upsert_sql();
    }
    let sql = SQL.with(Clone::clone);
    sqlx::query(&sql)
        .bind(&a.id)
        .bind(&a.nickname)
        .bind(&a.ts)
        .bind(&a.started_at)
        .bind(&a.dir)
        .bind(&a.status)
        .bind(&a.reason)
        .bind(a.report_size)
        .bind(a.report_mtime_ns)
        .bind(&a.report_sha256)
        .bind(a.events_size)
        .bind(a.events_mtime_ns)
        .bind(&a.listing_digest)
        .bind(a.newest_mtime_ns)
        .bind(a.report_valid)
        .bind(&a.report_error)
        .bind(&a.model_id)
        .bind(&a.adapter)
        .bind(&a.edit_name)
        .bind(&a.profile)
        .bind(a.seed)
        .bind(&a.dataset_hash)
        .bind(&a.preview_hash)
        .bind(&a.final_hash)
        .bind(&a.tokenizer_hash)
        .bind(&a.ids_sha256)
        .bind(&a.pm_kind)
        .bind(a.paired)
        .bind(&a.window_pairing_reason)
        .bind(&a.final_logloss_fp)
        .bind(&a.run_id)
        .bind(&a.report_hash)
        .bind(&a.subject_run_id)
        .bind(&a.subject_report_hash)
        .bind(&a.guards_not_passed)
        .bind(a.overhead_gate_failed)
        .bind(a.pm_invalid)
        .bind(&a.detail)
        .bind(&a.events_summary)
        .bind(&a.runner_status)
        .bind(&a.runner_error)
        .bind(a.sessions)
        .bind(a.session_open)
        .bind(&a.baseline_fp)
        .bind(&a.events_dataset_hash)
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

pub async fn history(
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
pub async fn set_status(
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
pub async fn remove(tx: &mut Tx<'_>, id: &str) -> Result<bool, StorageError> {
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

pub async fn get(pool: &SqlitePool, id: &str) -> Result<Option<AttemptRow>, StorageError> {
    Ok(sqlx::query_as("select * from attempts where id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?)
}

pub async fn files(pool: &SqlitePool, id: &str) -> Result<Vec<FileRow>, StorageError> {
    Ok(sqlx::query_as(
        "select name, size, mtime_ns, sha256 from attempt_files where attempt_id = ? order by name",
    )
    .bind(id)
    .fetch_all(pool)
    .await?)
}

/// Attempts that may change status by time alone or by a sibling appearing.
pub async fn running(
    pool: &SqlitePool,
    nickname: Option<&str>,
) -> Result<Vec<AttemptRow>, StorageError> {
    let mut q = QueryBuilder::<Sqlite>::new("select * from attempts where status = 'running'");
    if let Some(n) = nickname {
        q.push(" and nickname = ").push_bind(n);
    }
    Ok(q.build_query_as().fetch_all(pool).await?)
}

/// The newest attempt of `nickname` that has files and is newer than `ts`.
pub async fn newer_sibling_with_files(
    pool: &SqlitePool,
    nickname: &str,
    ts: &str,
) -> Result<Option<String>, StorageError> {
    let row: Option<(String,)> = sqlx::query_as(
        "select id from attempts where nickname = ? and ts > ? and newest_mtime_ns is not null order by ts desc limit 1",
    )
    .bind(nickname)
    .bind(ts)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| r.0))
}

pub async fn all_ids(pool: &SqlitePool) -> Result<Vec<String>, StorageError> {
    let rows: Vec<(String,)> = sqlx::query_as("select id from attempts")
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub async fn count_by_status(pool: &SqlitePool) -> Result<Vec<(String, i64)>, StorageError> {
    Ok(
        sqlx::query_as("select status, n from attempt_counts where n > 0")
            .fetch_all(pool)
            .await?,
    )
}

pub async fn nickname_count(pool: &SqlitePool) -> Result<i64, StorageError> {
    let (n,): (i64,) = sqlx::query_as("select count(*) from nickname_counts")
        .fetch_one(pool)
        .await?;
    Ok(n)
}

pub async fn last_index_event(pool: &SqlitePool) -> Result<Option<String>, StorageError> {
    // The newest row by seq: history rows are appended in time order, so it is the max.
    let t: Option<(String,)> =
        sqlx::query_as("select created_at from attempt_history order by seq desc limit 1")
            .fetch_optional(pool)
            .await?;
    Ok(t.map(|r| r.0))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct HistoryRow {
    pub seq: i64,
    pub event: String,
    pub status: Option<String>,
    pub reason: Option<String>,
    pub report_sha256: Option<String>,
    pub created_at: String,
}

pub async fn history_of(pool: &SqlitePool, id: &str) -> Result<Vec<HistoryRow>, StorageError> {
    Ok(sqlx::query_as(
        "select seq, event, status, reason, report_sha256, created_at from attempt_history where attempt_id = ? order by seq desc limit 50",
    )
    .bind(id)
    .fetch_all(pool)
    .await?)
}

/// Filters of `GET /v1/attempts`, already validated by the HTTP layer.
#[derive(Debug, Clone, Default)]
pub struct AttemptFilter {
    pub nickname: Option<String>,
    pub status: Option<String>,
    pub model_id: Option<String>,
    pub edit: Option<String>,
    pub dataset_hash: Option<String>,
    pub tokenizer_hash: Option<String>,
    pub ids_sha256: Option<String>,
    /// Inclusive bounds on the directory timestamp (`YYYYMMDD_HHMMSS`, local time).
    pub since_ts: Option<String>,
    pub until_ts: Option<String>,
}

/// Keyset position: attempts are listed newest first by (ts, id).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AttemptKey {
    pub ts: String,
    pub id: String,
}

/// One page (newest first) and the key to continue after, if there is more.
pub async fn list(
    pool: &SqlitePool,
    f: &AttemptFilter,
    after: Option<&AttemptKey>,
    limit: u32,
) -> Result<(Vec<AttemptRow>, Option<AttemptKey>), StorageError> {
    let mut q = QueryBuilder::<Sqlite>::new("select * from attempts where 1 = 1");
    let eq = |q: &mut QueryBuilder<Sqlite>, col: &str, v: &Option<String>| {
        if let Some(v) = v {
            q.push(format!(" and {col} = ")).push_bind(v.clone());
        }
    };
    eq(&mut q, "nickname", &f.nickname);
    eq(&mut q, "status", &f.status);
    eq(&mut q, "model_id", &f.model_id);
    eq(&mut q, "edit_name", &f.edit);
    eq(&mut q, "dataset_hash", &f.dataset_hash);
    eq(&mut q, "tokenizer_hash", &f.tokenizer_hash);
    eq(&mut q, "ids_sha256", &f.ids_sha256);
    if let Some(s) = &f.since_ts {
        q.push(" and ts >= ").push_bind(s.clone());
    }
    if let Some(u) = &f.until_ts {
        q.push(" and ts <= ").push_bind(u.clone());
    }
    if let Some(k) = after {
        q.push(" and (ts < ")
            .push_bind(k.ts.clone())
            .push(" or (ts = ")
            .push_bind(k.ts.clone())
            .push(" and id < ")
            .push_bind(k.id.clone())
            .push("))");
    }
    q.push(" order by ts desc, id desc limit ")
        .push_bind(limit as i64 + 1);
    let rows: Vec<AttemptRow> = q.build_query_as().fetch_all(pool).await?;
    Ok(super::split_page(rows, limit, |r| AttemptKey {
        ts: r.ts.clone(),
        id: r.id.clone(),
    }))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UnrecognizedRow {
    pub path: String,
    pub kind: String,
    pub reason: String,
}

/// Replaces the whole unrecognized list (it is recomputed by every full scan).
pub async fn replace_unrecognized(
    tx: &mut Tx<'_>,
    rows: &[UnrecognizedRow],
) -> Result<(), StorageError> {
    sqlx::query("delete from unrecognized")
        .execute(&mut **tx)
        .await?;
    insert_unrecognized(tx, rows).await
}

/// Replaces the unrecognized rows for one top-level entry of runs/ (`top` and below it).
pub async fn replace_unrecognized_under(
    tx: &mut Tx<'_>,
    top: &str,
    rows: &[UnrecognizedRow],
) -> Result<(), StorageError> {
    // A prefix test without LIKE, whose wildcards a directory name may contain.
    sqlx::query(
        "delete from unrecognized where path = ?1 or substr(path, 1, length(?1) + 1) = ?1 || '/'",
    )
    .bind(top)
    .execute(&mut **tx)
    .await?;
    insert_unrecognized(tx, rows).await
}

async fn insert_unrecognized(
    tx: &mut Tx<'_>,
    rows: &[UnrecognizedRow],
) -> Result<(), StorageError> {
    for r in rows {
        sqlx::query("insert or replace into unrecognized (path, kind, reason) values (?, ?, ?)")
            .bind(&r.path)
            .bind(&r.kind)
            .bind(&r.reason)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

pub async fn list_unrecognized(
    pool: &SqlitePool,
    limit: u32,
) -> Result<Vec<UnrecognizedRow>, StorageError> {
    Ok(
        sqlx::query_as("select path, kind, reason from unrecognized order by path limit ?")
            .bind(limit as i64)
            .fetch_all(pool)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Storage;

    fn row(nick: &str, ts: &str, status: &str) -> AttemptRow {
        AttemptRow {
            id: format!("{nick}/{ts}"),
            nickname: nick.into(),
            ts: ts.into(),
            dir: format!("runs/{nick}/{ts}"),
            status: status.into(),
            listing_digest: "x".into(),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn attempts_are_listed_newest_first_in_keyset_pages_and_removal_keeps_history() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(&dir.path().join("index.db")).await.unwrap();
        let mut tx = s.begin().await.unwrap();
        for (i, st) in ["pass", "fail", "pass"].iter().enumerate() {
            let files = [FileRow {
                name: "report.json".into(),
                size: 1,
                mtime_ns: 1,
                sha256: None,
            }];
            upsert(
                &mut tx,
                &row("a/b", &format!("2026112{i}_000000"), st),
                &files,
                Some("indexed"),
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        let f = AttemptFilter::default();
        let (p1, next) = list(s.reader(), &f, None, 2).await.unwrap();
        assert_eq!(p1[0].ts, "20261122_000000");
        let (p2, end) = list(s.reader(), &f, next.as_ref(), 2).await.unwrap();
        assert_eq!((p2.len(), end), (1, None));
        let pass = AttemptFilter {
            status: Some("pass".into()),
            ..Default::default()
        };
        assert_eq!(list(s.reader(), &pass, None, 10).await.unwrap().0.len(), 2);

        let mut tx = s.begin().await.unwrap();
        assert!(remove(&mut tx, "a/b/20261120_000000").await.unwrap());
        tx.commit().await.unwrap();
        assert!(get(s.reader(), "a/b/20261120_000000")
            .await
            .unwrap()
            .is_none());
        let h = history_of(s.reader(), "a/b/20261120_000000").await.unwrap();
        assert_eq!(h[0].event, "removed");
        assert!(files(s.reader(), "a/b/20261120_000000")
            .await
            .unwrap()
            .is_empty());
    }
}
