//! PostgreSQL: the reads the API scopes by workspace, on one workspace's schema (`fleet.rs`
//! picks the schemas and merges). Every row is tagged with the workspace it was read from.

use crate::storage::attempts::{
    AttemptFilter, AttemptRow, AttemptSummaryRow, FileRow, HistoryRow, UnrecognizedRow,
};
use crate::storage::evidence::EvidenceDirRow;
use crate::storage::mappings::MappingRow;
use crate::storage::runs::RunRow;
use crate::storage::workspace::Stamp;
use crate::storage::{StatusCounts, StorageError};
use sqlx::{PgPool, Postgres, QueryBuilder};

/// One workspace's schema to read: its id and schema name.
#[derive(Debug, Clone)]
pub(super) struct Ws {
    pub id: String,
    pub schema: String,
}

impl Ws {
    fn sql(&self, template: &str) -> String {
        template.replace("{s}", &self.schema)
    }

    /// Rows read from this workspace's schema, tagged with its id (the schema's tables have
    /// no workspace column: every row comes back with it empty).
    fn stamped<T: Stamp>(&self, mut rows: T) -> T {
        rows.stamp(&self.id);
        rows
    }
}

/// The row comparison that continues a listing after `key` in this workspace: rows of a
/// workspace ordered after the key's own (`strict` false) may repeat the key itself.
pub(super) fn after_op(strict: bool, descending: bool) -> &'static str {
    match (descending, strict) {
        (true, true) => "<",
        (true, false) => "<=",
        (false, true) => ">",
        (false, false) => ">=",
    }
}

