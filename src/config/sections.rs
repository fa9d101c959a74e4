//! The sections of the configuration file, each with its built-in defaults.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WorkspaceConfig {
    /// This daemon's name in a shared database; empty means `<host>-<last component of root>`
    /// (see `crate::fleet::identity`).
    pub id: String,
    pub root: PathBuf,
    /// Empty means `<root>/runs`.
    pub runs: PathBuf,
    /// Empty means `<root>/reports`.
    pub reports: PathBuf,
    /// Empty means `<root>/.invarlockd`.
    pub state: PathBuf,
}

/// Where the index and the records live: empty (or `sqlite`) for `index.db` and `records.db` in
/// the state directory, `postgres://…` for a PostgreSQL database shared by a fleet.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// The URL other daemons and clients are sent to for this workspace's mutations (421
    /// `misdirected`); empty means `http://<listen address>` with the bound port.
    pub public_url: String,
    /// Optional second listener for `/metrics` only.
    pub metrics_listen: Option<SocketAddr>,
    pub body_limit_bytes: usize,
    /// Time allowed for a request to be answered (not SSE streams, which last until closed).
    #[serde(with = "duration")]
    pub request_timeout: Duration,
    /// A connection must deliver a request's complete header within this long of starting it
    /// (or of finishing the previous one, for an idle keep-alive connection) or it is closed.
    #[serde(with = "duration")]
    pub header_read_timeout: Duration,
    /// A connection that neither sends nor receives a byte for this long is closed.
    #[serde(with = "duration")]
    pub idle_timeout: Duration,
    /// Connections served at once; further ones wait in the kernel's accept queue.
    pub max_connections: usize,
}

/// `POST /v1/verify`: what one upload may cost.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct VerifyConfig {
    /// Verifications running at once; beyond, 503 with `Retry-After`.
    pub max_concurrent: usize,
    /// Largest tree (JSON values) a certificate object may parse to; beyond, 413.
    pub max_values: usize,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        VerifyConfig {
            max_concurrent: 2,
            max_values: 1_000_000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct IndexConfig {
    #[serde(with = "duration")]
    pub settle: Duration,
    #[serde(with = "duration")]
    pub stale_after: Duration,
    pub convenience_copy: bool,
    /// `local` or a fixed offset like `+02:00`, used to turn attempt directory names into UTC.
    pub timezone: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum WatchMode {
    /// inotify, falling back to polling when it cannot be used.
    Auto,
    Poll,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WatchConfig {
    pub mode: WatchMode,
    #[serde(with = "duration")]
    pub debounce: Duration,
    #[serde(with = "duration")]
    pub poll_interval: Duration,
    #[serde(with = "duration")]
    pub reconcile_interval: Duration,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    pub public_reads: bool,
    /// Bearer tokens; with none, an admin token is generated into `<state>/admin.token`.
    pub tokens: Vec<TokenConfig>,
}

/// One bearer token, given by its SHA-256 (hex) or read from a file; never in clear text here.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    pub name: String,
    pub scope: crate::auth::Scope,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    pub keep_last: u32,
    #[serde(with = "duration")]
    pub keep_within: Duration,
    #[serde(with = "duration")]
    pub failed_keep_within: Duration,
    #[serde(with = "duration")]
    pub trash_grace: Duration,
    /// How long a plan can be applied after it was made.
    #[serde(with = "duration")]
    pub plan_ttl: Duration,
}

/// Whether promotions are committed to the git repository holding `reports/`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GitMode {
    Off,
    /// One commit per promotion, on the checked-out branch.
    Commit,
    /// Commit, then push to `remote` / `branch` (retried with backoff).
    Push,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReportsConfig {
    pub git: GitMode,
    /// Remote to push to with `git = "push"`.
    pub remote: String,
    /// Branch on the remote; empty means the same name as the checked-out branch.
    pub branch: String,
    /// `Name <email>` of the commits' author.
    pub author: String,
    /// `Name <email>` of the committer; empty means the author.
    pub committer: String,
    /// First delay before retrying a failed commit or push; doubles up to `retry_max`.
    #[serde(with = "duration")]
    pub retry_min: Duration,
    #[serde(with = "duration")]
    pub retry_max: Duration,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        ReportsConfig {
            git: GitMode::Off,
            remote: "origin".into(),
            branch: String::new(),
            author: "invarlockd <invarlockd@localhost>".into(),
            committer: String::new(),
            retry_min: Duration::from_secs(2),
            retry_max: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing `EnvFilter` directive; `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            public_reads: true,
            tokens: Vec::new(),
        }
    }
}

impl Default for WorkspaceConfig {
    fn default() -> Self {
        WorkspaceConfig {
            id: String::new(),
            root: PathBuf::from("."),
            runs: PathBuf::new(),
            reports: PathBuf::new(),
            state: PathBuf::new(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8765)),
            public_url: String::new(),
            metrics_listen: None,
            body_limit_bytes: 64 * 1024 * 1024,
            request_timeout: Duration::from_secs(60),
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            max_connections: 256,
        }
    }
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            settle: Duration::from_secs(2),
            stale_after: Duration::from_secs(6 * 3600),
            convenience_copy: true,
            timezone: "local".into(),
        }
    }
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            mode: WatchMode::Auto,
            debounce: Duration::from_millis(50),
            poll_interval: Duration::from_secs(2),
            reconcile_interval: Duration::from_secs(300),
        }
    }
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            keep_last: 3,
            keep_within: Duration::from_secs(14 * 86400),
            failed_keep_within: Duration::from_secs(3 * 86400),
            trash_grace: Duration::from_secs(86400),
            plan_ttl: Duration::from_secs(3600),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

/// Durations written the humane way: `250ms`, `2s`, `5m`, `6h`, `14d`.
mod duration {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_duration(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(s.trim())
            .map_err(|e| serde::de::Error::custom(format!("{s:?}: {e}")))
    }
}
