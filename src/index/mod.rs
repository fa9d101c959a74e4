//! The indexer: turns the workspace into index rows. Called by the watcher (`refresh_paths` for
//! debounced events, `full_scan` at start and on reconcile) and by `invarlockd scan`.
//!
//! Cost model: one `stat` per file to detect change by (name, size, mtime); a changed attempt is
//! read once (report.json into memory, parsed once without token arrays, sha256 over the same
//! bytes; events.jsonl streamed) on a blocking thread, a bounded number at a time; rows are
//! written through the single writer in transactions of `BATCH` attempts.

mod attempt;
mod copy;
mod evidence;
pub mod walk;

use crate::config::{IndexConfig, Workspace};
use crate::fsx::{Dir, FsError, Limits};
use crate::storage::attempts::{self, AttemptWrite};
use crate::storage::{Storage, StorageError};
use crate::timezone::TimeZone;
use attempt::{read_attempt, ReadAttempt, ReadCtx, ReadResult};
use futures::StreamExt;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use walk::AttemptDir;

const BATCH: usize = 500;

#[derive(Clone, Debug)]
pub struct IndexSettings {
    pub workspace: Workspace,
    pub index: IndexConfig,
    pub limits: Limits,
}

type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

#[derive(Clone)]
pub struct Indexer {
    store: Storage,
    cfg: Arc<IndexSettings>,
    tz: TimeZone,
    clock: Clock,
    /// One indexing operation at a time (the watcher and `POST /v1/rescan` may overlap).
    lock: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("indexing task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// A filesystem error that is not an absence: the scan stopped, the index is as it was.
    #[error("scan aborted: {0}")]
    Fs(#[from] FsError),
}

impl IndexError {
    /// The cause under which a failed scan is counted.
    pub fn cause(&self) -> crate::metrics::ScanCause {
        use crate::metrics::ScanCause;
        match self {
            IndexError::Io(_) => ScanCause::Filesystem,
            IndexError::Storage(StorageError::Dir(..)) => ScanCause::Filesystem,
            IndexError::Storage(_) => ScanCause::Database,
            IndexError::Join(_) => ScanCause::Internal,
            IndexError::Fs(_) => ScanCause::Filesystem,
        }
    }
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct ScanSummary {
    pub attempts_seen: u64,
    /// Attempts read (new or changed).
    pub parsed: u64,
    pub unchanged: u64,
    pub removed: u64,
    pub unrecognized: u64,
    /// Attempts or subtrees that could not be read (permission): kept as indexed.
    pub unreadable: u64,
    pub evidence_dirs: u64,
    pub evidence_files_read: u64,
    pub certificates: u64,
    pub mappings: u64,
    #[serde(serialize_with = "ser_ms")]
    pub duration: Duration,
}

fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

#[derive(Debug, Default, Clone)]
pub struct RefreshOutcome {
    /// Call again with the same paths after this long (a report still settling, an attempt that
    /// will turn stale).
    pub recheck_after: Option<Duration>,
}

/// Wall time of each step of a full scan, for the log line that ends it (where a slow
/// reconcile spends its time, without a profiler).
struct Steps {
    last: Instant,
    laps: Vec<(&'static str, Duration)>,
}

impl Steps {
    fn new(started: Instant) -> Self {
        Steps {
            last: started,
            laps: Vec::new(),
        }
    }

    fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        self.laps.push((name, now - self.last));
        self.last = now;
    }
}

impl std::fmt::Display for Steps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (name, d)) in self.laps.iter().enumerate() {
            let sep = if i == 0 { "" } else { " " };
            write!(f, "{sep}{name}={}ms", d.as_millis())?;
        }
        Ok(())
    }
}

