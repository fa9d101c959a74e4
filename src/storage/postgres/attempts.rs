//! PostgreSQL: the `attempts`, `attempt_files`, `attempt_history` and `unrecognized` tables of
//! one workspace's schema. Batches are written as multi-row statements: a cold index sends a
//! few statements per 500 attempts instead of one per row (issue 12: ≥ 0.7× SQLite's rate).

use super::{retry, Index, Tx};
use crate::storage::attempts::{
    with_attempt_columns, AttemptRow, AttemptWrite, FileRow, Fingerprint, UnrecognizedRow,
};
use crate::storage::StorageError;
use sqlx::{PgPool, Postgres, QueryBuilder};
use std::collections::HashMap;

/// PostgreSQL binds at most 65535 parameters per statement.
const MAX_PARAMS: usize = 65_000;

/// Binds every column of `a` in `AttemptRow::COLUMNS` order into one row of a VALUES list.
macro_rules! push_attempt {
    ($($col:ident: $ty:ty,)*) => {
        fn push_attempt<'q>(b: &mut sqlx::query_builder::Separated<'_, 'q, Postgres, &'static str>, a: &'q AttemptRow) {
            $(b.push_bind(&a.$col);)*
        }
    };
}
with_attempt_columns!(push_attempt);

fn upsert_tail(schema: &str) -> String {
    let updates: Vec<String> = AttemptRow::COLUMNS[1..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        " on conflict (id) do update set {}, updated_at = {schema}.now_text()",
        updates.join(", ")
    )
}