pub(super) async fn attempt(
    pool: &PgPool,
    ws: &Ws,
    id: &str,
) -> Result<Option<AttemptRow>, StorageError> {
    let row: Option<AttemptRow> =
        sqlx::query_as(&ws.sql("select * from {s}.attempts where id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(ws.stamped(row))
}

pub(super) async fn files(pool: &PgPool, ws: &Ws, id: &str) -> Result<Vec<FileRow>, StorageError> {
    Ok(sqlx::query_as(&ws.sql(
        "select name, size, mtime_ns, sha256 from {s}.attempt_files where attempt_id = $1 order by name",
    ))
    .bind(id)
    .fetch_all(pool)
    .await?)
}

pub(super) async fn history(
    pool: &PgPool,
    ws: &Ws,
    id: &str,
) -> Result<Vec<HistoryRow>, StorageError> {
    Ok(sqlx::query_as(&ws.sql(
        "select seq, event, status, reason, report_sha256, created_at from {s}.attempt_history
         where attempt_id = $1 order by seq desc limit 50",
    ))
    .bind(id)
    .fetch_all(pool)
    .await?)
}

/// Up to `limit` attempts of this workspace after `after` ((ts, id), newest first).
pub(super) async fn attempts(
    pool: &PgPool,
    ws: &Ws,
    f: &AttemptFilter,
    after: Option<(&str, &str, bool)>,
    limit: u32,
) -> Result<Vec<AttemptSummaryRow>, StorageError> {
    let mut q = QueryBuilder::<Postgres>::new("select ");
    q.push(AttemptSummaryRow::COLUMNS)
        .push(ws.sql(" from {s}.attempts where true"));
    for (col, v) in [
        ("nickname", &f.nickname),
        ("status", &f.status),
        ("model_id", &f.model_id),
        ("edit_name", &f.edit),
        ("dataset_hash", &f.dataset_hash),
        ("tokenizer_hash", &f.tokenizer_hash),
        ("ids_sha256", &f.ids_sha256),
    ] {
        if let Some(v) = v {
            q.push(format!(" and {col} = ")).push_bind(v.clone());
        }
    }
    if let Some(s) = &f.since_ts {
        q.push(" and ts >= ").push_bind(s.clone());
    }
    if let Some(u) = &f.until_ts {
        q.push(" and ts <= ").push_bind(u.clone());
    }
    if let Some((ts, id, strict)) = after {
        q.push(format!(" and (ts, id) {} (", after_op(strict, true)))
            .push_bind(ts.to_string())
            .push(", ")
            .push_bind(id.to_string())
            .push(")");
    }
    q.push(" order by ts desc, id desc limit ")
        .push_bind(limit as i64);
    let rows: Vec<AttemptSummaryRow> = q.build_query_as().fetch_all(pool).await?;
    Ok(ws.stamped(rows))
}

pub(super) async fn unrecognized(
    pool: &PgPool,
    ws: &Ws,
    limit: u32,
) -> Result<Vec<UnrecognizedRow>, StorageError> {
    let rows: Vec<UnrecognizedRow> = sqlx::query_as(
        &ws.sql("select path, kind, reason from {s}.unrecognized order by path limit $1"),
    )
    .bind(limit as i64)
    .fetch_all(pool)
    .await?;
    Ok(ws.stamped(rows))
}

const MAPPING_COLUMNS: &str =
    "subject, baseline_attempt, baseline_archived, how, confidence, certificate, candidates, note";

pub(super) async fn mapping(
    pool: &PgPool,
    ws: &Ws,
    subject: &str,
) -> Result<Option<MappingRow>, StorageError> {
    let row: Option<MappingRow> = sqlx::query_as(&ws.sql(&format!(
        "select {MAPPING_COLUMNS} from {{s}}.mappings where subject = $1"
    )))
    .bind(subject)
    .fetch_optional(pool)
    .await?;
    Ok(ws.stamped(row))
}

pub(super) async fn mappings(
    pool: &PgPool,
    ws: &Ws,
    after: Option<(&str, bool)>,
    limit: u32,
) -> Result<Vec<MappingRow>, StorageError> {
    let (key, op) = after.map_or(("", ">="), |(k, strict)| (k, after_op(strict, false)));
    let rows: Vec<MappingRow> = sqlx::query_as(&ws.sql(&format!(
        "select {MAPPING_COLUMNS} from {{s}}.mappings where subject {op} $1 order by subject limit $2"
    )))
    .bind(key)
    .bind(limit as i64)
    .fetch_all(pool)
    .await?;
    Ok(ws.stamped(rows))
}

pub(super) async fn evidence_dir(
    pool: &PgPool,
    ws: &Ws,
    path: &str,
) -> Result<Option<EvidenceDirRow>, StorageError> {
    let row: Option<EvidenceDirRow> = sqlx::query_as(
        &ws.sql("select path, origin, metadata from {s}.evidence_dirs where path = $1"),
    )
    .bind(path)
    .fetch_optional(pool)
    .await?;
    Ok(ws.stamped(row))
}

pub(super) async fn evidence_dirs(
    pool: &PgPool,
    ws: &Ws,
    origin: Option<&str>,
    after: Option<(&str, bool)>,
    limit: u32,
) -> Result<Vec<EvidenceDirRow>, StorageError> {
    let (key, op) = after.map_or(("", ">="), |(k, strict)| (k, after_op(strict, false)));
    let rows: Vec<EvidenceDirRow> = sqlx::query_as(&ws.sql(&format!(
        "select path, origin, metadata from {{s}}.evidence_dirs
         where ($1::text is null or origin = $1) and path {op} $2 order by path limit $3"
    )))
    .bind(origin)
    .bind(key)
    .bind(limit as i64)
    .fetch_all(pool)
    .await?;
    Ok(ws.stamped(rows))
}

pub(super) async fn runs(
    pool: &PgPool,
    ws: &Ws,
    after: Option<(&str, bool)>,
    limit: u32,
) -> Result<Vec<RunRow>, StorageError> {
    let (key, op) = after.map_or(("", ">="), |(k, strict)| (k, after_op(strict, false)));
    let sql = super::runs::select(&ws.schema, &format!("where nickname {op} $1"));
    let rows: Vec<RunRow> = sqlx::query_as(&sql)
        .bind(key)
        .bind(limit as i64)
        .fetch_all(pool)
        .await?;
    Ok(ws.stamped(rows))
}

pub(super) async fn run(
    pool: &PgPool,
    ws: &Ws,
    nickname: &str,
) -> Result<Option<RunRow>, StorageError> {
    let sql = super::runs::select(&ws.schema, "where nickname = $1");
    let row: Option<RunRow> = sqlx::query_as(&sql)
        .bind(nickname)
        .bind(1i64)
        .fetch_optional(pool)
        .await?;
    Ok(ws.stamped(row))
}

pub(super) async fn status_counts(pool: &PgPool, ws: &Ws) -> Result<StatusCounts, StorageError> {
    let by_status: Vec<(String, i64)> = sqlx::query_as(
        &ws.sql("select status, n from {s}.attempt_counts where n > 0 order by status"),
    )
    .fetch_all(pool)
    .await?;
    #[allow(clippy::type_complexity)]
    let (nicknames, unrecognized, certificates, evidence_dirs, mappings, last): (
        i64,
        i64,
        i64,
        i64,
        i64,
        Option<String>,
    ) = sqlx::query_as(&ws.sql(
        "select (select count(*) from {s}.nickname_counts), (select count(*) from {s}.unrecognized),
                (select count(*) from {s}.certificates), (select count(*) from {s}.evidence_dirs),
                (select count(*) from {s}.mappings),
                (select created_at from {s}.attempt_history order by seq desc limit 1)",
    ))
    .fetch_one(pool)
    .await?;
    Ok(StatusCounts {
        by_status,
        nicknames,
        unrecognized,
        certificates,
        evidence_dirs,
        mappings,
        last_index_event_at: last,
    })
}
