//! A client generated from openapi.yaml by a mainstream generator of another ecosystem
//! (openapi-python-client, from PyPI), with no hand edits, runs the README's workflow against
//! the real daemon on a copy of the sample workspace (tests/client/workflow.py). The generator
//! is installed into target/client-venv by this test; outside CI a machine that cannot install
//! it skips with a message, under CI=true that is a failure.

#[path = "support/daemon.rs"]
mod daemon;

use daemon::{copy_dir, sample, Daemon};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Pinned: a new generator release may name things differently.
const GENERATOR: &str = "openapi-python-client==0.29.1";
/// What the generated code imports.
const RUNTIME: &[&str] = &["httpx>=0.23", "attrs>=22.2", "python-dateutil>=2.8"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

/// The venv with the generator, or why it could not be made.
fn generator() -> Result<PathBuf, String> {
    let venv = root().join("target/client-venv");
    let marker = venv.join(format!(".installed-{GENERATOR}"));
    // A venv is not relocatable (its scripts name its path): a target/ moved or copied from
    // elsewhere keeps the marker but not a working venv, so the marker alone is not trusted.
    let works = Command::new(venv.join("bin/python"))
        .args(["-c", "pass"])
        .output()
        .is_ok_and(|o| o.status.success())
        && Command::new(venv.join("bin/openapi-python-client"))
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if marker.exists() && works {
        return Ok(venv);
    }
    let out = run(Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv));
    if !out.status.success() {
        return Err(format!(
            "python3 -m venv: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let out = run(Command::new(venv.join("bin/pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            GENERATOR,
        ])
        .args(RUNTIME));
    if !out.status.success() {
        return Err(format!(
            "pip install: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    std::fs::write(&marker, "").unwrap();
    Ok(venv)
}

fn generate(venv: &Path, out: &Path) {
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out).unwrap();
    // No post hooks (they would run ruff, which is not a dependency of the client).
    let config = out.join("config.yaml");
    std::fs::write(&config, "post_hooks: []\n").unwrap();
    let gen = run(Command::new(venv.join("bin/openapi-python-client"))
        .current_dir(out)
        .args([
            "generate",
            "--meta",
            "none",
            "--output-path",
            "invarlockd_client",
        ])
        .arg("--path")
        .arg(root().join("openapi.yaml"))
        .arg("--config")
        .arg(&config));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&gen.stdout),
        String::from_utf8_lossy(&gen.stderr)
    );
    assert!(gen.status.success(), "generator failed:\n{text}");
    // A warning means part of the contract could not be generated (an endpoint or model
    // skipped): the client would not be the whole API.
    assert!(!text.contains("Warning"), "generator warnings:\n{text}");
}

#[test]
fn a_generated_python_client_runs_the_readme_workflow_against_the_daemon() {
    let venv = match generator() {
        Ok(v) => v,
        Err(why) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("SKIPPED: cannot install {GENERATOR} ({why}); CI=true makes this a failure");
            return;
        }
        Err(why) => panic!("cannot install {GENERATOR}: {why}"),
    };
    let gen = tempfile::tempdir().unwrap();
    generate(&venv, gen.path());

    let ws = tempfile::tempdir().unwrap();
    copy_dir(&sample(), ws.path());
    let daemon = Daemon::start(ws.path());
    let out = run(Command::new(venv.join("bin/python"))
        .env("PYTHONPATH", gen.path())
        .arg(root().join("tests/client/workflow.py"))
        .arg(&daemon.url)
        .arg(&daemon.token)
        .arg(sample().join("reports/rel_quant8_balanced/evaluation.cert.json")));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "workflow.py failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("workflow ok"), "{stdout}");
}
