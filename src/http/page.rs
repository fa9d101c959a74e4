//! The status page at `/`: server-rendered HTML for people, refreshed from the SSE stream.

use super::auth::Read;
use super::extract::{NoParams, Params};
use super::{ApiResult, AppState};
use crate::storage::evidence::EvidenceDirRow;
use crate::storage::mappings::MappingRow;
use crate::storage::runs::RunRow;
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use maud::{html, Markup, PreEscaped, DOCTYPE};

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(status_page))
}

const STYLE: &str = "
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}h3{font-size:1rem}
table{border-collapse:collapse;min-width:40rem}td,th{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:left}
.pass{color:#0a7d32;font-weight:600}.fail,.error,.invalid{color:#b3261e;font-weight:600}.running{color:#8a6d00}
.muted{color:#777}code{font-size:12px}";

/// Reloads the page (at most once a second) whenever the daemon reports a change.
const REFRESH: &str = "
(function(){var t=null;var es=new EventSource('/v1/events');
es.onmessage=es.onerror=null;
['attempt.indexed','attempt.updated','attempt.removed','promotion.created','verification.recorded','retention.planned','retention.applied']
.forEach(function(k){es.addEventListener(k,function(){if(!t){t=setTimeout(function(){location.reload()},1000)}})});})();";

/// Status page (HTML) for people, grouped by workspace, refreshed from the event stream.
#[utoipa::path(get, path = "/", operation_id = "status_page", tag = "health",
    responses((status = 200, description = "page", content_type = "text/html", body = String),
        (status = 401, description = "`unauthorized` when reads need a token")))]
pub(super) async fn status_page(
    _: Read,
    _: Params<NoParams>,
    State(state): State<AppState>,
) -> ApiResult<Markup> {
    // Every workspace of the database, grouped: the own one first, then the others by id.
    let (nicknames, _) = state.store.runs_page(None, None, 1000).await?;
    let (maps, _) = state.store.mappings_page(None, None, 200).await?;
    let promos = state
        .store
        .evidence_dirs_page(None, Some("invarlockd"), None, 1000)
        .await?;
    // From memory, like /v1/status: the publisher recomputes it after each commit.
    let snapshot = state.status.fresh().await;
    let ret = &snapshot.retention;
    let watch = state.watch.snapshot();
    let own = state.fleet.identity.id.clone();
    let registry = state.fleet.workspaces();
    let mut spaces: Vec<String> = registry.iter().map(|w| w.id.clone()).collect();
    let rows_ws = nicknames.iter().map(|r| &r.workspace);
    for w in rows_ws.chain(promos.iter().map(|d| &d.workspace)) {
        if !spaces.contains(w) {
            spaces.push(w.clone());
        }
    }
    if !spaces.contains(&own) {
        spaces.insert(0, own.clone());
    }
    let db = state.fleet.health.view();
    Ok(html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "invarlockd" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "invarlockd " span.muted { (env!("CARGO_PKG_VERSION")) } }
                p.muted {
                    "Workspace " code { (own) } " at " code { (state.workspace.root.display()) }
                    " · watcher " (format!("{:?}", watch.watcher.mode).to_lowercase())
                    @if !watch.initial_scan.done { " · initial scan in progress" }
                    @if !db.reachable { " · " span.fail { "database unreachable" } }
                }
                @for ws in &spaces {
                    @let info = registry.iter().find(|w| &w.id == ws);
                    section.workspace data-workspace=(ws) {
                        h2 { "Workspace " code { (ws) } @if *ws == own { span.muted { " (this daemon)" } } }
                        @if let Some(w) = info {
                            p.muted {
                                "host " (w.host) " · last contact " (w.last_contact_at)
                                @if !w.live { " · " span.error { "not in contact" } }
                                @if let Some(u) = &w.public_url { " · " code { (u) } }
                            }
                        }
                        (runs_table(ws, nicknames.iter().filter(|r| &r.workspace == ws)))
                        (mappings_table(ws, maps.iter().filter(|m| &m.workspace == ws)))
                        (promotions_table(ws, promos.iter().filter(|d| &d.workspace == ws)))
                    }
                }
                h2 { "Retention" }
                p id="retention" {
                    "runs/: " (ret["runs_bytes"]) " bytes · trash: " (ret["trash_bytes"]) " bytes · last apply: "
                    @match ret["last_apply"].as_object() {
                        Some(a) => { code { (a["plan_id"].as_str().unwrap_or("")) } " reclaimed " (a["bytes_reclaimed"]) " bytes" }
                        None => span.muted { "never" }
                    }
                }
                script { (PreEscaped(REFRESH)) }
            }
        }
    })
}

fn runs_table<'a>(ws: &str, rows: impl Iterator<Item = &'a RunRow>) -> Markup {
    html! {
        h3 { "Runs" }
        table id=(format!("runs-{ws}")) {
            tr { th { "nickname" } th { "attempts" } th { "latest" } th { "status" } th { "latest pass" } }
            @for r in rows {
                tr {
                    td.nickname { (r.nickname) }
                    td { (r.attempts) }
                    td { code { (r.latest_id.rsplit('/').next().unwrap_or_default()) } }
                    td class=(r.latest_status) { (r.latest_status) }
                    td { @if let Some(p) = &r.latest_pass { code { (p) } } @else { span.muted { "none" } } }
                }
            }
        }
    }
}

fn mappings_table<'a>(ws: &str, rows: impl Iterator<Item = &'a MappingRow>) -> Markup {
    html! {
        h3 { "Run → baseline mappings" }
        table id=(format!("mappings-{ws}")) {
            tr { th { "subject" } th { "baseline" } th { "how" } th { "confidence" } }
            @for m in rows {
                tr {
                    td { code { (m.subject) } }
                    td { code { (m.baseline_attempt.as_deref().or(m.baseline_archived.as_deref()).unwrap_or("?")) } }
                    td { (m.how) }
                    td { (m.confidence) }
                }
            }
        }
    }
}

fn promotions_table<'a>(ws: &str, rows: impl Iterator<Item = &'a EvidenceDirRow>) -> Markup {
    let rows: Vec<&EvidenceDirRow> = rows.collect();
    html! {
        h3 { "Promotions" }
        @if rows.is_empty() { p.muted { "None yet." } }
        @else {
            table id=(format!("promotions-{ws}")) {
                tr { th { "name" } th { "source attempt" } th { "kind" } th { "promoted at" } }
                @for d in rows.iter().rev().take(50) {
                    @let meta: serde_json::Value = d.metadata.as_deref().and_then(|m| serde_json::from_str(m).ok()).unwrap_or_default();
                    tr {
                        td { code { (d.path.trim_start_matches("reports/")) } }
                        td { code { (meta["source_attempt"].as_str().unwrap_or("")) } }
                        td { (meta["kind"].as_str().unwrap_or("")) }
                        td { (meta["promoted_at"].as_str().unwrap_or("")) }
                    }
                }
            }
        }
    }
}
