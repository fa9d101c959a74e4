//! Running each command: the daemon, one-shot local commands, and clients of a daemon.

use super::{human, Command, DaemonArgs, RetentionCommand};
use crate::app::Application;
use crate::client::{exit, Connection};
use crate::config::Config;
use crate::workspace::{self, DaemonLock};
use reqwest::Method;
use serde_json::{json, Value};

/// Exit code of a failed start (bad config, not a workspace, workspace locked by another daemon).
const EXIT_START_FAILED: i32 = 2;

pub fn run(command: Command) -> i32 {
    match command {
        Command::Serve {
            daemon,
            listen,
            init,
        } => {
            let mut cfg = match load_config(&daemon) {
                Ok(c) => c,
                Err(e) => return fail(&e),
            };
            if let Some(addr) = listen {
                cfg.server.listen = addr;
            }
            let ws = cfg.workspace();
            let ready = if init {
                workspace::init(&ws).map(|_| ())
            } else {
                workspace::check(&ws)
            };
            if let Err(e) = ready {
                return fail(&e.to_string());
            }
            crate::telemetry::init(&cfg.log);
            let rt = runtime();
            let code = rt.block_on(serve(cfg));
            // A blocking thread still busy (a huge file being hashed) must not hold the exit:
            // dropping the runtime would wait for it.
            rt.shutdown_timeout(crate::app::SHUTDOWN_GRACE);
            code
        }
        Command::Init { dir, config, json } => {
            let daemon = DaemonArgs {
                config,
                workspace: Some(dir),
                database_url: None,
            };
            match load_config(&daemon).and_then(|cfg| init(&cfg, json)) {
                Ok(text) => {
                    print!("{text}");
                    exit::OK
                }
                Err(e) => fail(&e),
            }
        }
        Command::Openapi => {
            print!("{}", crate::http::openapi::yaml());
            exit::OK
        }
        Command::Scan { daemon, json } => {
            let mut cfg = match load_config(&daemon) {
                Ok(c) => c,
                Err(e) => return fail(&e),
            };
            if let Err(e) = workspace::check(&cfg.workspace()) {
                return fail(&e.to_string());
            }
            // A one-shot command's output is its summary; its progress logs only when asked.
            cfg.log.level = "warn".into();
            crate::telemetry::init(&cfg.log);
            runtime().block_on(scan(cfg, json))
        }
        Command::Verify(args) => crate::verify::cli::run(&args, &mut std::io::stdout().lock()),
        Command::Promote {
            attempt,
            nickname,
            name,
            certificate,
            profile,
            metadata,
            conn,
        } => {
            let metadata = match metadata.as_deref().map(serde_json::from_str::<Value>) {
                None => None,
                Some(Ok(v)) => Some(v),
                Some(Err(e)) => {
                    eprintln!("invarlockd: --metadata is not JSON: {e}");
                    return exit::USAGE;
                }
            };
            let body = json!({
                "attempt": attempt, "nickname": nickname, "name": name,
                "certificate": certificate, "profile": profile, "metadata": metadata,
            });
            let path = "/v1/promotions";
            client(
                &conn,
                Method::POST,
                path,
                Some(body),
                human::promotion,
                |_| true,
            )
        }
        Command::Check {
            name,
            profile,
            conn,
        } => {
            let q = profile.map(|p| format!("?profile={p}")).unwrap_or_default();
            let path = format!("/v1/promotions/{name}/verify{q}");
            client(&conn, Method::POST, &path, None, human::check, ok)
        }
        Command::AuditVerify { conn } => client(
            &conn,
            Method::GET,
            "/v1/audit/verify",
            None,
            human::audit_verify,
            ok,
        ),
        Command::Changelog {
            limit,
            page_token,
            conn,
        } => {
            let mut path = format!("/v1/changelog?limit={limit}");
            if let Some(t) = page_token {
                path.push_str(&format!("&page_token={t}"));
            }
            let render = crate::gitlog::human::changelog;
            client(&conn, Method::GET, &path, None, render, |_| true)
        }
        Command::Retention(cmd) => retention(cmd),
    }
}

