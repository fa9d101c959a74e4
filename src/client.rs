//! The CLI as a client of a running daemon (`promote`, `check`, `audit`, `retention`).

use clap::Args;
use std::path::PathBuf;

/// Where the daemon is and how to authenticate.
#[derive(Debug, Clone, Args)]
pub struct Connection {
    /// Base URL of the daemon.
    #[arg(long, env = "INVARLOCKD_URL", default_value = "http://127.0.0.1:8765")]
    pub url: String,
    /// Bearer token (prefer --token-file or INVARLOCKD_TOKEN: flags show up in `ps`).
    #[arg(long, env = "INVARLOCKD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// File holding the token; default `<workspace>/.invarlockd/admin.token` when readable.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Workspace whose generated admin token to use when no token is given.
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
    /// Print the raw JSON response.
    #[arg(long)]
    pub json: bool,
}

/// Exit codes of client commands.
pub mod exit {
    pub const OK: i32 = 0;
    /// The daemon refused the request (4xx): the problem is printed.
    pub const REFUSED: i32 = 1;
    /// The daemon could not be reached or failed (5xx).
    pub const UNAVAILABLE: i32 = 3;
}

impl Connection {
    fn token(&self) -> Option<String> {
        if let Some(t) = &self.token {
            return Some(t.trim().to_string());
        }
        let file = self
            .token_file
            .clone()
            .unwrap_or_else(|| self.workspace.join(".invarlockd/admin.token"));
        std::fs::read_to_string(file)
            .ok()
            .map(|t| t.trim().to_string())
    }

    /// Sends one request; prints the response; returns the exit code.
    pub fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> i32 {
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("invarlockd: {e}");
                return exit::UNAVAILABLE;
            }
        };
        rt.block_on(async {
            let url = format!("{}{}", self.url.trim_end_matches('/'), path);
            let mut req = reqwest::Client::new().request(method, &url);
            if let Some(t) = self.token() {
                req = req.bearer_auth(t);
            }
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("invarlockd: cannot reach {url}: {e}");
                    return exit::UNAVAILABLE;
                }
            };
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            let value: serde_json::Value =
                serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
            if status.is_success() {
                if self.json {
                    println!("{value}");
                } else {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&value).unwrap_or_default()
                    );
                }
                exit::OK
            } else {
                let detail = value.get("detail").and_then(|d| d.as_str()).unwrap_or("");
                let code = value.get("code").and_then(|d| d.as_str()).unwrap_or("");
                if self.json {
                    println!("{value}");
                }
                eprintln!("invarlockd: {} {code}: {detail}", status.as_u16());
                if status.is_server_error() {
                    exit::UNAVAILABLE
                } else {
                    exit::REFUSED
                }
            }
        })
    }
}
