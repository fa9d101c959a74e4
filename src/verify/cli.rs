//! `invarlockd verify CERT... [--profile P] [--json] [--baseline FILE] [--tolerance X]
//! [--invarlock-version X]`, a drop-in for `invarlock verify` of InvarLock 0.3.4–0.4.0: same
//! stdout, same exit codes. Which release it follows is said on stderr, never on stdout.

use super::pyops::{parse_py_float, path_id};
use super::{
    is_later_contract, linked_version, verify_documents_with, Input, IoFailure, Options, Release,
    SUPPORTED_RANGE,
};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `verify`, as Click defines them for the real tool (a repeated option: the
/// last one wins).
#[derive(clap::Args, Debug, Clone)]
pub struct VerifyArgs {
    /// One or more certificate JSON files to verify.
    #[arg(required = true, num_args = 1..)]
    pub certs: Vec<String>,
    /// Execution profile affecting parity enforcement and exit codes (dev|ci|release); any
    /// other value behaves as dev.
    #[arg(long, default_value = "dev", overrides_with = "profile")]
    pub profile: String,
    /// Emit machine-readable JSON (suppresses human-readable output).
    #[arg(long, overrides_with = "json")]
    pub json: bool,
    /// Optional baseline certificate/report JSON to enforce provider parity.
    #[arg(long, overrides_with = "baseline")]
    pub baseline: Option<String>,
    /// Tolerance for analysis-basis comparisons (mean log-loss).
    #[arg(long, default_value = "1e-9", value_parser = parse_tolerance, overrides_with = "tolerance")]
    pub tolerance: f64,
    /// The InvarLock release whose `verify` to reproduce (0.3.4 to 0.4.0). Default: the
    /// release recorded in the report the first certificate links to, when known and
    /// supported, else 0.3.6.
    #[arg(long = "invarlock-version", value_name = "X", value_parser = parse_release)]
    pub invarlock_version: Option<Release>,
}

/// An unsupported release is a usage error (clap exits 2, like Click's usage errors).
fn parse_release(s: &str) -> Result<Release, String> {
    s.parse::<Release>().map_err(|e| e.to_string())
}

/// Click's FLOAT type is Python's `float()`: `1_000`, ` 2 `, `nan` and `inf` are accepted.
fn parse_tolerance(s: &str) -> Result<f64, String> {
    parse_py_float(s).ok_or_else(|| format!("'{s}' is not a valid float."))
}

/// Runs verify with paths relative to the current directory; returns the exit code. The
/// release followed is noted on stderr.
pub fn run(args: &VerifyArgs, out: &mut dyn Write) -> i32 {
    match run_in_with(Path::new("."), args, out) {
        Ok((code, release)) => {
            eprintln!("invarlockd: followed invarlock verify {release}");
            code
        }
        Err(refusal) => {
            eprintln!("invarlockd verify: {refusal}");
            2
        }
    }
}

fn resolve(base: &Path, id: &str) -> PathBuf {
    if base == Path::new(".") {
        PathBuf::from(id)
    } else {
        base.join(id)
    }
}

/// [`run`] with files read relative to `base`; the ids stay as given. Lets tests run in
/// parallel without changing the process's working directory.
pub fn run_in(base: &Path, args: &VerifyArgs, out: &mut dyn Write) -> i32 {
    run_in_with(base, args, out).map_or(2, |(code, _)| code)
}

/// [`run_in`], also returning the release it followed; refuses (a usage error, exit 2) a
/// certificate whose linked run comes from a release of a later contract (0.5.0+), unless a
/// release was named.
pub fn run_in_with(
    base: &Path,
    args: &VerifyArgs,
    out: &mut dyn Write,
) -> Result<(i32, Release), String> {
    let inputs: Vec<Input> = args
        .certs
        .iter()
        .map(|arg| {
            let id = path_id(arg);
            let bytes = std::fs::read(resolve(base, &id)).map_err(|e| IoFailure::from_io(&e, &id));
            Input { id, bytes }
        })
        .collect();
    // The real tool reads files relative to its CWD; so does the link to the subject report.
    let read_linked = |p: &str| -> Option<Vec<u8>> {
        if p.contains('\0') {
            return None;
        }
        std::fs::read(resolve(base, p)).ok()
    };
    let release = match args.invarlock_version {
        Some(r) => r,
        None => {
            let linked = inputs
                .first()
                .and_then(|i| i.bytes.as_ref().ok())
                .and_then(|b| linked_version(b, &read_linked));
            match linked {
                Some(v) if is_later_contract(&v) => {
                    return Err(format!(
                        "unsupported_invarlock_version: {} comes from InvarLock {v}, whose verify contract is not reproduced (supported: {SUPPORTED_RANGE}; name one with --invarlock-version to verify under its rules)",
                        inputs[0].id
                    ))
                }
                Some(v) => v.parse().unwrap_or(Release::DEFAULT),
                None => Release::DEFAULT,
            }
        }
    };
    let opts = Options {
        release,
        profile: args.profile.clone(),
        tolerance: args.tolerance,
        baseline: args
            .baseline
            .as_ref()
            .and_then(|b| std::fs::read(resolve(base, &path_id(b))).ok()),
        json: args.json,
    };
    // The real tool checks `Path(report_path).exists()` and reads it relative to its CWD.
    let load = |p: &str| -> Option<Vec<u8>> {
        if p.contains('\0') {
            return None;
        }
        std::fs::read(resolve(base, p)).ok()
    };
    let outcome = verify_documents_with(&inputs, &opts, &load);
    // A closed stdout must not turn into a panic; the exit code still reports the verdict.
    let _ = out.write_all(outcome.stdout.as_bytes());
    let _ = out.flush();
    Ok((outcome.exit_code, release))
}
