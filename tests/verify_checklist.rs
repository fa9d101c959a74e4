//! Spec §6: InvarLock 0.3.6's own verify tests, ported. Fixture shorthand follows the spec:
//! `ppl(k)` = PPL(k), `with_mc` = +MC, `with_pd` = +PD.

use invarlockd::verify::{verify_documents, Input, Options, Outcome};
use serde_json::{json, Value as J};

/// Serialises a fixture; the string "NaN!" becomes a bare `NaN` literal.
fn bytes(doc: &J) -> Vec<u8> {
    serde_json::to_string(doc)
        .unwrap()
        .replace("\"NaN!\"", "NaN")
        .into_bytes()
}

fn run_all(docs: &[&J], profile: &str, json: bool, tol: f64, baseline: Option<&J>) -> Outcome {
    let inputs: Vec<Input> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| Input {
            id: format!("c{i}.json"),
            bytes: Ok(bytes(d)),
        })
        .collect();
    let opts = Options {
        profile: profile.into(),
        tolerance: tol,
        baseline: baseline.map(bytes),
        json,
        ..Options::default()
    };
    verify_documents(&inputs, &opts)
}

fn run(doc: &J, profile: &str, json: bool) -> Outcome {
    run_all(&[doc], profile, json, 1e-9, None)
}

fn errors(doc: &J, profile: &str) -> Vec<String> {
    run(doc, profile, false).per_cert[0].errors.clone()
}

fn envelope(o: &Outcome) -> J {
    serde_json::from_str(
        o.envelope_json
            .as_deref()
            .unwrap()
            .replace("NaN", "null")
            .as_str(),
    )
    .unwrap()
}

fn ppl(k: i64) -> J {
    json!({
        "schema_version": "v1", "run_id": "run-0001",
        "primary_metric": {"kind": "ppl_causal", "preview": 10.0, "final": 10.0, "ratio_vs_baseline": 1.0, "display_ci": [1.0, 1.0]},
        "dataset": {"windows": {"preview": k, "final": k, "stats": {
            "window_match_fraction": 1.0, "window_overlap_fraction": 0.0,
            "coverage": {"preview": {"used": k}, "final": {"used": k}}, "paired_windows": k}}},
        "baseline_ref": {"primary_metric": {"final": 10.0}}
    })
}

const CONTRACT_HASH: &str = "03e3ffea238ded37";

fn with_mc(mut c: J) -> J {
    let contract = json!({"estimator": {"type": "power_iter", "iters": 4}});
    for g in ["spectral", "rmt"] {
        c[g] = json!({"evaluated": true, "measurement_contract": contract, "measurement_contract_hash": CONTRACT_HASH, "measurement_contract_match": true});
        c["resolved_policy"][g] = json!({"measurement_contract": contract});
    }
    c
}

fn with_pd(mut c: J) -> J {
    c["provenance"] = json!({"provider_digest": {"ids_sha256": "ID", "tokenizer_sha256": "TOK"}});
    c
}

fn overhead_skipped(mut c: J) -> J {
    c["guard_overhead"] = json!({"skipped": true});
    c
}

fn good() -> J {
    overhead_skipped(with_pd(with_mc(ppl(2))))
}

#[test]
fn a_consistent_certificate_passes_in_every_profile() {
    for p in ["dev", "ci", "release"] {
        let o = run(&good(), p, true);
        assert_eq!(o.exit_code, 0, "{p}: {}", o.stdout);
        let e = envelope(&o);
        assert_eq!(e["format_version"], "verify-v1");
        assert_eq!(e["summary"]["ok"], true);
        assert_eq!(e["results"][0]["ok"], true);
    }
}

#[test]
fn human_success_prints_verify_ok_with_metric_point_and_ci() {
    let mut c = good();
    c["primary_metric"]["display_ci"] = json!([0.95, 1.05]);
    let o = run(&c, "dev", false);
    assert_eq!(o.exit_code, 0);
    assert_eq!(o.stdout, "PASS c0.json\nVERIFY OK metric=ppl_causal point=1.000000 ci=[0.950000,1.050000] width=0.100000\n");
}

