//! Building and running the daemon: bind first (so tests can use port 0 without sleeps), then
//! run the API server and the watcher until shutdown.

use crate::config::Config;
use crate::http::{self, AppState, Inner};
use crate::index::{IndexSettings, Indexer};
use crate::storage::records::Records;
use crate::storage::Storage;
use crate::watch::status::WatchStatus;
use crate::watch::Watcher;
use crate::workspace::{DaemonLock, LockInfo};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot prepare {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
    #[error(transparent)]
    Lock(#[from] crate::workspace::lock::LockError),
    #[error("cannot open the index or the records: {0}")]
    Storage(#[from] crate::storage::StorageError),
    #[error("{0}")]
    WorkspaceTaken(String),
    #[error("cannot finish what a crash interrupted: {0}")]
    Recovery(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// How long each stage of stopping may take after SIGTERM (requests, watcher, housekeeping,
/// closing the index, blocking threads): the process exits within 10 s whatever it was doing.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_millis(1500);

pub struct Application {
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    state: AppState,
    rescan_rx: mpsc::Receiver<()>,
    /// Held until `run_until` returns: one daemon per workspace.
    lock: DaemonLock,
}

impl Application {
    pub async fn build(config: Config) -> Result<Application, AppError> {
        config.validate()?;
        let ws = config.workspace();
        for dir in [&ws.runs, &ws.reports, &ws.state] {
            std::fs::create_dir_all(dir).map_err(|source| AppError::Dir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        // Before anything else touches the state: a second daemon stops here, naming the first.
        let mut lock = DaemonLock::acquire(&ws.state)?;
        let tokens = crate::auth::Tokens::load(&config.auth, config.server.listen, &ws.state)?;
        // Bound before the databases open: the advertised URL (server.public_url's default)
        // names the port actually bound, and the registry records it.
        let addr = config.server.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| AppError::Bind { addr, source })?;
        let bound = listener.local_addr().map_err(AppError::Serve)?;
        let identity = crate::fleet::identity::Identity::resolve(&config, &ws.root, bound);
        let workspace_id = crate::domain::WorkspaceId::parse(&identity.id)
            .map_err(|e| crate::config::ConfigError::Invalid(format!("workspace.id: {e}")))?;
        // The records first: a fresh records.db takes over what an older index.db held, before
        // the index's migrations drop those tables.
        let database = config.database();
        let records = Records::open_in(
            &database,
            &ws.records_db(),
            Some(&ws.index_db()),
            &workspace_id,
        )
        .await?;
        let store = Storage::open_in(
            &database,
            &ws.index_db(),
            &workspace_id,
            Some(identity.public_url.clone()),
        )
        .await?;
        // One id, one daemon (docs/fleet.md): before this daemon writes anything under it.
        crate::fleet::registry::check_unique(&store, &identity)
            .await
            .map_err(AppError::WorkspaceTaken)?;
        store.register_workspace().await?;
        let indexer = Indexer::new(
            store.clone(),
            IndexSettings {
                workspace: ws.clone(),
                index: config.index.clone(),
                limits: config.limits,
            },
        );
        let events = crate::events::EventBus::default();
        // Leftovers of a promotion interrupted by a crash are never visible as evidence.
        let cleaned = crate::promote::archive::clean_leftovers(&ws.reports).map_err(|source| {
            AppError::Dir {
                path: ws.reports.display().to_string(),
                source,
            }
        })?;
        if cleaned > 0 {
            tracing::warn!(
                cleaned,
                "removed temporary directories of interrupted promotions"
            );
        }
        // Intents left open by a crash are finished before anything is served. When the
        // records cannot be written (a full disk), reads are still served: the intent stays
        // open and every promotion finishes it first, so nothing is mutated before it is.
        match crate::promote::intent::recover(&records, &ws.reports).await {
            Ok(0) => {}
            Ok(late) => tracing::warn!(
                archives = late,
                "audited archives of interrupted promotions"
            ),
            Err(crate::promote::intent::RecoveryError::Storage(e)) => tracing::error!(
                error = %e,
                "cannot finish interrupted promotions yet; the next promotion retries first"
            ),
            Err(e) => return Err(AppError::Recovery(e.to_string())),
        }
        let tz = crate::timezone::TimeZone::parse(&config.index.timezone)
            .unwrap_or(crate::timezone::TimeZone::Local);
        let git = crate::gitlog::GitLog::new(config.reports.clone(), ws.clone(), records.clone());
        let promoter = crate::promote::Promoter::new(
            store.clone(),
            records.clone(),
            indexer.clone(),
            ws.clone(),
            events.clone(),
            tz,
        )
        .with_git(git.clone())
        .with_limits(config.limits);
        let retention = crate::retention::Retention::new(
            store.clone(),
            records.clone(),
            indexer.clone(),
            ws.clone(),
            events.clone(),
            &config.retention,
        );
        retention
            .recover()
            .await
            .map_err(|e| AppError::Recovery(e.to_string()))?;
        let metrics_listener = match config.server.metrics_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| AppError::Bind { addr, source })?,
            ),
            None => None,
        };
        let url = client_url(bound);
        let shared = matches!(database, crate::storage::Database::Postgres(_));
        let fleet = crate::fleet::Fleet::new(identity, shared);
        // The first view of the fleet, so /v1/status lists the workspaces from the start.
        fleet.publish(
            crate::fleet::registry::read_view(&store)
                .await
                .map_err(AppError::Storage)?,
        );
        lock.record(&LockInfo {
            pid: std::process::id(),
            url: Some(url),
        })
        .map_err(|source| AppError::Dir {
            path: lock.path().display().to_string(),
            source,
        })?;
        let (rescan, rescan_rx) = mpsc::channel(1);
        let status =
            crate::snapshot::StatusPublisher::start(store.clone(), records.clone()).await?;
        let state = AppState::new(Inner {
            workspace: ws,
            store,
            records,
            indexer,
            tokens,
            events,
            promoter,
            retention,
            git,
            watch: Arc::new(WatchStatus::default()),
            status,
            rescan,
            started_at: chrono::Utc::now(),
            shutdown: CancellationToken::new(),
            metrics: crate::metrics::handle(),
            verify_slots: Arc::new(tokio::sync::Semaphore::new(config.verify.max_concurrent)),
            fleet,
            config,
        });
        Ok(Application {
            listener,
            metrics_listener,
            state,
            rescan_rx,
            lock,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets in-flight requests finish
    /// and stops the watcher.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), AppError> {
        let token = self.state.shutdown.clone();
        let ws = &self.state.workspace;
        let watcher = Watcher {
            indexer: self.state.indexer.clone(),
            events: self.state.events.clone(),
            cfg: self.state.config.watch.clone(),
            roots: vec![ws.runs.clone(), ws.reports.clone()],
            status: self.state.watch.clone(),
        };
        let watcher_task = tokio::spawn(watcher.run(self.rescan_rx, token.clone()));
        let housekeeping = tokio::spawn(housekeeping(self.state.clone(), token.clone()));
        // Stops with the token; holds nothing that shutdown waits for.
        tokio::spawn(self.state.status.clone().run(token.clone()));
        let index_guard = tokio::spawn(index_guard(self.state.clone(), token.clone()));
        let heartbeat = tokio::spawn(crate::fleet::heartbeat::run(
            self.state.clone(),
            token.clone(),
        ));
        // Commits owed by promotions a crash interrupted, then retries and pushes.
        let git_task = tokio::spawn(self.state.git.clone().run(token.clone()));

        let limits = http::serve::ConnLimits::from_config(&self.state.config.server);
        if let Some(l) = self.metrics_listener {
            let app = axum::Router::new()
                .route("/metrics", axum::routing::get(crate::http::metrics_only))
                .with_state(self.state.clone());
            let t = token.clone();
            tokio::spawn(http::serve::serve(l, app, limits, t.cancelled_owned()));
        }

        let app = http::router(self.state.clone());
        tracing::info!(addr = %self.listener.local_addr().map_err(AppError::Serve)?, "listening");
        let t = token.clone();
        let serve = http::serve::serve(self.listener, app, limits, async move {
            shutdown.await;
            t.cancel();
        });
        // Stopping is bounded whatever the workspace holds: in-flight requests, a scan and
        // housekeeping each get SHUTDOWN_GRACE after the signal, then are abandoned.
        let stopped = token.clone();
        let result = tokio::select! {
            r = serve => r,
            _ = async { stopped.cancelled().await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {
                tracing::warn!("in-flight requests did not finish within the shutdown grace");
                Ok(())
            }
        };
        token.cancel();
        for (name, mut task) in [
            ("watcher", watcher_task),
            ("housekeeping", housekeeping),
            ("index guard", index_guard),
            ("heartbeat", heartbeat),
            ("git", git_task),
        ] {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
            {
                tracing::warn!(
                    task = name,
                    "did not stop within the shutdown grace; abandoned"
                );
                task.abort();
            }
        }
        // Flush: closing the pools checkpoints the WAL into index.db.
        let close = async {
            self.state.store.close().await;
            self.state.records.close().await;
        };
        if tokio::time::timeout(SHUTDOWN_GRACE, close).await.is_err() {
            tracing::warn!("the index did not close within the shutdown grace");
        }
        tracing::info!("stopped");
        drop(self.lock);
        result.map_err(AppError::Serve)
    }
}

/// The URL a local client uses to reach `addr` (an unspecified address answers on loopback).
fn client_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// Rebuilds the index live when its file is deleted or replaced (one `stat` a second); until
/// the new one is in service the daemon answers from the file it opened.
async fn index_guard(state: AppState, token: CancellationToken) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = token.cancelled() => return,
            _ = tick.tick() => {}
        }
        if !state.watch.is_ready() || !state.store.file_replaced() {
            continue;
        }
        // Stopping abandons a rebuild: the next start's full scan completes the file.
        let rebuilt = tokio::select! {
            _ = token.cancelled() => return,
            r = state.indexer.rebuild_if_replaced() => r,
        };
        if let Err(e) = rebuilt {
            tracing::error!(error = %e, "cannot rebuild the deleted index; still serving the old one, retrying in 30s");
            tokio::select! {
                _ = token.cancelled() => return,
                _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => {}
            }
        }
    }
}

/// Retention housekeeping: resumes interrupted applies and purges expired trash, once at start
/// (after the initial scan) and then every minute.
async fn housekeeping(state: AppState, token: CancellationToken) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = token.cancelled() => return,
            _ = tick.tick() => {}
        }
        if !state.watch.is_ready() {
            continue;
        }
        if let Err(e) = state.retention.housekeeping().await {
            tracing::error!(error = %e, "retention housekeeping failed");
        }
    }
}
