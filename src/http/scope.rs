//! `?workspace=`: the fleet dimension of the read API (docs/fleet.md). Lists take it as a
//! filter (default: every workspace); an item's id is resolved to one workspace (own first,
//! then the only holder, else 409 `ambiguous`); what needs the owner's files answers 421.

use super::{ApiError, AppState};
use crate::domain::WorkspaceId;
use crate::fleet::owner::{parse_scope, pick};
use serde::Deserialize;

/// The query of a list that pages: `limit`, `page_token` and the `workspace` filter.
#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScopedPageQuery {
    /// Items per page.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000, default = 100)]
    pub limit: Option<String>,
    /// The `next_page_token` of the previous page (opaque).
    pub page_token: Option<String>,
    /// Only this workspace's items (default: every workspace of the database).
    #[param(example = "gpu-01-ws", pattern = "^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$")]
    pub workspace: Option<String>,
}

/// The query of a list that is one page: `limit` and the `workspace` filter.
#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScopedLimitQuery {
    /// Items at most.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000, default = 100)]
    pub limit: Option<String>,
    /// Only this workspace's items (default: every workspace of the database).
    #[param(example = "gpu-01-ws", pattern = "^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$")]
    pub workspace: Option<String>,
}

/// The query of an item: which workspace's, when its id alone is ambiguous.
#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemQuery {
    /// The workspace holding the item (default: this daemon's, else the only one holding it).
    #[param(example = "gpu-01-ws", pattern = "^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$")]
    pub workspace: Option<String>,
}

/// A list filter as the storage takes it (`None`: every workspace).
pub fn list_scope(raw: &Option<String>) -> Result<Option<String>, ApiError> {
    Ok(parse_scope(raw.as_deref())?.map(String::from))
}

fn qualifier(raw: &Option<String>) -> Result<Option<WorkspaceId>, ApiError> {
    parse_scope(raw.as_deref())
}

/// The workspace an attempt id means.
pub async fn attempt_workspace(
    state: &AppState,
    raw: &Option<String>,
    id: &str,
) -> Result<String, ApiError> {
    let q = qualifier(raw)?;
    let holders = match q {
        Some(_) => Vec::new(),
        None => state.store.attempt_workspaces(id).await?,
    };
    let own = state.store.workspace().as_str();
    pick(own, q.as_ref(), holders, &format!("attempt {id}"))
}

/// The workspace a promotion name means.
pub async fn promotion_workspace(
    state: &AppState,
    raw: &Option<String>,
    name: &str,
) -> Result<String, ApiError> {
    let q = qualifier(raw)?;
    let holders = match q {
        Some(_) => Vec::new(),
        None => {
            state
                .store
                .evidence_dir_workspaces(&format!("reports/{name}"))
                .await?
        }
    };
    let own = state.store.workspace().as_str();
    pick(
        own,
        q.as_ref(),
        holders,
        &format!("archived evidence {name:?}"),
    )
}

/// The workspace a nickname means (the registered workspaces that have attempts of it).
pub async fn run_workspace(
    state: &AppState,
    raw: &Option<String>,
    nickname: &str,
) -> Result<String, ApiError> {
    let q = qualifier(raw)?;
    let own = state.store.workspace().as_str();
    let mut holders = Vec::new();
    if q.is_none() {
        if state.store.run(own, nickname).await?.is_some() {
            holders.push(own.to_string());
        } else {
            for w in state.store.workspaces().await? {
                if w.id != own && state.store.run(&w.id, nickname).await?.is_some() {
                    holders.push(w.id);
                }
            }
        }
    }
    pick(own, q.as_ref(), holders, &format!("nickname {nickname}"))
}

/// Refuses (421) what needs `workspace`'s files when it is not this daemon's.
pub async fn require_own(state: &AppState, workspace: &str, what: &str) -> Result<(), ApiError> {
    if workspace == state.store.workspace().as_str() {
        Ok(())
    } else {
        Err(crate::fleet::owner::misdirected(state, workspace, what).await)
    }
}
