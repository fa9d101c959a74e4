//! For every supported InvarLock release, replays the recorded `invarlock verify` invocations of
//! the verify corpus (each case in dev, ci and release, with and without `--json`) through
//! `invarlockd verify --invarlock-version X` and compares exit code, stdout lines and the
//! envelope minus `ts`. 0.3.6's recordings are the corpus's own (`results/`, from the real CLI);
//! the others were recorded by `scripts/oracle/record.sh` into `<release>/results/`.

use invarlockd::verify::cli::run_in_with;
use invarlockd::verify::Release;
use std::path::{Path, PathBuf};

#[path = "support/recorded.rs"]
mod recorded;

use recorded::{fixtures, without_ts};

fn recordings(release: Release) -> PathBuf {
    if release == Release::V0_3_6 {
        fixtures().join("results")
    } else {
        fixtures().join(release.as_str()).join("results")
    }
}

/// Replays one release; returns (invocations, differences).
fn replay(release: Release) -> (usize, Vec<String>) {
    let prefix = ["--invarlock-version", release.as_str()];
    let label = format!("{release} ");
    recorded::replay(&recordings(release), &prefix, &label, |args, out| {
        let (code, followed) = run_in_with(fixtures(), args, out).unwrap();
        assert_eq!(followed, release);
        code
    })
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
