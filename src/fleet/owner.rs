//! Which workspace an id means, and who may act on it.
//!
//! Ids stay what they are on one host (`<nickname>/<ts>`, a promotion name): an unqualified id
//! means the daemon's own workspace when it holds one, else the one workspace that does; when
//! several do, the caller must say which (`?workspace=`), rather than get one of them by chance.
//! Mutations act on files, and only the daemon on the host holding them may touch them.

use crate::domain::WorkspaceId;
use crate::http::{ApiError, AppState};

/// The `?workspace=` qualifier of a request, parsed at the boundary.
pub fn parse_scope(raw: Option<&str>) -> Result<Option<WorkspaceId>, ApiError> {
    match raw {
        None => Ok(None),
        Some(w) => WorkspaceId::parse(w)
            .map(Some)
            .map_err(|e| ApiError::bad_field("workspace", e.to_string())),
    }
}

/// The workspace an item id means: the qualifier if given, else `own` when it is among the
/// `holders`, else the only holder; several holders and no qualifier is `ambiguous`.
pub fn pick(
    own: &str,
    qualifier: Option<&WorkspaceId>,
    holders: Vec<String>,
    what: &str,
) -> Result<String, ApiError> {
    if let Some(q) = qualifier {
        return Ok(q.to_string());
    }
    if holders.iter().any(|h| h == own) {
        return Ok(own.to_string());
    }
    match holders.len() {
        0 => Err(ApiError::NotFound(format!("{what} is not indexed"))),
        1 => Ok(holders.into_iter().next().unwrap_or_default()),
        _ => Err(ApiError::Ambiguous {
            detail: format!(
                "{what} exists in {} workspaces ({}); name one with ?workspace=",
                holders.len(),
                holders.join(", ")
            ),
            candidates: holders,
        }),
    }
}

/// The 421 that sends a mutation to `owner`, with the URL it advertises in the registry.
pub async fn misdirected(state: &AppState, owner: &str, what: &str) -> ApiError {
    // The registry may be unreachable too; the answer still names the owner.
    let public_url = match state.store.workspaces().await {
        Ok(all) => all
            .into_iter()
            .find(|w| w.id == owner)
            .and_then(|w| w.public_url),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the workspace registry for a 421");
            None
        }
    };
    let at = public_url
        .as_deref()
        .map_or(String::new(), |u| format!(" at {u}"));
    ApiError::Misdirected {
        detail: format!(
            "{what} belongs to workspace {owner}; only its daemon{at} acts on its files"
        ),
        workspace: owner.to_string(),
        public_url,
    }
}

/// Refuses (421) a mutation of an attempt that only other workspaces hold. An id nobody holds
/// passes: the operation itself answers 404.
pub async fn require_own_attempt(state: &AppState, id: &str) -> Result<(), ApiError> {
    let own = state.store.workspace().as_str();
    let holders = state.store.attempt_workspaces(id).await?;
    match holders.iter().find(|h| *h != own) {
        Some(other) if !holders.iter().any(|h| h == own) => {
            Err(misdirected(state, other, &format!("attempt {id}")).await)
        }
        _ => Ok(()),
    }
}

/// Refuses (421) a promotion of a nickname that only other workspaces have attempts of.
pub async fn require_own_nickname(state: &AppState, nickname: &str) -> Result<(), ApiError> {
    let own = state.store.workspace().as_str();
    if state.store.run(own, nickname).await?.is_some() {
        return Ok(());
    }
    for w in state.store.workspaces().await? {
        if w.id != own && state.store.run(&w.id, nickname).await?.is_some() {
            return Err(misdirected(state, &w.id, &format!("nickname {nickname}")).await);
        }
    }
    Ok(())
}

/// Refuses (421) re-verifying archived evidence that only other workspaces hold.
pub async fn require_own_evidence(state: &AppState, name: &str) -> Result<(), ApiError> {
    let own = state.store.workspace().as_str();
    let holders = state
        .store
        .evidence_dir_workspaces(&format!("reports/{name}"))
        .await?;
    match holders.iter().find(|h| *h != own) {
        Some(other) if !holders.iter().any(|h| h == own) => {
            Err(misdirected(state, other, &format!("promotion {name}")).await)
        }
        _ => Ok(()),
    }
}

/// Refuses (421) applying or restoring another workspace's retention plan.
pub async fn require_own_plan(state: &AppState, plan_id: &str) -> Result<(), ApiError> {
    let own = state.store.workspace().as_str();
    match state.records.plan(plan_id).await? {
        Some(p) if !p.workspace.is_empty() && p.workspace != own => {
            Err(misdirected(state, &p.workspace, &format!("retention plan {plan_id}")).await)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_unqualified_id_means_the_own_workspace_then_a_unique_holder_else_it_is_ambiguous() {
        assert_eq!(pick("a", None, ids(&["b", "a"]), "x").unwrap(), "a");
        assert_eq!(pick("a", None, ids(&["b"]), "x").unwrap(), "b");
        assert!(matches!(
            pick("a", None, ids(&[]), "x"),
            Err(ApiError::NotFound(_))
        ));
        match pick("a", None, ids(&["b", "c"]), "attempt q/20261128_204141") {
            Err(ApiError::Ambiguous { candidates, detail }) => {
                assert_eq!(candidates, ids(&["b", "c"]));
                assert!(detail.contains("?workspace="), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        let c = WorkspaceId::parse("c").unwrap();
        assert_eq!(pick("a", Some(&c), ids(&["b"]), "x").unwrap(), "c");
    }

    #[test]
    fn a_bad_workspace_qualifier_is_a_bad_request_naming_the_parameter() {
        match parse_scope(Some("../x")) {
            Err(ApiError::BadRequest { field, .. }) => {
                assert_eq!(field.as_deref(), Some("workspace"))
            }
            other => panic!("{other:?}"),
        }
        assert!(parse_scope(None).unwrap().is_none());
    }
}
