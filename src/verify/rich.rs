//! What Rich's `console.print` does to a message before it reaches stdout: console markup
//! (`[red]…[/red]`, escapes, MarkupError on a stray closing tag), emoji codes (`:warning:`),
//! control-code stripping and tab expansion. Messages embed certificate data, so this decides
//! bytes of the human output. Soft wrapping at the terminal width is cosmetic and left out.

use super::emoji_codes::EMOJI;

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
