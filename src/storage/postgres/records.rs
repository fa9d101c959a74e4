//! PostgreSQL: the durable records of every workspace of a fleet, in shared tables whose rows
//! name their workspace (migrations/postgres/shared). Each workspace's audit log is its own
//! hash chain, appended under a per-workspace transaction-scoped advisory lock: the database
//! orders the appends of concurrent writers and no two of them read the same chain head.

use super::retry;
use crate::domain::WorkspaceId;
use crate::storage::generation::Generation;
use crate::storage::records::audit::{self, AuditEntry, AuditRow, ChainCheck, GENESIS};
use crate::storage::records::{IntentKind, VerificationRow};
use crate::storage::StorageError;
use sqlx::{PgPool, Postgres, Transaction};

#[derive(Clone, Debug)]
pub(crate) struct Db {
    pub(super) pool: PgPool,
    pub(super) own: String,
    pub(super) generation: Generation,
}

/// Creates or migrates the shared tables (sqlx's migrator holds an advisory lock, so daemons
/// starting together migrate once).
pub(super) async fn migrate(pool: &PgPool) -> Result<(), StorageError> {
    sqlx::migrate!("./migrations/postgres/shared")
        .run(pool)
        .await?;
    Ok(())
}

const AUDIT_COLUMNS: &str =
    "workspace, position, seq, at, action, subject, actor, detail, prev_hash, hash";

/// Appends an entry to the own workspace's chain inside the caller's transaction.
pub(super) async fn append(
    tx: &mut Transaction<'_, Postgres>,
    workspace: &str,
    e: &AuditEntry,
) -> Result<AuditRow, StorageError> {
    // Held to the end of the transaction: the next writer of this workspace reads the head
    // this one leaves. Other workspaces' chains are not held up.
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('invarlockd.audit/' || $1, 0))")
        .bind(workspace)
        .execute(&mut **tx)
        .await?;
    let head: Option<(i64, String)> = sqlx::query_as(
        "select seq, hash from audit_log where workspace = $1 order by seq desc limit 1",
    )
    .bind(workspace)
    .fetch_optional(&mut **tx)
    .await?;
    let (seq, prev) = head.map_or((1, GENESIS.to_string()), |(s, h)| (s + 1, h));
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let mut row = e.sealed(seq, at, e.detail.to_string(), prev);
    let (position,): (i64,) = sqlx::query_as(
        "insert into audit_log (workspace, seq, at, action, subject, actor, detail, prev_hash, hash)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning position",
    )
    .bind(workspace)
    .bind(seq)
    .bind(&row.at)
    .bind(e.action)
    .bind(&e.subject)
    .bind(e.actor.as_deref())
    .bind(&row.detail)
    .bind(&row.prev_hash)
    .bind(&row.hash)
    .fetch_one(&mut **tx)
    .await?;
    crate::metrics::audit_appended(e.action);
    row.workspace = workspace.to_string();
    row.position = position;
    Ok(row)
}

impl Db {
    pub(crate) async fn open(
        url: &str,
        own: &WorkspaceId,
        generation: &Generation,
    ) -> Result<Db, StorageError> {
        let pool = super::connect(url).await?;
        migrate(&pool).await?;
        Ok(Db {
            pool,
            own: own.to_string(),
            generation: generation.clone(),
        })
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    pub(super) async fn begin(&self) -> Result<Transaction<'static, Postgres>, StorageError> {
        Ok(self.pool.begin().await?)
    }

