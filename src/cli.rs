//! Command-line interface: `serve`, `scan`, `verify`, and clients of a running daemon.

use crate::app::Application;
use crate::config::Config;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "invarlockd",
    version,
    about = "InvarLock evidence daemon: index runs, promote, verify, retain"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Args)]
pub struct DaemonArgs {
    /// Configuration file (TOML); see config/invarlockd.toml.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Workspace directory holding runs/ and reports/.
    #[arg(long)]
    pub workspace: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: watch the workspace, keep the index, serve the HTTP API.
    Serve {
        #[command(flatten)]
        daemon: DaemonArgs,
        /// Listen address, e.g. 127.0.0.1:8765.
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Archive a PASS attempt's evidence into reports/ (client of a running daemon).
    Promote {
        /// The attempt, `<nickname>/<YYYYMMDD_HHMMSS>` (default: latest pass of --nickname).
        #[arg(long)]
        attempt: Option<String>,
        #[arg(long)]
        nickname: Option<String>,
        /// Name under reports/ (default: the nickname).
        #[arg(long)]
        name: Option<String>,
        /// Certificate path under the workspace (required for a subject run).
        #[arg(long)]
        certificate: Option<String>,
        /// Verify profile the certificate must pass.
        #[arg(long, default_value = "dev")]
        profile: String,
        /// Free annotations (a JSON object) stored in metadata.json.
        #[arg(long)]
        metadata: Option<String>,
        #[command(flatten)]
        conn: crate::client::Connection,
    },
    /// Re-check archived evidence: verdict, pairing and sha256 of every file.
    Check {
        name: String,
        #[arg(long)]
        profile: Option<String>,
        #[command(flatten)]
        conn: crate::client::Connection,
    },
    /// Walk the audit log's hash chain and name the first broken entry.
    AuditVerify {
        #[command(flatten)]
        conn: crate::client::Connection,
    },
    /// Retention: plan, apply or restore the deletion of stale attempts (client of a daemon).
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Verify certificates exactly like `invarlock verify` 0.3.6 (same exit codes and output).
    Verify(crate::verify::cli::VerifyArgs),
    /// Index the workspace once and print a summary.
    Scan {
        #[command(flatten)]
        daemon: DaemonArgs,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Make a plan: what would be deleted and kept, and why. Nothing changes.
    Plan {
        #[arg(long)]
        keep_last: Option<u64>,
        /// e.g. 14d
        #[arg(long)]
        keep_within: Option<String>,
        #[arg(long)]
        failed_keep_within: Option<String>,
        #[command(flatten)]
        conn: crate::client::Connection,
    },
    /// Execute exactly that plan (admin token).
    Apply {
        plan_id: String,
        #[command(flatten)]
        conn: crate::client::Connection,
    },
    /// Put a not-yet-purged plan's directories back (admin token).
    Restore {
        plan_id: String,
        #[command(flatten)]
        conn: crate::client::Connection,
    },
    /// Show a plan and its moves.
    Show {
        plan_id: String,
        #[command(flatten)]
        conn: crate::client::Connection,
    },
}

/// Exit code of a failed start (bad config, unusable workspace).
const EXIT_START_FAILED: i32 = 2;

fn load_config(daemon: &DaemonArgs) -> Result<Config, String> {
    let mut cfg = Config::load(daemon.config.as_deref()).map_err(|e| e.to_string())?;
    if let Some(ws) = &daemon.workspace {
        cfg.workspace.root = ws.clone();
    }
    Ok(cfg)
}

pub fn main() -> i32 {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { daemon, listen } => {
            let mut cfg = match load_config(&daemon) {
                Ok(c) => c,
                Err(e) => return fail(&e),
            };
            if let Some(addr) = listen {
                cfg.server.listen = addr;
            }
            crate::telemetry::init(&cfg.log);
            runtime().block_on(serve(cfg))
        }
        Command::Promote {
            attempt,
            nickname,
            name,
            certificate,
            profile,
            metadata,
            conn,
        } => {
            let metadata = match metadata
                .as_deref()
                .map(serde_json::from_str::<serde_json::Value>)
            {
                None => None,
                Some(Ok(v)) => Some(v),
                Some(Err(e)) => return fail(&format!("--metadata is not JSON: {e}")),
            };
            let body = serde_json::json!({
                "attempt": attempt, "nickname": nickname, "name": name,
                "certificate": certificate, "profile": profile, "metadata": metadata,
            });
            conn.call(reqwest::Method::POST, "/v1/promotions", Some(body))
        }
        Command::Check {
            name,
            profile,
            conn,
        } => {
            let q = profile.map(|p| format!("?profile={p}")).unwrap_or_default();
            conn.call(
                reqwest::Method::POST,
                &format!("/v1/promotions/{name}/verify{q}"),
                None,
            )
        }
        Command::AuditVerify { conn } => conn.call(reqwest::Method::GET, "/v1/audit/verify", None),
        Command::Verify(args) => crate::verify::cli::run(&args, &mut std::io::stdout().lock()),
        Command::Retention(cmd) => match cmd {
            RetentionCommand::Plan {
                keep_last,
                keep_within,
                failed_keep_within,
                conn,
            } => {
                let mut body = serde_json::Map::new();
                if let Some(k) = keep_last {
                    body.insert("keep_last".into(), k.into());
                }
                if let Some(k) = keep_within {
                    body.insert("keep_within".into(), k.into());
                }
                if let Some(k) = failed_keep_within {
                    body.insert("failed_keep_within".into(), k.into());
                }
                conn.call(
                    reqwest::Method::POST,
                    "/v1/retention/plan",
                    Some(body.into()),
                )
            }
            RetentionCommand::Apply { plan_id, conn } => conn.call(
                reqwest::Method::POST,
                "/v1/retention/apply",
                Some(serde_json::json!({ "plan_id": plan_id })),
            ),
            RetentionCommand::Restore { plan_id, conn } => conn.call(
                reqwest::Method::POST,
                "/v1/retention/restore",
                Some(serde_json::json!({ "plan_id": plan_id })),
            ),
            RetentionCommand::Show { plan_id, conn } => conn.call(
                reqwest::Method::GET,
                &format!("/v1/retention/plans/{plan_id}"),
                None,
            ),
        },
        Command::Scan { daemon, json } => {
            let cfg = match load_config(&daemon) {
                Ok(c) => c,
                Err(e) => return fail(&e),
            };
            crate::telemetry::init(&cfg.log);
            runtime().block_on(scan(cfg, json))
        }
    }
}

fn fail(msg: &str) -> i32 {
    eprintln!("invarlockd: {msg}");
    EXIT_START_FAILED
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

async fn serve(cfg: Config) -> i32 {
    let app = match Application::build(cfg).await {
        Ok(a) => a,
        Err(e) => return fail(&e.to_string()),
    };
    match app.run_until(shutdown_signal()).await {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!(error = %e, "server stopped");
            1
        }
    }
}

async fn scan(cfg: Config, json: bool) -> i32 {
    let ws = cfg.workspace();
    if let Err(e) = std::fs::create_dir_all(&ws.state) {
        return fail(&format!("cannot create {}: {e}", ws.state.display()));
    }
    let store = match crate::storage::Storage::open(&ws.index_db()).await {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    let indexer = crate::index::Indexer::new(
        store,
        crate::index::IndexSettings {
            workspace: ws,
            index: cfg.index.clone(),
        },
    );
    match indexer.full_scan().await {
        Ok(summary) => {
            if json {
                println!("{}", serde_json::to_string(&summary).unwrap_or_default());
            } else {
                println!("{summary:#?}");
            }
            0
        }
        Err(e) => {
            eprintln!("invarlockd: scan failed: {e}");
            1
        }
    }
}

/// SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested");
}
