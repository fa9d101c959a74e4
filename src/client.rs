//! The CLI as a client of a running daemon (`promote`, `check`, `audit-verify`, `retention`).
//!
//! Finding the daemon and its token, in order: flags, then `INVARLOCKD_URL` / `INVARLOCKD_TOKEN`,
//! then the workspace (`--workspace`, or the nearest directory holding `.invarlockd/` walking up
//! from the current directory): its daemon records its URL in `.invarlockd/daemon.lock` and its
//! generated admin token is `.invarlockd/admin.token`. A refusal for want of a token says where
//! the client looked.

use crate::workspace::{self, lock};
use clap::Args;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub const DEFAULT_URL: &str = "http://127.0.0.1:8765";

/// Where the daemon is and how to authenticate.
#[derive(Debug, Clone, Default, Args)]
pub struct Connection {
    /// Base URL of the daemon [default: $INVARLOCKD_URL, else the URL the workspace's daemon
    /// recorded in .invarlockd/daemon.lock, else http://127.0.0.1:8765]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// File holding the bearer token [default: $INVARLOCKD_TOKEN (the token itself), else the
    /// workspace's generated .invarlockd/admin.token]
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Workspace whose daemon and admin token to use [default: the nearest directory holding
    /// .invarlockd/, walking up from the current directory, as git finds .git]
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// Print the daemon's JSON answer on one line instead of a summary for people.
    #[arg(long)]
    pub json: bool,
}

/// Exit codes of client commands.
pub mod exit {
    pub const OK: i32 = 0;
    /// The daemon refused the request (4xx), or the evidence/log checked is not sound.
    pub const REFUSED: i32 = 1;
    /// The command could not be run as given (unreadable --token-file, bad --metadata).
    pub const USAGE: i32 = 2;
    /// The daemon could not be reached or failed (5xx).
    pub const UNAVAILABLE: i32 = 3;
}

/// The daemon to call and the token to present, each with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub url: String,
    pub url_from: String,
    pub token: Option<String>,
    /// Where the token came from, or where the client looked for one.
    pub token_from: String,
}

impl Connection {
    /// Applies the lookup order to this process's environment and current directory.
    pub fn target(&self) -> Result<Target, String> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        self.resolve(|k| std::env::var(k).ok(), &cwd)
    }

    /// The lookup order, with the environment and the current directory as inputs.
    pub fn resolve(
        &self,
        env: impl Fn(&str) -> Option<String>,
        cwd: &Path,
    ) -> Result<Target, String> {
        // An empty variable counts as unset (`INVARLOCKD_URL= invarlockd …`).
        let env = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let (root, looked) = match &self.workspace {
            Some(ws) => (Some(cwd.join(ws)), vec![cwd.join(ws)]),
            None => {
                let d = workspace::discover(cwd);
                (d.found, d.looked)
            }
        };
        let state = root.as_ref().map(|r| r.join(workspace::STATE_DIR));
        let recorded = state
            .as_ref()
            .and_then(|s| lock::read_info(&s.join(lock::LOCK_FILE)))
            .and_then(|info| info.url);
        let (url, url_from) = if let Some(u) = &self.url {
            (u.clone(), "--url".to_string())
        } else if let Some(u) = env("INVARLOCKD_URL") {
            (u, "INVARLOCKD_URL".to_string())
        } else if let (Some(u), Some(s)) = (recorded, &state) {
            (u, s.join(lock::LOCK_FILE).display().to_string())
        } else {
            (DEFAULT_URL.to_string(), "the default".to_string())
        };
        let (token, token_from) = if let Some(f) = &self.token_file {
            let t = std::fs::read_to_string(cwd.join(f))
                .map_err(|e| format!("--token-file {}: {e}", f.display()))?;
            (
                Some(t.trim().to_string()),
                format!("--token-file {}", f.display()),
            )
        } else if let Some(t) = env("INVARLOCKD_TOKEN") {
            (Some(t.trim().to_string()), "INVARLOCKD_TOKEN".to_string())
        } else {
            match state.as_ref().map(|s| s.join("admin.token")) {
                Some(file) => match std::fs::read_to_string(&file) {
                    Ok(t) => (Some(t.trim().to_string()), file.display().to_string()),
                    Err(e) => (None, format!("cannot read {}: {e}", file.display())),
                },
                None => (None, format!("no .invarlockd/ found in {}", list(&looked))),
            }
        };
        let token_from = if token.is_none() {
            format!(
                "no token: INVARLOCKD_TOKEN is unset, no --token-file, and {token_from} \
                 (run from inside the workspace, or pass --workspace DIR)"
            )
        } else {
            token_from
        };
        Ok(Target {
            url: url.trim_end_matches('/').to_string(),
            url_from,
            token,
            token_from,
        })
    }

    /// Sends one request. On success returns the JSON answer; otherwise prints why on stderr
    /// (and the problem on stdout with `--json`) and returns the exit code.
    pub fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, i32> {
        let target = self.target().map_err(|e| {
            eprintln!("invarlockd: {e}");
            exit::USAGE
        })?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                eprintln!("invarlockd: {e}");
                exit::UNAVAILABLE
            })?;
        rt.block_on(self.send(&target, method, path, body))
    }

    async fn send(
        &self,
        target: &Target,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, i32> {
        let url = format!("{}{path}", target.url);
        let mut req = reqwest::Client::new().request(method, &url);
        if let Some(t) = &target.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| {
            eprintln!(
                "invarlockd: cannot reach the daemon at {url} (URL from {}): {e}",
                target.url_from
            );
            if target.url_from == "the default" {
                eprintln!(
                    "  is it running? No --url, no INVARLOCKD_URL, and no workspace daemon \
                     found from here (run inside the workspace, or pass --workspace DIR)"
                );
            }
            exit::UNAVAILABLE
        })?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if status.is_success() {
            return Ok(value);
        }
        if self.json {
            println!("{value}");
        }
        let field = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or("");
        eprintln!(
            "invarlockd: {} {}: {}",
            status.as_u16(),
            field("code"),
            field("detail")
        );
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            eprintln!("  daemon: {} (from {})", target.url, target.url_from);
            eprintln!("  token:  {}", target.token_from);
        }
        Err(if status.is_server_error() {
            exit::UNAVAILABLE
        } else {
            exit::REFUSED
        })
    }
}

