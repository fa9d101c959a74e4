//! The steps that follow a change of attempt rows, in a full scan and a refresh alike: settling
//! `running` attempts, the evidence scan, the mappings, the convenience copies.

use super::walk::AttemptDir;
use super::{copy, evidence, min_opt, IndexError, Indexer};
use crate::fsx::{Dir, FsError};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

impl Indexer {
    /// Re-derives `running` attempts whose verdict may change without their files changing:
    /// an empty directory superseded by a newer attempt, or anything whose stale_after passed.
    pub(super) async fn settle_running(
        &self,
        nicknames: Option<&BTreeSet<String>>,
    ) -> Result<Option<Duration>, IndexError> {
        let rows = self.store.running_attempts().await?;
        let mut reread = Vec::new();
        let mut recheck = None;
        let mut superseded = Vec::new();
        for r in rows {
            if nicknames.is_some_and(|n| !n.contains(&r.nickname)) {
                continue;
            }
            if r.newest_mtime_ns.is_none() {
                if let Some(newer) = self
                    .store
                    .newer_sibling_with_files(&r.nickname, &r.ts)
                    .await?
                {
                    superseded.push((r.id.clone(), newer));
                    continue;
                }
            }
            reread.push(r);
        }
        if !superseded.is_empty() {
            let changes: Vec<(String, String, Option<String>)> = superseded
                .into_iter()
                .map(|(id, newer)| {
                    let reason = format!(
                        "empty attempt directory (the run failed before the runner started); a newer attempt {newer} exists"
                    );
                    (id, "error".to_string(), Some(reason))
                })
                .collect();
            self.store.set_statuses(&changes).await?;
        }
        // Others: re-read only if their time-based verdict may have changed (cheap: few rows).
        let now = (self.clock)();
        let mut dirs = Vec::new();
        for r in reread {
            let Ok(id) = crate::domain::AttemptId::parse(&r.id) else {
                continue;
            };
            let activity = r
                .newest_mtime_ns
                .map(|ns| std::time::UNIX_EPOCH + Duration::from_nanos(ns.max(0) as u64));
            let ts: SystemTime = self.tz.to_utc(id.ts.naive()).into();
            let newest = activity.map_or(ts, |a| a.max(ts));
            let idle = now.duration_since(newest).unwrap_or(Duration::ZERO);
            if idle >= self.cfg.index.stale_after {
                dirs.push(AttemptDir {
                    id: r.id.clone(),
                    nickname: r.nickname.clone(),
                    ts: id.ts,
                    path: PathBuf::from(&r.dir),
                });
            } else {
                recheck = min_opt(recheck, Some(self.cfg.index.stale_after - idle));
            }
        }
        if !dirs.is_empty() {
            let (_, _, gone, _) = self
                .index_dirs(dirs, Arc::new(HashMap::new()), None)
                .await?;
            self.remove_ids(&gone, None).await?;
        }
        Ok(recheck)
    }

    pub(super) async fn rebuild_mappings(&self) -> Result<u64, IndexError> {
        Ok(self.store.rebuild_mappings().await?)
    }

    /// Returns (dirs, files read, certificates read).
    pub(super) async fn scan_evidence(
        &self,
        _only: Option<&Path>,
    ) -> Result<(u64, u64, u64), IndexError> {
        let ws = self.cfg.workspace.clone();
        let stamps = Arc::new(self.store.evidence_file_stamps().await?);
        let limits = self.cfg.limits;
        let scanned = tokio::task::spawn_blocking(move || -> Result<Vec<_>, FsError> {
            let root = Dir::open_root(&ws.root, "")?;
            let reports = match Dir::open_root(&ws.reports, "reports") {
                Ok(d) => d,
                Err(e) if e.is_not_found() => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            let label = ws
                .reports
                .strip_prefix(&ws.root)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| ws.reports.to_string_lossy().into_owned());
            evidence::evidence_dirs(&root, &reports, &label)?
                .iter()
                .map(|(rel, d)| evidence::scan_dir(rel, d, &stamps, &limits))
                .collect()
        })
        .await?
        .map_err(Self::aborted)?;
        self.store.apply_evidence_scan(&scanned).await?;
        let files = scanned.iter().map(|s| s.changed.len() as u64).sum();
        let certs = scanned.iter().map(|s| s.certificates.len() as u64).sum();
        Ok((scanned.len() as u64, files, certs))
    }

    pub(super) async fn maintain_copies(
        &self,
        nicknames: Option<&BTreeSet<String>>,
    ) -> Result<(), IndexError> {
        if !self.cfg.index.convenience_copy {
            return Ok(());
        }
        copy::maintain(
            &self.store,
            &self.cfg.workspace.runs,
            self.cfg.limits,
            nicknames,
        )
        .await
    }
}
