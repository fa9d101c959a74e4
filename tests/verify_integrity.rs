//! Issue item 4: digests the real tool never checks are recomputed and reported, without
//! touching the verdict.

use invarlockd::verify::{verify_documents, Input, Options, Outcome};
use std::path::Path;

fn certs_dir() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/verify/certs"
    ))
}

/// Verifies one fixture certificate in the default (dev) profile.
fn verify_fixture(name: &str) -> Outcome {
    let bytes = std::fs::read(certs_dir().join(name)).unwrap();
    verify_documents(
        &[Input {
            id: name.into(),
            bytes: Ok(bytes),
        }],
        &Options::default(),
    )
}

fn integrity_of(name: &str) -> invarlockd::verify::Integrity {
    verify_fixture(name).per_cert[0].integrity.clone().unwrap()
}

#[test]
fn every_real_certificate_reproduces_its_policy_digests_and_thresholds_hash() {
    let mut seen = 0;
    for entry in std::fs::read_dir(certs_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !name.starts_with("real__") {
            continue;
        }
        seen += 1;
        let integrity = integrity_of(&name);
        let fields: Vec<&str> = integrity.checks.iter().map(|c| c.field.as_str()).collect();
        assert!(fields.contains(&"auto.policy_digest"), "{name}: {fields:?}");
        assert!(
            fields.contains(&"policy_digest.thresholds_hash"),
            "{name}: {fields:?}"
        );
        assert!(
            integrity.mismatches.is_empty(),
            "{name}: {:?}",
            integrity.checks
        );
    }
    assert_eq!(seen, 7);
}

#[test]
fn a_tampered_contract_hash_is_reported_even_in_dev_where_the_verdict_ignores_it() {
    let name = "var__mc_hash_tampered.json";
    let out = verify_fixture(name);
    assert_eq!(out.exit_code, 0, "dev does not check contracts");
    let integrity = out.per_cert[0].integrity.clone().unwrap();
    assert_eq!(integrity.mismatches, ["spectral.measurement_contract_hash"]);
}
