//! Intent before action for promotions. Before the first archive directory is created, the
//! records hold what is about to be created (names and the sha256 of each `metadata.json`, which
//! is unique per request because it carries `promoted_at`). The intent closes in the same
//! transaction that appends the audit entries, so "intent open" means "not audited yet".
//!
//! A request that fails after creating an archive removes what it created (matched by that
//! sha256) before answering. A process that died instead leaves the intent open; at the next
//! start, before serving, `recover` rolls it forward: every listed archive that is present, whole
//! (renamed into place in one step) and carrying our `metadata.json` gets its one audit entry.

use super::archive::sync_dir;
use super::name::TEMP_PREFIX;
use crate::domain::Sha256;
use crate::storage::records::{AuditEntry, IntentKind, Records};
use crate::storage::StorageError;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::io;
use std::path::Path;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PlannedArchive {
    pub name: String,
    pub kind: String,
    pub attempt: String,
    pub metadata_sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PromotionIntent {
    pub archives: Vec<PlannedArchive>,
    pub actor: Option<String>,
    pub profile: String,
}

impl PlannedArchive {
    /// The audit entry of this archive once it exists.
    pub fn audit(&self, intent: &PromotionIntent, recovered: bool) -> AuditEntry {
        let mut detail =
            json!({ "kind": self.kind, "attempt": self.attempt, "profile": intent.profile });
        if recovered {
            detail["recovered"] = true.into();
        }
        AuditEntry::new(
            "promotion.created",
            self.name.clone(),
            intent.actor.as_deref(),
            detail,
        )
    }
}

/// Whether `reports/<name>` is the archive this intent made (its metadata.json has the
/// recorded sha256). An unreadable directory is an error, never "absent".
pub fn is_ours(reports: &Path, a: &PlannedArchive) -> io::Result<bool> {
    use crate::fsx::{Dir, FileKind, Limits};
    // By handle: a name swapped for a symlink is not ours (never followed).
    let read = Dir::open_root(reports, "reports")
        .and_then(|d| d.open_dir(&a.name))
        .and_then(|d| d.read("metadata.json", FileKind::Metadata, &Limits::default()));
    match read {
        Ok(b) => Ok(Sha256::of(&b).hex() == a.metadata_sha256),
        Err(e) if e.is_not_found() || e.is_refusal() => Ok(false),
        Err(e) => Err(io::Error::other(e.to_string())),
    }
}

/// Undoes the creation of `reports/<name>` if it is this intent's archive: renamed out of
/// sight in one step (so no partial directory is ever visible), then removed. A leftover
/// temporary directory is removed at the next start.
pub fn remove_ours(reports: &Path, a: &PlannedArchive) -> io::Result<()> {
    if !is_ours(reports, a)? {
        return Ok(());
    }
    let hidden = reports.join(format!(
        "{TEMP_PREFIX}rollback-{}-{}",
        a.name,
        std::process::id()
    ));
    std::fs::rename(reports.join(&a.name), &hidden)?;
    let _ = sync_dir(reports);
    std::fs::remove_dir_all(&hidden)
}

#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("reports/{0}: {1}")]
    Io(String, io::Error),
}

/// Rolls every open promotion intent forward (see the module comment). Returns how many
/// archives were audited late.
pub async fn recover(records: &Records, reports: &Path) -> Result<usize, RecoveryError> {
    let mut audited = 0;
    for (id, intent) in records
        .open_intents::<PromotionIntent>(IntentKind::Promotion)
        .await?
    {
        let mut entries = Vec::new();
        for a in &intent.archives {
            if is_ours(reports, a).map_err(|e| RecoveryError::Io(a.name.clone(), e))? {
                entries.push(a.audit(&intent, true));
            }
        }
        audited += entries.len();
        records.complete_intent(id, &entries).await?;
        tracing::warn!(
            intent = id,
            archives = entries.len(),
            "completed the audit of a promotion interrupted by a crash"
        );
    }
    Ok(audited)
}
