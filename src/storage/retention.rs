//! Retention plans, their moves, and the facts planning reads from the index.

use super::{StorageError, Tx};
use sqlx::SqlitePool;

/// One attempt as planning sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CandidateRow {
    pub id: String,
    pub dir: String,
    pub status: String,
    pub listing_digest: String,
    pub report_sha256: Option<String>,
    pub bytes: i64,
    /// An archived copy under reports/ with the same sha256, if any.
    pub archived_as: Option<String>,
}

pub async fn candidates(pool: &SqlitePool) -> Result<Vec<CandidateRow>, StorageError> {
    Ok(sqlx::query_as(
        "select a.id, a.dir, a.status, a.listing_digest, a.report_sha256,
                coalesce((select sum(f.size) from attempt_files f where f.attempt_id = a.id), 0) as bytes,
                (select e.path from evidence_files e
                  where a.report_sha256 is not null and e.sha256 = a.report_sha256 and e.path like 'reports/%'
                  order by e.path limit 1) as archived_as
         from attempts a order by a.id",
    )
    .fetch_all(pool)
    .await?)
}

/// Subject → baseline attempt pairs from the mappings.
pub async fn pairings(pool: &SqlitePool) -> Result<Vec<(String, String)>, StorageError> {
    Ok(sqlx::query_as(
        "select subject, baseline_attempt from mappings where baseline_attempt is not null",
    )
    .fetch_all(pool)
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlanRow {
    pub id: String,
    pub created_at: String,
    pub expires_at: String,
    pub policy: String,
    pub plan: String,
    pub snapshot: String,
    pub state: String,
    pub applied_at: Option<String>,
    pub restored_at: Option<String>,
    pub purged_at: Option<String>,
    pub bytes_reclaimed: i64,
}

pub async fn insert_plan(tx: &mut Tx<'_>, p: &PlanRow) -> Result<(), StorageError> {
    sqlx::query(
        "insert into retention_plans (id, created_at, expires_at, policy, plan, snapshot, state) values (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&p.id)
    .bind(&p.created_at)
    .bind(&p.expires_at)
    .bind(&p.policy)
    .bind(&p.plan)
    .bind(&p.snapshot)
    .bind(&p.state)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn plan(pool: &SqlitePool, id: &str) -> Result<Option<PlanRow>, StorageError> {
    Ok(sqlx::query_as("select * from retention_plans where id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?)
}

pub async fn set_plan_state(
    tx: &mut Tx<'_>,
    id: &str,
    state: &str,
    bytes: Option<i64>,
) -> Result<(), StorageError> {
    let column = match state {
        "applied" => "applied_at",
        "restored" => "restored_at",
        "purged" => "purged_at",
        _ => "",
    };
    let sql = if column.is_empty() {
        "update retention_plans set state = ?1 where id = ?2".to_string()
    } else {
        format!("update retention_plans set state = ?1, {column} = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') where id = ?2")
    };
    sqlx::query(&sql)
        .bind(state)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    if let Some(b) = bytes {
        sqlx::query("update retention_plans set bytes_reclaimed = ? where id = ?")
            .bind(b)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MoveRow {
    pub plan_id: String,
    pub attempt_id: String,
    pub from_path: String,
    pub trash_path: String,
    pub bytes: i64,
    pub state: String,
}

pub async fn upsert_move(tx: &mut Tx<'_>, m: &MoveRow) -> Result<(), StorageError> {
    sqlx::query(
        "insert into retention_moves (plan_id, attempt_id, from_path, trash_path, bytes, state) values (?, ?, ?, ?, ?, ?)
         on conflict (plan_id, attempt_id) do update set state = excluded.state,
           updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    )
    .bind(&m.plan_id)
    .bind(&m.attempt_id)
    .bind(&m.from_path)
    .bind(&m.trash_path)
    .bind(m.bytes)
    .bind(&m.state)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn moves(pool: &SqlitePool, plan_id: &str) -> Result<Vec<MoveRow>, StorageError> {
    Ok(sqlx::query_as("select plan_id, attempt_id, from_path, trash_path, bytes, state from retention_moves where plan_id = ? order by attempt_id")
        .bind(plan_id)
        .fetch_all(pool)
        .await?)
}

/// Applied plans whose grace period is over (their trash can be purged).
pub async fn purgeable(
    pool: &SqlitePool,
    applied_before: &str,
) -> Result<Vec<String>, StorageError> {
    let rows: Vec<(String,)> =
        sqlx::query_as("select id from retention_plans where state = 'applied' and applied_at <= ? order by applied_at")
            .bind(applied_before)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Plans left mid-apply by a crash.
pub async fn interrupted(pool: &SqlitePool) -> Result<Vec<String>, StorageError> {
    let rows: Vec<(String,)> =
        sqlx::query_as("select id from retention_plans where state = 'applying'")
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// For `/v1/status`: bytes in trash (moved, not purged) and the last apply.
pub async fn status(pool: &SqlitePool) -> Result<serde_json::Value, StorageError> {
    let (trash,): (i64,) =
        sqlx::query_as("select coalesce(sum(bytes), 0) from retention_moves where state = 'moved'")
            .fetch_one(pool)
            .await?;
    let last: Option<(String, Option<String>, i64, String)> = sqlx::query_as(
        "select id, applied_at, bytes_reclaimed, state from retention_plans where applied_at is not null order by applied_at desc limit 1",
    )
    .fetch_optional(pool)
    .await?;
    let (runs,): (i64,) = sqlx::query_as("select bytes from file_totals where id = 1")
        .fetch_one(pool)
        .await?;
    Ok(serde_json::json!({
        "runs_bytes": runs,
        "trash_bytes": trash,
        "last_apply": last.map(|(id, at, bytes, state)| serde_json::json!({
            "plan_id": id, "applied_at": at, "bytes_reclaimed": bytes, "state": state
        })),
    }))
}

/// For `/metrics`: bytes of indexed files under runs/ and bytes in trash (moved, not purged).
pub async fn byte_totals(pool: &SqlitePool) -> Result<(i64, i64), StorageError> {
    Ok(sqlx::query_as(
        "select (select bytes from file_totals where id = 1),
                (select coalesce(sum(bytes), 0) from retention_moves where state = 'moved')",
    )
    .fetch_one(pool)
    .await?)
}
