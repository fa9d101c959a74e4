//! The workspace dimension of storage (issue 12): several daemons, each indexing its own
//! workspace, may share one database. Every row the API serves names its workspace; writes
//! always go to the daemon's own; reads take a scope.
//!
//! A SQLite file holds only its own workspace, so its queries know nothing of workspaces: the
//! rows it returns are stamped with the daemon's id here, and a scope naming another workspace
//! finds nothing.

use super::attempts::{AttemptRow, AttemptSummaryRow, UnrecognizedRow};
use super::evidence::EvidenceDirRow;
use super::feed::HistoryEvent;
use super::mappings::MappingRow;
use super::runs::RunRow;
use crate::domain::WorkspaceId;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, RwLock};

/// Who this daemon is, as other daemons of the fleet see it.
#[derive(Debug, Clone)]
pub struct Own {
    pub id: WorkspaceId,
    pub host: String,
    /// Where this daemon's API is reached (`server.public_url`), for the 421 that sends a
    /// mutation to its owner. Set again once the listener is bound (its port may be 0).
    public_url: Arc<RwLock<Option<String>>>,
    pub started_at: String,
}

impl Own {
    pub fn new(id: &WorkspaceId, public_url: Option<String>) -> Own {
        Own {
            id: id.clone(),
            host: host_name(),
            public_url: Arc::new(RwLock::new(public_url)),
            started_at: now(),
        }
    }

    pub fn public_url(&self) -> Option<String> {
        self.public_url
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_public_url(&self, url: Option<String>) {
        *self.public_url.write().unwrap_or_else(|p| p.into_inner()) = url;
    }

    /// This daemon's registry row as of its start.
    pub fn row(&self) -> WorkspaceRow {
        WorkspaceRow {
            id: self.id.to_string(),
            host: self.host.clone(),
            public_url: self.public_url(),
            started_at: self.started_at.clone(),
            last_contact_at: self.started_at.clone(),
        }
    }

    /// Whether a read scoped to `scope` (None: every workspace) can see this workspace.
    pub fn in_scope(&self, scope: Option<&str>) -> bool {
        scope.is_none_or(|w| w == self.id.as_str())
    }
}

/// This machine's host name, as the fleet identity names it.
pub fn host_name() -> String {
    crate::fleet::identity::host_name()
}

/// Timestamps as the database writes them (RFC 3339 UTC, microseconds).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// One daemon of the fleet as the registry knows it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct WorkspaceRow {
    pub id: String,
    pub host: String,
    pub public_url: Option<String>,
    pub started_at: String,
    /// The last heartbeat (or registration) of its daemon.
    pub last_contact_at: String,
}

/// A keyset position in a list that spans workspaces: rows are ordered by (key, workspace), so
/// two workspaces holding the same key (a nickname, an attempt id) are both listed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ListKey {
    pub key: String,
    #[serde(default)]
    pub workspace: String,
}

/// Rows that name their workspace; a backend whose database holds one workspace fills it in.
pub(super) trait Stamp {
    fn stamp(&mut self, ws: &str);
}

macro_rules! stamp_field {
    ($($t:ty),*) => {$(
        impl Stamp for $t {
            fn stamp(&mut self, ws: &str) {
                if self.workspace.is_empty() {
                    self.workspace = ws.to_string();
                }
            }
        }
    )*};
}
stamp_field!(
    AttemptRow,
    AttemptSummaryRow,
    UnrecognizedRow,
    EvidenceDirRow,
    MappingRow,
    RunRow,
    HistoryEvent,
    ListKey
);

impl Stamp for super::attempts::AttemptKey {
    fn stamp(&mut self, ws: &str) {
        if self.workspace.is_empty() {
            self.workspace = ws.to_string();
        }
    }
}

/// A page of listing JSON: its continuation key names the workspace (the objects are written
/// by the backend, see `AttemptSummaryRow::JSON`).
impl Stamp for super::attempts::AttemptPageJson {
    fn stamp(&mut self, ws: &str) {
        self.next.stamp(ws);
    }
}

impl<T: Stamp> Stamp for Vec<T> {
    fn stamp(&mut self, ws: &str) {
        self.iter_mut().for_each(|r| r.stamp(ws));
    }
}

impl<T: Stamp> Stamp for Option<T> {
    fn stamp(&mut self, ws: &str) {
        if let Some(r) = self {
            r.stamp(ws);
        }
    }
}

impl<A: Stamp, B: Stamp> Stamp for (A, B) {
    fn stamp(&mut self, ws: &str) {
        self.0.stamp(ws);
        self.1.stamp(ws);
    }
}

/// Results that carry no workspace.
macro_rules! stamp_nothing {
    ($($t:ty),*) => {$(
        impl Stamp for $t {
            fn stamp(&mut self, _: &str) {}
        }
    )*};
}
stamp_nothing!(
    (),
    u64,
    i64,
    usize,
    String,
    super::StatusCounts,
    super::attempts::Fingerprint,
    super::attempts::FileRow,
    super::attempts::HistoryRow,
    super::evidence::EvidenceFileRow,
    super::retention::CandidateRow,
    super::runs::CopyRow,
    std::collections::HashMap<String, super::attempts::Fingerprint>,
    std::collections::HashMap<String, (i64, i64)>,
    (String, String, String, String)
);
