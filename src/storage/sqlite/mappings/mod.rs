//! Run → baseline mappings, derived from certificates (exact §5.4 digests) and, where no
//! certificate exists, from pairing evidence (§1.5). A full scan recomputes them all in one
//! transaction; a refresh recomputes only the subjects that the changed attempts can affect.
//!
//! `candidates` counts the reports that fit a subject's pairing evidence, capped at 2 ("two or
//! more"): capping keeps each count a bounded seek, and a saturated count is one that a new
//! report cannot change (see `affected`).

mod affected;
mod derive;

use super::Tx;
use crate::storage::mappings::MappingRow;
use crate::storage::StorageError;
use derive::{
    fingerprint_mappings, open_subjects, CERTIFICATE_MAPPINGS, HASH_MAPPINGS, PROMOTION_MAPPINGS,
};
use sqlx::SqlitePool;

pub(super) use affected::{subjects_after_change, subjects_before_change};

/// The tables `run_all` derives, per subject.
const DERIVED: [&str; 2] = ["mappings", "pairing_open"];

/// Recomputes every mapping. Certificates win over promotions, promotions over pairing evidence.
pub(super) async fn rebuild(tx: &mut Tx<'_>) -> Result<(), StorageError> {
    for table in DERIVED {
        sqlx::query(&format!("delete from {table}"))
            .execute(&mut **tx)
            .await?;
    }
    run_all(tx, "", "").await
}

/// Recomputes the mappings of `subjects` only (after a refresh touched a few attempts).
pub(super) async fn rebuild_subjects(
    tx: &mut Tx<'_>,
    subjects: &[String],
) -> Result<(), StorageError> {
    if subjects.is_empty() {
        return Ok(());
    }
    sqlx::query("create temp table if not exists mapping_scope (id text primary key)")
        .execute(&mut **tx)
        .await?;
    sqlx::query("delete from temp.mapping_scope")
        .execute(&mut **tx)
        .await?;
    for id in subjects {
        sqlx::query("insert or ignore into temp.mapping_scope (id) values (?)")
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    for table in DERIVED {
        sqlx::query(&format!(
            "delete from {table} where subject in (select id from temp.mapping_scope)"
        ))
        .execute(&mut **tx)
        .await?;
    }
    run_all(
        tx,
        " and id in (select id from temp.mapping_scope)",
        " and s.id in (select id from temp.mapping_scope)",
    )
    .await
}

async fn run_all(tx: &mut Tx<'_>, scope: &str, scope_s: &str) -> Result<(), StorageError> {
    for sql in [
        CERTIFICATE_MAPPINGS.replace("{scope_s}", scope_s),
        PROMOTION_MAPPINGS.replace("{scope_s}", scope_s),
        fingerprint_mappings(scope),
        HASH_MAPPINGS.replace("{scope}", scope),
        open_subjects(scope_s),
    ] {
        sqlx::query(&sql).execute(&mut **tx).await?;
    }
    Ok(())
}

pub(super) async fn list(
    pool: &SqlitePool,
    after: Option<&str>,
    limit: u32,
) -> Result<(Vec<MappingRow>, Option<String>), StorageError> {
    let rows: Vec<MappingRow> = sqlx::query_as(
        "select subject, baseline_attempt, baseline_archived, how, confidence, certificate, candidates, note
         from mappings where subject > ? order by subject limit ?",
    )
    .bind(after.unwrap_or(""))
    .bind(limit as i64 + 1)
    .fetch_all(pool)
    .await?;
    Ok(crate::storage::split_page(rows, limit, |r| {
        r.subject.clone()
    }))
}

pub(super) async fn for_subject(
    pool: &SqlitePool,
    subject: &str,
) -> Result<Option<MappingRow>, StorageError> {
    Ok(sqlx::query_as(
        "select subject, baseline_attempt, baseline_archived, how, confidence, certificate, candidates, note
         from mappings where subject = ?",
    )
    .bind(subject)
    .fetch_optional(pool)
    .await?)
}

impl super::Index {
    pub async fn mapping(&self, subject: &str) -> Result<Option<MappingRow>, StorageError> {
        for_subject(&self.reader, subject).await
    }

    pub async fn mappings_page(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<MappingRow>, Option<String>), StorageError> {
        list(&self.reader, after, limit).await
    }

    /// Recomputes every mapping in one transaction; returns how many there are.
    pub async fn rebuild_mappings(&self) -> Result<u64, StorageError> {
        let mut tx = self.writer.begin().await?;
        rebuild(&mut tx).await?;
        let (n,): (i64,) = sqlx::query_as("select count(*) from mappings")
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(n as u64)
    }

    /// Re-derives the mappings a refresh can have changed, in one transaction: the subjects
    /// `before` (asked before the rows changed) and those the `changed` attempts bear on now.
    /// Returns how many subjects were re-derived.
    pub async fn rederive_mappings(
        &self,
        before: &[String],
        changed: &[String],
    ) -> Result<usize, StorageError> {
        let mut tx = self.writer.begin().await?;
        let mut affected = before.to_vec();
        affected.extend(subjects_after_change(&mut tx, changed).await?);
        affected.sort();
        affected.dedup();
        rebuild_subjects(&mut tx, &affected).await?;
        tx.commit().await?;
        Ok(affected.len())
    }
}
