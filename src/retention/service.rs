//! Plans are snapshots; apply executes exactly one plan, refusing (409 `plan_stale`) when
//! anything it covers changed. Apply moves directories into `<state>/trash/<plan-id>/` with an
//! atomic rename and records every move first, so a crash leaves each directory wholly in
//! `runs/` or wholly in trash and a re-apply or restore finishes the job.

use super::plan::{plan as compute, Candidate, Pairing, Plan, Policy};
use super::RetentionError;
use crate::domain::AttemptId;
use crate::storage::audit;
use crate::storage::retention::{self as store_ret, MoveRow, PlanRow};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[derive(Debug, Clone, Serialize)]
pub struct PlanView {
    pub id: String,
    pub created_at: String,
    pub expires_at: String,
    pub state: String,
    pub policy: Policy,
    pub delete: Vec<Value>,
    pub keep: Vec<Value>,
    pub totals: Value,
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// What must be unchanged between plan and apply.
fn snapshot(rows: &[crate::storage::retention::CandidateRow]) -> Value {
    let mut attempts = serde_json::Map::new();
    let mut nicknames: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in rows {
        attempts.insert(
            r.id.clone(),
            json!([r.listing_digest, r.status, r.archived_as]),
        );
        if let Ok(id) = AttemptId::parse(&r.id) {
            nicknames
                .entry(id.nickname.to_string())
                .or_default()
                .push(r.id.clone());
        }
    }
    json!({ "attempts": attempts, "nicknames": nicknames })
}

fn decorate(plan: &Plan, dirs: &BTreeMap<String, String>) -> (Vec<Value>, Vec<Value>, Value) {
    let view = |d: &super::plan::Decision| json!({ "attempt": d.attempt, "path": dirs.get(&d.attempt), "bytes": d.bytes, "status": d.status, "reason": d.reason });
    let sum = |v: &[super::plan::Decision]| v.iter().map(|d| d.bytes).sum::<u64>();
    let totals = json!({
        "delete_count": plan.delete.len(), "delete_bytes": sum(&plan.delete),
        "keep_count": plan.keep.len(), "keep_bytes": sum(&plan.keep),
    });
    (
        plan.delete.iter().map(view).collect(),
        plan.keep.iter().map(view).collect(),
        totals,
    )
}

impl super::Retention {
    pub async fn plan(&self, policy: Policy) -> Result<PlanView, RetentionError> {
        let rows = store_ret::candidates(self.store.reader()).await?;
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
        let pairings: Vec<Pairing> = store_ret::pairings(self.store.reader())
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
        let (delete, keep, totals) = decorate(&plan, &dirs);
        let mut rnd = [0u8; 8];
        getrandom::fill(&mut rnd).map_err(|e| RetentionError::Internal(e.to_string()))?;
        let created = now();
        let row = PlanRow {
            id: format!("rp-{}", hex::encode(rnd)),
            created_at: rfc3339(created),
            expires_at: rfc3339(
                created + chrono::Duration::from_std(self.plan_ttl).unwrap_or_default(),
            ),
            policy: serde_json::to_string(&policy).unwrap_or_default(),
            plan: json!({ "delete": delete, "keep": keep, "totals": totals }).to_string(),
            snapshot: snapshot(&rows).to_string(),
            state: "planned".into(),
            applied_at: None,
            restored_at: None,
            purged_at: None,
            bytes_reclaimed: 0,
        };
        let mut tx = self.store.begin().await?;
        store_ret::insert_plan(&mut tx, &row).await?;
        tx.commit()
            .await
            .map_err(crate::storage::StorageError::from)?;
        self.events.publish(
            "retention.planned",
            json!({ "plan_id": row.id, "totals": totals }),
        );
        Ok(PlanView {
            id: row.id,
            created_at: row.created_at,
            expires_at: row.expires_at,
            state: row.state,
            policy,
            delete,
            keep,
            totals,
        })
    }

    pub async fn show(&self, id: &str) -> Result<Value, RetentionError> {
        let row = store_ret::plan(self.store.reader(), id)
            .await?
            .ok_or_else(|| RetentionError::NotFound(format!("no retention plan {id:?}")))?;
        let moves = store_ret::moves(self.store.reader(), id).await?;
        Ok(json!({
            "id": row.id, "created_at": row.created_at, "expires_at": row.expires_at, "state": row.state,
            "policy": serde_json::from_str::<Value>(&row.policy).ok(),
            "plan": serde_json::from_str::<Value>(&row.plan).ok(),
            "applied_at": row.applied_at, "restored_at": row.restored_at, "purged_at": row.purged_at,
            "bytes_reclaimed": row.bytes_reclaimed,
            "moves": moves.iter().map(|m| json!({"attempt": m.attempt_id, "from": m.from_path, "trash": m.trash_path, "bytes": m.bytes, "state": m.state})).collect::<Vec<_>>(),
        }))
    }