fn min_opt(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

impl Indexer {
    /// The configured size caps, for other readers of the workspace (retention's checks).
    pub fn limits(&self) -> Limits {
        self.cfg.limits
    }

    pub fn new(store: Storage, cfg: IndexSettings) -> Self {
        let tz = TimeZone::parse(&cfg.index.timezone).unwrap_or(TimeZone::Local);
        Indexer {
            store,
            cfg: Arc::new(cfg),
            tz,
            clock: Arc::new(SystemTime::now),
            lock: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Replaces the wall clock (tests of age-dependent statuses).
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub fn store(&self) -> &Storage {
        &self.store
    }

    pub fn settings(&self) -> &IndexSettings {
        &self.cfg
    }

    pub fn timezone(&self) -> TimeZone {
        self.tz
    }

    /// runs/ opened by handle; everything below it is opened through it, following nothing.
    /// A runs/ that does not exist is `None` (nothing to index); any other error stops.
    fn runs_dir(&self) -> Result<Option<Arc<Dir>>, FsError> {
        match Dir::open_root(&self.cfg.workspace.runs, "runs") {
            Ok(d) => Ok(Some(Arc::new(d))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Logs an aborted scan (the watcher counts it in `invarlockd_scans_aborted_total`).
    fn aborted(e: FsError) -> IndexError {
        tracing::error!(error = %e, "scan aborted by a filesystem error; the index is kept as it was");
        IndexError::Fs(e)
    }

    fn concurrency() -> usize {
        std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(1, 8)
    }

    /// Reads `dirs` (skipping unchanged ones per `known`) and writes them in batches.
    /// Returns (ids read and written, unchanged count, gone ids, min recheck). With `before`,
    /// collects the subjects that the old rows of rewritten attempts bear on (see
    /// `storage::mappings::subjects_before_change`), asked in each batch's transaction.
    async fn index_dirs(
        &self,
        dirs: Vec<AttemptDir>,
        known: Arc<HashMap<String, attempts::Fingerprint>>,
        mut before: Option<&mut Vec<String>>,
    ) -> Result<(Vec<String>, u64, Vec<String>, Option<Duration>), IndexError> {
        let now = (self.clock)();
        let Some(runs) = self.runs_dir().map_err(Self::aborted)? else {
            // runs/ itself is gone: every attempt asked about is gone.
            return Ok((
                Vec::new(),
                0,
                dirs.into_iter().map(|d| d.id).collect(),
                None,
            ));
        };
        let limits = self.cfg.limits;
        let (tz, settle, stale) = (self.tz, self.cfg.index.settle, self.cfg.index.stale_after);
        let mut results = futures::stream::iter(dirs)
            .map(|d| {
                let known = known.clone();
                let runs = runs.clone();
                tokio::task::spawn_blocking(move || {
                    let k = known
                        .get(&d.id)
                        .map(|f| (f.listing_digest.as_str(), f.status.as_str()));
                    let ctx = ReadCtx {
                        tz,
                        now,
                        settle,
                        stale_after: stale,
                        runs: &runs,
                        limits: &limits,
                    };
                    let r = read_attempt(&d, k, ctx);
                    (d.id, r)
                })
            })
            .buffer_unordered(Self::concurrency() * 2);
        let (mut parsed, mut unchanged, mut gone, mut recheck) =
            (Vec::new(), 0u64, Vec::new(), None);
        let mut batch: Vec<ReadAttempt> = Vec::with_capacity(BATCH);
        while let Some(r) = results.next().await {
            let (id, r) = r?;
            match r.map_err(Self::aborted)? {
                ReadResult::Unchanged => unchanged += 1,
                ReadResult::Gone => gone.push(id),
                ReadResult::Unreadable(why) => {
                    // Kept as indexed: an attempt that cannot be read is not an absent one.
                    tracing::warn!(attempt = %id, %why, "attempt cannot be read; kept as indexed");
                    unchanged += 1;
                }
                ReadResult::Read(a) => {
                    parsed.push(id);
                    recheck = min_opt(recheck, a.recheck_after);
                    batch.push(*a);
                    if batch.len() >= BATCH {
                        self.write_batch(&mut batch, &known, before.as_deref_mut())
                            .await?;
                    }
                }
            }
        }
        self.write_batch(&mut batch, &known, before).await?;
        Ok((parsed, unchanged, gone, recheck))
    }

    async fn write_batch(
        &self,
        batch: &mut Vec<ReadAttempt>,
        known: &HashMap<String, attempts::Fingerprint>,
        before: Option<&mut Vec<String>>,
    ) -> Result<(), IndexError> {
        if batch.is_empty() {
            return Ok(());
        }
        let rewritten: Option<Vec<String>> = before.is_some().then(|| {
            batch
                .iter()
                .filter(|a| known.contains_key(&a.row.id))
                .map(|a| a.row.id.clone())
                .collect()
        });
        let writes: Vec<AttemptWrite> = batch
            .iter()
            .map(|a| AttemptWrite {
                row: &a.row,
                files: &a.files,
                event: match known.get(&a.row.id) {
                    None => Some("indexed"),
                    Some(f)
                        if f.status != a.row.status || f.listing_digest != a.row.listing_digest =>
                    {
                        Some("updated")
                    }
                    Some(_) => None,
                },
            })
            .collect();
        let subjects = self
            .store
            .write_attempts(&writes, rewritten.as_deref())
            .await?;
        if let Some(before) = before {
            before.extend(subjects);
        }
        batch.clear();
        Ok(())
    }

    /// Removes `ids`; with `before`, first collects the subjects their rows bear on.
    async fn remove_ids(
        &self,
        ids: &[String],
        mut before: Option<&mut Vec<String>>,
    ) -> Result<u64, IndexError> {
        let mut n = 0;
        for chunk in ids.chunks(BATCH) {
            let (removed, subjects) = self.store.remove_attempts(chunk, before.is_some()).await?;
            n += removed;
            if let Some(before) = before.as_deref_mut() {
                before.extend(subjects);
            }
        }
        Ok(n)
    }

    /// Full reconcile of runs/, reports/ and reports_*/.
    pub async fn full_scan(&self) -> Result<ScanSummary, IndexError> {
        let _guard = self.lock.lock().await;
        self.scan_all().await
    }

    /// When the index file was deleted or replaced while the daemon runs: builds a new index at
    /// the path with a full scan, while the old one keeps answering, then puts it in service at
    /// one instant (`Storage::adopt`). Nothing else writes the index meanwhile (this holds the
    /// indexing lock), so the new one answers exactly as the old did. Returns whether it did.
    pub async fn rebuild_if_replaced(&self) -> Result<bool, IndexError> {
        if !self.store.file_replaced() {
            return Ok(false);
        }
        let _guard = self.lock.lock().await;
        if !self.store.file_replaced() {
            return Ok(false);
        }
        tracing::warn!(path = %self.store.path.display(), "the index file was deleted or replaced; rebuilding it while serving from the file opened before");
        let fresh = self.store.open_replacement().await?;
        let builder = Indexer {
            store: fresh.clone(),
            ..self.clone()
        };
        let sum = builder.scan_all().await?;
        self.store.adopt(&fresh);
        tracing::info!(?sum, "index rebuilt and in service");
        Ok(true)
    }

    /// A full scan; the caller holds the indexing lock.
    async fn scan_all(&self) -> Result<ScanSummary, IndexError> {
        let started = Instant::now();
        let mut sum = ScanSummary::default();
        let runs_dir = self.runs_dir().map_err(Self::aborted)?;
        let runs_path = self.cfg.workspace.runs.clone();
        // The walk, and the removal of the daemon's own leftover temporary files it found,
        // run on a blocking thread. A listing error aborts the scan before anything is removed.
        let walk = tokio::task::spawn_blocking(move || -> Result<walk::RunsWalk, FsError> {
            let Some(runs) = runs_dir else {
                return Ok(walk::RunsWalk::default());
            };
            let w = walk::walk_runs(&runs, &runs_path)?;
            for rel in &w.leftovers {
                let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel.as_str()));
                if let Err(e) = runs.open_dir(parent).and_then(|d| d.remove_file(name)) {
                    tracing::warn!(path = %rel, error = %e, "cannot remove a leftover temporary file");
                }
            }
            Ok(w)
        })
        .await?
        .map_err(Self::aborted)?;
        let mut steps = Steps::new(started);
        steps.lap("walk");
        sum.attempts_seen = walk.attempts.len() as u64;
        sum.unrecognized = walk.unrecognized.len() as u64;
        sum.unreadable = walk.unlisted.len() as u64;
        let known = Arc::new(self.store.fingerprints().await?);
        let mut vanished: Vec<String> = {
            let seen: HashSet<&str> = walk.attempts.iter().map(|a| a.id.as_str()).collect();
            // Below a directory that could not be listed, nothing is known to have vanished.
            let hidden = |id: &str| {
                walk.unlisted.iter().any(|p| {
                    id.strip_prefix(p.as_str())
                        .is_some_and(|r| r.starts_with('/'))
                })
            };
            known
                .keys()
                .filter(|id| !seen.contains(id.as_str()) && !hidden(id))
                .cloned()
                .collect()
        };
        let (parsed, unchanged, gone, _) =
            self.index_dirs(walk.attempts, known.clone(), None).await?;
        steps.lap("attempts");
        sum.parsed = parsed.len() as u64;
        sum.unchanged = unchanged;
        vanished.extend(gone);
        sum.removed = self.remove_ids(&vanished, None).await?;
        self.store.replace_unrecognized(&walk.unrecognized).await?;
        steps.lap("removals");
        let (dirs, files_read, certs) = self.scan_evidence(None).await?;
        steps.lap("evidence");
        sum.evidence_dirs = dirs;
        sum.evidence_files_read = files_read;
        sum.certificates = certs;
        self.settle_running(None).await?;
        steps.lap("settle");
        sum.mappings = self.rebuild_mappings().await?;
        steps.lap("mappings");
        self.maintain_copies(None).await?;
        steps.lap("copies");
        sum.duration = started.elapsed();
        tracing::info!(?sum, steps = %steps, "full scan done");
        Ok(sum)
    }

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

    /// Re-derives `running` attempts whose verdict may change without their files changing:
    /// an empty directory superseded by a newer attempt, or anything whose stale_after passed.
    async fn settle_running(
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

    async fn rebuild_mappings(&self) -> Result<u64, IndexError> {
        Ok(self.store.rebuild_mappings().await?)
    }

    /// Returns (dirs, files read, certificates read).
    async fn scan_evidence(&self, _only: Option<&Path>) -> Result<(u64, u64, u64), IndexError> {
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

    async fn maintain_copies(
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
