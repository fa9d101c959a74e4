//! The workspace a daemon indexes, as a name other daemons sharing one database can tell apart
//! (issue 12). It is a key in the database and appears in URLs, so it is kept to a small,
//! printable alphabet.

use super::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// 1–64 characters of `[A-Za-z0-9._-]`, not starting with `.` or `-` (no hidden-file or
/// option-like names).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WorkspaceId(String);

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

impl WorkspaceId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let bad = |why: &str| Err(DomainError::Workspace(s.to_string(), why.to_string()));
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return bad("must be 1 to 64 characters");
        }
        if let Some(c) = s.chars().find(|c| !allowed(*c)) {
            return bad(&format!("{c:?} is not one of A-Z a-z 0-9 . _ -"));
        }
        if s.starts_with('.') || s.starts_with('-') {
            return bad("must not start with '.' or '-'");
        }
        Ok(WorkspaceId(s.to_string()))
    }

    /// The id of a workspace nobody named: this host's name and the workspace directory's last
    /// component (`gpu1-runs`), which tells apart two hosts and two workspaces of one host.
    /// The same rule as `workspace.id`'s default (`fleet::identity::default_id`).
    pub fn default_for(root: &std::path::Path) -> WorkspaceId {
        use crate::fleet::identity::{default_id, host_name};
        WorkspaceId::parse(&default_id(&host_name(), root))
            .unwrap_or_else(|_| WorkspaceId("workspace".into()))
    }

    /// `workspace.id` when configured (checked by the configuration), else the default.
    pub fn configured(id: &str, root: &std::path::Path) -> WorkspaceId {
        match WorkspaceId::parse(id) {
            Ok(w) if !id.is_empty() => w,
            _ => WorkspaceId::default_for(root),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for WorkspaceId {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        WorkspaceId::parse(&s)
    }
}

impl From<WorkspaceId> for String {
    fn from(w: WorkspaceId) -> String {
        w.0
    }
}

impl fmt::Display for WorkspaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_ids_are_short_printable_names_that_do_not_look_hidden_or_like_options() {
        for good in ["gpu-1.runs", "a", "A_b-c.d", &"x".repeat(64)] {
            assert_eq!(WorkspaceId::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", ".hidden", "-opt", "a/b", "a b", "é", &"x".repeat(65)] {
            assert!(WorkspaceId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
