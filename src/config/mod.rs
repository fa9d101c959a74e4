//! Layered configuration: built-in defaults → TOML file → `INVARLOCKD_<SECTION>__<KEY>` env →
//! command-line flags. Every key is documented in `config/invarlockd.toml`.

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

mod sections;

pub use sections::{
    AuthConfig, DatabaseConfig, GitMode, IndexConfig, LogConfig, LogFormat, ReportsConfig,
    RetentionConfig, ServerConfig, TokenConfig, VerifyConfig, WatchConfig, WatchMode,
    WorkspaceConfig,
};

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

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests;