/// Upserts the batch's rows, replaces the files of rewritten ones and appends their history.
async fn write_batch(
    tx: &mut Tx<'_>,
    schema: &str,
    batch: &[AttemptWrite<'_>],
) -> Result<(), StorageError> {
    // One row per id (the last write wins, as row by row): a multi-row upsert may not touch a
    // row twice.
    let mut last: HashMap<&str, usize> = HashMap::new();
    for (i, w) in batch.iter().enumerate() {
        last.insert(w.row.id.as_str(), i);
    }
    let writes: Vec<&AttemptWrite> = batch
        .iter()
        .enumerate()
        .filter(|(i, w)| last[w.row.id.as_str()] == *i)
        .map(|(_, w)| w)
        .collect();
    let per_row = AttemptRow::COLUMNS.len();
    let tail = upsert_tail(schema);
    for chunk in writes.chunks(MAX_PARAMS / per_row) {
        let mut q = QueryBuilder::<Postgres>::new(format!(
            "insert into {schema}.attempts ({}) ",
            AttemptRow::COLUMNS.join(", ")
        ));
        q.push_values(chunk, |mut b, w| push_attempt(&mut b, w.row));
        q.push(&tail);
        q.build().execute(&mut **tx).await?;
    }
    let rewritten: Vec<&str> = writes
        .iter()
        .filter(|w| w.event != Some("indexed"))
        .map(|w| w.row.id.as_str())
        .collect();
    if !rewritten.is_empty() {
        sqlx::query(&format!(
            "delete from {schema}.attempt_files where attempt_id = any($1)"
        ))
        .bind(&rewritten)
        .execute(&mut **tx)
        .await?;
    }
    let files: Vec<(&str, &FileRow)> = writes
        .iter()
        .flat_map(|w| w.files.iter().map(move |f| (w.row.id.as_str(), f)))
        .collect();
    for chunk in files.chunks(MAX_PARAMS / 5) {
        let mut q = QueryBuilder::<Postgres>::new(format!(
            "insert into {schema}.attempt_files (attempt_id, name, size, mtime_ns, sha256) "
        ));
        q.push_values(chunk, |mut b, (id, f)| {
            b.push_bind(*id)
                .push_bind(&f.name)
                .push_bind(f.size)
                .push_bind(f.mtime_ns)
                .push_bind(&f.sha256);
        });
        q.build().execute(&mut **tx).await?;
    }
    let events: Vec<(&AttemptRow, &str)> = batch
        .iter()
        .filter_map(|w| w.event.map(|e| (w.row, e)))
        .collect();
    for chunk in events.chunks(MAX_PARAMS / 5) {
        let mut q = QueryBuilder::<Postgres>::new(format!(
            "insert into {schema}.attempt_history (attempt_id, event, status, reason, report_sha256) "
        ));
        q.push_values(chunk, |mut b, (a, e)| {
            b.push_bind(&a.id)
                .push_bind(*e)
                .push_bind(&a.status)
                .push_bind(&a.reason)
                .push_bind(&a.report_sha256);
        });
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

pub(super) async fn history(
    tx: &mut Tx<'_>,
    schema: &str,
    ids: &[&str],
    event: &str,
    statuses: &[Option<&str>],
    reasons: &[Option<&str>],
) -> Result<(), StorageError> {
    sqlx::query(&format!(
        "insert into {schema}.attempt_history (attempt_id, event, status, reason)
         select id, $2, status, reason from unnest($1::text[], $3::text[], $4::text[]) as t(id, status, reason)"
    ))
    .bind(ids)
    .bind(event)
    .bind(statuses)
    .bind(reasons)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Attempts whose status may change by time alone or by a sibling appearing.
async fn running(pool: &PgPool, schema: &str) -> Result<Vec<AttemptRow>, StorageError> {
    Ok(sqlx::query_as(&format!(
        "select * from {schema}.attempts where status = 'running'"
    ))
    .fetch_all(pool)
    .await?)
}

impl Index {
    pub async fn fingerprints(&self) -> Result<HashMap<String, Fingerprint>, StorageError> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as(&self.sql("select id, listing_digest, status from {s}.attempts"))
                .fetch_all(self.pool())
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, listing_digest, status)| {
                let fp = Fingerprint {
                    listing_digest,
                    status,
                };
                (id, fp)
            })
            .collect())
    }

    pub async fn fingerprint(&self, id: &str) -> Result<Option<Fingerprint>, StorageError> {
        Ok(sqlx::query_as(
            &self.sql("select listing_digest, status from {s}.attempts where id = $1"),
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn attempt_ids(&self) -> Result<Vec<String>, StorageError> {
        let rows: Vec<(String,)> = sqlx::query_as(&self.sql("select id from {s}.attempts"))
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    pub async fn running_attempts(&self) -> Result<Vec<AttemptRow>, StorageError> {
        running(self.pool(), &self.schema).await
    }

    pub async fn newer_sibling_with_files(
        &self,
        nickname: &str,
        ts: &str,
    ) -> Result<Option<String>, StorageError> {
        let row: Option<(String,)> = sqlx::query_as(&self.sql(
            "select id from {s}.attempts where nickname = $1 and ts > $2
             and newest_mtime_ns is not null order by ts desc limit 1",
        ))
        .bind(nickname)
        .bind(ts)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| r.0))
    }

    pub async fn attempt_counts(&self) -> Result<Vec<(String, i64)>, StorageError> {
        Ok(sqlx::query_as(
            &self.sql("select status, n from {s}.attempt_counts where n > 0 order by status"),
        )
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn write_attempts(
        &self,
        batch: &[AttemptWrite<'_>],
        ask_before: Option<&[String]>,
    ) -> Result<Vec<String>, StorageError> {
        retry!(async {
            let mut tx = self.begin().await?;
            let before = match ask_before {
                Some(ids) => {
                    super::mappings::subjects_before_change(&mut tx, &self.schema, ids).await?
                }
                None => Vec::new(),
            };
            write_batch(&mut tx, &self.schema, batch).await?;
            self.commit(tx).await?;
            Ok::<_, StorageError>(before)
        })
    }

    pub async fn remove_attempts(
        &self,
        ids: &[String],
        ask_before: bool,
    ) -> Result<(u64, Vec<String>), StorageError> {
        retry!(async {
            let mut tx = self.begin().await?;
            let before = match ask_before {
                true => super::mappings::subjects_before_change(&mut tx, &self.schema, ids).await?,
                false => Vec::new(),
            };
            let gone: Vec<(String,)> = sqlx::query_as(
                &self.sql("delete from {s}.attempts where id = any($1) returning id"),
            )
            .bind(ids)
            .fetch_all(&mut *tx)
            .await?;
            let gone: Vec<&str> = gone.iter().map(|r| r.0.as_str()).collect();
            let reason = Some("the attempt directory is gone");
            history(
                &mut tx,
                &self.schema,
                &gone,
                "removed",
                &vec![None; gone.len()],
                &vec![reason; gone.len()],
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, StorageError>((gone.len() as u64, before))
        })
    }

    pub async fn set_statuses(
        &self,
        changes: &[(String, String, Option<String>)],
    ) -> Result<(), StorageError> {
        let ids: Vec<&str> = changes.iter().map(|c| c.0.as_str()).collect();
        let statuses: Vec<Option<&str>> = changes.iter().map(|c| Some(c.1.as_str())).collect();
        let reasons: Vec<Option<&str>> = changes.iter().map(|c| c.2.as_deref()).collect();
        retry!(async {
            let mut tx = self.begin().await?;
            sqlx::query(&self.sql(
                "update {s}.attempts a set status = c.status, reason = c.reason, updated_at = {s}.now_text()
                 from unnest($1::text[], $2::text[], $3::text[]) as c(id, status, reason) where a.id = c.id",
            ))
            .bind(&ids)
            .bind(&statuses)
            .bind(&reasons)
            .execute(&mut *tx)
            .await?;
            history(&mut tx, &self.schema, &ids, "updated", &statuses, &reasons).await?;
            self.commit(tx).await
        })
    }

    pub async fn replace_unrecognized(&self, rows: &[UnrecognizedRow]) -> Result<(), StorageError> {
        retry!(async {
            let mut tx = self.begin().await?;
            sqlx::query(&self.sql("delete from {s}.unrecognized"))
                .execute(&mut *tx)
                .await?;
            insert_unrecognized(&mut tx, &self.schema, rows).await?;
            self.commit(tx).await
        })
    }

    pub async fn replace_unrecognized_under(
        &self,
        tops: &[(String, Vec<UnrecognizedRow>)],
    ) -> Result<(), StorageError> {
        retry!(async {
            let mut tx = self.begin().await?;
            for (top, rows) in tops {
                // A prefix test without LIKE, whose wildcards a directory name may contain.
                sqlx::query(&self.sql(
                    "delete from {s}.unrecognized where path = $1 or left(path, length($1) + 1) = $1 || '/'",
                ))
                .bind(top)
                .execute(&mut *tx)
                .await?;
                insert_unrecognized(&mut tx, &self.schema, rows).await?;
            }
            self.commit(tx).await
        })
    }

    pub async fn history_last_seq(&self) -> Result<i64, StorageError> {
        let (n,): (Option<i64>,) =
            sqlx::query_as(&self.sql("select max(seq) from {s}.attempt_history"))
                .fetch_one(self.pool())
                .await?;
        Ok(n.unwrap_or(0))
    }

    pub async fn history_after(
        &self,
        seq: i64,
        limit: u32,
    ) -> Result<Vec<crate::storage::feed::HistoryEvent>, StorageError> {
        Ok(sqlx::query_as(&self.sql(
            "select seq, attempt_id, event, status, reason from {s}.attempt_history
             where seq > $1 order by seq limit $2",
        ))
        .bind(seq)
        .bind(limit as i64)
        .fetch_all(self.pool())
        .await?)
    }
}

async fn insert_unrecognized(
    tx: &mut Tx<'_>,
    schema: &str,
    rows: &[UnrecognizedRow],
) -> Result<(), StorageError> {
    let mut seen = std::collections::HashSet::new();
    let rows: Vec<&UnrecognizedRow> = rows.iter().rev().filter(|r| seen.insert(&r.path)).collect();
    for chunk in rows.chunks(MAX_PARAMS / 3) {
        let mut q = QueryBuilder::<Postgres>::new(format!(
            "insert into {schema}.unrecognized (path, kind, reason) "
        ));
        q.push_values(chunk, |mut b, r| {
            b.push_bind(&r.path).push_bind(&r.kind).push_bind(&r.reason);
        });
        q.push(" on conflict (path) do update set kind = excluded.kind, reason = excluded.reason");
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}