#[test]
fn legacy_ppl_coverage_adds_the_window_counts_to_the_success_line() {
    let mut c = good();
    c["ppl"] = json!({"stats": {"coverage": {"preview": {"used": 2}, "final": {"used": 2}}}});
    assert!(run(&c, "dev", false)
        .stdout
        .contains("VERIFY OK metric=ppl_causal n=2/2 point="));
}

#[test]
fn ratio_mismatch_fails_with_the_recorded_and_expected_values() {
    let mut c = ppl(1);
    c["primary_metric"]["ratio_vs_baseline"] = json!(2.0);
    assert_eq!(
        errors(&c, "dev"),
        ["Primary metric ratio mismatch: recorded=2.000000000000, expected=1.000000000000"]
    );
    let o = run(&c, "dev", true);
    assert_eq!(o.exit_code, 1);
    assert_eq!(
        envelope(&o)["summary"],
        json!({"ok": false, "reason": "policy_fail"})
    );
}

#[test]
fn ratio_within_one_part_per_million_passes() {
    let mut c = ppl(1);
    c["primary_metric"]["final"] = json!(110.0);
    c["baseline_ref"]["primary_metric"]["final"] = json!(100.0);
    c["primary_metric"]["ratio_vs_baseline"] = json!(1.1);
    assert!(errors(&c, "dev").is_empty());
    c["primary_metric"]["ratio_vs_baseline"] = json!(1.2);
    assert!(errors(&c, "dev")[0].starts_with("Primary metric ratio mismatch"));
}

#[test]
fn a_non_positive_baseline_final_is_an_error() {
    let mut c = ppl(1);
    c["baseline_ref"]["primary_metric"]["final"] = json!(0.0);
    assert_eq!(
        errors(&c, "dev"),
        ["Baseline final must be > 0.0 to compute ratio (found 0.0)."]
    );
    assert_eq!(run(&c, "dev", false).exit_code, 1);
}

#[test]
fn a_string_baseline_final_is_ignored() {
    let mut c = ppl(1);
    c["baseline_ref"]["primary_metric"]["final"] = json!("100");
    c["primary_metric"]["ratio_vs_baseline"] = json!(7.0);
    assert!(errors(&c, "dev").is_empty());
}

#[test]
fn a_missing_or_nan_ratio_is_malformed() {
    let mut c = good();
    c["primary_metric"]["ratio_vs_baseline"] = json!("NaN!");
    assert_eq!(
        errors(&c, "dev"),
        ["Certificate is missing a finite primary_metric.ratio_vs_baseline value."]
    );
    for p in ["dev", "ci", "release"] {
        let o = run_all(&[&c, &good()], p, true, 1e-9, None);
        assert_eq!(o.exit_code, 2, "{p}");
    }
}

#[test]
fn non_ppl_metrics_need_a_ratio_and_count_as_malformed_without_one() {
    let mut c = ppl(1);
    c["primary_metric"] = json!({"kind": "accuracy", "final": 0.8, "preview": 0.8});
    assert!(errors(&c, "dev").contains(
        &"Certificate missing primary_metric.ratio_vs_baseline for non-ppl metric.".to_string()
    ));
    assert_eq!(run(&c, "dev", true).exit_code, 2);
    c["primary_metric"]["ratio_vs_baseline"] = json!(2.0);
    assert_eq!(
        run(&c, "dev", true).exit_code,
        0,
        "accuracy with any ratio passes in dev"
    );
}

#[test]
fn pairing_requires_full_match_zero_overlap_and_no_pairing_reason() {
    let mut c = ppl(2);
    c["dataset"]["windows"]["stats"]["window_match_fraction"] = json!(0.9);
    c["dataset"]["windows"]["stats"]["window_overlap_fraction"] = json!(0.1);
    assert_eq!(
        errors(&c, "dev"),
        [
            "window_match_fraction must be 1.0 for paired runs (found 0.900000).",
            "window_overlap_fraction must be 0.0 (found 0.100000)."
        ]
    );
    let mut c = ppl(2);
    c["dataset"]["windows"]["stats"]["window_pairing_reason"] = json!("no_baseline_reference");
    assert_eq!(errors(&c, "dev"), ["window_pairing_reason must be null/None for paired certificates (found 'no_baseline_reference')."]);
}