fn retention(cmd: RetentionCommand) -> i32 {
    match cmd {
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
            let path = "/v1/retention/plan";
            client(
                &conn,
                Method::POST,
                path,
                Some(body.into()),
                human::plan,
                |_| true,
            )
        }
        RetentionCommand::Apply { plan_id, conn } => {
            let body = json!({ "plan_id": plan_id });
            let path = "/v1/retention/apply";
            client(&conn, Method::POST, path, Some(body), human::plan, |_| true)
        }
        RetentionCommand::Restore { plan_id, conn } => {
            let body = json!({ "plan_id": plan_id });
            let path = "/v1/retention/restore";
            client(&conn, Method::POST, path, Some(body), human::plan, |_| true)
        }
        RetentionCommand::Show { plan_id, conn } => {
            let path = format!("/v1/retention/plans/{plan_id}");
            client(&conn, Method::GET, &path, None, human::plan, |_| true)
        }
    }
}

/// The answer's top-level `ok` (checks and the audit walk): false exits 1.
fn ok(v: &Value) -> bool {
    v.get("ok") == Some(&Value::Bool(true))
}

/// One request: prints the answer (JSON with --json, else `render`), exits 1 when `sound` says
/// the answer reports a failure.
fn client(
    conn: &Connection,
    method: Method,
    path: &str,
    body: Option<Value>,
    render: fn(&Value) -> String,
    sound: fn(&Value) -> bool,
) -> i32 {
    match conn.call(method, path, body) {
        Ok(v) => {
            if conn.json {
                println!("{v}");
            } else {
                print!("{}", render(&v));
            }
            if sound(&v) {
                exit::OK
            } else {
                exit::REFUSED
            }
        }
        Err(code) => code,
    }
}

fn load_config(daemon: &DaemonArgs) -> Result<Config, String> {
    let mut cfg = Config::load(daemon.config.as_deref()).map_err(|e| e.to_string())?;
    if let Some(ws) = &daemon.workspace {
        cfg.workspace.root = ws.clone();
    }
    if let Some(url) = &daemon.database_url {
        cfg.database.url = url.clone();
        cfg.validate().map_err(|e| e.to_string())?;
    }
    Ok(cfg)
}

fn init(cfg: &Config, json: bool) -> Result<String, String> {
    let ws = cfg.workspace();
    let created = workspace::init(&ws).map_err(|e| e.to_string())?;
    if json {
        let v = json!({ "root": ws.root, "created": created });
        return Ok(format!("{v}\n"));
    }
    if created.is_empty() {
        return Ok(format!("{} is already a workspace\n", ws.root.display()));
    }
    let mut text = format!("workspace {} ready; created:\n", ws.root.display());
    for dir in created {
        text.push_str(&format!("  {}/\n", dir.display()));
    }
    text.push_str(&format!(
        "serve it with: invarlockd serve --workspace {}\n",
        ws.root.display()
    ));
    Ok(text)
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
    // The index has one writer: a running daemon keeps it current already.
    let _lock = match DaemonLock::acquire(&ws.state) {
        Ok(l) => l,
        Err(e) => return fail(&e.to_string()),
    };
    // The records first: an older index.db's records move to records.db before the index
    // migrations drop them (docs/records.md).
    let workspace_id = crate::domain::WorkspaceId::configured(&cfg.workspace.id, &ws.root);
    let database = cfg.database();
    match crate::storage::records::Records::open_in(
        &database,
        &ws.records_db(),
        Some(&ws.index_db()),
        &workspace_id,
    )
    .await
    {
        Ok(r) => r.close().await,
        Err(e) => return fail(&e.to_string()),
    }
    let store = match crate::storage::Storage::open_in(
        &database,
        &ws.index_db(),
        &workspace_id,
        None,
    )
    .await
    {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    let root = ws.root.clone();
    let indexer = crate::index::Indexer::new(
        store,
        crate::index::IndexSettings {
            workspace: ws,
            index: cfg.index.clone(),
            limits: cfg.limits,
        },
    );
    match indexer.full_scan().await {
        Ok(summary) => {
            let v = serde_json::to_value(&summary).unwrap_or_default();
            if json {
                println!("{v}");
            } else {
                print!("{}", human::scan(&v, &root));
            }
            exit::OK
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
