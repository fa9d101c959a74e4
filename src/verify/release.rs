//! The InvarLock releases whose `invarlock verify` invarlockd reproduces, and what each one
//! changed, as data: the engine asks a [`Release`] for its [`Features`] and [`Wording`] instead
//! of having one copy of itself per release. Every switch names the release that introduced it
//! and the file of that release's wheel that shows it (see `invarlock-versions.md`).

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// A supported release, oldest first (the order is used for "introduced in" comparisons).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Release {
    #[serde(rename = "0.3.4")]
    V0_3_4,
    #[serde(rename = "0.3.5")]
    V0_3_5,
    #[serde(rename = "0.3.6")]
    V0_3_6,
    #[serde(rename = "0.3.7")]
    V0_3_7,
    #[serde(rename = "0.3.8")]
    V0_3_8,
    #[serde(rename = "0.3.9")]
    V0_3_9,
    #[serde(rename = "0.3.10")]
    V0_3_10,
    #[serde(rename = "0.3.11")]
    V0_3_11,
    #[serde(rename = "0.3.12")]
    V0_3_12,
    #[serde(rename = "0.4.0")]
    V0_4_0,
}

/// Text of every refusal that names the supported range.
pub const SUPPORTED_RANGE: &str = "0.3.4 to 0.4.0";

/// A version string that is not one of the supported releases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsupportedRelease(pub String);

impl fmt::Display for UnsupportedRelease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "InvarLock {:?} is not supported: invarlockd reproduces `invarlock verify` of releases {SUPPORTED_RANGE} ({})",
            self.0,
            Release::ALL.map(Release::as_str).join(", ")
        )
    }
}

impl std::error::Error for UnsupportedRelease {}

impl Release {
    /// Every supported release, oldest first.
    pub const ALL: [Release; 10] = [
        Release::V0_3_4,
        Release::V0_3_5,
        Release::V0_3_6,
        Release::V0_3_7,
        Release::V0_3_8,
        Release::V0_3_9,
        Release::V0_3_10,
        Release::V0_3_11,
        Release::V0_3_12,
        Release::V0_4_0,
    ];

    /// The release whose behaviour applies when nothing says otherwise (the corpus's).
    pub const DEFAULT: Release = Release::V0_3_6;

    pub fn as_str(self) -> &'static str {
        match self {
            Release::V0_3_4 => "0.3.4",
            Release::V0_3_5 => "0.3.5",
            Release::V0_3_6 => "0.3.6",
            Release::V0_3_7 => "0.3.7",
            Release::V0_3_8 => "0.3.8",
            Release::V0_3_9 => "0.3.9",
            Release::V0_3_10 => "0.3.10",
            Release::V0_3_11 => "0.3.11",
            Release::V0_3_12 => "0.3.12",
            Release::V0_4_0 => "0.4.0",
        }
    }

    /// The switches of this release.
    pub fn features(self) -> Features {
        use Release::*;
        Features {
            measurement_contracts: self >= V0_3_6,
            validation_tail_key: self >= V0_3_6,
            invalid_primary_metric: self >= V0_3_7,
            drift_band_override: self >= V0_3_7,
            strict_schema: self >= V0_3_10,
            display_ci_identity: self >= V0_3_10,
            non_ppl_finite_ratio: self >= V0_3_10,
            schema: if self >= V0_4_0 {
                SchemaFlavor::V0_4
            } else if self >= V0_3_11 {
                SchemaFlavor::Loosened
            } else {
                SchemaFlavor::Original
            },
            policy_gate: self >= V0_4_0,
        }
    }

    /// The words of this release's messages and envelope.
    pub fn wording(self) -> Wording {
        use Release::*;
        Wording {
            report: self >= V0_3_8,
            overhead_hint: if self >= V0_3_12 {
                "Set context.run.skip_overhead_check=true in the run config to explicitly skip during evaluation."
            } else if self >= V0_3_8 {
                "Set INVARLOCK_SKIP_OVERHEAD_CHECK=1 to explicitly skip during evaluation."
            } else {
                "Set INVARLOCK_SKIP_OVERHEAD_CHECK=1 to explicitly skip during certification."
            },
        }
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Release {
    type Err = UnsupportedRelease;

    /// Exact release numbers only (`0.3.12`, not `0.3` or `v0.3.12`): a pinned CI job names
    /// one release, and a guess at what a looser string meant would be a silent misreading.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Release::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| UnsupportedRelease(s.to_string()))
    }
}

/// Whether `version` names a release of a line whose contract changed past what invarlockd
/// reproduces (0.5.0 and later: attested runtime manifests, then evidence packs). Such
/// artifacts are refused rather than verified under another release's rules.
pub fn is_later_contract(version: &str) -> bool {
    let mut parts = version.trim().split('.').map(|p| {
        p.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse::<u64>()
    });
    match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => (major, minor) >= (0, 5),
        _ => false,
    }
}

