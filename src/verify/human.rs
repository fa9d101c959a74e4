//! Human-mode output (§4.5). The real tool prints through Rich's `console.print`, which parses
//! console markup (`[red]…[/red]`), replaces emoji codes (`:warning:`) and drops a few control
//! characters; messages embed certificate data, so that processing is reproduced here. Rich's
//! soft wrapping at the terminal width is cosmetic and is not reproduced.

use super::emoji_codes::EMOJI;
use super::pyops::{
    get_if_dict, is_dict, is_num, num_to_f64, or, py_float, py_lower, py_str, py_strip, PyResult,
    EMPTY_DICT, EMPTY_STR, NONE,
};
use crate::pyjson::{parse_with, py_fixed, ParseOptions, Value};

/// Rich's `MarkupError`, raised by `console.print` on an unmatched closing tag.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkupError(pub String);

/// What `console.print(markup)` writes, without the trailing newline.
pub fn render(markup: &str) -> Result<String, MarkupError> {
    let text = if markup.contains('[') {
        render_tags(markup)?
    } else {
        replace_emoji(markup)
    };
    Ok(expand_tabs(&strip_control(&text)))
}

/// `rich.markup.render`: tags match `(\\*)\[([a-z#/@][^[]*?)]`; an odd number of backslashes
/// escapes the tag; closing tags must match an open one.
fn render_tags(markup: &str) -> Result<String, MarkupError> {
    let chars: Vec<char> = markup.chars().collect();
    let mut out = String::new();
    let mut stack: Vec<String> = Vec::new();
    let mut plain_start = 0;
    let mut i = 0;
    let emit_plain =
        |out: &mut String, s: &str| out.push_str(&replace_emoji(&s.replace("\\[", "[")));
    while i < chars.len() {
        // A match starts at a run of backslashes followed by `[` + tag char.
        let mut j = i;
        while j < chars.len() && chars[j] == '\\' {
            j += 1;
        }
        let is_tag_start = j + 1 < chars.len()
            && chars[j] == '['
            && matches!(chars[j + 1], 'a'..='z' | '#' | '/' | '@');
        let close = if is_tag_start {
            (j + 1..chars.len())
                .find(|&k| chars[k] == ']' || chars[k] == '[')
                .filter(|&k| chars[k] == ']')
        } else {
            None
        };
        let Some(end) = close else {
            i = if j > i { j } else { i + 1 };
            continue;
        };
        let start = i;
        let plain: String = chars[plain_start..start].iter().collect();
        emit_plain(&mut out, &plain);
        let escapes = j - i;
        let tag_text: String = chars[j + 1..end].iter().collect();
        let full: String = chars[j..=end].iter().collect();
        let (backslashes, escaped) = (escapes / 2, escapes % 2 == 1);
        out.extend(std::iter::repeat_n('\\', backslashes));
        let position = start + backslashes * 2;
        i = end + 1;
        plain_start = i;
        if escaped {
            emit_plain(&mut out, &full);
            continue;
        }
        let (name, params) = match tag_text.split_once('=') {
            Some((n, p)) => (n.to_string(), Some(p.to_string())),
            None => (tag_text.clone(), None),
        };
        if let Some(closing) = name.strip_prefix('/') {
            let style = closing.trim();
            if style.is_empty() {
                if stack.pop().is_none() {
                    return Err(MarkupError(format!(
                        "closing tag '[/]' at position {position} has nothing to close"
                    )));
                }
            } else {
                let norm = style.to_lowercase();
                match stack.iter().rposition(|t| *t == norm) {
                    Some(k) => {
                        stack.remove(k);
                    }
                    None => {
                        let markup = match params {
                            Some(p) => format!("[{name}={p}]"),
                            None => format!("[{name}]"),
                        };
                        return Err(MarkupError(format!(
                            "closing tag '{markup}' at position {position} doesn't match any open tag"
                        )));
                    }
                }
            }
        } else {
            stack.push(name);
        }
    }
    let rest: String = chars[plain_start..].iter().collect();
    emit_plain(&mut out, &rest);
    Ok(out)
}