    /// Lists what changed since the plan; empty means the plan still holds. The covered
    /// directories are re-read first, so a watcher lagging behind cannot hide a change.
    async fn staleness(&self, row: &PlanRow) -> Result<Vec<String>, RetentionError> {
        let then: Value = serde_json::from_str(&row.snapshot).unwrap_or_default();
        let mut dirs = BTreeSet::new();
        for id in then["attempts"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.keys())
        {
            if let Ok(a) = AttemptId::parse(id) {
                dirs.insert(self.workspace.runs.join(id));
                dirs.insert(self.workspace.runs.join(a.nickname.as_str()));
            }
        }
        let dirs: Vec<_> = dirs.into_iter().collect();
        self.indexer
            .refresh_paths(&dirs)
            .await
            .map_err(|e| RetentionError::Internal(format!("re-reading covered attempts: {e}")))?;
        let rows = store_ret::candidates(self.store.reader()).await?;
        let current = snapshot(&rows);
        let mut changes = Vec::new();
        let empty = serde_json::Map::new();
        let old = then["attempts"].as_object().unwrap_or(&empty);
        let new = current["attempts"].as_object().unwrap_or(&empty);
        for (id, was) in old {
            match new.get(id) {
                None => changes.push(format!("{id} was removed")),
                Some(now) if now != was => {
                    if was[2].is_null() && !now[2].is_null() {
                        changes.push(format!("{id} was promoted"));
                    } else {
                        changes.push(format!("{id} changed"));
                    }
                }
                _ => {}
            }
        }
        let old_n = then["nicknames"].as_object().unwrap_or(&empty);
        for id in new.keys().filter(|id| !old.contains_key(*id)) {
            if let Ok(a) = AttemptId::parse(id) {
                if old_n.contains_key(a.nickname.as_str()) {
                    changes.push(format!("new attempt {id} of a planned nickname"));
                }
            }
        }
        Ok(changes)
    }

    pub async fn apply(&self, id: &str, token: Option<&str>) -> Result<Value, RetentionError> {
        let _guard = self.lock.lock().await;
        let row = store_ret::plan(self.store.reader(), id)
            .await?
            .ok_or_else(|| RetentionError::NotFound(format!("no retention plan {id:?}")))?;
        match row.state.as_str() {
            "planned" => {
                let expires = chrono::DateTime::parse_from_rfc3339(&row.expires_at)
                    .map(|t| t.to_utc())
                    .unwrap_or_else(|_| now());
                if now() >= expires {
                    return Err(RetentionError::Conflict(
                        "plan_expired",
                        format!("plan {id} expired at {}", row.expires_at),
                    ));
                }
                let changes = self.staleness(&row).await?;
                if !changes.is_empty() {
                    return Err(RetentionError::Conflict(
                        "plan_stale",
                        format!("plan {id} is stale: {}", changes.join("; ")),
                    ));
                }
                let plan: Value = serde_json::from_str(&row.plan).unwrap_or_default();
                let mut tx = self.store.begin().await?;
                store_ret::set_plan_state(&mut tx, id, "applying", None).await?;
                for d in plan["delete"].as_array().into_iter().flatten() {
                    let attempt = d["attempt"].as_str().unwrap_or_default();
                    let from = d["path"].as_str().unwrap_or_default();
                    store_ret::upsert_move(
                        &mut tx,
                        &MoveRow {
                            plan_id: id.into(),
                            attempt_id: attempt.into(),
                            from_path: from.into(),
                            trash_path: self.trash_rel(id, attempt),
                            bytes: d["bytes"].as_i64().unwrap_or(0),
                            state: "pending".into(),
                        },
                    )
                    .await?;
                }
                tx.commit()
                    .await
                    .map_err(crate::storage::StorageError::from)?;
            }
            "applying" => tracing::info!(plan = id, "resuming an interrupted apply"),
            other => {
                return Err(RetentionError::Conflict(
                    "plan_not_pending",
                    format!("plan {id} is already {other}"),
                ))
            }
        }
        self.finish_apply(id, token).await
    }

