//! SQLite: the `attempts`, `attempt_files`, `attempt_history` and `unrecognized` tables. Here the
//! reads and the index's attempt operations; an attempt's writes in `writes`, the listing's page
//! in `listing`, the unrecognized entries in `unrecognized`.

use crate::storage::attempts::{
    AttemptFilter, AttemptKey, AttemptPageJson, AttemptRow, AttemptSummaryRow, AttemptWrite,
    FileRow, Fingerprint, HistoryRow, UnrecognizedRow,
};
use crate::storage::StorageError;
use listing::{list, page_json};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use std::collections::HashMap;
use unrecognized::{list_unrecognized, replace_unrecognized, replace_unrecognized_under};
use writes::{remove, set_status, upsert};

mod listing;
mod unrecognized;
mod writes;

pub(super) async fn fingerprints(
    pool: &SqlitePool,
) -> Result<HashMap<String, Fingerprint>, StorageError> {
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

pub(super) async fn fingerprint(
    pool: &SqlitePool,
    id: &str,
) -> Result<Option<Fingerprint>, StorageError> {
    Ok(
        sqlx::query_as("select listing_digest, status from attempts where id = ?")
            .bind(id)
            .fetch_optional(pool)
            .await?,
    )
}

pub(super) async fn get(pool: &SqlitePool, id: &str) -> Result<Option<AttemptRow>, StorageError> {
    Ok(sqlx::query_as("select * from attempts where id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?)
}

pub(super) async fn files(pool: &SqlitePool, id: &str) -> Result<Vec<FileRow>, StorageError> {
    Ok(sqlx::query_as(
        "select name, size, mtime_ns, sha256 from attempt_files where attempt_id = ? order by name",
    )
    .bind(id)
    .fetch_all(pool)
    .await?)
}

/// Attempts that may change status by time alone or by a sibling appearing.
pub(super) async fn running(
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
pub(super) async fn newer_sibling_with_files(
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

pub(super) async fn all_ids(pool: &SqlitePool) -> Result<Vec<String>, StorageError> {
    let rows: Vec<(String,)> = sqlx::query_as("select id from attempts")
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub(super) async fn count_by_status(pool: &SqlitePool) -> Result<Vec<(String, i64)>, StorageError> {
    Ok(
        sqlx::query_as("select status, n from attempt_counts where n > 0")
            .fetch_all(pool)
            .await?,
    )
}

pub(super) async fn nickname_count(pool: &SqlitePool) -> Result<i64, StorageError> {
    let (n,): (i64,) = sqlx::query_as("select count(*) from nickname_counts")
        .fetch_one(pool)
        .await?;
    Ok(n)
}

pub(super) async fn last_index_event(pool: &SqlitePool) -> Result<Option<String>, StorageError> {
    // The newest row by seq: history rows are appended in time order, so it is the max.
    let t: Option<(String,)> =
        sqlx::query_as("select created_at from attempt_history order by seq desc limit 1")
            .fetch_optional(pool)
            .await?;
    Ok(t.map(|r| r.0))
}

pub(super) async fn history_of(
    pool: &SqlitePool,
    id: &str,
) -> Result<Vec<HistoryRow>, StorageError> {
    Ok(sqlx::query_as(
        "select seq, event, status, reason, report_sha256, created_at from attempt_history where attempt_id = ? order by seq desc limit 50",
    )
    .bind(id)
    .fetch_all(pool)
    .await?)
}

/// The attempt operations. Reads for the API use the read pool; reads that decide what the
/// indexer writes next use the writer, so they see its last commit.
impl super::Index {
    pub async fn attempt(&self, id: &str) -> Result<Option<AttemptRow>, StorageError> {
        get(&self.reader, id).await
    }

    pub async fn attempt_files(&self, id: &str) -> Result<Vec<FileRow>, StorageError> {
        files(&self.reader, id).await
    }

    pub async fn attempt_history(&self, id: &str) -> Result<Vec<HistoryRow>, StorageError> {
        history_of(&self.reader, id).await
    }

    pub async fn attempts_page(
        &self,
        filter: &AttemptFilter,
        after: Option<&AttemptKey>,
        limit: u32,
    ) -> Result<(Vec<AttemptSummaryRow>, Option<AttemptKey>), StorageError> {
        list(&self.reader, filter, after, limit).await
    }

    /// `workspace`: the daemon's own id, which each object names.
    pub async fn attempts_page_json(
        &self,
        workspace: &str,
        filter: &AttemptFilter,
        after: Option<&AttemptKey>,
        limit: u32,
    ) -> Result<AttemptPageJson, StorageError> {
        page_json(&self.reader, workspace, filter, after, limit).await
    }

    pub async fn attempt_counts(&self) -> Result<Vec<(String, i64)>, StorageError> {
        count_by_status(&self.reader).await
    }

    pub async fn unrecognized(&self, limit: u32) -> Result<Vec<UnrecognizedRow>, StorageError> {
        list_unrecognized(&self.reader, limit).await
    }

    pub async fn fingerprints(&self) -> Result<HashMap<String, Fingerprint>, StorageError> {
        fingerprints(&self.writer).await
    }

    pub async fn fingerprint(&self, id: &str) -> Result<Option<Fingerprint>, StorageError> {
        fingerprint(&self.writer, id).await
    }

    pub async fn attempt_ids(&self) -> Result<Vec<String>, StorageError> {
        all_ids(&self.writer).await
    }

    pub async fn running_attempts(&self) -> Result<Vec<AttemptRow>, StorageError> {
        running(&self.writer, None).await
    }

    pub async fn newer_sibling_with_files(
        &self,
        nickname: &str,
        ts: &str,
    ) -> Result<Option<String>, StorageError> {
        newer_sibling_with_files(&self.writer, nickname, ts).await
    }

    /// Index this batch: every attempt with its files and history event, in one transaction.
    /// With `ask_before`, first returns the subjects whose mappings those attempts' old rows bear
    /// on (asked in the same transaction, before the rows change).
    pub async fn write_attempts(
        &self,
        batch: &[AttemptWrite<'_>],
        ask_before: Option<&[String]>,
    ) -> Result<Vec<String>, StorageError> {
        let mut tx = self.writer.begin().await?;
        let before = match ask_before {
            Some(ids) => super::mappings::subjects_before_change(&mut tx, ids).await?,
            None => Vec::new(),
        };
        for a in batch {
            upsert(&mut tx, a.row, a.files, a.event).await?;
        }
        tx.commit().await?;
        Ok(before)
    }

    /// Removes `ids` (files and mappings cascade; the history records each removal), in one
    /// transaction; with `ask_before`, also returns the subjects their rows bore on.
    pub async fn remove_attempts(
        &self,
        ids: &[String],
        ask_before: bool,
    ) -> Result<(u64, Vec<String>), StorageError> {
        let mut tx = self.writer.begin().await?;
        let before = match ask_before {
            true => super::mappings::subjects_before_change(&mut tx, ids).await?,
            false => Vec::new(),
        };
        let mut n = 0;
        for id in ids {
            n += remove(&mut tx, id).await? as u64;
        }
        tx.commit().await?;
        Ok((n, before))
    }

    /// Changes only derived statuses (time passing, a newer sibling appearing), in one
    /// transaction: (id, status, reason).
    pub async fn set_statuses(
        &self,
        changes: &[(String, String, Option<String>)],
    ) -> Result<(), StorageError> {
        let mut tx = self.writer.begin().await?;
        for (id, status, reason) in changes {
            set_status(&mut tx, id, status, reason.as_deref()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the whole unrecognized list (a full scan recomputes it).
    pub async fn replace_unrecognized(&self, rows: &[UnrecognizedRow]) -> Result<(), StorageError> {
        let mut tx = self.writer.begin().await?;
        replace_unrecognized(&mut tx, rows).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the unrecognized rows under each top-level entry of runs/, in one transaction.
    pub async fn replace_unrecognized_under(
        &self,
        tops: &[(String, Vec<UnrecognizedRow>)],
    ) -> Result<(), StorageError> {
        let mut tx = self.writer.begin().await?;
        for (top, rows) in tops {
            replace_unrecognized_under(&mut tx, top, rows).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod query_plans;

#[cfg(test)]
mod tests;
