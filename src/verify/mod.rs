//! `invarlock verify` 0.3.6, reimplemented with byte-identical verdicts (spec §4).
//!
//! The entry point is [`verify_documents`]: pure, one call per batch, no I/O. The CLI
//! ([`cli::run`]) reads files and adds the one read the real tool does on its own (the
//! baseline report named by a certificate, for the adapter-family warning) through
//! [`verify_documents_with`].
//!
//! For `POST /v1/verify`: wrap the body as one [`Input`] (any bytes give a verdict), pass
//! `Options { json: true, .. }`, and return the [`Outcome`] (serde-serialisable): the
//! compatible envelope is `envelope_json`, the per-certificate `ok`, messages and the integrity
//! report are in `per_cert`. The call is CPU-bound (about 0.5 ms for a real certificate), so
//! run it under `spawn_blocking`; it runs on its own thread with a fixed stack budget.
//!
//! ```
//! use invarlockd::verify::{verify_documents, Input, Options};
//! let inputs = [Input { id: "cert.json".into(), bytes: Ok(b"{}".to_vec()) }];
//! let out = verify_documents(&inputs, &Options { json: true, ..Options::default() });
//! assert_eq!(out.exit_code, 2); // schema validation failed (E601)
//! assert!(!out.per_cert[0].ok);
//! ```

mod checks;
mod ci_identity;
pub mod cli;
mod digests;
mod emoji_codes;
mod engine;
mod envelope;
mod guards;
mod human;
mod link;
mod lints;
mod loading;
mod parity;
mod policy_gate;
mod pyops;
mod pyrepr;
mod recompute;
mod release;
mod rich;
mod schema;

pub use digests::{DigestCheck, Integrity};
pub use engine::{verify_documents, verify_documents_with};
pub use envelope::python_utc_now;
pub use link::{linked_release, linked_version, recorded_version, subject_run_dir};
pub use loading::tree_values;
pub use pyops::path_id;
pub use release::{
    is_later_contract, Features, Release, SchemaFlavor, UnsupportedRelease, Wording,
    SUPPORTED_RANGE,
};

use serde::Serialize;

/// One certificate to verify.
#[derive(Clone, Debug)]
pub struct Input {
    /// What the real tool prints and puts in the envelope as `id`: `str(Path(arg))` for a CLI
    /// argument (see [`path_id`]), any label for an upload.
    pub id: String,
    /// The file's bytes, or why reading it failed (the real tool reports that as an exception).
    pub bytes: Result<Vec<u8>, IoFailure>,
}

/// A failed read, as the Python exception the real tool would raise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IoFailure {
    /// Python exception class, e.g. `FileNotFoundError`, `IsADirectoryError`.
    pub class: String,
    /// `str(exc)`, e.g. `[Errno 2] No such file or directory: 'x.json'`.
    pub message: String,
}

impl IoFailure {
    /// Maps an OS error on reading `id` to the exception CPython raises for it.
    pub fn from_io(err: &std::io::Error, id: &str) -> Self {
        let errno = err.raw_os_error();
        let class = match errno {
            Some(2) => "FileNotFoundError",
            Some(1) | Some(13) => "PermissionError",
            Some(20) => "NotADirectoryError",
            Some(21) => "IsADirectoryError",
            Some(4) => "InterruptedError",
            _ => "OSError",
        };
        let text = err.to_string();
        let strerror = text.split(" (os error").next().unwrap_or(&text);
        let message = match errno {
            Some(n) => format!("[Errno {n}] {strerror}: {}", pyops::repr_str(id)),
            None => text.clone(),
        };
        IoFailure {
            class: class.into(),
            message,
        }
    }
}

/// Command-line options of `invarlock verify`.
#[derive(Clone, Debug)]
pub struct Options {
    /// `--profile`; trimmed and lower-cased, only `ci` and `release` are special.
    pub profile: String,
    /// `--tolerance` (default 1e-9), used as given, NaN and negatives included.
    pub tolerance: f64,
    /// Bytes of the `--baseline` file, if one was given and could be read (unreadable or odd
    /// content is ignored, as the real tool does).
    pub baseline: Option<Vec<u8>>,
    /// `--json`.
    pub json: bool,
    /// The InvarLock release whose `verify` to reproduce.
    pub release: Release,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            profile: "dev".into(),
            tolerance: 1e-9,
            baseline: None,
            json: false,
            release: Release::DEFAULT,
        }
    }
}

/// How far a certificate got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CertStatus {
    /// Every check ran and none produced an error.
    Passed,
    /// Every check ran and some produced errors.
    Failed,
    /// An exception ended the run while this certificate was processed.
    Raised,
    /// An earlier certificate's exception ended the run first.
    NotReached,
}

/// Per-certificate detail the real tool's envelope does not carry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CertReport {
    pub id: String,
    /// True only for [`CertStatus::Passed`].
    pub ok: bool,
    pub status: CertStatus,
    /// The check messages (human mode's `↳` lines), or the exception text if it raised.
    pub errors: Vec<String>,
    /// Dev-mode recompute warnings and the adapter-family warning.
    pub warnings: Vec<String>,
    /// Digest recomputation beyond the real tool (issue item 4); None if the document is not
    /// a JSON object. Never affects the verdict.
    pub integrity: Option<Integrity>,
}

/// The result of one verify run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    /// The real tool's exit code.
    pub exit_code: i32,
    /// Exactly what the real tool writes to stdout (human lines without colour; in `--json`
    /// mode any adapter-family warning lines, then the envelope line).
    pub stdout: String,
    /// The one-line `--json` envelope (with `ts`), when `Options::json` is set and the run
    /// produced one.
    pub envelope_json: Option<String>,
    pub per_cert: Vec<CertReport>,
}

impl Outcome {
    /// The human-mode lines (or, in `--json` mode, the warning lines and the envelope).
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}
