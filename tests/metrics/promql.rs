//! The metric names a PromQL expression reads: identifiers that are not functions, keywords,
//! label names (inside `{}` and `by (...)`), durations or strings.

const KEYWORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "offset",
    "bool",
    "inf",
    "nan",
];

/// Aggregation operators may be followed by `by (...)` before their parenthesis.
const AGGREGATIONS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
];

pub fn metric_names(expr: &str) -> Vec<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    // After `by`/`without`/`on`/`ignoring`/`group_*`, the next parenthesis holds label names.
    let mut labels_next = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '\'' | '`' => i = skip_past(&chars, i + 1, c),
            '{' => i = skip_past(&chars, i + 1, '}'),
            '[' => i = skip_past(&chars, i + 1, ']'),
            '(' if labels_next => {
                labels_next = false;
                i = skip_past(&chars, i + 1, ')');
            }
            '$' => {
                // A Grafana variable such as $__rate_interval.
                i += 1;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
            }
            c if c.is_ascii_digit()
                || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let mut j = i;
                while j < chars.len() && chars[j].is_whitespace() {
                    j += 1;
                }
                let lower = word.to_ascii_lowercase();
                if KEYWORDS.contains(&lower.as_str()) {
                    labels_next = matches!(
                        lower.as_str(),
                        "by" | "without" | "on" | "ignoring" | "group_left" | "group_right"
                    );
                } else if chars.get(j) == Some(&'(') || AGGREGATIONS.contains(&lower.as_str()) {
                    // A function call or an aggregation.
                } else {
                    out.push(word);
                }
            }
            _ => i += 1,
        }
    }
    out
}

fn skip_past(chars: &[char], mut i: usize, close: char) -> usize {
    while i < chars.len() && chars[i] != close {
        if chars[i] == '\\' {
            i += 1;
        }
        i += 1;
    }
    i + 1
}

#[test]
fn the_names_read_by_an_expression_are_found_and_nothing_else() {
    assert_eq!(
        metric_names(
            r#"histogram_quantile(0.99, sum by (route, le) (rate(a_seconds_bucket{instance=~"$instance", x="a b"}[$__rate_interval])))"#
        ),
        ["a_seconds_bucket"]
    );
    assert_eq!(
        metric_names("time() - b_timestamp_seconds{job=\"j\"} > 3600 and on (instance) up == 0"),
        ["b_timestamp_seconds", "up"]
    );
    assert_eq!(
        metric_names("predict_linear(c_bytes[6h], 86400) > 500 * 1024 and sum without (kind) (d_total) > 1e9"),
        ["c_bytes", "d_total"]
    );
}