/// `rich._emoji_replace`: `:name:` (optionally `:name-emoji:` / `:name-text:`), no whitespace
/// inside; an unknown name is left as is and its closing colon is consumed.
fn replace_emoji(text: &str) -> String {
    if !text.contains(':') {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != ':' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut found = None;
        let mut j = i + 1;
        while j < chars.len() && !chars[j].is_whitespace() {
            let rest: String = chars[j..chars.len().min(j + 7)].iter().collect();
            if rest.starts_with("-emoji:") {
                found = Some((j, Some('\u{fe0f}'), j + 7));
            } else if rest.starts_with("-text:") {
                found = Some((j, Some('\u{fe0e}'), j + 6));
            } else if chars[j] == ':' {
                found = Some((j, None, j + 1));
            }
            if found.is_some() {
                break;
            }
            j += 1;
        }
        match found {
            Some((name_end, variant, end)) => {
                let name: String = chars[i + 1..name_end]
                    .iter()
                    .collect::<String>()
                    .to_lowercase();
                match EMOJI.binary_search_by(|(k, _)| k.as_bytes().cmp(name.as_bytes())) {
                    Ok(k) => {
                        out.push_str(EMOJI[k].1);
                        if let Some(v) = variant {
                            out.push(v);
                        }
                    }
                    Err(_) => out.extend(&chars[i..end]),
                }
                i = end;
            }
            None => {
                out.push(':');
                i += 1;
            }
        }
    }
    out
}

/// `rich.control.strip_control_codes`: bell, backspace, vertical tab, form feed, CR.
fn strip_control(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '\u{7}' | '\u{8}' | '\u{b}' | '\u{c}' | '\r'))
        .collect()
}

/// Tabs expand to 8-column stops, per line.
fn expand_tabs(s: &str) -> String {
    if !s.contains('\t') {
        return s.to_string();
    }
    let mut out = String::new();
    let mut col = 0;
    for c in s.chars() {
        match c {
            '\t' => {
                let n = 8 - col % 8;
                out.extend(std::iter::repeat_n(' ', n));
                col += n;
            }
            '\n' => {
                out.push(c);
                col = 0;
            }
            c => {
                out.push(c);
                col += 1;
            }
        }
    }
    out
}

