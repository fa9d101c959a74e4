//! The incremental refresh: (re)indexes what a batch of changed paths belongs to.

use super::walk::{self, AttemptDir};
use super::{min_opt, IndexError, Indexer, RefreshOutcome};
use crate::fsx::FsError;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

impl Indexer {
    /// (Re)indexes what the changed `paths` belong to; removes what is gone.
    pub async fn refresh_paths(&self, paths: &[PathBuf]) -> Result<RefreshOutcome, IndexError> {
        let _guard = self.lock.lock().await;
        let ws = &self.cfg.workspace;
        let mut attempt_dirs: BTreeSet<PathBuf> = BTreeSet::new();
        let mut subtrees: BTreeSet<PathBuf> = BTreeSet::new();
        // Top-level entries of runs/ whose unrecognized rows may have changed: those holding a
        // changed path outside any attempt, or an attempt that appeared or vanished. Rewriting
        // an existing attempt never changes them, so the hot path lists nothing.
        let mut tops: BTreeSet<String> = BTreeSet::new();
        let mut evidence = false;
        for p in paths {
            if let Ok(r) = p.strip_prefix(&ws.runs) {
                let parts: Vec<String> =
                    r.iter().map(|c| c.to_string_lossy().into_owned()).collect();
                let ts_at = parts
                    .iter()
                    .enumerate()
                    .skip(1)
                    .find(|(_, s)| crate::domain::AttemptTs::is_timestamp(s))
                    .map(|(i, _)| i);
                match ts_at {
                    Some(i) => {
                        attempt_dirs.insert(
                            parts[..=i]
                                .iter()
                                .fold(ws.runs.clone(), |acc, s| acc.join(s)),
                        );
                    }
                    None => {
                        let name = parts.last().map(String::as_str).unwrap_or("");
                        if name == "report.json" || name.starts_with(walk::TMP_PREFIX) {
                            continue; // a convenience copy (or its temp file)
                        }
                        if !parts.is_empty() {
                            subtrees.insert(p.clone());
                            tops.insert(parts[0].clone());
                        }
                    }
                }
            } else if p.starts_with(&ws.reports)
                || p.strip_prefix(&ws.root)
                    .ok()
                    .and_then(|r| r.iter().next())
                    .is_some_and(|c| c.to_string_lossy().starts_with("reports_"))
            {
                evidence = true;
            }
        }
        let mut dirs: Vec<AttemptDir> = Vec::new();
        let mut removed: Vec<String> = Vec::new();
        let runs_dir = self.runs_dir().map_err(Self::aborted)?;
        for sub in &subtrees {
            let Ok(r) = sub.strip_prefix(&ws.runs) else {
                continue;
            };
            let rel = r.to_string_lossy().into_owned();
            let (runs, runs_path, rel2) = (runs_dir.clone(), ws.runs.clone(), rel.clone());
            // Some(walk) if the subtree is a directory; None if it is gone (or not a directory
            // any more). Any other error stops the refresh; the index stays as it was.
            let w =
                tokio::task::spawn_blocking(move || -> Result<Option<walk::RunsWalk>, FsError> {
                    let Some(runs) = runs else { return Ok(None) };
                    match runs.stat(&rel2) {
                        Ok(st) if st.kind == crate::fsx::EntryKind::Dir => {
                            walk::walk_subtree(&runs, &runs_path, &rel2).map(Some)
                        }
                        Ok(_) => Ok(None),
                        Err(e) if e.is_not_found() || e.is_refusal() => Ok(None),
                        Err(e) => Err(e),
                    }
                })
                .await?
                .map_err(Self::aborted)?;
            match w {
                Some(w) => dirs.extend(w.attempts),
                None => {
                    // A whole nickname directory vanished (or was renamed).
                    for id in self.store.attempt_ids().await? {
                        if id.starts_with(&format!("{rel}/")) {
                            removed.push(id);
                        }
                    }
                }
            }
        }
        for d in attempt_dirs {
            let Ok(r) = d.strip_prefix(&ws.runs) else {
                continue;
            };
            let rel = r.to_string_lossy().into_owned();
            let Ok(id) = crate::domain::AttemptId::parse(&rel) else {
                continue;
            };
            dirs.push(AttemptDir {
                id: rel,
                nickname: id.nickname.to_string(),
                ts: id.ts,
                path: d,
            });
        }
        tracing::debug!(paths = paths.len(), subtrees = ?subtrees, dirs = dirs.len(), "refresh");
        // A new nickname directory and a file inside it can arrive in one batch: the attempt is
        // then found twice (walk and path), and indexing it twice in one transaction fails.
        let mut seen_ids = BTreeSet::new();
        dirs.retain(|d| seen_ids.insert(d.id.clone()));
        let mut known = HashMap::new();
        for d in &dirs {
            if let Some(f) = self.store.fingerprint(&d.id).await? {
                known.insert(d.id.clone(), f);
            }
        }
        let top_of = |id: &str| id.split('/').next().unwrap_or(id).to_string();
        tops.extend(
            dirs.iter()
                .filter(|d| !known.contains_key(&d.id))
                .map(|d| top_of(&d.id)),
        );
        let mut nicknames: BTreeSet<String> = dirs.iter().map(|d| d.nickname.clone()).collect();
        // Subjects that the old rows of rewritten or vanishing attempts bear on, asked while
        // those rows are still in place, and only for attempts that really changed (asking for
        // every known attempt re-derived thousands of subjects when an event merely repeated).
        // A reports/ change re-derives everything anyway.
        let mut before = Vec::new();
        let (parsed, _, gone, recheck) = self
            .index_dirs(dirs, Arc::new(known), (!evidence).then_some(&mut before))
            .await?;
        removed.extend(gone);
        let n_removed = self
            .remove_ids(&removed, (!evidence).then_some(&mut before))
            .await?;
        tops.extend(removed.iter().map(|id| top_of(id)));
        self.reclassify_tops(tops).await?;
        nicknames.extend(
            removed
                .iter()
                .filter_map(|id| id.rsplit_once('/').map(|(n, _)| n.to_string())),
        );
        if evidence {
            self.scan_evidence(None).await?;
        }
        let settle_recheck = self.settle_running(Some(&nicknames)).await?;
        if evidence {
            self.rebuild_mappings().await?;
        } else if !parsed.is_empty() || n_removed > 0 {
            let subjects = self.store.rederive_mappings(&before, &parsed).await?;
            tracing::debug!(subjects, "mappings re-derived");
        }
        if !parsed.is_empty() || n_removed > 0 || evidence {
            self.maintain_copies(Some(&nicknames)).await?;
        }
        Ok(RefreshOutcome {
            recheck_after: min_opt(recheck, settle_recheck),
        })
    }

    /// Replaces the unrecognized rows under each top-level entry of runs/ (a nickname directory
    /// or a stray file): one directory listing each, so a refresh need not wait for the next
    /// reconcile to report or clear them.
    async fn reclassify_tops(&self, tops: BTreeSet<String>) -> Result<(), IndexError> {
        if tops.is_empty() {
            return Ok(());
        }
        let (runs_dir, runs_path) = (
            self.runs_dir().map_err(Self::aborted)?,
            self.cfg.workspace.runs.clone(),
        );
        let walks = tokio::task::spawn_blocking(move || -> Result<Vec<_>, FsError> {
            let mut out = Vec::new();
            for top in tops {
                let w = match &runs_dir {
                    Some(runs) => walk::walk_top(runs, &runs_path, &top)?,
                    None => walk::RunsWalk::default(),
                };
                out.push((top, w.unrecognized));
            }
            Ok(out)
        })
        .await?
        .map_err(Self::aborted)?;
        self.store.replace_unrecognized_under(&walks).await?;
        Ok(())
    }
}