fn list(dirs: &[PathBuf]) -> String {
    let names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    /// A workspace whose daemon recorded its URL and generated a token.
    fn served_workspace() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join(".invarlockd");
        std::fs::create_dir_all(dir.path().join("runs/nick")).unwrap();
        std::fs::create_dir_all(&state).unwrap();
        std::fs::write(state.join("admin.token"), "generated-token\n").unwrap();
        std::fs::write(
            state.join("daemon.lock"),
            r#"{"pid":1,"url":"http://127.0.0.1:4242"}"#,
        )
        .unwrap();
        dir
    }

    #[test]
    fn inside_a_workspace_the_client_finds_its_daemon_and_token_by_walking_up() {
        let ws = served_workspace();
        let t = Connection::default()
            .resolve(env(&[]), &ws.path().join("runs/nick"))
            .unwrap();
        assert_eq!(t.url, "http://127.0.0.1:4242");
        assert!(t.url_from.ends_with("daemon.lock"), "{}", t.url_from);
        assert_eq!(t.token.as_deref(), Some("generated-token"));
        assert!(t.token_from.ends_with("admin.token"), "{}", t.token_from);
    }

    #[test]
    fn environment_variables_come_before_the_workspace_and_flags_before_both() {
        let ws = served_workspace();
        let vars = env(&[
            ("INVARLOCKD_URL", "http://h:1/"),
            ("INVARLOCKD_TOKEN", "env"),
        ]);
        let t = Connection::default().resolve(&vars, ws.path()).unwrap();
        assert_eq!(
            (t.url.as_str(), t.token.as_deref()),
            ("http://h:1", Some("env"))
        );
        std::fs::write(ws.path().join("tok"), "from-file\n").unwrap();
        let flags = Connection {
            url: Some("http://flag:2".into()),
            token_file: Some("tok".into()),
            ..Connection::default()
        };
        let t = flags.resolve(&vars, ws.path()).unwrap();
        assert_eq!(
            (t.url.as_str(), t.token.as_deref()),
            ("http://flag:2", Some("from-file"))
        );
    }

    #[test]
    fn empty_variables_count_as_unset() {
        let ws = served_workspace();
        let vars = env(&[("INVARLOCKD_URL", ""), ("INVARLOCKD_TOKEN", " ")]);
        let t = Connection::default().resolve(vars, ws.path()).unwrap();
        assert_eq!(t.url, "http://127.0.0.1:4242");
        assert_eq!(t.token.as_deref(), Some("generated-token"));
    }

    #[test]
    fn without_a_workspace_the_client_says_where_it_looked_for_a_token() {
        let dir = tempfile::tempdir().unwrap();
        let t = Connection::default().resolve(env(&[]), dir.path()).unwrap();
        assert_eq!((t.url.as_str(), t.token.as_deref()), (DEFAULT_URL, None));
        assert!(
            t.token_from.contains("INVARLOCKD_TOKEN"),
            "{}",
            t.token_from
        );
        assert!(
            t.token_from.contains(&dir.path().display().to_string()),
            "{}",
            t.token_from
        );
    }

    #[test]
    fn a_given_workspace_without_a_token_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection {
            workspace: Some("elsewhere".into()),
            ..Connection::default()
        };
        let t = conn.resolve(env(&[]), dir.path()).unwrap();
        assert!(t.token.is_none());
        assert!(
            t.token_from.contains("elsewhere/.invarlockd/admin.token"),
            "{}",
            t.token_from
        );
    }

    #[test]
    fn an_unreadable_token_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection {
            token_file: Some("missing.token".into()),
            ..Connection::default()
        };
        let err = conn.resolve(env(&[]), dir.path()).unwrap_err();
        assert!(err.contains("missing.token"), "{err}");
    }
}
