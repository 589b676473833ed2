//! Text that reaches a terminal: escaping of untrusted names and bounded error lines.
//!
//! Tensor names, file names and header fields come from files written by strangers. Before
//! any of it is printed, control characters (ANSI escapes, newlines, carriage returns) are
//! escaped so a hostile name cannot rewrite the terminal or forge a second line.
//!
//! Long values are shortened where a message quotes them ([`value`], [`path`]), so the
//! explanation that follows a value always survives; [`bounded_line`] keeps a final bound
//! on the whole line as a safety net, shortening quoted values first.

use std::fmt::Write as _;

/// The longest error line printed, in characters (the issue's "~300"): longer lines are cut
/// and say how much was left out.
pub const MAX_LINE: usize = 300;

/// How many items of a list an error names before "… and N more".
pub const MAX_LISTED: usize = 8;

/// The longest an untrusted value quoted in a message gets, in characters, before it is
/// shortened ([`value`], [`path`]).
pub const MAX_VALUE: usize = 60;

/// An untrusted value (a shape, a name, a scheme string, a header field) as a message
/// quotes it: control characters escaped and, past [`MAX_VALUE`] characters, cut with a
/// note of how many were left out, so what the message says after it stays in the line.
pub fn value(text: &str) -> String {
    bound_to(&escape_control(text), MAX_VALUE)
}

/// A path as a message quotes it: as [`value`], but a long one keeps its start and its
/// end (the file name) and leaves out the middle.
pub fn path(path: &std::path::Path) -> String {
    let text = escape_control(&path.display().to_string());
    let total = text.chars().count();
    if total <= MAX_VALUE {
        return text;
    }
    let (head, tail) = (MAX_VALUE / 4, MAX_VALUE - MAX_VALUE / 4);
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(total - tail).collect();
    format!("{start}… ({} more characters) …{end}", total - head - tail)
}

