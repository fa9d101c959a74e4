//! Plans are snapshots; apply executes exactly one plan, refusing (409 `plan_stale`) when
//! anything it relied on changed: the attempts under `runs/` and the archived copies under
//! `reports/` that made a PASS attempt deletable. Apply moves directories into
//! `<state>/trash/<plan-id>/` with an atomic rename. The plan's state in the records is the
//! intent (`applying`, `restoring`, `purging`, with every move listed before the first one),
//! each move commits with its audit entry, and `recover` finishes whatever a crash interrupted
//! before the daemon serves again.

mod apply;
mod staleness;
mod trash;

use super::plan::{plan as compute, Candidate, Pairing, Policy};
use super::stored::{parse, PlanBody, PlanItem, Snapshot, Totals};
use super::RetentionError;
use crate::domain::AttemptId;
use crate::fsx::FsError;
use crate::storage::records::{MoveRow, PlanRow};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct PlanView {
    pub id: String,
    pub created_at: String,
    pub expires_at: String,
    pub state: String,
    pub policy: Policy,
    pub delete: Vec<PlanItem>,
    pub keep: Vec<PlanItem>,
    pub totals: Totals,
}

/// A stored plan with its moves.
#[derive(Debug, Clone)]
pub struct PlanRecord {
    pub row: PlanRow,
    pub policy: Policy,
    pub plan: PlanBody,
    pub moves: Vec<MoveRow>,
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

impl super::Retention {
    pub async fn plan(&self, policy: Policy) -> Result<PlanView, RetentionError> {
        let rows = self.store.retention_candidates().await?;
        let candidates: Vec<Candidate> = rows
            .iter()
            .filter_map(|r| {
                Some(Candidate {
                    id: AttemptId::parse(&r.id).ok()?,
                    status: crate::report::AttemptStatus::parse(&r.status)?,
                    bytes: r.bytes.max(0) as u64,
                    archived_as: r.archived_as.clone(),
                })
            })
            .collect();
        let pairings: Vec<Pairing> = self
            .store
            .pairings()
            .await?
            .into_iter()
            .filter_map(|(s, b)| {
                Some(Pairing {
                    subject: AttemptId::parse(&s).ok()?,
                    baseline: AttemptId::parse(&b).ok()?,
                })
            })
            .collect();
        let plan = compute(&candidates, &pairings, &policy);
        let dirs: BTreeMap<String, String> =
            rows.iter().map(|r| (r.id.clone(), r.dir.clone())).collect();
        let body = PlanBody::of(&plan, &dirs);
        let mut rnd = [0u8; 8];
        getrandom::fill(&mut rnd).map_err(|e| RetentionError::Internal(e.to_string()))?;
        let created = now();
        let row = PlanRow {
            workspace: self.store.workspace().to_string(),
            id: format!("rp-{}", hex::encode(rnd)),
            created_at: rfc3339(created),
            expires_at: rfc3339(
                created + chrono::Duration::from_std(self.plan_ttl).unwrap_or_default(),
            ),
            policy: to_json(&policy)?,
            plan: to_json(&body)?,
            snapshot: to_json(&Snapshot::of(&rows))?,
            state: "planned".into(),
            applied_at: None,
            restored_at: None,
            purged_at: None,
            bytes_reclaimed: 0,
        };
        self.records.insert_plan(&row).await?;
        self.events.publish(
            "retention.planned",
            json!({ "plan_id": row.id, "totals": body.totals }),
        );
        Ok(PlanView {
            id: row.id,
            created_at: row.created_at,
            expires_at: row.expires_at,
            state: row.state,
            policy,
            delete: body.delete,
            keep: body.keep,
            totals: body.totals,
        })
    }

    async fn plan_row(&self, id: &str) -> Result<PlanRow, RetentionError> {
        self.records
            .plan(id)
            .await?
            .ok_or_else(|| RetentionError::NotFound(format!("no retention plan {id:?}")))
    }

    /// A plan as recorded, its stored policy and decisions parsed (a record that does not
    /// parse is `Corrupt`), with its moves. The HTTP layer shapes it.
    pub async fn show(&self, id: &str) -> Result<PlanRecord, RetentionError> {
        let row = self.plan_row(id).await?;
        let policy: Policy = parse(id, "policy", &row.policy)?;
        let plan: PlanBody = parse(id, "plan", &row.plan)?;
        let moves = self.records.moves(id).await?;
        Ok(PlanRecord {
            row,
            policy,
            plan,
            moves,
        })
    }

    /// Finishes whatever a crash interrupted (applies, restores, purges), from the records
    /// alone. Runs at start, before the API serves mutations.
    pub async fn recover(&self) -> Result<usize, RetentionError> {
        let _guard = self.lock.lock().await;
        let mut n = 0;
        // A move refused by what is in the workspace (a planted symlink) leaves its plan in its
        // intent state for the operator (restore, or apply again once it is gone); it must not
        // stop the daemon from starting, or anyone who can write runs/ could keep it down.
        for id in self.records.plans_in("applying").await? {
            tracing::warn!(plan = %id, "finishing an apply interrupted by a crash");
            match self.finish_apply(&id, None).await {
                Err(RetentionError::Conflict(code, detail)) => {
                    tracing::error!(plan = %id, code, %detail, "apply left unfinished")
                }
                r => _ = r?,
            }
            n += 1;
        }
        for id in self.records.plans_in("restoring").await? {
            tracing::warn!(plan = %id, "finishing a restore interrupted by a crash");
            match self.finish_restore(&id, None).await {
                Err(RetentionError::Conflict(code, detail)) => {
                    tracing::error!(plan = %id, code, %detail, "restore left unfinished")
                }
                r => _ = r?,
            }
            n += 1;
        }
        for id in self.records.plans_in("purging").await? {
            tracing::warn!(plan = %id, "finishing a purge interrupted by a crash");
            self.finish_purge(&id).await?;
            n += 1;
        }
        Ok(n)
    }
}

/// A refused move (a symlink or other non-directory where an attempt directory was, or a
/// place already taken) is a 409 that says what was refused, in workspace-relative terms;
/// anything else is an I/O failure, never read as "absent".
fn move_error(what: &str, rel: &str, e: FsError) -> RetentionError {
    match e {
        e if e.is_refusal() => RetentionError::Conflict(
            "move_refused",
            format!("{what} {rel} refused: {e}; nothing was moved"),
        ),
        FsError::Io { source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists => {
            RetentionError::Conflict(
                "restore_conflict",
                format!("{rel}: the destination exists; not overwriting it"),
            )
        }
        e => RetentionError::Internal(format!("{what} {rel}: {e}")),
    }
}

/// Serialises what a plan stores; an error stays an error, never an empty string.
fn to_json<T: Serialize>(v: &T) -> Result<String, RetentionError> {
    serde_json::to_string(v).map_err(|e| RetentionError::Internal(e.to_string()))
}