/// `_warn_adapter_family_mismatch`: four warning lines when the certificate's adapter family
/// differs from the one recorded in the baseline report at `provenance.baseline.report_path`.
/// `load` reads that path (None if it does not exist or cannot be read). Best effort: any
/// failure means no warning, as in the real tool.
pub fn adapter_family_warning(
    cert: &Value,
    load: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Option<Vec<String>> {
    let plugins = or(cert.get("plugins").unwrap_or(&NONE), &EMPTY_DICT);
    let adapter = if is_dict(plugins) {
        get_if_dict(plugins, "adapter")
    } else {
        &NONE
    };
    let (mut edited_family, mut edited_lib, mut edited_ver) = (None, &NONE, &NONE);
    if is_dict(adapter) {
        let prov = get_if_dict(adapter, "provenance");
        if is_dict(prov) {
            let fam = py_lower(&py_str(or(get_if_dict(prov, "family"), &EMPTY_STR)).ok()?);
            edited_family = Some(fam).filter(|f| !f.is_empty());
            edited_lib = get_if_dict(prov, "library");
            edited_ver = get_if_dict(prov, "version");
        }
    }
    let provenance = cert.get("provenance").unwrap_or(&NONE);
    let baseline = if is_dict(provenance) {
        get_if_dict(provenance, "baseline")
    } else {
        &NONE
    };
    let report_path = if is_dict(baseline) {
        get_if_dict(baseline, "report_path")
    } else {
        &NONE
    };
    let (mut baseline_family, mut base_lib, mut base_ver) = (None, &NONE, &NONE);
    let report;
    if let Value::Str(p) = report_path {
        if !p.is_empty() {
            let bytes = load(p)?;
            let text = crate::pyjson::decode_utf8(&bytes).ok()?;
            let text = super::engine::universal_newlines(text);
            report = parse_with(
                &text,
                ParseOptions {
                    max_depth: super::pyops::PARSE_DEPTH_LIMIT,
                    skip: &[],
                },
            )
            .ok()?;
            let meta = match &report {
                Value::Object(m) => m.get("meta").unwrap_or(&EMPTY_DICT),
                _ => &EMPTY_DICT,
            };
            let base_plugins = if is_dict(meta) {
                get_if_dict(meta, "plugins")
            } else {
                &NONE
            };
            let base_adapter = if is_dict(base_plugins) {
                get_if_dict(base_plugins, "adapter")
            } else {
                &NONE
            };
            let base_prov = if is_dict(base_adapter) {
                get_if_dict(base_adapter, "provenance")
            } else {
                &NONE
            };
            if is_dict(base_prov) {
                if let Value::Str(f) = get_if_dict(base_prov, "family") {
                    if !f.is_empty() {
                        baseline_family = Some(py_lower(f));
                    }
                }
                base_lib = get_if_dict(base_prov, "library");
                base_ver = get_if_dict(base_prov, "version");
            }
        }
    }
    let (edited_family, baseline_family) = (edited_family?, baseline_family?);
    if edited_family == baseline_family {
        return None;
    }
    let backend = |lib: &Value| -> PyResult<String> {
        if lib.truthy() {
            py_str(lib)
        } else {
            Ok("—".into())
        }
    };
    let version = |lib: &Value, ver: &Value| -> PyResult<String> {
        if lib.truthy() && ver.truthy() {
            Ok(format!("=={}", py_str(ver)?))
        } else {
            Ok("—".into())
        }
    };
    Some(vec![
        "⚠️  Adapter family differs between baseline and edited runs:".to_string(),
        format!(
            "   • baseline: family={baseline_family}, backend={} {}",
            backend(base_lib).ok()?,
            version(base_lib, base_ver).ok()?
        ),
        format!(
            "   • edited  : family={edited_family}, backend={} {}",
            backend(edited_lib).ok()?,
            version(edited_lib, edited_ver).ok()?
        ),
        "   Ensure this cross-family comparison is intentional (Compare & Certify flows should normally match families).".to_string(),
    ])
}

/// The closing `VERIFY OK …` line, built from the last certificate; any failure suppresses it.
pub fn success_line(last: &Value) -> Option<String> {
    let pm = match last {
        Value::Object(m) => m.get("primary_metric").unwrap_or(&EMPTY_DICT),
        _ => &EMPTY_DICT,
    };
    if !is_dict(pm) {
        return None; // `pm.get` raises AttributeError
    }
    let kind = py_strip(&py_str(or(get_if_dict(pm, "kind"), &EMPTY_STR)).ok()?).to_string();
    let ppl = match last {
        Value::Object(m) => m.get("ppl").unwrap_or(&EMPTY_DICT),
        _ => &EMPTY_DICT,
    };
    let used = |arm: &str| -> Option<&Value> {
        if !is_dict(ppl) {
            return Some(&NONE);
        }
        let stats = super::pyops::get(ppl, "stats", &EMPTY_DICT).ok()?;
        let coverage = super::pyops::get(stats, "coverage", &EMPTY_DICT).ok()?;
        let a = super::pyops::get(coverage, arm, &EMPTY_DICT).ok()?;
        super::pyops::get(a, "used", &NONE).ok()
    };
    let (n_prev, n_fin) = (used("preview")?, used("final")?);
    let ratio = get_if_dict(pm, "ratio_vs_baseline");
    let ci = match get_if_dict(pm, "display_ci") {
        Value::Array(items) if items.len() == 2 => {
            Some((py_float(&items[0]).ok()?, py_float(&items[1]).ok()?))
        }
        _ => None,
    };
    let mut parts = vec!["VERIFY OK".to_string()];
    if !kind.is_empty() {
        parts.push(format!("metric={kind}"));
    }
    if !n_prev.is_null() && !n_fin.is_null() {
        parts.push(format!(
            "n={}/{}",
            py_str(n_prev).ok()?,
            py_str(n_fin).ok()?
        ));
    }
    if is_num(ratio) {
        parts.push(format!("point={}", py_fixed(num_to_f64(ratio).ok()?, 6)));
    }
    if let Some((lo, hi)) = ci {
        parts.push(format!("ci=[{},{}]", py_fixed(lo, 6), py_fixed(hi, 6)));
        parts.push(format!("width={}", py_fixed(hi - lo, 6)));
    }
    Some(parts.join(" "))
}
