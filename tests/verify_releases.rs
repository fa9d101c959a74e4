//! For every supported InvarLock release, replays the recorded `invarlock verify` invocations of
//! the verify corpus (each case in dev, ci and release, with and without `--json`) through
//! `invarlockd verify --invarlock-version X` and compares exit code, stdout lines and the
//! envelope minus `ts`. 0.3.6's recordings are the corpus's own (`results/`, from the real CLI);
//! the others were recorded by `scripts/oracle/record.sh` into `<release>/results/`.

use invarlockd::verify::cli::run_in_with;
use invarlockd::verify::Release;
use serde_json::Value as J;
use std::path::{Path, PathBuf};

#[path = "support/recorded.rs"]
mod recorded;

fn fixtures() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/verify"
    ))
}

fn recordings(release: Release) -> PathBuf {
    if release == Release::V0_3_6 {
        fixtures().join("results")
    } else {
        fixtures().join(release.as_str()).join("results")
    }
}

/// Removes the `, "ts": "…"` member (keys are sorted, so it is the last one).
fn without_ts(s: &str) -> String {
    let mut out = String::new();
    for line in s.split_inclusive('\n') {
        match line.find(", \"ts\": \"") {
            Some(i) => {
                let rest = &line[i + 9..];
                let end = rest.find('"').map(|e| i + 9 + e + 1).unwrap_or(line.len());
                out.push_str(&line[..i]);
                out.push_str(&line[end..]);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// Replays one release; returns (invocations, differences).
fn replay(release: Release) -> (usize, Vec<String>) {
    let cases: J =
        serde_json::from_slice(&std::fs::read(fixtures().join("cases.json")).unwrap()).unwrap();
    let mut total = 0;
    let mut failures = Vec::new();
    for case in cases["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let path = recordings(release).join(format!("{id}.json"));
        let recorded: J = serde_json::from_slice(
            &std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        )
        .unwrap();
        for inv in recorded["invocations"].as_array().unwrap() {
            total += 1;
            let args = recorded::verify_args(&["--invarlock-version", release.as_str()], case, inv);
            let mut out = Vec::new();
            let (code, followed) = run_in_with(fixtures(), &args, &mut out).unwrap();
            assert_eq!(followed, release);
            let got = String::from_utf8(out).unwrap();
            let want = inv["stdout"].as_str().unwrap();
            let want_code = inv["exit_code"].as_i64().unwrap() as i32;
            let same_stdout = if inv["mode"] == "json" {
                without_ts(&got) == without_ts(want)
            } else {
                got.lines().eq(want.lines())
            };
            if code != want_code || !same_stdout {
                failures.push(format!(
                    "{release} {id} {} {}: exit {code} (want {want_code})\n got: {got:?}\nwant: {want:?}",
                    inv["profile"], inv["mode"]
                ));
            }
        }
    }
    (total, failures)
}

fn check(release: Release) {
    let (total, failures) = replay(release);
    assert_eq!(total, 81 * 6, "81 cases x 6 invocations for {release}");
    assert!(
        failures.is_empty(),
        "{} of {total} invocations differ for {release}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn release_0_3_4_matches_its_recorded_verify_output() {
    check(Release::V0_3_4);
}

#[test]
fn release_0_3_5_matches_its_recorded_verify_output() {
    check(Release::V0_3_5);
}

#[test]
fn release_0_3_6_matches_its_recorded_verify_output() {
    check(Release::V0_3_6);
}

#[test]
fn release_0_3_7_matches_its_recorded_verify_output() {
    check(Release::V0_3_7);
}

#[test]
fn release_0_3_8_matches_its_recorded_verify_output() {
    check(Release::V0_3_8);
}

#[test]
fn release_0_3_9_matches_its_recorded_verify_output() {
    check(Release::V0_3_9);
}

#[test]
fn release_0_3_10_matches_its_recorded_verify_output() {
    check(Release::V0_3_10);
}

#[test]
fn release_0_3_11_matches_its_recorded_verify_output() {
    check(Release::V0_3_11);
}

#[test]
fn release_0_3_12_matches_its_recorded_verify_output() {
    check(Release::V0_3_12);
}

#[test]
fn release_0_4_0_matches_its_recorded_verify_output() {
    check(Release::V0_4_0);
}

#[test]
fn every_supported_release_has_recordings() {
    for r in Release::ALL {
        assert!(recordings(r).is_dir(), "no recordings for {r}");
    }
}

/// The real certificates of 0.3.12 and 0.4.0 (`tests/fixtures/releases/`, written by those
/// releases' own `invarlock run` + `invarlock report`): `invarlockd verify --json` without
/// `--invarlock-version` follows the release of the run the certificate links to and prints
/// what that release's `invarlock verify --json` printed (minus `ts`), with its exit code.
#[test]
fn real_certificates_of_0_3_12_and_0_4_0_verify_like_their_own_release() {
    for release in ["0.3.12", "0.4.0"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/releases")
            .join(release);
        for profile in ["dev", "ci", "release"] {
            let want = std::fs::read_to_string(dir.join(format!("verify/{profile}.json"))).unwrap();
            let exit: i32 = std::fs::read_to_string(dir.join(format!("verify/{profile}.exit")))
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_invarlockd"))
                .args(["verify", "--json", "--profile", profile])
                .arg("reports/rel_quant8/evaluation.report.json")
                .current_dir(dir.join("workspace"))
                .output()
                .unwrap();
            let got = String::from_utf8(out.stdout).unwrap();
            assert_eq!(
                without_ts(got.trim_end()),
                without_ts(want.trim_end()),
                "{release} {profile}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(out.status.code(), Some(exit), "{release} {profile}");
            assert!(
                String::from_utf8_lossy(&out.stderr).contains(release),
                "{release} {profile}: stderr names the release followed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