/// `text` with every control character (C0, DEL, C1) written as `\n`, `\t`, `\r` or
/// `\u{1b}`; printable text, including non-ASCII letters, is unchanged.
pub fn escape_control(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// `line` with control characters escaped and, past [`MAX_LINE`] characters, bounded:
/// first every quoted value ('…') longer than [`MAX_VALUE`] is shortened as [`value`]
/// shortens it, so the reason after a value survives; only a line still too long is cut
/// at the end, with a note of how many characters were left out.
pub fn bounded_line(line: &str) -> String {
    let line = escape_control(line);
    if line.chars().count() <= MAX_LINE {
        return line;
    }
    bound_to(&shorten_quoted(&line), MAX_LINE)
}

/// `line` with each quoted span longer than [`MAX_VALUE`] shortened. A span opens with
/// `'` at the start of the line or after a space, `(`, `[` or `=`, and closes at the next
/// `'` followed by the end of the line, a space or one of `:;,.)]?` (so apostrophes inside
/// words such as "PyTorch's" neither open nor close one).
fn shorten_quoted(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let opens = |i: usize| chars[i] == '\'' && (i == 0 || " ([=".contains(chars[i - 1]));
    let closes =
        |i: usize| chars[i] == '\'' && chars.get(i + 1).is_none_or(|c| " :;,.)]?".contains(*c));
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        if opens(i) {
            let close = (i + 1..chars.len()).find(|&j| closes(j));
            if let Some(close) = close {
                let inner: String = chars[i + 1..close].iter().collect();
                // A value shortened where it was quoted carries its note: leave it.
                let slack = if inner.ends_with(" more characters)") {
                    32
                } else {
                    0
                };
                out.push('\'');
                if inner.chars().count() > MAX_VALUE + slack {
                    out.push_str(&bound_to(&inner, MAX_VALUE));
                } else {
                    out.push_str(&inner);
                }
                out.push('\'');
                i = close + 1;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// `text` cut to at most `max` characters (plus the note saying how many were left out).
pub fn bound_to(text: &str, max: usize) -> String {
    let total = text.chars().count();
    if total <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max).collect();
    format!("{kept}… ({} more characters)", total - max)
}

/// The first [`MAX_LISTED`] items joined by `", "`, then `… and N more` if there are more.
/// Each item is escaped and cut to 60 characters, so one long name cannot fill the line.
pub fn list<I, S>(items: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = String::new();
    let mut count = 0usize;
    for item in items {
        if count < MAX_LISTED {
            if count > 0 {
                out.push_str(", ");
            }
            out.push_str(&bound_to(&escape_control(item.as_ref()), 60));
        }
        count += 1;
    }
    if count > MAX_LISTED {
        let _ = write!(out, " … and {} more", count - MAX_LISTED);
    }
    out
}

/// A byte count for people: `512 B`, `1.5 KiB`, `80.0 GB`-style with binary units.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Six significant digits, switching to exponent form for very small or large values.
pub fn num(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x.abs() < 1e-4 || x.abs() >= 1e6 {
        format!("{x:.5e}")
    } else {
        let digits = (5 - x.abs().log10().floor() as i32).max(0) as usize;
        format!("{x:.digits$}")
    }
}

/// Whole numbers without a decimal point (`576`), others as Rust prints them (`0.5`).
pub fn plain(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}
/// A shape as a Python tuple literal: `(784, 128)`, `(128,)`, for the framework code
/// the framework-exact streams print.
pub fn python_tuple(dims: &[usize]) -> String {
    match dims {
        [n] => format!("({n},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_control("a\u{1b}[31mb\nc"), "a\\u{1b}[31mb\\nc");
        assert_eq!(escape_control("héllo wörld"), "héllo wörld");
        assert_eq!(escape_control("\u{7f}\u{9b}"), "\\u{7f}\\u{9b}");
    }

    #[test]
    fn long_lines_are_cut_with_a_count() {
        let long = "x".repeat(1000);
        let line = bounded_line(&long);
        assert!(line.starts_with(&"x".repeat(MAX_LINE)));
        assert!(line.ends_with("… (700 more characters)"), "{line}");
        assert_eq!(bounded_line("short"), "short");
    }

    #[test]
    fn long_values_are_shortened_and_the_reason_survives() {
        let shape = vec!["1"; 300].join("x");
        let v = value(&shape);
        assert!(v.starts_with(&"1x".repeat(30)), "{v}");
        assert!(v.ends_with("… (539 more characters)"), "{v}");
        assert_eq!(value("784x128"), "784x128");
        assert_eq!(value("a\nb"), "a\\nb");

        // A line formatted without shortening its value keeps its reason too.
        let line = format!("invalid shape '{shape}': too many dimensions (at most 32)");
        let bounded = bounded_line(&line);
        assert!(bounded.chars().count() <= MAX_LINE, "{bounded}");
        assert!(
            bounded.ends_with("… (539 more characters)': too many dimensions (at most 32)"),
            "{bounded}"
        );
        // Apostrophes inside words are not quotes.
        let line = format!("PyTorch's stream: '{}' isn't it", "y".repeat(400));
        let bounded = bounded_line(&line);
        assert!(bounded.starts_with("PyTorch's stream: 'yyy"), "{bounded}");
        assert!(
            bounded.ends_with("(340 more characters)' isn't it"),
            "{bounded}"
        );
    }

    #[test]
    fn long_paths_keep_their_file_name() {
        let long = format!("/data/{}/weights.npy", "d".repeat(200));
        let shown = path(std::path::Path::new(&long));
        assert!(shown.starts_with("/data/dddd"), "{shown}");
        assert!(shown.ends_with("dddd/weights.npy"), "{shown}");
        assert!(shown.contains("… (158 more characters) …"), "{shown}");
        assert_eq!(path(std::path::Path::new("w.npy")), "w.npy");
    }

    #[test]
    fn lists_name_the_rest_by_count() {
        let names: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
        assert_eq!(list(&names), "t0, t1, t2, t3, t4, t5, t6, t7 … and 12 more");
        assert_eq!(list(["a", "b"]), "a, b");
    }

    #[test]
    fn byte_counts() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(80_000_000_000), "74.5 GiB");
    }
}
