//! Just enough JSON for the agent: a strict, non-recursive validator (any
//! depth: events and results may nest 100,000 levels), the top-level fields of
//! an object as byte spans (so an event is passed on as exactly its bytes),
//! string decoding and escaping. Strict means what `JSON.parse` accepts: the
//! worker parses every frame the agent sends.

use std::ops::Range;

fn ws(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

fn string_end(s: &[u8], start: usize) -> Option<usize> {
    // s[start] is the opening quote; returns the index after the closing one.
    let mut i = start + 1;
    while i < s.len() {
        match s[i] {
            b'"' => return Some(i + 1),
            b'\\' => {
                let e = *s.get(i + 1)?;
                if e == b'u' {
                    let hex = s.get(i + 2..i + 6)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    i += 6;
                } else if matches!(e, b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') {
                    i += 2;
                } else {
                    return None;
                }
            }
            c if c < 0x20 => return None,
            _ => i += 1,
        }
    }
    None
}

fn number_end(s: &[u8], mut i: usize) -> Option<usize> {
    let digits = |s: &[u8], mut i: usize| {
        let from = i;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        (i > from).then_some(i)
    };
    if s.get(i) == Some(&b'-') {
        i += 1;
    }
    match s.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(s, i)?,
        _ => return None,
    }
    if s.get(i) == Some(&b'.') {
        i = digits(s, i + 1)?;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        i = digits(s, i)?;
    }
    Some(i)
}

/// The end of the one value starting at `i` (after leading whitespace), or None if it is not valid JSON.
pub fn value_end(s: &[u8], i: usize) -> Option<usize> {
    // An explicit stack of open containers: b'[' or b'{'.
    let mut stack: Vec<u8> = Vec::new();
    let mut i = ws(s, i);
    loop {
        // Expecting a value here.
        i = ws(s, i);
        match *s.get(i)? {
            b'{' => {
                i = ws(s, i + 1);
                if s.get(i) == Some(&b'}') {
                    i += 1;
                } else {
                    stack.push(b'{');
                    i = key_then_colon(s, i)?;
                    continue;
                }
            }
            b'[' => {
                i = ws(s, i + 1);
                if s.get(i) == Some(&b']') {
                    i += 1;
                } else {
                    stack.push(b'[');
                    continue;
                }
            }
            b'"' => i = string_end(s, i)?,
            b't' if s[i..].starts_with(b"true") => i += 4,
            b'f' if s[i..].starts_with(b"false") => i += 5,
            b'n' if s[i..].starts_with(b"null") => i += 4,
            _ => i = number_end(s, i)?,
        }
        // After a value: close containers or move to the next element.
        loop {
            let Some(&open) = stack.last() else { return Some(i) };
            i = ws(s, i);
            match (*s.get(i)?, open) {
                (b',', b'[') => {
                    i += 1;
                    break;
                }
                (b',', b'{') => {
                    i = key_then_colon(s, ws(s, i + 1))?;
                    break;
                }
                (b']', b'[') | (b'}', b'{') => {
                    stack.pop();
                    i += 1;
                }
                _ => return None,
            }
        }
    }
}

fn key_then_colon(s: &[u8], i: usize) -> Option<usize> {
    if s.get(i) != Some(&b'"') {
        return None;
    }
    let i = ws(s, string_end(s, i)?);
    (s.get(i) == Some(&b':')).then_some(i + 1)
}

/// True when `s` is exactly one JSON text (surrounding whitespace allowed) in valid UTF-8.
pub fn is_json_text(s: &[u8]) -> bool {
    std::str::from_utf8(s).is_ok() && value_end(s, 0).map(|end| ws(s, end) == s.len()).unwrap_or(false)
}

