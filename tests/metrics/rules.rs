//! contrib/prometheus: promtool accepts the scrape config and the alerting rules, every alert
//! has a `promtool test rules` case, and the rules read only metrics the daemon exports.

use crate::exposition::{families, promtool};
use crate::promql::metric_names;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/prometheus")
}

fn run_promtool(args: &[&str]) {
    let Some(promtool) = promtool() else { return };
    let out = std::process::Command::new(promtool)
        .args(args)
        .current_dir(dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool {args:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The alerts of the rules file, each with its expression (block scalars included).
fn alerts() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dir().join("invarlockd.rules.yml")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = line.trim().strip_prefix("- alert: ") else {
            continue;
        };
        let (j, expr_line) = lines[i..]
            .iter()
            .enumerate()
            .find(|(_, l)| l.trim_start().starts_with("expr:"))
            .map(|(k, l)| (i + k, *l))
            .expect("alert has an expr");
        let inline = expr_line.trim_start().trim_start_matches("expr:").trim();
        let expr = if inline == "|" {
            let indent = expr_line.len() - expr_line.trim_start().len();
            lines[j + 1..]
                .iter()
                .take_while(|l| l.len() - l.trim_start().len() > indent)
                .copied()
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            inline.to_string()
        };
        out.push((name.trim().to_string(), expr));
    }
    out
}

#[test]
fn promtool_accepts_the_scrape_config_and_the_alerting_rules() {
    run_promtool(&["check", "config", "prometheus.yml"]);
    run_promtool(&["check", "rules", "invarlockd.rules.yml"]);
}

#[test]
fn every_alerting_rule_fires_and_stays_quiet_in_its_promtool_test() {
    let tests = std::fs::read_to_string(dir().join("invarlockd.rules.test.yml")).unwrap();
    let alerts = alerts();
    assert!(alerts.len() >= 5, "{alerts:?}");
    for (name, _) in &alerts {
        let cases = tests.matches(&format!("alertname: {name}\n")).count();
        assert!(
            cases >= 2,
            "{name} has {cases} test cases (one firing, one quiet expected)"
        );
    }
    for needed in [
        "InvarlockdDown",
        "InvarlockdIndexLagHigh",
        "InvarlockdScansFailing",
    ] {
        assert!(alerts.iter().any(|(n, _)| n == needed), "no {needed}");
    }
    run_promtool(&["test", "rules", "invarlockd.rules.test.yml"]);
}

#[tokio::test]
async fn the_alerting_rules_read_only_metrics_the_daemon_exports() {
    let _serial = crate::SERIAL.lock().await;
    let exported = families(&crate::workflow::busy_daemon_scrape().await);
    for (name, expr) in alerts() {
        for metric in metric_names(&expr) {
            // `up` is Prometheus' own record of the scrape.
            let base = metric.strip_suffix("_bucket").unwrap_or(&metric);
            assert!(
                metric == "up" || exported.contains_key(base),
                "{name}: {metric} is not exported"
            );
        }
    }
}
