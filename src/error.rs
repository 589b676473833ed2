//! The library's typed errors.
//!
//! Every variant renders as one line that names the bad value and says what would be
//! accepted, because that line is what a user sees on stderr. [`Error::is_usage`] tells
//! the binary which errors are the user's input (exit code 2) and which happened while
//! running (exit code 1).

use std::path::PathBuf;

/// Everything that can go wrong between parsing a request and the last byte on disk.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A `--shape` value that is not a list of positive integers joined by `x`.
    #[error("invalid shape '{input}': {reason}")]
    Shape { input: String, reason: String },

    /// A scheme name that is not in the table.
    #[error("unknown scheme '{name}'{suggestion}; `weightinit schemes` lists them all")]
    UnknownScheme { name: String, suggestion: String },

    /// A scheme parameter that is malformed, unknown, out of range or not applicable.
    #[error("{0}")]
    Param(String),

    /// A scheme that cannot be applied to the requested shape.
    #[error("scheme '{scheme}' cannot initialize shape {shape}: {reason}")]
    NotApplicable {
        scheme: String,
        shape: String,
        reason: String,
    },

    /// An element count or byte size that does not fit in memory addressing.
    #[error("shape {shape} is too large: {reason}")]
    TooLarge { shape: String, reason: String },

    /// A bad combination of command-line options that clap cannot express.
    #[error("{0}")]
    Usage(String),

    /// The output file exists and `--force` was not given.
    #[error("'{}' already exists; pass --force to replace it", .0.display())]
    Exists(PathBuf),

    /// The directory an output file should go into does not exist.
    #[error("output directory '{}' does not exist; create it first", .0.display())]
    MissingDir(PathBuf),

    /// An I/O failure, with the path it happened on.
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The linear-algebra step (QR for `orthogonal`) failed.
    #[error("numerical failure: {0}")]
    Numerical(String),

    /// `verify` ran and found the file inconsistent with the scheme: not an error in
    /// running, but the answer "no" (exit code 1). The text is the first reason, e.g.
    /// `NOT consistent with he-normal: w: variance ...`.
    #[error("{0}")]
    Inconsistent(String),

    /// Drawing or encoding a chart image failed (a defect, not bad input).
    #[error("could not draw the chart: {0}")]
    Chart(String),
}

impl Error {
    /// True when the error is about what the user asked for rather than about running it.
    pub fn is_usage(&self) -> bool {
        !matches!(
            self,
            Error::Io { .. } | Error::Numerical(_) | Error::Inconsistent(_) | Error::Chart(_)
        )
    }

    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// `text` made fit for a one-line message: control characters (a newline, a tab, NUL,
/// ...) are written as Rust escapes (`\n`, `\t`, `\0`, `\u{1b}`), everything else as is.
/// For text taken from files, which may hold anything: a tensor name, a dtype string.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// Shorthand used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_escapes_control_characters_only() {
        assert_eq!(
            one_line("a\nb\tc\0d\r\u{1b}[1m"),
            "a\\nb\\tc\\0d\\r\\u{1b}[1m"
        );
        assert_eq!(one_line("w.bias 'x' \"é\" ×\\"), "w.bias 'x' \"é\" ×\\");
    }
}
