//! Running the `git` command: one place that scrubs the environment, bounds the run time and
//! turns failures into errors that say which command failed and why.
//!
//! The `git` CLI rather than a library: it honours the user's own repository setup exactly
//! (config, signing keys, credential helpers and ssh for `push`, worktrees, alternates), which a
//! re-implementation would approximate, and it adds no C or large Rust dependency to the build.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

#[derive(Debug, Clone, thiserror::Error)]
pub enum GitError {
    #[error("the git command is not available: {0}")]
    Unavailable(String),
    #[error("{dir} is not inside a git work tree")]
    NotARepository { dir: String },
    #[error("HEAD is detached; promotions are committed once a branch is checked out")]
    DetachedHead,
    #[error("{0}")]
    NotInWorkTree(String),
    #[error("git's index is locked ({0} exists): another git command is running")]
    IndexLocked(String),
    #[error("`git {cmd}` failed ({status}): {stderr}")]
    Failed {
        cmd: String,
        status: String,
        stderr: String,
    },
    #[error("`git {0}` did not finish within its time limit")]
    Timeout(String),
    #[error("{0}")]
    Io(String),
}

/// Variables that would point git at another repository, index or object store than the one
/// found from the workspace (set, for example, when the daemon is started from a git hook).
const SCRUBBED: [&str; 9] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_CEILING_DIRECTORIES",
];

/// One git invocation in `dir`.
pub struct Cmd<'a> {
    dir: &'a Path,
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
}

pub fn git<'a>(dir: &'a Path, args: &[&str]) -> Cmd<'a> {
    Cmd {
        dir,
        args: args.iter().map(|a| a.to_string()).collect(),
        env: Vec::new(),
        stdin: None,
        timeout: Duration::from_secs(60),
    }
}

impl Cmd<'_> {
    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }

    pub fn env(mut self, k: &str, v: impl Into<String>) -> Self {
        self.env.push((k.to_string(), v.into()));
        self
    }

    pub fn index_file(self, path: &Path) -> Self {
        let p = path.display().to_string();
        self.env("GIT_INDEX_FILE", p)
    }

    pub fn stdin(mut self, bytes: Vec<u8>) -> Self {
        self.stdin = Some(bytes);
        self
    }

    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    fn name(&self) -> String {
        self.args
            .iter()
            .take(2)
            .cloned()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Runs the command; `Ok((exit code, stdout))` whatever the exit code.
    pub async fn status(self) -> Result<(i32, Vec<u8>, String), GitError> {
        let name = self.name();
        let mut cmd = tokio::process::Command::new("git");
        cmd.current_dir(self.dir)
            .args(&self.args)
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for k in SCRUBBED {
            cmd.env_remove(k);
        }
        // No prompt may block the daemon; messages in one language for the status page;
        // read-only commands must not take index.lock behind the user's back.
        cmd.env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "")
            .env("SSH_ASKPASS", "")
            .env("LC_ALL", "C")
            .env("GIT_OPTIONAL_LOCKS", "0")
            .env("GIT_LITERAL_PATHSPECS", "1");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                GitError::Unavailable(e.to_string())
            } else {
                GitError::Io(format!("git {name}: {e}"))
            }
        })?;
        if let Some(input) = self.stdin {
            if let Some(mut pipe) = child.stdin.take() {
                // A command that exits early closes its stdin; its exit status tells why.
                let _ = pipe.write_all(&input).await;
                drop(pipe);
            }
        }
        let out = tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .map_err(|_| GitError::Timeout(name.clone()))?
            .map_err(|e| GitError::Io(format!("git {name}: {e}")))?;
        let code = out.status.code().unwrap_or(-1);
        Ok((
            code,
            out.stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }

    /// Runs the command and requires exit 0; returns stdout.
    pub async fn output(self) -> Result<Vec<u8>, GitError> {
        let name = self.name();
        let (code, stdout, stderr) = self.status().await?;
        if code != 0 {
            return Err(GitError::Failed {
                cmd: name,
                status: format!("exit {code}"),
                stderr: redact(stderr.trim()),
            });
        }
        Ok(stdout)
    }

    /// Stdout as one trimmed line.
    pub async fn line(self) -> Result<String, GitError> {
        let out = self.output().await?;
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }
}

