//! Per-nickname summaries for `GET /v1/runs`.

use super::StorageError;
use serde::Serialize;
use sqlx::SqlitePool;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RunRow {
    pub nickname: String,
    pub attempts: i64,
    pub latest_id: String,
    pub latest_status: String,
    pub latest_pass: Option<String>,
}

const SELECT: &str = "
select a.nickname as nickname, count(*) as attempts,
    (select l.id from attempts l where l.nickname = a.nickname order by l.ts desc, l.id desc limit 1) as latest_id,
    (select l.status from attempts l where l.nickname = a.nickname order by l.ts desc, l.id desc limit 1) as latest_status,
    (select p.id from attempts p where p.nickname = a.nickname and p.status = 'pass' order by p.ts desc, p.id desc limit 1) as latest_pass
from attempts a";

/// One page of nicknames in lexical order, after `after`.
pub async fn list(
    pool: &SqlitePool,
    after: Option<&str>,
    limit: u32,
) -> Result<(Vec<RunRow>, Option<String>), StorageError> {
    let sql =
        format!("{SELECT} where a.nickname > ? group by a.nickname order by a.nickname limit ?");
    let rows: Vec<RunRow> = sqlx::query_as(&sql)
        .bind(after.unwrap_or(""))
        .bind(limit as i64 + 1)
        .fetch_all(pool)
        .await?;
    Ok(super::split_page(rows, limit, |r| r.nickname.clone()))
}

pub async fn get(pool: &SqlitePool, nickname: &str) -> Result<Option<RunRow>, StorageError> {
    let sql = format!("{SELECT} where a.nickname = ? group by a.nickname");
    Ok(sqlx::query_as(&sql)
        .bind(nickname)
        .fetch_optional(pool)
        .await?)
}

/// The mapping of the newest attempt of `nickname` that has one.
pub async fn latest_mapping(
    pool: &SqlitePool,
    nickname: &str,
) -> Result<Option<super::mappings::MappingRow>, StorageError> {
    Ok(sqlx::query_as(
        "select m.subject, m.baseline_attempt, m.baseline_archived, m.how, m.confidence, m.certificate, m.candidates, m.note
         from mappings m join attempts a on a.id = m.subject where a.nickname = ? order by a.ts desc limit 1",
    )
    .bind(nickname)
    .fetch_optional(pool)
    .await?)
}

/// Latest `pass` attempt of one nickname: (nickname, id, dir, report sha256).
pub async fn latest_pass_of(
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
pub async fn latest_passes(
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

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CopyRow {
    pub nickname: String,
    pub source_attempt: String,
    pub sha256: String,
    pub size: i64,
    pub mtime_ns: i64,
}

pub async fn copies(pool: &SqlitePool) -> Result<Vec<CopyRow>, StorageError> {
    Ok(sqlx::query_as(
        "select nickname, source_attempt, sha256, size, mtime_ns from convenience_copies",
    )
    .fetch_all(pool)
    .await?)
}

pub async fn set_copy(pool: &SqlitePool, c: &CopyRow) -> Result<(), StorageError> {
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

pub async fn remove_copy(pool: &SqlitePool, nickname: &str) -> Result<(), StorageError> {
    sqlx::query("delete from convenience_copies where nickname = ?")
        .bind(nickname)
        .execute(pool)
        .await?;
    Ok(())
}
