//! The reads the API scopes by workspace (issue 12), and the workspace registry.
//!
//! A list takes `scope: Option<&str>` (None: every workspace of the database) and pages by a
//! key that includes the workspace; an item read names the workspace that holds the item, and
//! `attempt_workspaces` says which workspaces hold an id (an id alone may be ambiguous in a
//! fleet). On SQLite the database is the daemon's own workspace: another scope finds nothing,
//! and rows are stamped with the daemon's id.

use super::attempts::{
    AttemptFilter, AttemptKey, AttemptPageJson, AttemptRow, AttemptSummaryRow, FileRow, HistoryRow,
    UnrecognizedRow,
};
use super::evidence::EvidenceDirRow;
use super::mappings::MappingRow;
use super::runs::RunRow;
use super::workspace::{now, ListKey, Stamp, WorkspaceRow};
use super::{Backend, StatusCounts, Storage, StorageError};

/// The SQLite arm of a scoped read: nothing outside the own workspace, own rows stamped.
macro_rules! own_only {
    ($self:ident, $scope:expr, $read:expr) => {
        if $self.own.in_scope($scope) {
            $read.await.map(|mut r| {
                r.stamp($self.own.id.as_str());
                r
            })
        } else {
            Ok(Default::default())
        }
    };
}

/// A page key of a database holding one workspace, in the form that spans workspaces.
fn own_key(storage: &Storage, key: Option<String>) -> Option<ListKey> {
    key.map(|key| ListKey {
        key,
        workspace: storage.own.id.to_string(),
    })
}

impl Storage {
    pub async fn attempt(&self, ws: &str, id: &str) -> Result<Option<AttemptRow>, StorageError> {
        match &self.live().backend {
            Backend::Sqlite(ix) => own_only!(self, Some(ws), ix.attempt(id)),
            Backend::Postgres(ix) => ix.attempt(ws, id).await,
        }
    }

    pub async fn attempt_files(&self, ws: &str, id: &str) -> Result<Vec<FileRow>, StorageError> {
        match &self.live().backend {
            Backend::Sqlite(ix) => own_only!(self, Some(ws), ix.attempt_files(id)),
            Backend::Postgres(ix) => ix.attempt_files(ws, id).await,
        }
    }

    /// The newest 50 history rows of an attempt, newest first.
    pub async fn attempt_history(
        &self,
        ws: &str,
        id: &str,
    ) -> Result<Vec<HistoryRow>, StorageError> {
        match &self.live().backend {
            Backend::Sqlite(ix) => own_only!(self, Some(ws), ix.attempt_history(id)),
            Backend::Postgres(ix) => ix.attempt_history(ws, id).await,
        }
    }

    /// The workspaces that hold an attempt with this id (so is its mapping, whose subject is
    /// the id), the daemon's own first.
    pub async fn attempt_workspaces(&self, id: &str) -> Result<Vec<String>, StorageError> {
        let found = match &self.live().backend {
            Backend::Sqlite(ix) => ix.attempt(id).await?.is_some(),
            Backend::Postgres(ix) => return ix.attempt_workspaces(id).await,
        };
        Ok(found.then(|| self.own.id.to_string()).into_iter().collect())
    }

    /// One page (newest first, scoped by `filter.workspace`) and the key to continue after.
    pub async fn attempts_page(
        &self,
        filter: &AttemptFilter,
        after: Option<&AttemptKey>,
        limit: u32,
    ) -> Result<(Vec<AttemptSummaryRow>, Option<AttemptKey>), StorageError> {
        let scope = filter.workspace.as_deref();
        match &self.live().backend {
            Backend::Sqlite(ix) => own_only!(self, scope, ix.attempts_page(filter, after, limit)),
            Backend::Postgres(ix) => ix.attempts_page(filter, after, limit).await,
        }
    }

    /// The same page as the listing's JSON objects, for the API to splice (issue 16).
    pub async fn attempts_page_json(
        &self,
        filter: &AttemptFilter,
        after: Option<&AttemptKey>,
        limit: u32,
    ) -> Result<AttemptPageJson, StorageError> {
        let scope = filter.workspace.as_deref();
        match &self.live().backend {
            Backend::Sqlite(ix) => {
                let own = self.own.id.as_str();
                own_only!(
                    self,
                    scope,
                    ix.attempts_page_json(own, filter, after, limit)
                )
            }
            Backend::Postgres(ix) => ix.attempts_page_json(filter, after, limit).await,
        }
    }

    pub async fn unrecognized(
        &self,
        scope: Option<&str>,
        limit: u32,
    ) -> Result<Vec<UnrecognizedRow>, StorageError> {
        match &self.live().backend {
            Backend::Sqlite(ix) => own_only!(self, scope, ix.unrecognized(limit)),
            Backend::Postgres(ix) => ix.unrecognized(scope, limit).await,
        }
    }

