//! V2: provider parity between the certificate and the `--baseline` digest (ci/release).

use super::pyops::{get_if_dict, nonempty_str, Raised};
use crate::pyjson::Value;

/// `_enforce_provider_parity` under ci/release (V2).
pub fn provider_parity(subject: &Value, baseline: &Value) -> Result<(), Raised> {
    let field = |d: &Value, k: &str| get_if_dict(d, k).as_str().map(str::to_string);
    let (si, bi) = (
        nonempty(subject, "ids_sha256"),
        nonempty(baseline, "ids_sha256"),
    );
    let (st, bt) = (
        nonempty(subject, "tokenizer_sha256"),
        nonempty(baseline, "tokenizer_sha256"),
    );
    let (Some(si), Some(bi), Some(st), Some(bt)) = (si, bi, st, bt) else {
        return Err(Raised::invarlock(
            "E004",
            "PROVIDER-DIGEST-MISSING: subject or baseline missing ids/tokenizer digest",
        ));
    };
    if si != bi {
        return Err(Raised::invarlock(
            "E006",
            "IDS-DIGEST-MISMATCH: subject and baseline window IDs differ",
        ));
    }
    if st != bt {
        return Err(Raised::invarlock(
            "E002",
            "TOKENIZER-DIGEST-MISMATCH: subject and baseline tokenizers differ",
        ));
    }
    if let (Some(sm), Some(bm)) = (
        field(subject, "masking_sha256"),
        field(baseline, "masking_sha256"),
    ) {
        if !sm.is_empty() && !bm.is_empty() && sm != bm {
            return Err(Raised::invarlock(
                "E003",
                "MASK-PARITY-MISMATCH: mask positions differ under matched tokenizers",
            ));
        }
    }
    Ok(())
}

fn nonempty(d: &Value, k: &str) -> Option<String> {
    nonempty_str(get_if_dict(d, k)).map(str::to_string)
}