    pub(super) async fn commit(&self, tx: Transaction<'_, Postgres>) -> Result<(), StorageError> {
        let _mark = self.generation.writing();
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn audit_page(
        &self,
        scope: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<AuditRow>, StorageError> {
        Ok(sqlx::query_as(&format!(
            "select {AUDIT_COLUMNS} from audit_log where ($1::text is null or workspace = $1)
             and position > $2 order by position limit $3"
        ))
        .bind(scope)
        .bind(after)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?)
    }

    pub(crate) async fn check_chain(&self, workspace: &str) -> Result<ChainCheck, StorageError> {
        let sql = format!(
            "select {AUDIT_COLUMNS} from audit_log where workspace = $1 and seq > $2 order by seq limit 1000"
        );
        audit::walk_chain(|after| {
            let sql = sql.clone();
            async move {
                Ok(sqlx::query_as(&sql)
                    .bind(workspace)
                    .bind(after)
                    .fetch_all(&self.pool)
                    .await?)
            }
        })
        .await
    }

    pub(crate) async fn append_audit(&self, entry: &AuditEntry) -> Result<AuditRow, StorageError> {
        retry!(async {
            let mut tx = self.begin().await?;
            let row = append(&mut tx, &self.own, entry).await?;
            self.commit(tx).await?;
            Ok::<_, StorageError>(row)
        })
    }

    pub(crate) async fn record_verification(
        &self,
        promotion: &str,
        ok: bool,
        result: &serde_json::Value,
        entry: &AuditEntry,
    ) -> Result<i64, StorageError> {
        retry!(async {
            let mut tx = self.begin().await?;
            let (seq,): (i64,) = sqlx::query_as(
                "insert into verifications (workspace, promotion, ok, result, actor)
                 values ($1, $2, $3, $4, $5) returning seq",
            )
            .bind(&self.own)
            .bind(promotion)
            .bind(ok)
            .bind(result.to_string())
            .bind(entry.actor.as_deref())
            .fetch_one(&mut *tx)
            .await?;
            append(&mut tx, &self.own, entry).await?;
            self.commit(tx).await?;
            Ok::<_, StorageError>(seq)
        })
    }

    pub(crate) async fn verifications_of(
        &self,
        workspace: &str,
        promotion: &str,
        limit: u32,
    ) -> Result<Vec<VerificationRow>, StorageError> {
        Ok(sqlx::query_as(
            "select workspace, seq, promotion, ok, result, actor, created_at from verifications
             where workspace = $1 and promotion = $2 order by seq desc limit $3",
        )
        .bind(workspace)
        .bind(promotion)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?)
    }

    pub(crate) async fn open_intent(
        &self,
        kind: IntentKind,
        detail: &str,
    ) -> Result<i64, StorageError> {
        retry!(async {
            let mut tx = self.begin().await?;
            let (id,): (i64,) = sqlx::query_as(
                "insert into intents (workspace, kind, detail, state) values ($1, $2, $3, 'open') returning id",
            )
            .bind(&self.own)
            .bind(kind.as_str())
            .bind(detail)
            .fetch_one(&mut *tx)
            .await?;
            self.commit(tx).await?;
            Ok::<_, StorageError>(id)
        })
    }

    pub(crate) async fn complete_intent(
        &self,
        id: i64,
        entries: &[AuditEntry],
    ) -> Result<Vec<AuditRow>, StorageError> {
        retry!(async {
            let mut tx = self.begin().await?;
            let closed = sqlx::query(
                "update intents set state = 'done', closed_at = invarlockd_now()
                 where id = $1 and workspace = $2 and state = 'open'",
            )
            .bind(id)
            .bind(&self.own)
            .execute(&mut *tx)
            .await?;
            if closed.rows_affected() != 1 {
                return Err(StorageError::Corrupt(format!("intent {id} is not open")));
            }
            let mut rows = Vec::with_capacity(entries.len());
            for e in entries {
                rows.push(append(&mut tx, &self.own, e).await?);
            }
            self.commit(tx).await?;
            Ok(rows)
        })
    }

    pub(crate) async fn roll_back_intent(&self, id: i64) -> Result<(), StorageError> {
        retry!(async {
            let mut tx = self.begin().await?;
            sqlx::query(
                "update intents set state = 'rolled_back', closed_at = invarlockd_now()
                 where id = $1 and workspace = $2 and state = 'open'",
            )
            .bind(id)
            .bind(&self.own)
            .execute(&mut *tx)
            .await?;
            self.commit(tx).await
        })
    }

    pub(crate) async fn open_intents(
        &self,
        kind: IntentKind,
    ) -> Result<Vec<(i64, String)>, StorageError> {
        Ok(sqlx::query_as(
            "select id, detail from intents where workspace = $1 and state = 'open' and kind = $2 order by id",
        )
        .bind(&self.own)
        .bind(kind.as_str())
        .fetch_all(&self.pool)
        .await?)
    }
}