#[test]
fn empty_stats_report_every_missing_pairing_metric_and_coverage() {
    let mut c = ppl(2);
    c["dataset"]["windows"]["stats"] = json!({});
    assert_eq!(
        errors(&c, "dev"),
        [
            "Certificate missing paired_windows metric.",
            "Certificate missing window_match_fraction metric.",
            "Certificate missing window_overlap_fraction metric.",
            "Certificate missing coverage.preview.used for preview windows.",
            "Certificate missing coverage.final.used for final windows.",
        ]
    );
}

#[test]
fn window_counts_must_agree_with_coverage_and_paired_windows() {
    let mut c = ppl(2);
    c["dataset"]["windows"]["stats"]["coverage"]["preview"]["used"] = json!(3);
    c["dataset"]["windows"]["stats"]["paired_windows"] = json!(1);
    assert_eq!(
        errors(&c, "dev"),
        [
            "Preview window count mismatch: expected 2, observed 3.",
            "Paired window count mismatch: expected 2, observed 1."
        ]
    );
    let mut c = ppl(2);
    c["dataset"]["windows"]["stats"]["coverage"]["final"]["used"] = json!(0);
    assert_eq!(
        errors(&c, "dev"),
        ["Final window count mismatch: expected 2, observed 0."]
    );
    let mut c = ppl(2);
    c["dataset"]["windows"]["stats"]["paired_windows"] = json!(0);
    assert_eq!(
        errors(&c, "dev"),
        [
            "paired_windows must be > 0 for paired certificates (found 0).",
            "Paired window count mismatch: expected 2, observed 0."
        ]
    );
}

#[test]
fn counts_are_skipped_when_the_window_totals_are_absent() {
    let mut c = ppl(2);
    c["dataset"]["windows"] = json!({"stats": {"window_match_fraction": 1.0, "window_overlap_fraction": 0.0, "paired_windows": 2}});
    assert!(errors(&c, "dev").is_empty());
}

#[test]
fn drift_band_is_enforced_only_in_ci_and_release() {
    let mut c = good();
    c["primary_metric"]["final"] = json!(12.0);
    c["primary_metric"]["ratio_vs_baseline"] = json!(1.2);
    c["baseline_ref"]["primary_metric"]["final"] = json!(10.0);
    assert_eq!(run(&c, "dev", true).exit_code, 0);
    assert_eq!(run(&c, "ci", true).exit_code, 1);
    assert_eq!(run(&c, "release", true).exit_code, 1);
    assert_eq!(
        errors(&c, "ci"),
        ["Preview→final drift ratio out of band (0.95–1.05): observed 1.200000."]
    );
}

#[test]
fn drift_band_edges_are_inclusive() {
    for (fin, ok) in [(9.5, true), (10.5, true), (9.49, false), (10.51, false)] {
        let mut c = good();
        c["primary_metric"]["final"] = json!(fin);
        c["primary_metric"]["ratio_vs_baseline"] = json!(fin / 10.0);
        assert_eq!(errors(&c, "ci").is_empty(), ok, "final {fin}");
    }
    let mut c = good();
    c["primary_metric"]["preview"] = json!(0);
    assert_eq!(
        errors(&c, "ci"),
        ["Certificate missing preview/final to compute drift ratio."]
    );
}

