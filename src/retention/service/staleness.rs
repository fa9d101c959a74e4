//! Whether a plan still holds: what changed since it was made, re-read from disk.

use crate::domain::{AttemptId, Sha256};
use crate::fsx::FsError;
use crate::retention::stored::{PlanBody, PlanItem, Snapshot};
use crate::retention::RetentionError;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

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

impl crate::retention::Retention {
    /// Lists what changed since the plan; empty means the plan still holds. The covered
    /// directories (attempts and the archives they relied on) are re-read first, so a watcher
    /// lagging behind cannot hide a change, and each archived copy a condemned attempt relied
    /// on is hashed again from disk.
    pub(super) async fn staleness(
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
}