    /// Moves every pending directory of an `applying` plan; safe to run again after a crash.
    pub(super) async fn finish_apply(
        &self,
        id: &str,
        token: Option<&str>,
    ) -> Result<Value, RetentionError> {
        let root = &self.workspace.root;
        let mut reclaimed = 0i64;
        // Bytes moved by this call (a resumed apply already moved some).
        let mut moved_now = 0i64;
        let mut touched = Vec::new();
        for m in store_ret::moves(self.store.reader(), id).await? {
            if m.state != "pending" {
                reclaimed += if m.state == "moved" { m.bytes } else { 0 };
                continue;
            }
            let (from, to) = (root.join(&m.from_path), root.join(&m.trash_path));
            test_delay();
            if from.symlink_metadata().is_ok() {
                if let Some(parent) = to.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        RetentionError::Internal(format!("{}: {e}", parent.display()))
                    })?;
                }
                std::fs::rename(&from, &to).map_err(|e| {
                    RetentionError::Internal(format!(
                        "move {} -> {}: {e}",
                        m.from_path, m.trash_path
                    ))
                })?;
            } else if to.symlink_metadata().is_err() {
                // Gone from both places: nothing to move, nothing to restore later.
                tracing::warn!(attempt = %m.attempt_id, "attempt vanished before it was moved");
            }
            let mut tx = self.store.begin().await?;
            store_ret::upsert_move(
                &mut tx,
                &MoveRow {
                    state: "moved".into(),
                    ..m.clone()
                },
            )
            .await?;
            audit::append(&mut tx, "retention.moved", &m.attempt_id, token, &json!({ "plan_id": id, "from": m.from_path, "to": m.trash_path, "bytes": m.bytes })).await?;
            tx.commit()
                .await
                .map_err(crate::storage::StorageError::from)?;
            reclaimed += m.bytes;
            moved_now += m.bytes;
            touched.push(from);
        }
        let mut tx = self.store.begin().await?;
        store_ret::set_plan_state(&mut tx, id, "applied", Some(reclaimed)).await?;
        tx.commit()
            .await
            .map_err(crate::storage::StorageError::from)?;
        let _ = self.indexer.refresh_paths(&touched).await;
        self.events.drain_history(&self.store).await;
        self.events.publish(
            "retention.applied",
            json!({ "plan_id": id, "moved": touched.len(), "bytes": reclaimed }),
        );
        crate::metrics::retention_moved(touched.len(), moved_now.max(0) as u64);
        self.show(id).await
    }

    pub async fn restore(&self, id: &str, token: Option<&str>) -> Result<Value, RetentionError> {
        let _guard = self.lock.lock().await;
        let row = store_ret::plan(self.store.reader(), id)
            .await?
            .ok_or_else(|| RetentionError::NotFound(format!("no retention plan {id:?}")))?;
        if !matches!(row.state.as_str(), "applied" | "applying") {
            return Err(RetentionError::Conflict(
                "plan_not_restorable",
                format!("plan {id} is {}", row.state),
            ));
        }
        let root = &self.workspace.root;
        let mut touched = Vec::new();
        for m in store_ret::moves(self.store.reader(), id).await? {
            if !matches!(m.state.as_str(), "moved" | "pending") {
                continue;
            }
            let (from, to) = (root.join(&m.from_path), root.join(&m.trash_path));
            if to.symlink_metadata().is_ok() {
                if from.symlink_metadata().is_ok() {
                    return Err(RetentionError::Conflict(
                        "restore_conflict",
                        format!("{} exists again; not overwriting it", m.from_path),
                    ));
                }
                if let Some(parent) = from.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| RetentionError::Internal(e.to_string()))?;
                }
                std::fs::rename(&to, &from).map_err(|e| {
                    RetentionError::Internal(format!("restore {}: {e}", m.trash_path))
                })?;
            }
            let mut tx = self.store.begin().await?;
            store_ret::upsert_move(
                &mut tx,
                &MoveRow {
                    state: "restored".into(),
                    ..m.clone()
                },
            )
            .await?;
            audit::append(
                &mut tx,
                "retention.restored",
                &m.attempt_id,
                token,
                &json!({ "plan_id": id, "to": m.from_path }),
            )
            .await?;
            tx.commit()
                .await
                .map_err(crate::storage::StorageError::from)?;
            touched.push(from);
        }
        let mut tx = self.store.begin().await?;
        store_ret::set_plan_state(&mut tx, id, "restored", None).await?;
        tx.commit()
            .await
            .map_err(crate::storage::StorageError::from)?;
        let _ = self.indexer.refresh_paths(&touched).await;
        self.events.drain_history(&self.store).await;
        self.show(id).await
    }

    /// Purges the trash of every applied plan older than `trash_grace`; resumes interrupted
    /// applies. Called periodically.
    pub async fn housekeeping(&self) -> Result<(), RetentionError> {
        for id in store_ret::interrupted(self.store.reader()).await? {
            let _guard = self.lock.lock().await;
            self.finish_apply(&id, None).await?;
        }
        let cutoff =
            rfc3339(now() - chrono::Duration::from_std(self.trash_grace).unwrap_or_default());
        for id in store_ret::purgeable(self.store.reader(), &cutoff).await? {
            let _guard = self.lock.lock().await;
            let dir = self.workspace.state.join("trash").join(&id);
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(RetentionError::Internal(format!(
                        "purge {}: {e}",
                        dir.display()
                    )))
                }
            }
            let mut tx = self.store.begin().await?;
            let mut purged = BTreeSet::new();
            for m in store_ret::moves(self.store.reader(), &id).await? {
                if m.state == "moved" {
                    store_ret::upsert_move(
                        &mut tx,
                        &MoveRow {
                            state: "purged".into(),
                            ..m.clone()
                        },
                    )
                    .await?;
                    purged.insert(m.attempt_id.clone());
                }
            }
            store_ret::set_plan_state(&mut tx, &id, "purged", None).await?;
            audit::append(
                &mut tx,
                "retention.purged",
                &id,
                None,
                &json!({ "attempts": purged }),
            )
            .await?;
            tx.commit()
                .await
                .map_err(crate::storage::StorageError::from)?;
        }
        Ok(())
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