#[test]
fn profile_lints_compare_with_python_semantics() {
    let mut c = ppl(1);
    c["dataset"]["seq_len"] = json!(8);
    c["meta"] = json!({"model_profile": {"cert_lints": [
        {"type": "equals", "path": "dataset.seq_len", "value": 8},
        {"type": "gte", "path": "dataset.seq_len", "value": 9.0, "message": "Too short."},
        {"type": "lte", "path": "dataset.seq_len", "value": 7},
        {"type": "gte", "path": "run_id", "value": 1},
        {"type": "unknown", "path": "x"},
        "not-a-dict"
    ]}});
    assert_eq!(
        errors(&c, "dev"),
        [
            "Too short. Expected dataset.seq_len ≥ 9.0, observed 8.0.",
            "Model profile lint failed. Expected dataset.seq_len ≤ 7.0, observed 8.0.",
            "Model profile lint failed. Expected numeric comparison for run_id, observed 'run-0001'.",
        ]
    );
    c["meta"]["model_profile"]["cert_lints"] =
        json!([{"type": "equals", "path": "metrics.loss_type", "value": "causal"}]);
    assert_eq!(
        errors(&c, "dev"),
        ["Model profile lint failed. Expected metrics.loss_type == 'causal', observed None."]
    );
    c["meta"]["model_profile"]["cert_lints"] = json!("bad");
    assert!(errors(&c, "dev").is_empty());
}

#[test]
fn tokenizer_hashes_must_match_when_both_are_present() {
    let mut c = ppl(1);
    c["meta"] = json!({"tokenizer_hash": "aaa"});
    c["baseline_ref"]["tokenizer_hash"] = json!("bbb");
    assert_eq!(
        errors(&c, "dev"),
        ["Tokenizer hash mismatch between baseline and edited runs."]
    );
    c["meta"] = json!({});
    c["dataset"]["tokenizer"] = json!({"hash": "ccc"});
    assert_eq!(
        errors(&c, "dev"),
        ["Tokenizer hash mismatch between baseline and edited runs."]
    );
    c["dataset"]["tokenizer"] = json!({"hash": ""});
    assert!(errors(&c, "dev").is_empty());
    c["baseline_ref"]["tokenizer_hash"] = json!("ccc");
    c["dataset"]["tokenizer"] = json!({"hash": "ccc"});
    assert!(errors(&c, "dev").is_empty());
}

#[test]
fn a_tokenizer_mismatch_is_e602_in_ci() {
    let mut c = good();
    c["meta"] = json!({"tokenizer_hash": "aaa"});
    c["baseline_ref"]["tokenizer_hash"] = json!("bbb");
    let o = run(&c, "ci", true);
    assert_eq!(o.exit_code, 3);
    let e = envelope(&o);
    assert_eq!(e["error"]["code"], "E602");
    assert_eq!(e["error"]["category"], "MetricsError");
    assert_eq!(
        e["error"]["context"]["example"],
        "Tokenizer hash mismatch between baseline and edited runs."
    );
}

#[test]
fn measurement_contracts_are_checked_in_ci() {
    let mut c = good();
    c["spectral"]["measurement_contract_match"] = json!(false);
    assert_eq!(
        errors(&c, "ci"),
        ["spectral measurement contract must match baseline for ci profile."]
    );
    let mut c = good();
    c["spectral"]["measurement_contract_hash"] = json!("0000000000000000");
    c["resolved_policy"]["spectral"]["measurement_contract"] = json!({"estimator": {"iters": 5}});
    let errs = run(&c, "dev", false).per_cert[0].errors.clone();
    assert!(errs.is_empty(), "dev does not check contracts");
    let o = run(&c, "ci", true);
    assert_eq!(envelope(&o)["error"]["code"], "E602");
    let mut c = good();
    c["spectral"] = json!({"evaluated": false});
    c["rmt"] = json!("not-a-dict");
    assert!(errors(&c, "ci").is_empty());
    let mut c = good();
    c.as_object_mut().unwrap().remove("spectral");
    assert!(errors(&c, "ci")
        .contains(&"Certificate missing spectral.measurement_contract.".to_string()));
}

#[test]
fn release_requires_measured_or_skipped_guard_overhead() {
    let mut c = with_pd(with_mc(ppl(2)));
    assert_eq!(run(&c, "ci", true).exit_code, 0);
    assert_eq!(run(&c, "release", true).exit_code, 1);
    c["guard_overhead"] = json!({"mode": "measured", "evaluated": false});
    assert_eq!(
        errors(&c, "release"),
        [
            "Release verification requires evaluated guard_overhead (not evaluated). Set INVARLOCK_SKIP_OVERHEAD_CHECK=1 to explicitly skip during certification.",
            "Release verification requires guard_overhead.overhead_ratio (missing).",
        ]
    );
    c["guard_overhead"] = json!({"evaluated": true});
    assert_eq!(run(&c, "release", true).exit_code, 1);
    c["guard_overhead"] = json!({"mode": " Skipped "});
    assert_eq!(run(&c, "release", true).exit_code, 0);
}

