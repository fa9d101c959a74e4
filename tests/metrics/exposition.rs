//! Reading the text exposition format back, and finding promtool.

use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// The samples of a scrape (comment lines skipped). Label values here never hold `,` or `"`
/// escapes except in route templates, which this splitter handles by scanning quotes.
pub fn samples(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line.rsplit_once(' ').expect("sample has a value");
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => (n, parse_labels(rest.trim_end_matches('}'))),
            None => (series, BTreeMap::new()),
        };
        out.push(Sample {
            name: name.to_string(),
            labels,
            value: value.parse().expect("numeric sample value"),
        });
    }
    out
}

fn parse_labels(mut s: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    while let Some((key, rest)) = s.split_once("=\"") {
        let end = rest.find('"').expect("closed label value");
        map.insert(
            key.trim_start_matches(',').to_string(),
            rest[..end].to_string(),
        );
        s = &rest[end + 1..];
    }
    map
}

/// The sum of the samples of `name` whose labels include `labels`.
pub fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    samples(text)
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

/// Metric family names declared by `# TYPE` lines.
pub fn families(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect()
}

/// promtool from Debian's `prometheus` package (.ci/run installs it). Outside CI a missing
/// promtool skips the check with the reason printed; under CI=true it is a failure.
pub fn promtool() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("promtool"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "promtool is required under CI (apt-get install prometheus)"
        );
        eprintln!(
            "SKIPPED: promtool not found on PATH (apt-get install prometheus to run this check)"
        );
    }
    found
}