/// The fields of the object `s[span]`: each key decoded, each value as a span of `s`.
pub fn object_fields(s: &[u8], span: Range<usize>) -> Option<Vec<(String, Range<usize>)>> {
    let s = &s[..span.end];
    let mut i = ws(s, span.start);
    if s.get(i) != Some(&b'{') {
        return None;
    }
    let mut fields = Vec::new();
    i = ws(s, i + 1);
    if s.get(i) == Some(&b'}') {
        return Some(fields);
    }
    loop {
        if s.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(s, i)?;
        let key = decode_string(&s[i..key_end])?;
        i = ws(s, key_end);
        if s.get(i) != Some(&b':') {
            return None;
        }
        let start = ws(s, i + 1);
        let end = value_end(s, start)?;
        fields.push((key, start..end));
        i = ws(s, end);
        match s.get(i) {
            Some(b',') => i = ws(s, i + 1),
            Some(b'}') => return Some(fields),
            _ => return None,
        }
    }
}

/// Decodes one JSON string literal (with its quotes); lone surrogates become U+FFFD.
pub fn decode_string(lit: &[u8]) -> Option<String> {
    if lit.len() < 2 || lit[0] != b'"' || lit[lit.len() - 1] != b'"' {
        return None;
    }
    let body = &lit[1..lit.len() - 1];
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut i = 0;
    let hex = |i: usize| -> Option<u32> { u32::from_str_radix(std::str::from_utf8(body.get(i..i + 4)?).ok()?, 16).ok() };
    while i < body.len() {
        if body[i] != b'\\' {
            out.push(body[i]);
            i += 1;
            continue;
        }
        let e = *body.get(i + 1)?;
        i += 2;
        let c = match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = hex(i)?;
                i += 4;
                if (0xd800..0xdc00).contains(&hi) && body.get(i) == Some(&b'\\') && body.get(i + 1) == Some(&b'u') {
                    match hex(i + 2) {
                        Some(lo) if (0xdc00..0xe000).contains(&lo) => {
                            i += 6;
                            char::from_u32(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)).unwrap_or('\u{fffd}')
                        }
                        _ => '\u{fffd}',
                    }
                } else {
                    char::from_u32(hi).unwrap_or('\u{fffd}')
                }
            }
            _ => return None,
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// The value at `span` as a string, if it is one.
pub fn string_at(s: &[u8], span: &Range<usize>) -> Option<String> {
    decode_string(&s[span.clone()])
}

/// The value at `span` as an integer, if it is a number (fractions are cut).
pub fn integer_at(s: &[u8], span: &Range<usize>) -> Option<i64> {
    let text = std::str::from_utf8(&s[span.clone()]).ok()?;
    text.parse::<i64>().ok().or_else(|| text.parse::<f64>().ok().filter(|f| f.is_finite()).map(|f| f as i64))
}

/// An object of string values (`env`, `secrets`); other values are skipped.
pub fn string_map_at(s: &[u8], span: &Range<usize>) -> Vec<(String, String)> {
    object_fields(s, span.clone())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| string_at(s, &v).map(|value| (k, value)))
        .collect()
}

/// The strings of an array at `span` (other elements skipped), joined by newlines.
pub fn string_lines_at(s: &[u8], span: &Range<usize>) -> Option<String> {
    let s = &s[..span.end];
    let mut i = ws(s, span.start);
    if s.get(i) != Some(&b'[') {
        return None;
    }
    let mut lines = Vec::new();
    i = ws(s, i + 1);
    if s.get(i) == Some(&b']') {
        return Some(String::new());
    }
    loop {
        let end = value_end(s, i)?;
        if let Some(line) = decode_string(&s[i..end]) {
            lines.push(line);
        }
        i = ws(s, end);
        match s.get(i) {
            Some(b',') => i = ws(s, i + 1),
            Some(b']') => return Some(lines.join("\n")),
            _ => return None,
        }
    }
}

/// `text` as a JSON string literal.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `s` with surrounding JSON whitespace removed.
pub fn trim(s: &[u8]) -> &[u8] {
    let start = ws(s, 0);
    let mut end = s.len();
    while end > start && matches!(s[end - 1], b' ' | b'\t' | b'\n' | b'\r') {
        end -= 1;
    }
    &s[start..end]
}
