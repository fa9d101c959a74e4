//! SQLite: per-nickname summaries (a page of `/v1/runs` is one query) and convenience copies.

use crate::storage::runs::{CopyRow, RunRow};
use crate::storage::StorageError;
use sqlx::SqlitePool;

/// (nickname, attempt id, attempt dir, report sha256).
type LatestPass = (String, String, String, String);

/// One statement for a whole page, whatever its size: the page of nicknames first (a CTE over
/// `attempts_nickname_ts`), then per nickname the newest attempt, newest pass and newest mapped
/// attempt, each an index seek (`attempts_nickname_ts`, `attempts_nickname_status`, mappings'
/// primary key). `{WHERE}` selects the nicknames; the page CTE binds its own parameters.
const SELECT: &str = "
with page as (
    select nickname, count(*) as attempts from attempts {WHERE}
    group by nickname order by nickname limit ?
)
select p.nickname as nickname, p.attempts as attempts,
    l.id as latest_id, l.status as latest_status,
    (select x.id from attempts x where x.nickname = p.nickname and x.status = 'pass'
        order by x.ts desc, x.id desc limit 1) as latest_pass,
    m.subject as m_subject, m.baseline_attempt as m_baseline_attempt,
    m.baseline_archived as m_baseline_archived, m.how as m_how, m.confidence as m_confidence,
    m.certificate as m_certificate, m.candidates as m_candidates, m.note as m_note
from page p
join attempts l on l.id = (select y.id from attempts y where y.nickname = p.nickname
    order by y.ts desc, y.id desc limit 1)
left join mappings m on m.subject = (select a.id from attempts a join mappings z on z.subject = a.id
    where a.nickname = p.nickname order by a.ts desc, a.id desc limit 1)
order by p.nickname";

/// One page of nicknames in lexical order, after `after`, in one query.
async fn list(
    pool: &SqlitePool,
    after: Option<&str>,
    limit: u32,
) -> Result<(Vec<RunRow>, Option<String>), StorageError> {
    let sql = SELECT.replace("{WHERE}", "where nickname > ?");
    let rows: Vec<RunRow> = sqlx::query_as(&sql)
        .bind(after.unwrap_or(""))
        .bind(limit as i64 + 1)
        .fetch_all(pool)
        .await?;
    Ok(crate::storage::split_page(rows, limit, |r| {
        r.nickname.clone()
    }))
}

async fn get(pool: &SqlitePool, nickname: &str) -> Result<Option<RunRow>, StorageError> {
    let sql = SELECT.replace("{WHERE}", "where nickname = ?");
    Ok(sqlx::query_as(&sql)
        .bind(nickname)
        .bind(1i64)
        .fetch_optional(pool)
        .await?)
}

/// Latest `pass` attempt of one nickname: (nickname, id, dir, report sha256).
async fn latest_pass_of(
    pool: &SqlitePool,
    nickname: &str,
) -> Result<Option<(String, String, String, String)>, StorageError> {
    Ok(sqlx::query_as(
        "select nickname, id, dir, report_sha256 from attempts
         where nickname = ? and status = 'pass' and report_sha256 is not null order by ts desc, id desc limit 1",
    )
    .bind(nickname)
    .fetch_optional(pool)
    .await?)
}

/// Latest `pass` attempt of every nickname with its report digest (for convenience copies).
async fn latest_passes(
    pool: &SqlitePool,
) -> Result<Vec<(String, String, String, String)>, StorageError> {
    Ok(sqlx::query_as(
        "select a.nickname, a.id, a.dir, a.report_sha256
         from (select distinct nickname from attempts) n
         join attempts a on a.id = (select b.id from attempts b
             where b.nickname = n.nickname and b.status = 'pass' and b.report_sha256 is not null
             order by b.ts desc, b.id desc limit 1)",
    )
    .fetch_all(pool)
    .await?)
}

async fn copies(pool: &SqlitePool) -> Result<Vec<CopyRow>, StorageError> {
    Ok(sqlx::query_as(
        "select nickname, source_attempt, sha256, size, mtime_ns from convenience_copies",
    )
    .fetch_all(pool)
    .await?)
}

async fn set_copy(pool: &SqlitePool, c: &CopyRow) -> Result<(), StorageError> {
    sqlx::query("insert or replace into convenience_copies (nickname, source_attempt, sha256, size, mtime_ns) values (?, ?, ?, ?, ?)")
        .bind(&c.nickname)
        .bind(&c.source_attempt)
        .bind(&c.sha256)
        .bind(c.size)
        .bind(c.mtime_ns)
        .execute(pool)
        .await?;
    Ok(())
}

async fn remove_copy(pool: &SqlitePool, nickname: &str) -> Result<(), StorageError> {
    sqlx::query("delete from convenience_copies where nickname = ?")
        .bind(nickname)
        .execute(pool)
        .await?;
    Ok(())
}

impl super::Index {
    pub async fn runs_page(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<RunRow>, Option<String>), StorageError> {
        list(&self.reader, after, limit).await
    }

    pub async fn run(&self, nickname: &str) -> Result<Option<RunRow>, StorageError> {
        get(&self.reader, nickname).await
    }

    /// The latest `pass` attempt of every nickname (or of `nicknames`), for convenience copies.
    pub async fn latest_passes(
        &self,
        nicknames: Option<&[String]>,
    ) -> Result<Vec<LatestPass>, StorageError> {
        match nicknames {
            None => latest_passes(&self.writer).await,
            Some(nicks) => {
                let mut v = Vec::new();
                for n in nicks {
                    v.extend(latest_pass_of(&self.writer, n).await?);
                }
                Ok(v)
            }
        }
    }

    pub async fn convenience_copies(&self) -> Result<Vec<CopyRow>, StorageError> {
        copies(&self.writer).await
    }

    /// Records the convenience copies written and removed (each row on its own: a copy on
    /// disk without its row is only rewritten once more).
    pub async fn record_copies(
        &self,
        written: &[CopyRow],
        removed: &[String],
    ) -> Result<(), StorageError> {
        for row in written {
            set_copy(&self.writer, row).await?;
        }
        for nick in removed {
            remove_copy(&self.writer, nick).await?;
        }
        Ok(())
    }
}
