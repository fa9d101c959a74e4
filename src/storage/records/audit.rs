//! The append-only, hash-chained audit log. Each entry's hash covers the previous entry's hash,
//! so editing, deleting or reordering any row breaks the chain from that row on.

use crate::storage::StorageError;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{Sqlite, SqlitePool, Transaction};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditRow {
    /// Whose chain the entry is in: each workspace has its own, numbered by `seq` from 1.
    #[sqlx(default)]
    pub workspace: String,
    /// Where the entry stands among every workspace's entries (the order of a page that spans
    /// workspaces; `seq` where the database holds one workspace).
    #[sqlx(default)]
    #[serde(skip)]
    pub position: i64,
    pub seq: i64,
    pub at: String,
    pub action: String,
    pub subject: String,
    pub actor: Option<String>,
    /// JSON text.
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

pub fn entry_hash(
    prev: &str,
    seq: i64,
    at: &str,
    action: &str,
    subject: &str,
    actor: Option<&str>,
    detail: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        &seq.to_string(),
        at,
        action,
        subject,
        actor.unwrap_or(""),
        detail,
    ] {
        // Length-prefixed so that no two different entries hash the same bytes.
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// One entry to append: the database assigns its `seq`, the chain its hashes.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub action: &'static str,
    pub subject: String,
    pub actor: Option<String>,
    pub detail: serde_json::Value,
}

impl AuditEntry {
    pub fn new(
        action: &'static str,
        subject: impl Into<String>,
        actor: Option<&str>,
        detail: serde_json::Value,
    ) -> Self {
        AuditEntry {
            action,
            subject: subject.into(),
            actor: actor.map(str::to_string),
            detail,
        }
    }

    /// The row this entry becomes as entry `seq` of a chain whose head hash is `prev_hash`,
    /// written `at` with `detail` as its stored text: its own hash sealed over all of them.
    /// `workspace` is left empty and `position` is `seq`, as in a database holding one
    /// workspace; a database holding several sets both.
    pub(crate) fn sealed(
        &self,
        seq: i64,
        at: String,
        detail: String,
        prev_hash: String,
    ) -> AuditRow {
        let actor = self.actor.as_deref();
        let hash = entry_hash(
            &prev_hash,
            seq,
            &at,
            self.action,
            &self.subject,
            actor,
            &detail,
        );
        AuditRow {
            workspace: String::new(),
            position: seq,
            seq,
            at,
            action: self.action.to_string(),
            subject: self.subject.clone(),
            actor: self.actor.clone(),
            detail,
            prev_hash,
            hash,
        }
    }
}

/// Appends an entry inside the caller's transaction (on the single writer connection). The
/// row is inserted first so that `seq` comes from the database's autoincrement; its hashes,
/// which cover `seq`, are filled in by the same transaction.
pub(super) async fn append(
    tx: &mut Transaction<'_, Sqlite>,
    e: &AuditEntry,
) -> Result<AuditRow, StorageError> {
    let prev: Option<(String,)> =
        sqlx::query_as("select hash from audit_log order by seq desc limit 1")
            .fetch_optional(&mut **tx)
            .await?;
    let prev = prev.map_or_else(|| GENESIS.to_string(), |p| p.0);
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let detail = e.detail.to_string();
    let (seq,): (i64,) = sqlx::query_as(
        "insert into audit_log (at, action, subject, actor, detail, prev_hash, hash) values (?, ?, ?, ?, ?, ?, '') returning seq",
    )
    .bind(&at)
    .bind(e.action)
    .bind(&e.subject)
    .bind(e.actor.as_deref())
    .bind(&detail)
    .bind(&prev)
    .fetch_one(&mut **tx)
    .await?;
    let row = e.sealed(seq, at, detail, prev);
    sqlx::query("update audit_log set hash = ? where seq = ?")
        .bind(&row.hash)
        .bind(seq)
        .execute(&mut **tx)
        .await?;
    // Counted when written into the caller's transaction (a rollback after this is counted
    // under invarlockd_db_errors_total).
    crate::metrics::audit_appended(e.action);
    Ok(row)
}

/// A page of entries after `after` (seq), oldest first.
pub(super) async fn list(
    pool: &SqlitePool,
    after: i64,
    limit: u32,
) -> Result<Vec<AuditRow>, StorageError> {
    let mut rows: Vec<AuditRow> = sqlx::query_as(
        "select seq, at, action, subject, actor, detail, prev_hash, hash from audit_log where seq > ? order by seq limit ?",
    )
    .bind(after)
    .bind(limit as i64)
    .fetch_all(pool)
    .await?;
    for r in &mut rows {
        r.position = r.seq;
    }
    Ok(rows)
}

#[derive(Debug, Clone, Serialize)]
pub struct ChainCheck {
    pub ok: bool,
    pub entries: u64,
    /// The first entry whose stored hashes do not match, and why.
    pub first_broken: Option<i64>,
    pub reason: Option<String>,
}

impl ChainCheck {
    /// The check of a chain with no entries (a workspace that recorded nothing here).
    pub fn empty() -> ChainCheck {
        ChainCheck {
            ok: true,
            entries: 0,
            first_broken: None,
            reason: None,
        }
    }
}

/// Walks the whole chain in order and names the first broken entry.
pub(super) async fn check_chain(pool: &SqlitePool) -> Result<ChainCheck, StorageError> {
    walk_chain(|after| list(pool, after, 1000)).await
}

/// Walks one chain page by page (`page(after_seq)` gives the entries after a seq, in order),
/// whatever database holds it.
pub(crate) async fn walk_chain<F, Fut>(mut page: F) -> Result<ChainCheck, StorageError>
where
    F: FnMut(i64) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<AuditRow>, StorageError>>,
{
    let mut prev = GENESIS.to_string();
    let mut expected_seq = 1i64;
    let mut after = 0i64;
    let mut entries = 0u64;
    loop {
        let page = page(after).await?;
        if page.is_empty() {
            return Ok(ChainCheck {
                ok: true,
                entries,
                first_broken: None,
                reason: None,
            });
        }
        for row in &page {
            entries += 1;
            let broken = |reason: String| ChainCheck {
                ok: false,
                entries,
                first_broken: Some(row.seq),
                reason: Some(reason),
            };
            if row.seq != expected_seq {
                return Ok(broken(format!(
                    "entry {} is missing (next is {})",
                    expected_seq, row.seq
                )));
            }
            if row.prev_hash != prev {
                return Ok(broken(
                    "prev_hash does not match the previous entry's hash".into(),
                ));
            }
            let recomputed = entry_hash(
                &row.prev_hash,
                row.seq,
                &row.at,
                &row.action,
                &row.subject,
                row.actor.as_deref(),
                &row.detail,
            );
            if recomputed != row.hash {
                return Ok(broken("content does not match its hash (edited)".into()));
            }
            prev = row.hash.clone();
            expected_seq += 1;
            after = row.seq;
        }
    }
}
