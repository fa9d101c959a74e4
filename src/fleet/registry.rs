//! The workspace registry seen from this daemon: the one-id-one-daemon rule at start, and the
//! in-memory view of every workspace that `/v1/status` and the status page show (refreshed by
//! the heartbeat, so a status request touches no database).

use super::identity::Identity;
use crate::storage::workspace::WorkspaceRow;
use crate::storage::{Storage, StorageError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// A registration whose daemon was in contact within this long is live (15 heartbeats): its
/// id is not taken over by another host or root.
pub const LIVE_WINDOW: Duration = Duration::from_secs(30);

/// One workspace of the database, as `/v1/status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WorkspaceStatus {
    #[schema(example = "gpu-02-ws")]
    pub id: String,
    pub host: String,
    /// Where its daemon takes mutations (its `server.public_url`).
    pub public_url: Option<String>,
    pub started_at: String,
    /// Its daemon's last heartbeat, as this daemon last read the registry (every 2 s on a
    /// shared database; on SQLite, which holds this workspace alone, its registration).
    pub last_contact_at: String,
    /// This daemon's own workspace.
    pub own: bool,
    /// In contact within the last 30 s.
    pub live: bool,
    /// Its attempts by status (pass, fail, error, invalid, running, total), nicknames,
    /// evidence_dirs, mappings, last_index_event_at (the own workspace: the `index` object).
    #[schema(value_type = Object)]
    pub counts: Value,
}

fn contact(row: &WorkspaceRow) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(&row.last_contact_at)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Whether a registration is live at `now`.
pub fn is_live(row: &WorkspaceRow, now: DateTime<Utc>) -> bool {
    contact(row).is_some_and(|t| {
        now.signed_duration_since(t)
            .to_std()
            .map_or(true, |age| age < LIVE_WINDOW)
    })
}

/// The one-id-one-daemon rule (docs/fleet.md): refuses the id when a live registration of it
/// belongs to another host, or to another root of this host (asked at the holder's URL). A
/// stale registration, or this workspace restarting, takes it.
pub async fn check_unique(store: &Storage, me: &Identity) -> Result<(), String> {
    let rows = store.workspaces().await.map_err(|e| e.to_string())?;
    let Some(held) = rows.into_iter().find(|r| r.id == me.id) else {
        return Ok(());
    };
    if !is_live(&held, Utc::now()) {
        return Ok(());
    }
    let refuse = |why: String| {
        Err(format!(
            "workspace.id {:?} is held by a live daemon ({why}, last contact {}); give this \
             workspace its own workspace.id, or stop that daemon and start this one {}s after \
             its last contact",
            me.id,
            held.last_contact_at,
            LIVE_WINDOW.as_secs()
        ))
    };
    if held.host != me.host {
        return refuse(format!("host {}", held.host));
    }
    // Same host: this workspace restarting, or another root under the same derived id. Only
    // the holder can tell; one that does not answer is gone (it was this daemon's lock that
    // kept two daemons off one root).
    let Some(url) = held.public_url.as_deref() else {
        return Ok(());
    };
    match holder_root(url).await {
        Some((id, root)) if id == me.id && root != me.root.display().to_string() => {
            refuse(format!("root {root} at {url}"))
        }
        _ => Ok(()),
    }
}

/// (id, root) of the daemon answering at `url`, if one answers within 2 s.
async fn holder_root(url: &str) -> Option<(String, String)> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .ok()?;
    let v: Value = client
        .get(format!("{url}/v1/status"))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    let ws = &v["workspace"];
    Some((
        ws["id"].as_str()?.to_string(),
        ws["root"].as_str()?.to_string(),
    ))
}

/// Every registered workspace with its counts, own first then by id. The own workspace's
/// counts are left null: `/v1/status` serves them from its snapshot, fresher than this view.
pub async fn read_view(store: &Storage) -> Result<Vec<WorkspaceStatus>, StorageError> {
    let own = store.workspace().as_str().to_string();
    let now = Utc::now();
    let mut out = Vec::new();
    for row in store.workspaces().await? {
        if row.id == own {
            out.push(WorkspaceStatus {
                own: true,
                live: true,
                counts: Value::Null,
                id: row.id,
                host: row.host,
                public_url: row.public_url,
                started_at: row.started_at,
                last_contact_at: row.last_contact_at,
            });
            continue;
        }
        let c = store.status_counts(Some(&row.id)).await?;
        let attempts = c.attempts_json();
        out.push(WorkspaceStatus {
            own: row.id == own,
            live: is_live(&row, now),
            counts: serde_json::json!({
                "attempts": attempts,
                "nicknames": c.nicknames,
                "evidence_dirs": c.evidence_dirs,
                "mappings": c.mappings,
                "last_index_event_at": c.last_index_event_at,
            }),
            id: row.id,
            host: row.host,
            public_url: row.public_url,
            started_at: row.started_at,
            last_contact_at: row.last_contact_at,
        });
    }
    out.sort_by(|a, b| b.own.cmp(&a.own).then_with(|| a.id.cmp(&b.id)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(last_contact_at: &str) -> WorkspaceRow {
        WorkspaceRow {
            id: "w".into(),
            host: "h".into(),
            public_url: None,
            started_at: last_contact_at.into(),
            last_contact_at: last_contact_at.into(),
        }
    }

    #[test]
    fn a_registration_is_live_for_thirty_seconds_after_its_last_contact() {
        let now = DateTime::parse_from_rfc3339("2026-12-02T01:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(is_live(&row("2026-12-02T00:59:31.5Z"), now));
        assert!(!is_live(&row("2026-12-02T00:59:29Z"), now));
        // A clock ahead of ours is still contact.
        assert!(is_live(&row("2026-12-02T01:00:05Z"), now));
        assert!(!is_live(&row("garbage"), now));
    }
}
