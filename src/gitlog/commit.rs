//! One commit adding exactly the given files, built beside the user's work: blobs from the bytes
//! we verified, a tree from a temporary index seeded with HEAD, `commit-tree`, then a
//! compare-and-swap `update-ref`. Whatever the user has staged or modified stays as it was.
//!
//! The user's real index must learn the new paths, or `git status` would show them as staged
//! deletions. It is updated the way git itself does: we create `index.lock` (failing if the
//! user's git holds it), write the new index beside it, move the branch, then rename the new
//! index into place and drop the lock. The branch move and the index update are thus one step
//! for any other git process. `commit-tree` runs no hooks (documented in the README).

use super::git::{git, GitError, Repo};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One file to commit: its repository path and exact bytes.
pub struct NewFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub email: String,
}

impl Ident {
    /// `Name <email>`, as git writes identities.
    pub fn parse(s: &str) -> Option<Ident> {
        let (name, rest) = s.trim().split_once('<')?;
        let email = rest.strip_suffix('>')?;
        let bad = |x: &str| x.is_empty() || x.contains(['<', '>', '\n', '\0']);
        let name = name.trim();
        (!bad(name) && !bad(email)).then(|| Ident {
            name: name.to_string(),
            email: email.to_string(),
        })
    }

    pub fn default_ident() -> Ident {
        Ident {
            name: "invarlockd".into(),
            email: "invarlockd@localhost".into(),
        }
    }
}

pub struct CommitSpec<'a> {
    pub files: &'a [NewFile],
    pub message: &'a str,
    pub author: &'a Ident,
    pub committer: &'a Ident,
    /// Scratch directory for temporary index files (the daemon's state directory).
    pub scratch: &'a Path,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Committed {
        commit: String,
        branch: String,
    },
    /// HEAD already holds these exact files: nothing was committed (the index was synced).
    AlreadyInHead {
        head: String,
    },
}

/// What the lock file holds while we own it: a stale one of ours is recognised at start.
const LOCK_SIGNATURE: &[u8] = b"invarlockd: updating the index for a promotion commit\n";
const ZERO_OID: &str = "0000000000000000000000000000000000000000";
/// Retries when the branch moved between reading HEAD and updating it.
const RACE_RETRIES: usize = 8;

fn scratch_file(dir: &Path, what: &str) -> PathBuf {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    dir.join(format!("{what}-{}-{seq}", std::process::id()))
}

/// Removes the file when dropped (temporary index files and their `.lock`).
struct TempFile(PathBuf);
impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        let _ = std::fs::remove_file(self.0.with_extension("lock"));
    }
}

pub async fn commit(repo: &Repo, spec: &CommitSpec<'_>) -> Result<Outcome, GitError> {
    std::fs::create_dir_all(spec.scratch).map_err(|e| GitError::Io(e.to_string()))?;
    let top = &repo.toplevel;
    // Blobs from the bytes we read and checked, not from paths git would open itself.
    let mut entries = Vec::new();
    for f in spec.files {
        let oid = git(top, &["hash-object", "-w", "--no-filters", "--stdin"])
            .stdin(f.bytes.clone())
            .line()
            .await?;
        entries.push((f.path.clone(), oid));
    }
    let index_info: String = entries
        .iter()
        .map(|(p, oid)| format!("100644 {oid}\t{p}\n"))
        .collect();
    for _ in 0..RACE_RETRIES {
        let branch = repo.head_branch().await?;
        let old = repo.head_commit().await?;
        let tmp = TempFile(scratch_file(spec.scratch, "commit-index"));
        let seed = match &old {
            Some(c) => git(top, &["read-tree", c.as_str()]),
            None => git(top, &["read-tree", "--empty"]),
        };
        seed.index_file(&tmp.0).output().await?;
        git(top, &["update-index", "--add", "--index-info"])
            .index_file(&tmp.0)
            .stdin(index_info.clone().into_bytes())
            .output()
            .await?;
        let tree = git(top, &["write-tree"]).index_file(&tmp.0).line().await?;
        if let Some(head) = &old {
            let head_tree = git(top, &["rev-parse", &format!("{head}^{{tree}}")])
                .line()
                .await?;
            if head_tree == tree {
                sync_index(repo, spec.scratch, &entries, None).await?;
                return Ok(Outcome::AlreadyInHead { head: head.clone() });
            }
        }
        let mut c = git(top, &["commit-tree", tree.as_str()]);
        if let Some(p) = &old {
            c = c.arg("-p").arg(p.clone());
        }
        if signs(repo).await {
            c = c.arg("-S");
        }
        let new = c
            .arg("-F")
            .arg("-")
            .env("GIT_AUTHOR_NAME", spec.author.name.clone())
            .env("GIT_AUTHOR_EMAIL", spec.author.email.clone())
            .env("GIT_COMMITTER_NAME", spec.committer.name.clone())
            .env("GIT_COMMITTER_EMAIL", spec.committer.email.clone())
            .stdin(spec.message.as_bytes().to_vec())
            .line()
            .await?;
        let swap = RefUpdate {
            branch: branch.clone(),
            new: new.clone(),
            expected: old.clone().unwrap_or_else(|| ZERO_OID.to_string()),
            reason: format!(
                "invarlockd: {}",
                spec.message.lines().next().unwrap_or_default()
            ),
        };
        match sync_index(repo, spec.scratch, &entries, Some(swap)).await {
            Ok(()) => {
                return Ok(Outcome::Committed {
                    commit: new,
                    branch,
                })
            }
            Err(e) => {
                // The branch moved under us (a user commit): build again on the new HEAD.
                if repo.head_commit().await? != old {
                    continue;
                }
                return Err(e);
            }
        }
    }
    Err(GitError::Io(format!(
        "the branch kept moving during {RACE_RETRIES} attempts to commit"
    )))
}

