//! What becomes of an applied plan's trash: restored to where it was, or purged.

use super::{move_error, now, rfc3339, PlanRecord};
use crate::retention::{fsmove, RetentionError};
use crate::storage::records::AuditEntry;
use serde_json::json;
use std::collections::BTreeSet;
use std::path::PathBuf;

impl crate::retention::Retention {
    pub async fn restore(
        &self,
        id: &str,
        token: Option<&str>,
    ) -> Result<PlanRecord, RetentionError> {
        let _guard = self.lock.lock().await;
        let row = self.plan_row(id).await?;
        if !matches!(row.state.as_str(), "applied" | "applying" | "restoring") {
            return Err(RetentionError::Conflict(
                "plan_not_restorable",
                format!("plan {id} is {}", row.state),
            ));
        }
        // Every conflict is found before anything moves: an error answer changes nothing.
        // Checked by handle: a symlink planted in trash (or at a nickname) is refused.
        for m in self.records.moves(id).await? {
            if !matches!(m.state.as_str(), "moved" | "pending") {
                continue;
            }
            let (ws, plan, attempt) =
                (self.workspace.clone(), id.to_string(), m.attempt_id.clone());
            let check =
                tokio::task::spawn_blocking(move || fsmove::check_restore(&ws, &plan, &attempt))
                    .await
                    .map_err(|e| RetentionError::Internal(e.to_string()))?
                    .map_err(|e| move_error("restore", &m.trash_path, e))?;
            if check == fsmove::RestoreCheck::Occupied {
                return Err(RetentionError::Conflict(
                    "restore_conflict",
                    format!("{} exists again; not overwriting it", m.from_path),
                ));
            }
        }
        if row.state != "restoring" {
            self.records
                .set_plan_state(id, &["applied", "applying"], "restoring", None, None)
                .await?;
        }
        let touched = self.finish_restore(id, token).await?;
        let _ = self.indexer.refresh_paths(&touched).await;
        self.events.drain_history(&self.store).await;
        self.show(id).await
    }

    /// Moves every directory of a `restoring` plan back; safe to run again after a crash.
    pub(super) async fn finish_restore(
        &self,
        id: &str,
        token: Option<&str>,
    ) -> Result<Vec<PathBuf>, RetentionError> {
        let root = &self.workspace.root;
        let mut touched = Vec::new();
        for m in self.records.moves(id).await? {
            if !matches!(m.state.as_str(), "moved" | "pending") {
                continue;
            }
            let from = root.join(&m.from_path);
            let (ws, plan, attempt) =
                (self.workspace.clone(), id.to_string(), m.attempt_id.clone());
            // Not in trash (never moved, or already back): nothing to restore.
            tokio::task::spawn_blocking(move || fsmove::restore(&ws, &plan, &attempt))
                .await
                .map_err(|e| RetentionError::Internal(e.to_string()))?
                .map_err(|e| move_error("restore", &m.trash_path, e))?;
            let entry = AuditEntry::new(
                "retention.restored",
                m.attempt_id.clone(),
                token,
                json!({ "plan_id": id, "to": m.from_path }),
            );
            self.records.record_move(&m, "restored", &entry).await?;
            touched.push(from);
        }
        self.records
            .set_plan_state(id, &["restoring"], "restored", None, None)
            .await?;
        Ok(touched)
    }

    /// Removes the trash of a `purging` plan and records it; safe to run again.
    pub(super) async fn finish_purge(&self, id: &str) -> Result<(), RetentionError> {
        let (ws, plan) = (self.workspace.clone(), id.to_string());
        tokio::task::spawn_blocking(move || fsmove::purge(&ws, &plan))
            .await
            .map_err(|e| RetentionError::Internal(e.to_string()))?
            .map_err(|e| move_error("purge", &format!("trash/{id}"), e))?;
        let purged: BTreeSet<String> = self
            .records
            .moves(id)
            .await?
            .into_iter()
            .filter(|m| m.state == "moved")
            .map(|m| m.attempt_id)
            .collect();
        let entry = AuditEntry::new("retention.purged", id, None, json!({ "attempts": purged }));
        self.records
            .set_plan_state(id, &["purging"], "purged", None, Some(&entry))
            .await?;
        Ok(())
    }

    /// Purges the trash of every applied plan older than `trash_grace`. Called periodically.
    pub async fn housekeeping(&self) -> Result<(), RetentionError> {
        let cutoff =
            rfc3339(now() - chrono::Duration::from_std(self.trash_grace).unwrap_or_default());
        for id in self.records.purgeable(&cutoff).await? {
            let _guard = self.lock.lock().await;
            self.records
                .set_plan_state(&id, &["applied"], "purging", None, None)
                .await?;
            self.finish_purge(&id).await?;
        }
        Ok(())
    }
}
