//! Layered configuration: built-in defaults → TOML file → `INVARLOCKD_<SECTION>__<KEY>` env →
//! command-line flags. Every key is documented in `config/invarlockd.toml`.

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// figment's message names the offending key (`index.settle`) and its source.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub workspace: WorkspaceConfig,
    pub database: DatabaseConfig,
    pub server: ServerConfig,
    pub index: IndexConfig,
    pub watch: WatchConfig,
    pub auth: AuthConfig,
    pub retention: RetentionConfig,
    pub reports: ReportsConfig,
    pub log: LogConfig,
    pub verify: VerifyConfig,
    /// Size caps of the workspace files the daemon reads (see `crate::fsx`).
    pub limits: crate::fsx::Limits,
}

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

/// Resolved workspace paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub root: PathBuf,
    pub runs: PathBuf,
    pub reports: PathBuf,
    pub state: PathBuf,
}

impl Workspace {
    /// The index: a cache of runs/ and reports/, rebuilt when deleted.
    pub fn index_db(&self) -> PathBuf {
        self.state.join("index.db")
    }

    /// The durable records (audit log, verifications, retention plans, intents).
    pub fn records_db(&self) -> PathBuf {
        self.state.join("records.db")
    }
}

impl Config {
    /// Loads defaults, then `file` (if given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if !f.is_file() {
                return Err(ConfigError::Invalid(format!(
                    "config file {} not found",
                    f.display()
                )));
            }
            fig = fig.merge(Toml::file_exact(f));
        }
        // Only SECTION__KEY variables are configuration; INVARLOCKD_URL / INVARLOCKD_TOKEN belong
        // to the CLI client and must not be mistaken for (unknown) keys.
        fig = fig.merge(
            Env::prefixed("INVARLOCKD_")
                .filter(|k| k.as_str().contains("__"))
                .split("__")
                .lowercase(true),
        );
        let cfg: Config = fig
            .extract()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// The database `database.url` names (checked by `validate`).
    pub fn database(&self) -> crate::storage::Database {
        crate::storage::Database::parse(&self.database.url)
            .unwrap_or(crate::storage::Database::Sqlite)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, why: &str| Err(ConfigError::Invalid(format!("{key}: {why}")));
        if let Err(why) = crate::storage::Database::parse(&self.database.url) {
            return bad("database.url", &why);
        }
        if self.index.settle.is_zero() {
            return bad("index.settle", "must be greater than zero");
        }
        if self.watch.reconcile_interval < Duration::from_secs(1) {
            return bad("watch.reconcile_interval", "must be at least 1s");
        }
        if self.watch.poll_interval.is_zero() {
            return bad("watch.poll_interval", "must be greater than zero");
        }
        if self.server.body_limit_bytes == 0 {
            return bad("server.body_limit_bytes", "must be greater than zero");
        }
        if self.server.max_connections == 0 {
            return bad("server.max_connections", "must be greater than zero");
        }
        if self.server.header_read_timeout.is_zero() {
            return bad("server.header_read_timeout", "must be greater than zero");
        }
        // SSE sends a keep-alive comment every 15 s; a shorter idle timeout would cut streams.
        if self.server.idle_timeout < Duration::from_secs(20) {
            return bad("server.idle_timeout", "must be at least 20s");
        }
        // A handler at work leaves the socket quiet; only the request timeout may end it.
        if self.server.idle_timeout <= self.server.request_timeout {
            return bad(
                "server.idle_timeout",
                "must be longer than server.request_timeout",
            );
        }
        if !self.workspace.id.is_empty() {
            if let Err(why) = crate::fleet::identity::check_id(&self.workspace.id) {
                return bad("workspace.id", &why);
            }
        }
        if !self.server.public_url.is_empty() {
            if let Err(why) = crate::fleet::identity::check_public_url(&self.server.public_url) {
                return bad("server.public_url", &why);
            }
        }
        if self.verify.max_concurrent == 0 {
            return bad("verify.max_concurrent", "must be greater than zero");
        }
        let r = &self.reports;
        if crate::gitlog::commit::Ident::parse(&r.author).is_none() {
            return bad("reports.author", "expected `Name <email>`");
        }
        if !r.committer.trim().is_empty()
            && crate::gitlog::commit::Ident::parse(&r.committer).is_none()
        {
            return bad("reports.committer", "expected `Name <email>` or empty");
        }
        if r.remote.trim().is_empty() || r.remote.starts_with('-') {
            return bad("reports.remote", "expected a remote name or URL");
        }
        if r.branch.starts_with('-') || r.branch.contains([' ', ':', '\0']) {
            return bad("reports.branch", "expected a branch name or empty");
        }
        if r.retry_min.is_zero() || r.retry_max < r.retry_min {
            return bad(
                "reports.retry_min",
                "must be greater than zero and at most reports.retry_max",
            );
        }
        let l = &self.limits;
        for (key, v) in [
            ("limits.report_bytes", l.report_bytes),
            ("limits.events_bytes", l.events_bytes),
            ("limits.certificate_bytes", l.certificate_bytes),
            ("limits.metadata_bytes", l.metadata_bytes),
            ("limits.hashed_file_bytes", l.hashed_file_bytes),
        ] {
            if v == 0 {
                return bad(key, "must be greater than zero");
            }
        }
        if crate::timezone::TimeZone::parse(&self.index.timezone).is_none() {
            return bad(
                "index.timezone",
                "expected `local`, `UTC` or an offset like `+02:00`",
            );
        }
        Ok(())
    }

    /// Absolute workspace paths (relative settings are taken from the root).
    pub fn workspace(&self) -> Workspace {
        let root = std::path::absolute(&self.workspace.root)
            .unwrap_or_else(|_| self.workspace.root.clone());
        let pick = |p: &PathBuf, default: &str| {
            if p.as_os_str().is_empty() {
                root.join(default)
            } else if p.is_absolute() {
                p.clone()
            } else {
                root.join(p)
            }
        };
        Workspace {
            runs: pick(&self.workspace.runs, "runs"),
            reports: pick(&self.workspace.reports, "reports"),
            state: pick(&self.workspace.state, ".invarlockd"),
            root,
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

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests {
    use super::*;

    #[test]
    fn the_shipped_config_file_equals_the_built_in_defaults() {
        // Jail: other tests set INVARLOCKD_* variables; the jail serialises access to them.
        figment::Jail::expect_with(|_| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/invarlockd.toml");
            let cfg = Config::load(Some(&path)).map_err(|e| e.to_string())?;
            assert_eq!(cfg, Config::default());
            Ok(())
        });
    }

    #[test]
    fn an_unknown_key_is_named_in_the_error() {
        figment::Jail::expect_with(|_| {
            let dir = tempfile::tempdir().unwrap();
            let f = dir.path().join("c.toml");
            std::fs::write(&f, "[index]\nsettel = \"2s\"\n").unwrap();
            let err = Config::load(Some(&f)).unwrap_err().to_string();
            assert!(err.contains("settel"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn environment_variables_override_the_file_and_name_their_key_when_bad() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("INVARLOCKD_WATCH__MODE", "poll");
            jail.set_env("INVARLOCKD_TOKEN", "client-only, not config");
            let cfg = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(cfg.watch.mode, WatchMode::Poll);
            jail.set_env("INVARLOCKD_INDEX__SETTLE", "soon");
            let err = Config::load(None).unwrap_err().to_string().to_lowercase();
            assert!(err.contains("index.settle"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn a_bad_duration_is_named_in_the_error() {
        figment::Jail::expect_with(|_| {
            let dir = tempfile::tempdir().unwrap();
            let f = dir.path().join("c.toml");
            std::fs::write(&f, "[index]\nsettle = \"soon\"\n").unwrap();
            let err = Config::load(Some(&f)).unwrap_err().to_string();
            assert!(err.contains("settle"), "{err}");
            Ok(())
        });
    }
}