    pub async fn mapping(
        &self,
        ws: &str,
        subject: &str,
    ) -> Result<Option<MappingRow>, StorageError> {
        match &self.live().backend {
            Backend::Sqlite(ix) => own_only!(self, Some(ws), ix.mapping(subject)),
            Backend::Postgres(ix) => ix.mapping(ws, subject).await,
        }
    }

    /// Mappings in (subject, workspace) order after `after`.
    pub async fn mappings_page(
        &self,
        scope: Option<&str>,
        after: Option<&ListKey>,
        limit: u32,
    ) -> Result<(Vec<MappingRow>, Option<ListKey>), StorageError> {
        match &self.live().backend {
            Backend::Sqlite(ix) => {
                let key = after.map(|k| k.key.as_str());
                let (rows, next) = own_only!(self, scope, ix.mappings_page(key, limit))?;
                Ok((rows, own_key(self, next)))
            }
            Backend::Postgres(ix) => ix.mappings_page(scope, after, limit).await,
        }
    }

    pub async fn evidence_dir(
        &self,
        ws: &str,
        path: &str,
    ) -> Result<Option<EvidenceDirRow>, StorageError> {
        match &self.live().backend {
            Backend::Sqlite(ix) => own_only!(self, Some(ws), ix.evidence_dir(path)),
            Backend::Postgres(ix) => ix.evidence_dir(ws, path).await,
        }
    }

    /// The workspaces that hold an evidence dir (a promotion) at this path, own first.
    pub async fn evidence_dir_workspaces(&self, path: &str) -> Result<Vec<String>, StorageError> {
        let found = match &self.live().backend {
            Backend::Sqlite(ix) => ix.evidence_dir(path).await?.is_some(),
            Backend::Postgres(ix) => return ix.evidence_dir_workspaces(path).await,
        };
        Ok(found.then(|| self.own.id.to_string()).into_iter().collect())
    }

    /// Evidence dirs after `after` in (path, workspace) order, optionally of one origin.
    pub async fn evidence_dirs_page(
        &self,
        scope: Option<&str>,
        origin: Option<&str>,
        after: Option<&ListKey>,
        limit: u32,
    ) -> Result<Vec<EvidenceDirRow>, StorageError> {
        match &self.live().backend {
            Backend::Sqlite(ix) => {
                let key = after.map(|k| k.key.as_str());
                own_only!(self, scope, ix.evidence_dirs_page(origin, key, limit))
            }
            Backend::Postgres(ix) => ix.evidence_dirs_page(scope, origin, after, limit).await,
        }
    }

    /// Nicknames in (nickname, workspace) order after `after`: one row per workspace that
    /// has attempts of the nickname.
    pub async fn runs_page(
        &self,
        scope: Option<&str>,
        after: Option<&ListKey>,
        limit: u32,
    ) -> Result<(Vec<RunRow>, Option<ListKey>), StorageError> {
        match &self.live().backend {
            Backend::Sqlite(ix) => {
                let key = after.map(|k| k.key.as_str());
                let (rows, next) = own_only!(self, scope, ix.runs_page(key, limit))?;
                Ok((rows, own_key(self, next)))
            }
            Backend::Postgres(ix) => ix.runs_page(scope, after, limit).await,
        }
    }

    pub async fn run(&self, ws: &str, nickname: &str) -> Result<Option<RunRow>, StorageError> {
        match &self.live().backend {
            Backend::Sqlite(ix) => own_only!(self, Some(ws), ix.run(nickname)),
            Backend::Postgres(ix) => ix.run(ws, nickname).await,
        }
    }

    /// Counts for `/v1/status` of one workspace, or of all of them together.
    pub async fn status_counts(&self, scope: Option<&str>) -> Result<StatusCounts, StorageError> {
        match &self.live().backend {
            Backend::Sqlite(ix) => own_only!(self, scope, ix.status_counts()),
            Backend::Postgres(ix) => ix.status_counts(scope).await,
        }
    }

    // --- the registry ------------------------------------------------------------------------

    /// Registers (or re-registers after a restart) this daemon: id, host, public URL, start.
    pub async fn register_workspace(&self) -> Result<(), StorageError> {
        match &self.live().backend {
            Backend::Sqlite(_) => self.heartbeat().await,
            Backend::Postgres(ix) => ix.register(&self.own).await,
        }
    }

    /// Marks this daemon as alive now (its `last_contact_at`).
    pub async fn heartbeat(&self) -> Result<(), StorageError> {
        if let Backend::Postgres(ix) = &self.live().backend {
            return ix.heartbeat(&self.own).await;
        }
        self.registry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .last_contact_at = now();
        Ok(())
    }

    /// Every workspace of the database, by id.
    pub async fn workspaces(&self) -> Result<Vec<WorkspaceRow>, StorageError> {
        if let Backend::Postgres(ix) = &self.live().backend {
            return ix.workspaces().await;
        }
        Ok(vec![self
            .registry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()])
    }
}
