//! The HTTP API: one cheap-to-clone state, one router per capability merged here.

mod audit;
pub mod auth;
mod cache;
mod changelog;
pub mod error;
mod etag;
mod events;
mod extract;
mod health;
pub mod openapi;
mod page;
mod pagination;
mod problem;
mod promotions;
mod retention;
pub mod serve;
mod verify;
pub use health::metrics as metrics_only;
mod attempts;
mod mappings;
mod runs;
mod scope;
mod status;
pub mod types;

use crate::config::{Config, Workspace};
use crate::index::Indexer;
use crate::storage::Storage;
use crate::watch::status::WatchStatus;
use axum::Router;
use chrono::{DateTime, Utc};
use metrics_exporter_prometheus::PrometheusHandle;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use error::{ApiError, ApiResult};

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub workspace: Workspace,
    pub store: Storage,
    /// The durable records (audit, verifications, retention plans, intents).
    pub records: crate::storage::records::Records,
    pub indexer: Indexer,
    pub tokens: crate::auth::Tokens,
    pub events: crate::events::EventBus,
    pub promoter: crate::promote::Promoter,
    pub retention: crate::retention::Retention,
    pub git: crate::gitlog::GitLog,
    pub watch: Arc<WatchStatus>,
    /// The database counts of `/v1/status`, published after each commit.
    pub status: crate::snapshot::StatusPublisher,
    /// Asks the watcher for a full reconcile.
    pub rescan: mpsc::Sender<()>,
    pub started_at: DateTime<Utc>,
    /// Cancelled when the daemon stops; long-lived responses (SSE) end with it.
    pub shutdown: tokio_util::sync::CancellationToken,
    pub metrics: PrometheusHandle,
    /// `verify.max_concurrent` slots for `POST /v1/verify`.
    pub verify_slots: Arc<tokio::sync::Semaphore>,
    /// This daemon's workspace id and advertised URL, and whether its database answers.
    pub fleet: crate::fleet::Fleet,
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        AppState(Arc::new(inner))
    }
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The complete API router.
pub fn router(state: AppState) -> Router {
    let timeout = state.config.server.request_timeout;
    let body_limit = state.config.server.body_limit_bytes;
    use etag::{tagged, Source};
    Router::new()
        .merge(health::router())
        .merge(tagged(status::router(), &state, Source::Status))
        .merge(tagged(attempts::router(), &state, Source::Index))
        .merge(tagged(runs::router(), &state, Source::Index))
        .merge(tagged(mappings::router(), &state, Source::Index))
        .merge(events::router())
        .merge(tagged(promotions::router(), &state, Source::Both))
        .merge(tagged(retention::router(), &state, Source::Records))
        .merge(tagged(audit::router(), &state, Source::Records))
        // git history changes outside the daemon: not tagged from the generations.
        .merge(changelog::router())
        .merge(verify::router())
        .merge(page::router())
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            timeout.max(Duration::from_millis(1)),
        ))
        .layer(axum::middleware::map_response(problem::ensure_problem_json))
        // Outermost of the per-route layers (so timeouts and body-limit answers are counted)
        // yet inside routing, so the matched route template is known.
        .layer(axum::middleware::from_fn(track_metrics))
        // Failures worth an ERROR are logged where they happen (ApiError::Internal); a 503 from
        // /readyz during start-up is not one.
        .layer(
            TraceLayer::new_for_http().on_failure(
                tower_http::trace::DefaultOnFailure::new().level(tracing::Level::DEBUG),
            ),
        )
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}

/// Request count and latency by method, route template and status.
async fn track_metrics(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .cloned();
    let method = req.method().clone();
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    crate::metrics::http_request(
        &method,
        route.as_ref().map(|r| r.as_str()),
        resp.status().as_u16(),
        started.elapsed(),
    );
    resp
}
