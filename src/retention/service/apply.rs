//! Applying a plan: every directory it condemns is moved into its trash, each move recorded.

use super::{move_error, now, PlanRecord};
use crate::retention::stored::{parse, PlanBody, Snapshot};
use crate::retention::{fsmove, RetentionError};
use crate::storage::records::{AuditEntry, MoveRow};
use serde_json::json;
use std::path::{Path, PathBuf};

impl crate::retention::Retention {
    pub async fn apply(&self, id: &str, token: Option<&str>) -> Result<PlanRecord, RetentionError> {
        let _guard = self.lock.lock().await;
        let row = self.plan_row(id).await?;
        match row.state.as_str() {
            "planned" => {
                let expires = chrono::DateTime::parse_from_rfc3339(&row.expires_at)
                    .map_err(|e| {
                        RetentionError::Corrupt(format!("plan {id}: stored expires_at: {e}"))
                    })?
                    .to_utc();
                if now() >= expires {
                    return Err(RetentionError::Conflict(
                        "plan_expired",
                        format!("plan {id} expired at {}", row.expires_at),
                    ));
                }
                let snapshot: Snapshot = parse(id, "snapshot", &row.snapshot)?;
                let plan: PlanBody = parse(id, "plan", &row.plan)?;
                let changes = self.staleness(id, &snapshot, &plan).await?;
                if !changes.is_empty() {
                    return Err(RetentionError::Conflict(
                        "plan_stale",
                        format!("plan {id} is stale: {}", changes.join("; ")),
                    ));
                }
                let mut moves = Vec::with_capacity(plan.delete.len());
                for d in &plan.delete {
                    let from = d.path.clone().ok_or_else(|| {
                        RetentionError::Corrupt(format!(
                            "plan {id}: {} has no directory in the stored plan",
                            d.attempt
                        ))
                    })?;
                    moves.push(MoveRow {
                        plan_id: id.into(),
                        attempt_id: d.attempt.clone(),
                        from_path: from,
                        trash_path: self.trash_rel(id, &d.attempt),
                        bytes: i64::try_from(d.bytes).unwrap_or(i64::MAX),
                        state: "pending".into(),
                    });
                }
                self.records.begin_apply(id, &moves).await?;
            }
            "applying" => tracing::info!(plan = id, "resuming an interrupted apply"),
            other => {
                return Err(RetentionError::Conflict(
                    "plan_not_pending",
                    format!("plan {id} is already {other}"),
                ))
            }
        }
        let touched = self.finish_apply(id, token).await?;
        let _ = self.indexer.refresh_paths(&touched).await;
        self.events.drain_history(&self.store).await;
        self.show(id).await
    }

    /// Moves every pending directory of an `applying` plan; safe to run again after a crash
    /// (a directory already in trash is recorded as moved). Returns the paths moved.
    pub(super) async fn finish_apply(
        &self,
        id: &str,
        token: Option<&str>,
    ) -> Result<Vec<PathBuf>, RetentionError> {
        let root = &self.workspace.root;
        let mut reclaimed = 0i64;
        // Bytes moved by this call (a resumed apply already moved some).
        let mut moved_now = 0i64;
        let mut touched = Vec::new();
        for m in self.records.moves(id).await? {
            if m.state != "pending" {
                reclaimed += if m.state == "moved" { m.bytes } else { 0 };
                continue;
            }
            let from = root.join(&m.from_path);
            test_delay();
            // By handle, off the async workers (see fsmove): a refusal (a symlink where a
            // directory was) stops the apply with nothing moved for this attempt.
            let (ws, plan, attempt) =
                (self.workspace.clone(), id.to_string(), m.attempt_id.clone());
            let moved = tokio::task::spawn_blocking(move || {
                match fsmove::to_trash(&ws, &plan, &attempt)? {
                    fsmove::Moved::Moved => Ok(true),
                    fsmove::Moved::SourceMissing => fsmove::in_trash(&ws, &plan, &attempt),
                }
            })
            .await
            .map_err(|e| RetentionError::Internal(e.to_string()))?
            .map_err(|e| move_error("move", &m.from_path, e))?;
            if !moved {
                // Gone from both places: nothing to move, nothing to restore later.
                tracing::warn!(attempt = %m.attempt_id, "attempt vanished before it was moved");
            }
            let entry = AuditEntry::new(
                "retention.moved",
                m.attempt_id.clone(),
                token,
                json!({ "plan_id": id, "from": m.from_path, "to": m.trash_path, "bytes": m.bytes }),
            );
            self.records.record_move(&m, "moved", &entry).await?;
            reclaimed += m.bytes;
            moved_now += m.bytes;
            touched.push(from);
        }
        self.records
            .set_plan_state(id, &["applying"], "applied", Some(reclaimed), None)
            .await?;
        self.events.publish(
            "retention.applied",
            json!({ "plan_id": id, "moved": touched.len(), "bytes": reclaimed }),
        );
        crate::metrics::retention_moved(touched.len(), moved_now.max(0) as u64);
        Ok(touched)
    }

    fn trash_rel(&self, plan_id: &str, attempt: &str) -> String {
        let trash = self
            .workspace
            .state
            .join("trash")
            .join(plan_id)
            .join(attempt);
        trash
            .strip_prefix(&self.workspace.root)
            .map(Path::to_path_buf)
            .unwrap_or(trash)
            .to_string_lossy()
            .into_owned()
    }
}

/// A pause before each move, to widen the crash window in the SIGKILL test. Read from
/// `INVARLOCKD_TEST_RETENTION_DELAY_MS`; absent in production.
fn test_delay() {
    if let Some(ms) = std::env::var("INVARLOCKD_TEST_RETENTION_DELAY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}
