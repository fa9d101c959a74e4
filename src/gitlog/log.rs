//! The change log read back from git: the commits under `reports/` that carry invarlockd's
//! trailers, newest first (git's order), from whichever clone made them.
//!
//! Pages are keyed by the tip commit of the first page and the number of entries already
//! given: history reachable from a fixed commit never changes, so pages stay consistent while
//! new promotions are committed on top.

use super::git::{git, GitError, Repo};
use super::message::{keys, parse_trailers};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Cursor {
    pub tip: String,
    pub skip: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = GitPerson)]
pub struct Person {
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = ChangelogBaseline)]
pub struct Baseline {
    pub name: String,
    pub attempt: Option<String>,
    pub run_id: Option<String>,
    pub report_hash: Option<String>,
    /// Archived by the same promotion (so part of this commit).
    pub archived_here: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = ChangelogTrailer)]
pub struct Trailer {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = ChangelogEntry)]
pub struct Entry {
    pub commit: String,
    pub parents: Vec<String>,
    pub subject: String,
    pub author: Person,
    pub committer: Person,
    #[schema(format = DateTime)]
    pub authored_at: String,
    #[schema(format = DateTime)]
    pub committed_at: String,
    /// The promoted archive (the subject, or the baseline of a baseline promotion).
    pub name: Option<String>,
    /// Every reports/ directory the commit added.
    pub archives: Vec<String>,
    /// `subject` or `baseline`.
    pub kind: Option<String>,
    pub attempt: Option<String>,
    pub run_id: Option<String>,
    pub report_hash: Option<String>,
    pub profile: Option<String>,
    pub verdict: Option<String>,
    pub certificate_sha256: Option<String>,
    pub baseline: Option<Baseline>,
    pub trailers: Vec<Trailer>,
}

pub struct Page {
    pub items: Vec<Entry>,
    pub next: Option<Cursor>,
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("page_token refers to a commit this repository does not have")]
    StaleCursor,
    #[error(transparent)]
    Git(#[from] GitError),
}

const FORMAT: &str =
    "%H%x1f%P%x1f%an%x1f%ae%x1f%cn%x1f%ce%x1f%aI%x1f%cI%x1f%s%x1f%(trailers:only,unfold)%x1e";

/// RFC 3339 in UTC, as the rest of the API gives times.
fn utc(iso: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(iso)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
        .unwrap_or_else(|_| iso.to_string())
}

fn entry(record: &str) -> Option<Entry> {
    let f: Vec<&str> = record.split('\x1f').collect();
    let [h, p, an, ae, cn, ce, ad, cd, s, tr] = f[..] else {
        return None;
    };
    let trailers: Vec<Trailer> = parse_trailers(tr)
        .into_iter()
        .filter(|(k, _)| k.starts_with("Invarlock-"))
        .map(|(key, value)| Trailer { key, value })
        .collect();
    let one = |k: &str| {
        trailers
            .iter()
            .find(|t| t.key.eq_ignore_ascii_case(k))
            .map(|t| t.value.clone())
    };
    let archives: Vec<String> = trailers
        .iter()
        .filter(|t| t.key.eq_ignore_ascii_case(keys::ARCHIVE))
        .map(|t| t.value.clone())
        .collect();
    if archives.is_empty() {
        return None;
    }
    let baseline = one(keys::BASELINE).map(|name| Baseline {
        archived_here: one(keys::BASELINE_ARCHIVED).as_deref() == Some(name.as_str()),
        name,
        attempt: one(keys::BASELINE_ATTEMPT),
        run_id: one(keys::BASELINE_RUN_ID),
        report_hash: one(keys::BASELINE_REPORT_HASH),
    });
    let kind = one(keys::KIND);
    // The promoted archive: the subject when there is one, else the only (baseline) archive.
    let name = match &baseline {
        Some(b) => archives.iter().find(|a| **a != b.name).cloned(),
        None => archives.first().cloned(),
    }
    .or_else(|| archives.first().cloned());
    Some(Entry {
        commit: h.to_string(),
        parents: p.split_whitespace().map(str::to_string).collect(),
        subject: s.to_string(),
        author: Person {
            name: an.into(),
            email: ae.into(),
        },
        committer: Person {
            name: cn.into(),
            email: ce.into(),
        },
        authored_at: utc(ad),
        committed_at: utc(cd),
        name,
        archives,
        kind,
        attempt: one(keys::ATTEMPT),
        run_id: one(keys::RUN_ID),
        report_hash: one(keys::REPORT_HASH),
        profile: one(keys::PROFILE),
        verdict: one(keys::VERDICT),
        certificate_sha256: one(keys::CERTIFICATE_SHA256),
        baseline,
        trailers,
    })
}

fn hexish(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// One page of the change log of the repository holding `reports`.
pub async fn read(reports: &Path, cursor: Option<Cursor>, limit: u32) -> Result<Page, LogError> {
    let repo = Repo::discover(reports).await?;
    let top = &repo.toplevel;
    let cursor = match cursor {
        Some(c) => {
            let known = hexish(&c.tip)
                && git(top, &["cat-file", "-e"])
                    .arg(format!("{}^{{commit}}", c.tip))
                    .output()
                    .await
                    .is_ok();
            if !known {
                return Err(LogError::StaleCursor);
            }
            c
        }
        None => match repo.head_commit().await? {
            Some(tip) => Cursor { tip, skip: 0 },
            None => {
                return Ok(Page {
                    items: Vec::new(),
                    next: None,
                })
            }
        },
    };
    let pathspec = if repo.reports_rel.is_empty() {
        ".".to_string()
    } else {
        repo.reports_rel.clone()
    };
    let out = git(top, &["log", "--no-color", "-E"])
        .arg(format!("--grep=^{}:", keys::ARCHIVE))
        .arg(format!("--format={FORMAT}"))
        .arg(format!("--skip={}", cursor.skip))
        .arg(format!("--max-count={}", u64::from(limit) + 1))
        .arg(cursor.tip.clone())
        .arg("--")
        .arg(pathspec)
        .output()
        .await?;
    let text = String::from_utf8_lossy(&out);
    let records: Vec<&str> = text
        .split('\x1e')
        .map(|r| r.trim_start_matches('\n'))
        .filter(|r| !r.is_empty())
        .collect();
    // Pages count git's records, so a commit that only mentions the trailer in its text (and
    // is left out) does not shift the next page.
    let next = (records.len() > limit as usize).then(|| Cursor {
        tip: cursor.tip.clone(),
        skip: cursor.skip + u64::from(limit),
    });
    let items = records
        .into_iter()
        .take(limit as usize)
        .filter_map(entry)
        .collect();
    Ok(Page { items, next })
}
