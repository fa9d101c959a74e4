//! PostgreSQL: run → baseline mappings of the own workspace, derived by the same rules as on
//! SQLite (`storage::sqlite::mappings`): a full scan recomputes them all, a refresh only the
//! subjects the changed attempts can affect (asked before and after the write).

mod affected;
mod derive;

use super::{retry, Index, Tx};
use crate::storage::StorageError;
use derive::{
    fingerprint_mappings, open_subjects, CERTIFICATE_MAPPINGS, HASH_MAPPINGS, PROMOTION_MAPPINGS,
};

pub(super) use affected::{subjects_after_change, subjects_before_change};

/// The tables `run_all` derives, per subject.
const DERIVED: [&str; 2] = ["mappings", "pairing_open"];

/// Derives the mappings of every subject (`subjects` None) or of these subjects, in priority
/// order; their old rows must be gone.
async fn run_all(
    tx: &mut Tx<'_>,
    schema: &str,
    subjects: Option<&[String]>,
) -> Result<(), StorageError> {
    let (scope, scope_s) = match subjects {
        Some(_) => (" and id = any($1)", " and s.id = any($1)"),
        None => ("", ""),
    };
    for sql in [
        CERTIFICATE_MAPPINGS.replace("{scope_s}", scope_s),
        PROMOTION_MAPPINGS.replace("{scope_s}", scope_s),
        fingerprint_mappings(scope),
        HASH_MAPPINGS.replace("{scope}", scope),
        open_subjects(scope_s),
    ] {
        let sql = sql.replace("{s}", schema);
        let q = sqlx::query(&sql);
        let q = match subjects {
            Some(ids) => q.bind(ids),
            None => q,
        };
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

async fn rebuild(tx: &mut Tx<'_>, schema: &str) -> Result<(), StorageError> {
    for table in DERIVED {
        sqlx::query(&format!("delete from {schema}.{table}"))
            .execute(&mut **tx)
            .await?;
    }
    run_all(tx, schema, None).await
}

async fn rebuild_subjects(
    tx: &mut Tx<'_>,
    schema: &str,
    subjects: &[String],
) -> Result<(), StorageError> {
    if subjects.is_empty() {
        return Ok(());
    }
    for table in DERIVED {
        sqlx::query(&format!(
            "delete from {schema}.{table} where subject = any($1)"
        ))
        .bind(subjects)
        .execute(&mut **tx)
        .await?;
    }
    run_all(tx, schema, Some(subjects)).await
}

impl Index {
    /// Recomputes every mapping in one transaction; returns how many there are.
    pub async fn rebuild_mappings(&self) -> Result<u64, StorageError> {
        retry!(async {
            let mut tx = self.begin().await?;
            rebuild(&mut tx, &self.schema).await?;
            let (n,): (i64,) = sqlx::query_as(&self.sql("select count(*) from {s}.mappings"))
                .fetch_one(&mut *tx)
                .await?;
            self.commit(tx).await?;
            Ok::<_, StorageError>(n as u64)
        })
    }

    /// Re-derives the subjects `before` (asked before the rows changed) and those the
    /// `changed` attempts bear on now, in one transaction; returns how many.
    pub async fn rederive_mappings(
        &self,
        before: &[String],
        changed: &[String],
    ) -> Result<usize, StorageError> {
        retry!(async {
            let mut tx = self.begin().await?;
            let mut affected = before.to_vec();
            affected.extend(subjects_after_change(&mut tx, &self.schema, changed).await?);
            affected.sort();
            affected.dedup();
            rebuild_subjects(&mut tx, &self.schema, &affected).await?;
            self.commit(tx).await?;
            Ok::<_, StorageError>(affected.len())
        })
    }
}