#[test]
fn ci_requires_a_provider_digest_before_anything_else() {
    let mut c = with_mc(ppl(1));
    c["provenance"] = json!({});
    let o = run(&c, "ci", true);
    assert_eq!(o.exit_code, 3);
    assert_eq!(envelope(&o)["summary"]["reason"], "policy_fail");
    assert_eq!(envelope(&o)["error"]["code"], "E004");
    assert_eq!(
        run(&c, "ci", false).stdout,
        "[INVARLOCK:E004] PROVIDER-DIGEST-MISSING: subject missing provider_digest.ids_sha256\n"
    );
    assert_eq!(run(&c, "dev", true).exit_code, 0);
}

#[test]
fn baseline_provider_parity_maps_to_e004_e006_e002_e003() {
    let base = |ids: &str, tok: &str, mask: Option<&str>| {
        let mut d = json!({"ids_sha256": ids, "tokenizer_sha256": tok});
        if let Some(m) = mask {
            d["masking_sha256"] = json!(m);
        }
        json!({"provenance": {"provider_digest": d}})
    };
    let mut subject = good();
    subject["provenance"]["provider_digest"]["masking_sha256"] = json!("MASK");
    let code = |b: &J| {
        let o = run_all(&[&subject], "ci", true, 1e-9, Some(b));
        (o.exit_code, envelope(&o)["error"]["code"].clone())
    };
    assert_eq!(code(&base("ID", "TOK", Some("MASK"))), (0, J::Null));
    assert_eq!(code(&base("ID2", "TOK", None)), (3, json!("E006")));
    assert_eq!(code(&base("ID", "TOK-B", None)), (3, json!("E002")));
    assert_eq!(code(&base("ID", "TOK", Some("OTHER"))), (3, json!("E003")));
    assert_eq!(
        code(&json!({"provenance": {"provider_digest": {"ids_sha256": "ID"}}})),
        (3, json!("E004"))
    );
    assert_eq!(
        code(&json!("not an object")),
        (0, J::Null),
        "odd baselines are ignored"
    );
    let o = run_all(&[&subject], "dev", true, 1e-9, Some(&base("X", "Y", None)));
    assert_eq!(o.exit_code, 0, "parity is not enforced in dev");
}

#[test]
fn schema_failures_are_malformed_and_e601_in_json_mode() {
    for c in [
        json!({"schema_version": "v0"}),
        json!({}),
        json!({"schema_version": "v1", "run_id": "", "primary_metric": {}}),
    ] {
        let o = run(&c, "dev", true);
        assert_eq!(o.exit_code, 2);
        let e = envelope(&o);
        assert_eq!(e["error"]["code"], "E601");
        assert_eq!(e["error"]["category"], "ValidationError");
        assert_eq!(e["error"]["context"]["path"], "c0.json");
        assert_eq!(e["summary"]["reason"], "malformed");
        let h = run(&c, "dev", false);
        assert_eq!(h.exit_code, 2);
        assert_eq!(
            h.stdout,
            "FAIL c0.json\n  ↳ Certificate schema validation failed.\n"
        );
    }
}

#[test]
fn the_lenient_fallback_accepts_what_the_json_schema_rejects() {
    let mut c = ppl(1);
    c["run_id"] = json!("abc");
    c["validation"] = json!({"unknown_key": 1, "hysteresis_applied": true});
    assert!(errors(&c, "dev").is_empty());
    c["validation"] = json!({"invariants_pass": "yes"});
    assert_eq!(errors(&c, "dev"), ["Certificate schema validation failed."]);
    c["validation"] = json!("invariants_pass");
    assert!(
        run(&c, "dev", true).stdout.contains("AttributeError"),
        "a flag named in a string crashes"
    );
}