/// Credentials in remote URLs (`https://user:secret@host/…`) never reach logs or the API; long
/// messages are cut to their last lines.
pub fn redact(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find("://") {
        out.push_str(&rest[..i + 3]);
        rest = &rest[i + 3..];
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '/' || c == '\'' || c == '"')
            .unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@') {
            out.push_str("***");
            rest = &rest[at..];
        }
    }
    out.push_str(rest);
    let lines: Vec<&str> = out.lines().collect();
    let tail = lines[lines.len().saturating_sub(8)..].join("\n");
    tail.chars().take(2000).collect()
}

/// Where the repository holding `reports/` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    pub toplevel: PathBuf,
    pub git_dir: PathBuf,
    /// The index file git uses for this work tree (per worktree).
    pub index: PathBuf,
    /// `reports/` relative to the top level, `/`-separated, no trailing slash ("" at the top).
    pub reports_rel: String,
}

impl Repo {
    /// Finds the work tree containing `reports`.
    pub async fn discover(reports: &Path) -> Result<Repo, GitError> {
        let (code, out, stderr) = git(
            reports,
            &[
                "rev-parse",
                "--show-toplevel",
                "--absolute-git-dir",
                "--git-path",
                "index",
            ],
        )
        .status()
        .await?;
        if code != 0 {
            return if stderr.contains("not a git repository") || stderr.contains("work tree") {
                Err(GitError::NotARepository {
                    dir: reports.display().to_string(),
                })
            } else {
                Err(GitError::Failed {
                    cmd: "rev-parse".into(),
                    status: format!("exit {code}"),
                    stderr: redact(stderr.trim()),
                })
            };
        }
        let text = String::from_utf8_lossy(&out);
        let lines: Vec<&str> = text.lines().collect();
        let [top, gd, idx] = lines[..] else {
            return Err(GitError::NotARepository {
                dir: reports.display().to_string(),
            });
        };
        let toplevel = PathBuf::from(top);
        let real_top = toplevel
            .canonicalize()
            .map_err(|e| GitError::Io(e.to_string()))?;
        let real_reports = reports
            .canonicalize()
            .map_err(|e| GitError::Io(format!("{}: {e}", reports.display())))?;
        let rel = real_reports.strip_prefix(&real_top).map_err(|_| {
            GitError::NotInWorkTree(format!(
                "{} is not inside the work tree {}",
                reports.display(),
                top
            ))
        })?;
        let reports_rel = rel
            .to_str()
            .ok_or_else(|| GitError::NotInWorkTree("reports/ path is not UTF-8".into()))?
            .to_string();
        Ok(Repo {
            toplevel,
            git_dir: PathBuf::from(gd),
            index: reports.join(idx),
            reports_rel,
        })
    }

    /// The repository-relative path of `reports/<name>/<file>`.
    pub fn path_of(&self, name: &str, file: &str) -> String {
        if self.reports_rel.is_empty() {
            format!("{name}/{file}")
        } else {
            format!("{}/{name}/{file}", self.reports_rel)
        }
    }

    /// `refs/heads/<branch>` that HEAD points to.
    pub async fn head_branch(&self) -> Result<String, GitError> {
        let (code, out, _) = git(&self.toplevel, &["symbolic-ref", "-q", "HEAD"])
            .status()
            .await?;
        match code {
            0 => Ok(String::from_utf8_lossy(&out).trim().to_string()),
            _ => Err(GitError::DetachedHead),
        }
    }

    /// The commit HEAD names, `None` on an unborn branch.
    pub async fn head_commit(&self) -> Result<Option<String>, GitError> {
        let (code, out, _) = git(
            &self.toplevel,
            &["rev-parse", "-q", "--verify", "HEAD^{commit}"],
        )
        .status()
        .await?;
        Ok((code == 0).then(|| String::from_utf8_lossy(&out).trim().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_urls_are_redacted_and_the_rest_is_kept() {
        let m = "fatal: unable to access 'https://bob:s3cret@example.com/x.git/': denied";
        let r = redact(m);
        assert!(!r.contains("s3cret") && !r.contains("bob"), "{r}");
        assert!(r.contains("https://***@example.com/x.git/"), "{r}");
        assert_eq!(
            redact("/srv/remote.git: rejected"),
            "/srv/remote.git: rejected"
        );
    }
}
