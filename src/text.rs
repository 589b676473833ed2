//! Text that reaches a terminal: escaping of untrusted names and bounded error lines.
//!
//! Tensor names, file names and header fields come from files written by strangers. Before
//! any of it is printed, control characters (ANSI escapes, newlines, carriage returns) are
//! escaped so a hostile name cannot rewrite the terminal or forge a second line, and every
//! error line is cut to a length a person can read.

use std::fmt::Write as _;

/// The longest error line printed, in characters (the issue's "~300"): longer lines are cut
/// and say how much was left out.
pub const MAX_LINE: usize = 300;

/// How many items of a list an error names before "… and N more".
pub const MAX_LISTED: usize = 8;

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

/// `line` with control characters escaped and, past [`MAX_LINE`] characters, cut with a
/// note of how many characters were left out.
pub fn bounded_line(line: &str) -> String {
    bound_to(&escape_control(line), MAX_LINE)
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