/// A compare-and-swap of the branch: refused by git unless it still names `expected`.
struct RefUpdate {
    branch: String,
    new: String,
    expected: String,
    reason: String,
}

/// Adds to the user's index the entries it lacks (never changing one it has), under git's own
/// `index.lock`. With `swap`, the branch update runs while the lock is held and the new index is
/// installed only if it succeeded.
async fn sync_index(
    repo: &Repo,
    scratch: &Path,
    entries: &[(String, String)],
    swap: Option<RefUpdate>,
) -> Result<(), GitError> {
    let lock_path = PathBuf::from(format!("{}.lock", repo.index.display()));
    let mut lock = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&lock_path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(GitError::IndexLocked(lock_path.display().to_string()))
        }
        Err(e) => return Err(GitError::Io(format!("{}: {e}", lock_path.display()))),
    };
    let held = LockGuard(lock_path.clone());
    let _ = lock.write_all(LOCK_SIGNATURE);
    let tmp = TempFile(scratch_file(scratch, "user-index"));
    match std::fs::copy(&repo.index, &tmp.0) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(GitError::Io(format!("{}: {e}", repo.index.display()))),
    }
    let top = &repo.toplevel;
    let mut ls = git(top, &["ls-files", "-z", "--cached", "--"]).index_file(&tmp.0);
    for (p, _) in entries {
        ls = ls.arg(p.clone());
    }
    let listed = ls.output().await?;
    let present: Vec<&[u8]> = listed.split(|b| *b == 0).collect();
    let missing: String = entries
        .iter()
        .filter(|(p, _)| !present.contains(&p.as_bytes()))
        .map(|(p, oid)| format!("100644 {oid}\t{p}\n"))
        .collect();
    if !missing.is_empty() {
        git(top, &["update-index", "--add", "--index-info"])
            .index_file(&tmp.0)
            .stdin(missing.into_bytes())
            .output()
            .await?;
    }
    if let Some(u) = swap {
        git(top, &["update-ref", "-m", u.reason.as_str()])
            .arg(u.branch)
            .arg(u.new)
            .arg(u.expected)
            .output()
            .await?;
    }
    super::test_hooks::before_index_install().await;
    if std::path::Path::new(&tmp.0).exists() {
        std::fs::rename(&tmp.0, &repo.index)
            .map_err(|e| GitError::Io(format!("{}: {e}", repo.index.display())))?;
    }
    drop(held);
    Ok(())
}

struct LockGuard(PathBuf);
impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Removes an `index.lock` that a killed daemon left (recognised by its content); a lock of
/// the user's own git is never touched.
pub fn clear_stale_lock(repo: &Repo) -> bool {
    let lock_path = PathBuf::from(format!("{}.lock", repo.index.display()));
    match std::fs::read(&lock_path) {
        Ok(b) if b == LOCK_SIGNATURE => std::fs::remove_file(&lock_path).is_ok(),
        _ => false,
    }
}

/// Whether the user's git config asks for signed commits.
async fn signs(repo: &Repo) -> bool {
    git(
        &repo.toplevel,
        &["config", "--type=bool", "--get", "commit.gpgsign"],
    )
    .line()
    .await
    .is_ok_and(|v| v == "true")
}