#[test]
fn an_empty_kind_without_final_needs_the_full_schema() {
    let mut c = json!({"schema_version": "v1", "run_id": "run1", "primary_metric": {"kind": "", "ratio_vs_baseline": 1.0}});
    assert_eq!(
        run(&c, "dev", true).exit_code,
        2,
        "schema requires artifacts, plugins, meta, dataset"
    );
    c = ppl(1);
    c["primary_metric"] = json!({"kind": "", "ratio_vs_baseline": 1.0});
    c["artifacts"] = json!({});
    c["plugins"] = json!({});
    c["meta"] = json!({});
    c["dataset"]["provider"] = json!("p");
    c["dataset"]["seq_len"] = json!(8.0);
    let o = run(&c, "dev", false);
    assert_eq!(o.exit_code, 0, "{}", o.stdout);
    assert_eq!(o.stdout.lines().last(), Some("VERIFY OK point=1.000000"));
}

#[test]
fn any_failure_marks_every_json_result_failed() {
    let mut bad = ppl(1);
    bad["primary_metric"]["ratio_vs_baseline"] = json!(1.2);
    let o = run_all(&[&good(), &bad], "dev", true, 1e-9, None);
    assert_eq!(o.exit_code, 1);
    let e = envelope(&o);
    assert_eq!(e["certificate"]["count"], 2);
    assert!(e["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["ok"] == false && r["reason"] == "policy_fail"));
    let h = run_all(&[&good(), &bad], "dev", false, 1e-9, None);
    assert!(h.stdout.starts_with("PASS c0.json\nFAIL c1.json\n"));
}

#[test]
fn malformed_anywhere_makes_the_whole_batch_malformed() {
    let mut missing = ppl(1);
    missing["primary_metric"]
        .as_object_mut()
        .unwrap()
        .remove("ratio_vs_baseline");
    let mut bad = ppl(1);
    bad["primary_metric"]["ratio_vs_baseline"] = json!(2.0);
    let o = run_all(&[&missing, &bad], "dev", true, 1e-9, None);
    assert_eq!(o.exit_code, 2);
    assert!(envelope(&o)["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["reason"] == "malformed"));
}

#[test]
fn accuracy_is_recomputed_from_classification_aggregates() {
    let acc = |fin: f64, nc: i64, nt: i64| {
        json!({"schema_version": "v1", "run_id": "r1",
            "primary_metric": {"kind": "accuracy", "final": fin, "preview": fin, "ratio_vs_baseline": 1.0},
            "dataset": ppl(1)["dataset"].clone(),
            "metrics": {"classification": {"n_correct": nc, "n_total": nt}}})
    };
    let o = run(&acc(0.8, 8, 10), "dev", true);
    assert_eq!(o.exit_code, 0);
    assert_eq!(
        envelope(&o)["results"][0]["recompute"],
        json!({"family": "accuracy", "ok": true, "reason": null})
    );
    assert_eq!(
        errors(&acc(0.75, 8, 10), "dev"),
        ["Accuracy mismatch: final=0.750000000000 recomputed=0.800000000000"]
    );
    let mut none = acc(0.8, 8, 10);
    none.as_object_mut().unwrap().remove("metrics");
    let h = run(&none, "dev", false);
    assert_eq!(h.exit_code, 0);
    assert!(h.stdout.starts_with(
        "⚠️  Cannot recompute accuracy: missing aggregates (dev mode).\nPASS c0.json\n"
    ));
    let ci = run(&with_pd(none), "ci", true);
    assert_eq!(
        (ci.exit_code, envelope(&ci)["error"]["code"].clone()),
        (3, json!("E004"))
    );
}

#[test]
fn ppl_windows_are_recomputed_against_the_display_value_and_the_basis() {
    let mut c = ppl(1);
    c["primary_metric"]["final"] = json!(9.0);
    c["baseline_ref"]["primary_metric"]["final"] = json!(9.0);
    c["evaluation_windows"] = json!({"final": {"logloss": [9f64.ln()], "token_counts": [1]}});
    let o = run(&c, "dev", true);
    assert_eq!(o.exit_code, 0);
    assert_eq!(
        envelope(&o)["results"][0]["recompute"],
        json!({"family": "ppl", "ok": true, "reason": null})
    );
    c["primary_metric"]["final"] = json!(9.9);
    c["primary_metric"]["ratio_vs_baseline"] = json!(1.1);
    assert!(errors(&c, "dev")[0]
        .starts_with("Display mismatch: final=9.900000000000 exp(basis)=9.0000000000"));
    c["primary_metric"]["analysis_point_final"] = json!(2.0);
    assert!(errors(&c, "dev")[0]
        .starts_with("Basis mismatch: analysis_point_final=2.000000000000 recomputed="));
    c["evaluation_windows"]["final"]["token_counts"] = json!([0]);
    assert!(
        errors(&c, "dev").is_empty(),
        "zero total weight skips the check"
    );
}

#[test]
fn incomplete_windows_warn_in_dev_and_raise_e004_in_ci() {
    let mut c = good();
    c["evaluation_windows"] = json!({"final": {"logloss": [1.0], "token_counts": []}});
    let h = run(&c, "dev", false);
    assert_eq!(h.exit_code, 0);
    assert!(h.stdout.starts_with(
        "⚠️  Cannot recompute basis: evaluation_windows.final missing or incomplete (dev mode).\n"
    ));
    let o = run(&c, "ci", true);
    assert_eq!(
        (o.exit_code, envelope(&o)["error"]["code"].clone()),
        (3, json!("E004"))
    );
}

#[test]
fn unreadable_json_is_a_generic_error_with_reason_malformed_and_exit_1() {
    let inputs = [Input {
        id: "x.json".into(),
        bytes: Ok(b"{not-json}".to_vec()),
    }];
    let o = verify_documents(
        &inputs,
        &Options {
            json: true,
            ..Options::default()
        },
    );
    assert_eq!(o.exit_code, 1);
    assert_eq!(o.stdout.lines().count(), 1);
    let e = envelope(&o);
    assert_eq!(e["summary"]["reason"], "malformed");
    assert_eq!(e["error"]["category"], "JSONDecodeError");
    assert_eq!(e["error"]["code"], "E_GENERIC");
}

#[test]
fn a_nan_tolerance_falls_back_to_one_part_per_trillion_and_negative_fails_the_basis() {
    let mut c = ppl(1);
    c["evaluation_windows"] = json!({"final": {"logloss": [10f64.ln()], "token_counts": [1]}});
    c["primary_metric"]["analysis_point_final"] = json!(10f64.ln());
    assert_eq!(run_all(&[&c], "dev", true, f64::NAN, None).exit_code, 0);
    assert_eq!(run_all(&[&c], "dev", true, -1.0, None).exit_code, 1);
}

#[test]
fn adapter_family_warning_needs_the_baseline_report_and_never_changes_the_verdict() {
    // Without a report reader (the HTTP case) the warning cannot fire.
    let mut c = good();
    c["plugins"] = json!({"adapter": {"provenance": {"family": "awq", "library": "autoawq", "version": "0.2.0"}}});
    c["provenance"]["baseline"] = json!({"report_path": "base.json"});
    let o = run(&c, "dev", false);
    assert_eq!(o.exit_code, 0);
    let report = br#"{"meta": {"plugins": {"adapter": {"provenance": {"family": "gptq", "library": "auto-gptq", "version": "0.7.0"}}}}}"#;
    let inputs = [Input {
        id: "c.json".into(),
        bytes: Ok(bytes(&c)),
    }];
    let o = invarlockd::verify::verify_documents_with(&inputs, &Options::default(), &|p: &str| {
        (p == "base.json").then(|| report.to_vec())
    });
    assert_eq!(o.exit_code, 0);
    assert!(o.stdout.contains("⚠️  Adapter family differs between baseline and edited runs:\n   • baseline: family=gptq, backend=auto-gptq ==0.7.0\n   • edited  : family=awq, backend=autoawq ==0.2.0\n"));
}
