//! Command-line interface: `serve`, `init`, `scan`, `verify`, and clients of a running daemon.
//! Every command prints a summary for people; `--json` prints the machine answer instead.

pub mod human;
mod run;

use crate::client::Connection;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "invarlockd",
    version,
    about = "InvarLock evidence daemon: index runs, promote, verify, retain",
    after_help = "Client commands (promote, check, audit-verify, retention) talk to a running \
                  daemon; they find it and its token from --url/--token-file, then \
                  INVARLOCKD_URL/INVARLOCKD_TOKEN, then the workspace (--workspace, or found by \
                  walking up from the current directory)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Args)]
pub struct DaemonArgs {
    /// Configuration file (TOML); see config/invarlockd.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Workspace directory holding runs/ and reports/ [default: workspace.root from the config,
    /// else the current directory]
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// Database URL: empty or `sqlite` for files in the state directory, `postgres://…` for a
    /// database shared by a fleet [default: database.url from the config]
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

const PROFILES: [&str; 3] = ["dev", "ci", "release"];

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: watch the workspace, keep the index, serve the HTTP API.
    Serve {
        #[command(flatten)]
        daemon: DaemonArgs,
        /// Listen address, e.g. 127.0.0.1:8765 [default: server.listen from the config]
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// Create runs/, reports/ and .invarlockd/ when the directory is not a workspace yet
        /// (without it, serve refuses such a directory).
        #[arg(long)]
        init: bool,
    },
    /// Make a directory an InvarLock workspace: create runs/, reports/ and .invarlockd/.
    Init {
        /// The directory (created if missing).
        #[arg(default_value = ".", value_name = "DIR")]
        dir: PathBuf,
        /// Configuration file (TOML), for non-default runs/reports/state paths.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Print the workspace root and the directories created as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Archive a PASS attempt's evidence into reports/ (client of a running daemon).
    Promote {
        /// The attempt, `<nickname>/<YYYYMMDD_HHMMSS>` [default: the latest pass of --nickname]
        #[arg(long, value_name = "NICK/TS")]
        attempt: Option<String>,
        /// Promote this nickname's latest pass attempt (when --attempt is not given).
        #[arg(long, value_name = "NICK")]
        nickname: Option<String>,
        /// Name under reports/ [default: the nickname]
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Certificate path under the workspace (required for a subject run, absent for a
        /// baseline).
        #[arg(long, value_name = "PATH")]
        certificate: Option<String>,
        /// Verify profile the certificate must pass.
        #[arg(long, default_value = "dev", value_parser = PROFILES)]
        profile: String,
        /// Free annotations (a JSON object) stored in metadata.json.
        #[arg(long, value_name = "JSON")]
        metadata: Option<String>,
        #[command(flatten)]
        conn: Connection,
    },
    /// Re-check archived evidence: verdict, pairing and sha256 of every file (exit 1 when a
    /// check fails).
    Check {
        /// Name of the archived evidence, the directory under reports/.
        #[arg(value_name = "NAME")]
        name: String,
        /// Verify profile to re-check the certificate with [default: the one it was promoted
        /// with]
        #[arg(long, value_parser = PROFILES)]
        profile: Option<String>,
        #[command(flatten)]
        conn: Connection,
    },
    /// Walk the audit log's hash chain and name the first broken entry (exit 1 when broken).
    AuditVerify {
        #[command(flatten)]
        conn: Connection,
    },
    /// The change log: promotion commits under reports/, newest first, read back from git
    /// (needs `[reports] git` on, or commits made by another clone).
    Changelog {
        /// Entries per page (1..=1000).
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Continue from a previous page.
        #[arg(long)]
        page_token: Option<String>,
        #[command(flatten)]
        conn: Connection,
    },
    /// Retention: plan, apply or restore the deletion of stale attempts (client of a daemon).
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Verify certificates exactly like `invarlock verify` 0.3.6 (same exit codes and output).
    Verify(crate::verify::cli::VerifyArgs),
    /// Index the workspace once and print a summary (refused while a daemon serves it).
    Scan {
        #[command(flatten)]
        daemon: DaemonArgs,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the HTTP API's OpenAPI document (YAML), generated from the code:
    /// `invarlockd openapi > openapi.yaml`.
    Openapi,
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Make a plan: what would be deleted and kept, and why. Nothing changes.
    Plan {
        /// Attempts to keep per nickname, newest first [default: retention.keep_last]
        #[arg(long, value_name = "N")]
        keep_last: Option<u64>,
        /// Keep attempts this close to their nickname's newest one, e.g. 14d [default:
        /// retention.keep_within]
        #[arg(long, value_name = "DURATION")]
        keep_within: Option<String>,
        /// The same for failed and error attempts, e.g. 3d [default:
        /// retention.failed_keep_within]
        #[arg(long, value_name = "DURATION")]
        failed_keep_within: Option<String>,
        #[command(flatten)]
        conn: Connection,
    },
    /// Execute exactly that plan, moving its attempts to the trash (admin token).
    Apply {
        /// The plan's id, as printed by `retention plan` (rp-…).
        #[arg(value_name = "PLAN_ID")]
        plan_id: String,
        #[command(flatten)]
        conn: Connection,
    },
    /// Put a not-yet-purged plan's directories back (admin token).
    Restore {
        /// The applied plan's id (rp-…).
        #[arg(value_name = "PLAN_ID")]
        plan_id: String,
        #[command(flatten)]
        conn: Connection,
    },
    /// Show a plan, its state and its moves.
    Show {
        /// The plan's id (rp-…).
        #[arg(value_name = "PLAN_ID")]
        plan_id: String,
        #[command(flatten)]
        conn: Connection,
    },
}

pub fn main() -> i32 {
    run::run(Cli::parse().command)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every option and argument of every subcommand, with the path of subcommands to it.
    fn args(cmd: &clap::Command, path: &str, out: &mut Vec<(String, clap::Arg)>) {
        for a in cmd.get_arguments() {
            out.push((path.to_string(), a.clone()));
        }
        for sub in cmd.get_subcommands() {
            args(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_option_and_argument_has_help_text() {
        let mut all = Vec::new();
        args(&Cli::command(), "invarlockd", &mut all);
        assert!(all.len() > 30, "walked the whole command tree");
        let missing: Vec<String> = all
            .iter()
            .filter(|(_, a)| !a.is_hide_set() && a.get_help().is_none())
            .map(|(path, a)| format!("{path} {}", a.get_id()))
            .collect();
        assert!(missing.is_empty(), "no help text: {missing:?}");
    }

    fn helps(cmd: &mut clap::Command, out: &mut Vec<String>) {
        out.push(cmd.render_long_help().to_string());
        for sub in cmd.get_subcommands_mut() {
            helps(sub, out);
        }
    }

    #[test]
    fn the_help_shows_no_environment_values_and_names_the_client_variables() {
        let mut all = Vec::new();
        helps(&mut Cli::command(), &mut all);
        assert!(all.len() > 10);
        for help in &all {
            assert!(!help.contains("[env:"), "{help}");
        }
        let mut cmd = Cli::command();
        let promote = cmd.find_subcommand_mut("promote").unwrap();
        let help = promote.render_long_help().to_string();
        assert!(
            help.contains("$INVARLOCKD_URL") && help.contains("$INVARLOCKD_TOKEN"),
            "{help}"
        );
    }
}