/// Which checks a release's `verify` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Features {
    /// C7, the guard measurement contracts in ci/release (0.3.6, `cli/commands/verify.py`).
    pub measurement_contracts: bool,
    /// `primary_metric_tail_acceptable` in the schema's validation allow-list (0.3.6,
    /// `reporting/certificate.py`).
    pub validation_tail_key: bool,
    /// `primary_metric.invalid` / `degraded_reason` exempt the ratio and drift checks, and a
    /// non-finite final must be declared invalid (0.3.7, `cli/commands/verify.py`).
    pub invalid_primary_metric: bool,
    /// `primary_metric.drift_band` overrides the 0.95–1.05 band (0.3.7).
    pub drift_band_override: bool,
    /// ci/release require full JSON Schema validity (0.3.10, `_validate_report_schema_strict`).
    pub strict_schema: bool,
    /// `display_ci ≈ exp(ci)` for paired ppl reports (0.3.10, `_validate_logspace_ci_identity`).
    pub display_ci_identity: bool,
    /// A non-ppl ratio must be finite (0.3.10, `_validate_primary_metric`).
    pub non_ppl_finite_ratio: bool,
    /// Which JSON Schema the release ships (`reporting/report_schema.py`).
    pub schema: SchemaFlavor,
    /// ci/release recompute the primary-metric policy gate (0.4.0, `cli/verify_checks.py`).
    pub policy_gate: bool,
}

/// The JSON Schema of a release line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaFlavor {
    /// 0.3.4–0.3.10: `dataset.windows.seed` an integer, `system_overhead` latency/throughput
    /// entries numbers.
    Original,
    /// 0.3.11–0.3.12: seed may be null, overhead entries may be objects of numbers.
    Loosened,
    /// 0.4.0: as Loosened, plus typed `dataset.hash`, `dataset.tokenizer` and `rmt`.
    V0_4,
}

/// The words that changed when certificates became evaluation reports (0.3.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wording {
    /// "report" instead of "Certificate" / "certificate" (0.3.8).
    pub report: bool,
    /// How the release-profile guard-overhead messages say to skip the check.
    pub overhead_hint: &'static str,
}

impl Wording {
    /// Subject of the "… missing X" messages: `Certificate` or `report`.
    pub fn subject(&self) -> &'static str {
        if self.report {
            "report"
        } else {
            "Certificate"
        }
    }

    /// `certificates` or `reports`, as in "for paired certificates".
    pub fn plural(&self) -> &'static str {
        if self.report {
            "reports"
        } else {
            "certificates"
        }
    }

    /// The `--json` envelope's count key.
    pub fn envelope_key(&self) -> &'static str {
        if self.report {
            "evaluation_report"
        } else {
            "certificate"
        }
    }

    /// E601's message.
    pub fn schema_invalid(&self) -> &'static str {
        if self.report {
            "REPORT-SCHEMA-INVALID: schema validation failed"
        } else {
            "CERTIFICATE-SCHEMA-INVALID: schema validation failed"
        }
    }

    /// E602's message.
    pub fn recompute_mismatch(&self) -> &'static str {
        if self.report {
            "RECOMPUTE-MISMATCH: report values disagree with recomputation"
        } else {
            "RECOMPUTE-MISMATCH: certificate values disagree with recomputation"
        }
    }

    /// The flow named in the adapter-family warning's last line.
    pub fn flow(&self) -> &'static str {
        if self.report {
            "Compare & Evaluate"
        } else {
            "Compare & Certify"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_release_parses_from_its_own_name_and_nothing_looser() {
        for r in Release::ALL {
            assert_eq!(r.as_str().parse::<Release>(), Ok(r));
        }
        for bad in ["0.3", "v0.3.12", "0.3.3", "0.5.0", "0.13.0", ""] {
            assert!(bad.parse::<Release>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_refusal_names_the_supported_range() {
        let e = "0.5.1".parse::<Release>().unwrap_err().to_string();
        assert!(
            e.contains("0.3.4 to 0.4.0") && e.contains("\"0.5.1\""),
            "{e}"
        );
    }

    #[test]
    fn releases_from_0_5_on_are_a_later_contract() {
        for v in ["0.5.0", "0.5.1", "0.12.1", "0.13.0", "1.0.0", "0.17.1rc1"] {
            assert!(is_later_contract(v), "{v}");
        }
        for v in ["0.4.0", "0.3.12", "0.3.3", "x", ""] {
            assert!(!is_later_contract(v), "{v}");
        }
    }

    #[test]
    fn releases_are_ordered_oldest_first() {
        assert!(Release::ALL.windows(2).all(|w| w[0] < w[1]));
        assert!(!Release::V0_3_5.features().measurement_contracts);
        assert!(Release::V0_3_6.features().measurement_contracts);
        assert!(Release::V0_3_8.wording().report);
        assert!(!Release::V0_3_7.wording().report);
    }
}
