//! Plans are snapshots; apply executes exactly one plan, refusing (409 `plan_stale`) when
//! anything it relied on changed: the attempts under `runs/` and the archived copies under
//! `reports/` that made a PASS attempt deletable. Apply moves directories into
//! `<state>/trash/<plan-id>/` with an atomic rename. The plan's state in the records is the
//! intent (`applying`, `restoring`, `purging`, with every move listed before the first one),
//! each move commits with its audit entry, and `recover` finishes whatever a crash interrupted
//! before the daemon serves again.

use super::plan::{plan as compute, Candidate, Pairing, Policy};
use super::stored::{parse, PlanBody, PlanItem, Snapshot, Totals};
use super::{fsmove, RetentionError};
use crate::domain::{AttemptId, Sha256};
use crate::fsx::FsError;
use crate::storage::records::{AuditEntry, MoveRow, PlanRow};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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

/// The sha256 of a regular file below the workspace root, walked by handle (a symlink, FIFO or
/// over-size file anywhere on the way counts as not the archived copy); `None` if it is absent
/// or refused. An I/O error is an error, never an absence.
fn file_sha256(
    root: &Path,
    rel: &str,
    limits: &crate::fsx::Limits,
) -> Result<Option<Sha256>, FsError> {
    let opened = crate::fsx::Dir::open_root(root, "workspace")
        .and_then(|d| d.open_file(rel, crate::fsx::FileKind::Report, limits));
    let file = match opened {
        Ok(f) => f,
        Err(e) if e.is_not_found() || e.is_refusal() => return Ok(None),
        Err(e) => return Err(e),
    };
    match file.sha256() {
        Ok((hex, _)) => Ok(Sha256::parse(&hex).ok()),
        Err(e) if e.is_refusal() => Ok(None),
        Err(e) => Err(e),
    }
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

    /// Lists what changed since the plan; empty means the plan still holds. The covered
    /// directories (attempts and the archives they relied on) are re-read first, so a watcher
    /// lagging behind cannot hide a change, and each archived copy a condemned attempt relied
    /// on is hashed again from disk.
    async fn staleness(
        &self,
        id: &str,
        then: &Snapshot,
        plan: &PlanBody,
    ) -> Result<Vec<String>, RetentionError> {
        let mut dirs = BTreeSet::new();
        for a in then.attempts.keys() {
            if let Ok(parsed) = AttemptId::parse(a) {
                dirs.insert(self.workspace.runs.join(a));
                dirs.insert(self.workspace.runs.join(parsed.nickname.as_str()));
            }
        }
        let relied: Vec<(&PlanItem, &str)> = plan
            .delete
            .iter()
            .filter_map(|d| {
                let archived = then.attempts.get(&d.attempt)?.2.as_deref()?;
                Some((d, archived))
            })
            .collect();
        for (_, archived) in &relied {
            if let Some(parent) = Path::new(archived).parent() {
                dirs.insert(self.workspace.root.join(parent));
            }
        }
        let dirs: Vec<_> = dirs.into_iter().collect();
        self.indexer
            .refresh_paths(&dirs)
            .await
            .map_err(|e| RetentionError::Internal(format!("re-reading covered attempts: {e}")))?;
        let rows = self.store.retention_candidates().await?;
        let current = Snapshot::of(&rows);
        let mut changes = Vec::new();
        for (a, was) in &then.attempts {
            match current.attempts.get(a) {
                None => changes.push(format!("{a} was removed")),
                Some(now) if now != was => {
                    if was.2.is_none() && now.2.is_some() {
                        changes.push(format!("{a} was promoted"));
                    } else if was.2.is_some() && now.2.is_none() {
                        changes.push(format!(
                            "{a} is no longer archived ({} is gone or changed)",
                            was.2.as_deref().unwrap_or_default()
                        ));
                    } else {
                        changes.push(format!("{a} changed"));
                    }
                }
                _ => {}
            }
        }
        for a in current.attempts.keys() {
            if then.attempts.contains_key(a) {
                continue;
            }
            if let Ok(parsed) = AttemptId::parse(a) {
                if then.nicknames.contains_key(parsed.nickname.as_str()) {
                    changes.push(format!("new attempt {a} of a planned nickname"));
                }
            }
        }
        // The archive itself, from disk: present, a regular file, and the same bytes as the
        // attempt's report.json (whose sha256 the index holds, unchanged per the listing).
        let sha_of: BTreeMap<&str, Option<&str>> = rows
            .iter()
            .map(|r| (r.id.as_str(), r.report_sha256.as_deref()))
            .collect();
        for (d, archived) in relied {
            let (root, rel, limits) = (
                self.workspace.root.clone(),
                archived.to_string(),
                self.indexer.limits(),
            );
            let found = tokio::task::spawn_blocking(move || file_sha256(&root, &rel, &limits))
                .await
                .map_err(|e| RetentionError::Internal(e.to_string()))?
                .map_err(|e| {
                    RetentionError::Internal(format!("plan {id}: reading {archived}: {e}"))
                })?;
            let expected = sha_of.get(d.attempt.as_str()).copied().flatten();
            match found {
                None => changes.push(format!(
                    "{archived} (the archived copy of {}) is gone",
                    d.attempt
                )),
                Some(h) if Some(h.hex().as_str()) != expected => changes.push(format!(
                    "{archived} (the archived copy of {}) no longer has the attempt's sha256",
                    d.attempt
                )),
                Some(_) => {}
            }
        }
        changes.dedup();
        Ok(changes)
    }

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
    async fn finish_apply(
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
    async fn finish_restore(
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
    async fn finish_purge(&self, id: &str) -> Result<(), RetentionError> {
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
