//! PostgreSQL: per-nickname summaries (a page of `/v1/runs` is one query, as on SQLite) and
//! convenience copies.

use super::{retry, Index};
use crate::storage::runs::CopyRow;
use crate::storage::StorageError;

/// (nickname, attempt id, attempt dir, report sha256).
type LatestPass = (String, String, String, String);

/// The page statement on `schema`: `filter` selects the nicknames (binds $1), $2 limits them.
pub(super) fn select(schema: &str, filter: &str) -> String {
    format!(
        "with page as (
    select nickname, count(*) as attempts from {schema}.attempts {filter}
    group by nickname order by nickname limit $2
)
select p.nickname as nickname, p.attempts as attempts,
    l.id as latest_id, l.status as latest_status,
    (select x.id from {schema}.attempts x where x.nickname = p.nickname and x.status = 'pass'
        order by x.ts desc, x.id desc limit 1) as latest_pass,
    m.subject as m_subject, m.baseline_attempt as m_baseline_attempt,
    m.baseline_archived as m_baseline_archived, m.how as m_how, m.confidence as m_confidence,
    m.certificate as m_certificate, m.candidates as m_candidates, m.note as m_note
from page p
join {schema}.attempts l on l.id = (select y.id from {schema}.attempts y where y.nickname = p.nickname
    order by y.ts desc, y.id desc limit 1)
left join {schema}.mappings m on m.subject = (select a.id from {schema}.attempts a
    join {schema}.mappings z on z.subject = a.id
    where a.nickname = p.nickname order by a.ts desc, a.id desc limit 1)
order by p.nickname"
    )
}

impl Index {
    /// The latest `pass` attempt of every nickname (or of `nicknames`), for convenience copies.
    pub async fn latest_passes(
        &self,
        nicknames: Option<&[String]>,
    ) -> Result<Vec<LatestPass>, StorageError> {
        Ok(sqlx::query_as(&self.sql(
            "select a.nickname, a.id, a.dir, a.report_sha256
             from (select distinct nickname from {s}.attempts
                   where $1::text[] is null or nickname = any($1)) n
             join {s}.attempts a on a.id = (select b.id from {s}.attempts b
                 where b.nickname = n.nickname and b.status = 'pass' and b.report_sha256 is not null
                 order by b.ts desc, b.id desc limit 1)",
        ))
        .bind(nicknames)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn convenience_copies(&self) -> Result<Vec<CopyRow>, StorageError> {
        Ok(sqlx::query_as(&self.sql(
            "select nickname, source_attempt, sha256, size, mtime_ns from {s}.convenience_copies",
        ))
        .fetch_all(self.pool())
        .await?)
    }

    /// Records the convenience copies written and removed.
    pub async fn record_copies(
        &self,
        written: &[CopyRow],
        removed: &[String],
    ) -> Result<(), StorageError> {
        retry!(async {
            let mut tx = self.begin().await?;
            for c in written {
                sqlx::query(&self.sql(
                    "insert into {s}.convenience_copies (nickname, source_attempt, sha256, size, mtime_ns)
                     values ($1, $2, $3, $4, $5)
                     on conflict (nickname) do update set source_attempt = excluded.source_attempt,
                        sha256 = excluded.sha256, size = excluded.size, mtime_ns = excluded.mtime_ns",
                ))
                .bind(&c.nickname)
                .bind(&c.source_attempt)
                .bind(&c.sha256)
                .bind(c.size)
                .bind(c.mtime_ns)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(&self.sql("delete from {s}.convenience_copies where nickname = any($1)"))
                .bind(removed)
                .execute(&mut *tx)
                .await?;
            self.commit(tx).await
        })
    }

    /// The newest `pass` attempt of a nickname.
    pub async fn latest_pass(&self, nickname: &str) -> Result<Option<String>, StorageError> {
        let row: Option<(String,)> = sqlx::query_as(&self.sql(
            "select id from {s}.attempts where nickname = $1 and status = 'pass' order by ts desc limit 1",
        ))
        .bind(nickname)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| r.0))
    }

    /// Indexed attempts whose raw report digests are these, newest first.
    pub async fn attempts_by_digest(
        &self,
        run_id: &str,
        report_hash: &str,
    ) -> Result<Vec<crate::storage::attempts::AttemptRow>, StorageError> {
        Ok(sqlx::query_as(&self.sql(
            "select * from {s}.attempts where run_id = $1 and report_hash = $2 order by ts desc",
        ))
        .bind(run_id)
        .bind(report_hash)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn retention_candidates(
        &self,
    ) -> Result<Vec<crate::storage::retention::CandidateRow>, StorageError> {
        Ok(sqlx::query_as(&self.sql(
            "select a.id, a.dir, a.status, a.listing_digest, a.report_sha256,
                coalesce((select sum(f.size) from {s}.attempt_files f where f.attempt_id = a.id), 0)::bigint as bytes,
                (select e.path from {s}.evidence_files e
                  where a.report_sha256 is not null and e.sha256 = a.report_sha256 and e.path like 'reports/%'
                  order by e.path limit 1) as archived_as
             from {s}.attempts a order by a.id",
        ))
        .fetch_all(self.pool())
        .await?)
    }

    /// Subject → baseline attempt pairs from the mappings.
    pub async fn pairings(&self) -> Result<Vec<(String, String)>, StorageError> {
        Ok(sqlx::query_as(&self.sql(
            "select subject, baseline_attempt from {s}.mappings where baseline_attempt is not null",
        ))
        .fetch_all(self.pool())
        .await?)
    }

    /// Bytes under runs/ (kept by triggers).
    pub async fn runs_bytes(&self) -> Result<i64, StorageError> {
        let (n,): (i64,) =
            sqlx::query_as(&self.sql("select bytes from {s}.file_totals where id = 1"))
                .fetch_one(self.pool())
                .await?;
        Ok(n)
    }
}
