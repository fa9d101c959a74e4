//! Working off owed commits: read back what each promotion archived, check it is still the
//! evidence its metadata.json describes, and commit it.

use super::commit::{self, CommitSpec, Ident, NewFile, Outcome};
use super::git::{GitError, Repo};
use super::message::{self, Archived};
use super::pending::{self, Ticket};
use super::status::{self, ErrorInfo};
use crate::domain::Sha256;
use crate::promote::metadata::Metadata;
use serde_json::json;
use std::io::Read;
use std::path::Path;

enum WorkError {
    Git(GitError),
    /// The archive is no longer what was promoted: never committed, reported, not retried.
    Evidence(String),
}

impl From<GitError> for WorkError {
    fn from(e: GitError) -> Self {
        WorkError::Git(e)
    }
}

/// Reads a regular file of an archive (never a link, FIFO or device), at most `size + 1`
/// bytes so that a grown file shows as a mismatch rather than an unbounded read.
fn read_evidence(path: &Path, size: u64) -> Result<Vec<u8>, WorkError> {
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| WorkError::Evidence(format!("{}: {e}", path.display())))?;
    if !meta.file_type().is_file() {
        return Err(WorkError::Evidence(format!(
            "{} is no longer a regular file",
            path.display()
        )));
    }
    let mut out = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(size + 1).read_to_end(&mut out))
        .map_err(|e| WorkError::Git(GitError::Io(format!("{}: {e}", path.display()))))?;
    Ok(out)
}

/// The archives of `ticket` that exist as this promotion made them, with their files.
fn collect(
    reports: &Path,
    repo: &Repo,
    ticket: &Ticket,
) -> Result<(Vec<Archived>, Vec<NewFile>), WorkError> {
    let mut archived = Vec::new();
    let mut files = Vec::new();
    for d in &ticket.owed.archives {
        let meta_bytes = pending::is_ours(reports, d)
            .map_err(|e| WorkError::Git(GitError::Io(format!("reports/{}: {e}", d.name))))?;
        let Some(meta_bytes) = meta_bytes else {
            continue;
        };
        let meta = Metadata::from_bytes(&meta_bytes).ok_or_else(|| {
            WorkError::Evidence(format!("reports/{}/metadata.json is not ours", d.name))
        })?;
        for f in &meta.files {
            let bytes = read_evidence(&reports.join(&d.name).join(&f.name), f.size)?;
            if Sha256::of(&bytes).hex() != f.sha256 {
                return Err(WorkError::Evidence(format!(
                    "reports/{}/{} no longer matches its sha256 in metadata.json; not committed",
                    d.name, f.name
                )));
            }
            files.push(NewFile {
                path: repo.path_of(&d.name, &f.name),
                bytes,
            });
        }
        files.push(NewFile {
            path: repo.path_of(&d.name, "metadata.json"),
            bytes: meta_bytes,
        });
        archived.push(Archived {
            name: d.name.clone(),
            meta,
        });
    }
    Ok((archived, files))
}

impl super::GitLog {
    /// Works off every owed commit, oldest first; stops at the first failure.
    pub(super) async fn work_off_all(&self) -> Result<(), ()> {
        let tickets = match pending::list(&self.0.workspace.state) {
            Ok(t) => t,
            Err(e) => {
                self.failed("commit", &format!("owed commits unreadable: {e}"))
                    .await;
                return Err(());
            }
        };
        self.recount();
        for t in tickets.iter().filter(|t| !self.is_in_flight(t)) {
            self.work_off(t).await?;
        }
        Ok(())
    }

    /// Commits one owed promotion (or finds it committed) and settles it.
    pub(super) async fn work_off(&self, ticket: &Ticket) -> Result<(), ()> {
        let _one_writer = self.0.lock.lock().await;
        super::test_hooks::before_commit().await;
        let result = self.commit_ticket(ticket).await;
        let names: Vec<String> = ticket
            .owed
            .archives
            .iter()
            .map(|a| a.name.clone())
            .collect();
        let subject = names.last().cloned().unwrap_or_default();
        let outcome = match result {
            Ok(o) => o,
            Err(WorkError::Git(e)) => {
                self.recount();
                crate::metrics::git_commit(false);
                self.failed("commit", &e.to_string()).await;
                return Err(());
            }
            Err(WorkError::Evidence(why)) => {
                crate::metrics::git_commit(false);
                tracing::error!(%why, "promotion not committed");
                self.audit(
                    "git.commit_refused",
                    &subject,
                    json!({ "archives": names, "reason": why }),
                )
                .await;
                self.update(|s| s.last_error = Some(ErrorInfo::now("commit", &why)));
                let _ = pending::settle(ticket);
                self.recount();
                return Ok(());
            }
        };
        if let Some((Outcome::Committed { commit, branch }, title)) = &outcome {
            crate::metrics::git_commit(true);
            tracing::info!(%commit, %branch, "promotion committed");
            self.audit(
                "git.committed",
                &subject,
                json!({ "commit": commit, "branch": branch, "archives": names }),
            )
            .await;
            let info = status::CommitInfo {
                id: commit.clone(),
                branch: branch.clone(),
                subject: title.clone(),
                at: chrono::Utc::now(),
            };
            self.update(|s| {
                s.last_commit = Some(info);
                if s.mode == crate::config::GitMode::Push {
                    s.pending_push = true;
                }
            });
            self.0.wake.notify_one();
        }
        if let Err(e) = pending::settle(ticket) {
            self.failed(
                "commit",
                &format!("cannot settle {}: {e}", ticket.path.display()),
            )
            .await;
            return Err(());
        }
        self.recount();
        self.update(|s| {
            if s.last_error.as_ref().is_some_and(|e| e.op == "commit") {
                s.last_error = None;
            }
        });
        Ok(())
    }

    /// Owed commits as the disk has them.
    fn recount(&self) {
        let n = pending::list(&self.0.workspace.state).map_or(0, |l| l.len());
        self.update(|s| s.pending_commits = n);
    }

    async fn commit_ticket(&self, ticket: &Ticket) -> Result<Option<(Outcome, String)>, WorkError> {
        let reports = self.0.workspace.reports.clone();
        let repo = Repo::discover(&reports).await?;
        self.update(|s| s.repository = Some(repo.toplevel.display().to_string()));
        let (repo2, ticket2) = (repo.clone(), ticket.clone());
        let (archived, files) =
            tokio::task::spawn_blocking(move || collect(&reports, &repo2, &ticket2))
                .await
                .map_err(|e| WorkError::Git(GitError::Io(e.to_string())))??;
        if archived.is_empty() {
            return Ok(None);
        }
        let msg = message::build(&archived);
        let title = msg.lines().next().unwrap_or_default().to_string();
        let author = Ident::parse(&self.0.cfg.author).unwrap_or_else(Ident::default_ident);
        let committer = if self.0.cfg.committer.trim().is_empty() {
            Ident::parse(&self.0.cfg.author).unwrap_or_else(Ident::default_ident)
        } else {
            Ident::parse(&self.0.cfg.committer).unwrap_or_else(Ident::default_ident)
        };
        let scratch = self.0.workspace.state.join("git");
        let outcome = commit::commit(
            &repo,
            &CommitSpec {
                files: &files,
                message: &msg,
                author: &author,
                committer: &committer,
                scratch: &scratch,
            },
        )
        .await?;
        Ok(Some((outcome, title)))
    }
}
