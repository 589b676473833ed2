//! Tensor shapes: parsing `784x128` / `3x3x64x128` / `128`, display, and checked sizes.
//!
//! A shape is stored exactly as the user wrote it; which axis is "in" and which is "out"
//! is the business of [`crate::array::fan`], not of this module.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::text::escape_control as one_line;

/// Most axes a shape may have. Conv3d kernels have 5; 8 leaves room without inviting typos.
pub const MAX_RANK: usize = 8;

/// The dimensions of one tensor, outermost first (row-major / C order).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Shape(Vec<usize>);

impl Shape {
    /// Builds a shape from dimensions, checking that each is positive and that the element
    /// count fits in a `usize` and its byte size (at 8 bytes per element) in an `i64`.
    pub fn new(dims: Vec<usize>) -> Result<Self> {
        let shape = Shape(dims);
        let text = shape.to_string();
        if shape.0.is_empty() {
            return Err(Error::Shape {
                input: text,
                reason: "a shape needs at least one dimension".into(),
            });
        }
        if shape.0.len() > MAX_RANK {
            return Err(Error::Shape {
                input: text,
                reason: format!("at most {MAX_RANK} dimensions are supported"),
            });
        }
        if shape.0.contains(&0) {
            return Err(Error::Shape {
                input: text,
                reason: "every dimension must be at least 1".into(),
            });
        }
        let count = shape
            .0
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .filter(|&n| n.checked_mul(8).is_some_and(|b| i64::try_from(b).is_ok()));
        if count.is_none() {
            return Err(Error::TooLarge {
                shape: text,
                reason: "its element count overflows".into(),
            });
        }
        Ok(shape)
    }

    /// The dimensions, outermost first.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    /// Number of axes.
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// Number of elements (checked at construction, so it cannot overflow).
    pub fn len(&self) -> usize {
        self.0.iter().product()
    }

    /// Always false: a shape has at least one element. Present for API symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl FromStr for Shape {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self> {
        // The text is quoted in errors, which stay one line: escape control characters.
        let bad = |reason: String| Error::Shape {
            input: one_line(input),
            reason,
        };
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(bad("expected dimensions like 784x128 or 3x3x64x128".into()));
        }
        let mut dims = Vec::new();
        for part in trimmed.split(['x', 'X', '×']) {
            if part.is_empty() {
                return Err(bad(
                    "a dimension is missing (write dimensions like 784x128)".into(),
                ));
            }
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(format!(
                    "'{}' is not a positive whole number (write dimensions like 784x128)",
                    crate::text::value(part)
                )));
            }
            let dim: usize = part.parse().map_err(|_| {
                bad(format!(
                    "dimension '{}' is too large",
                    crate::text::value(part)
                ))
            })?;
            dims.push(dim);
        }
        Shape::new(dims).map_err(|e| match e {
            Error::Shape { reason, .. } => bad(reason),
            Error::TooLarge { reason, .. } => Error::TooLarge {
                shape: one_line(input),
                reason,
            },
            other => other,
        })
    }
}

/// Dimensions as the user would type them (`784x128`), for any list of sizes, checked
/// or not (a region's local part may hold an empty axis).
pub fn dims_text(dims: &[usize]) -> String {
    let parts: Vec<String> = dims.iter().map(usize::to_string).collect();
    parts.join("x")
}

impl fmt::Display for Shape {
    /// Renders as the user would type it: `784x128`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("x")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_good_shapes() {
        let table: &[(&str, &[usize])] = &[
            ("784x128", &[784, 128]),
            ("3x3x64x128", &[3, 3, 64, 128]),
            ("128", &[128]),
            ("1x1", &[1, 1]),
            (" 10X20 ", &[10, 20]),
            ("2×3", &[2, 3]),
            ("3x3x3x16x32", &[3, 3, 3, 16, 32]),
        ];
        for (text, dims) in table {
            let shape: Shape = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(shape.dims(), *dims, "{text}");
        }
    }

    #[test]
    fn rejects_bad_shapes_with_reason() {
        let table: &[(&str, &str)] = &[
            ("784x", "missing"),
            ("x784", "missing"),
            ("", "expected dimensions"),
            ("0x5", "at least 1"),
            ("-3x4", "'-3' is not a positive whole number"),
            ("axb", "'a' is not a positive whole number"),
            ("3.5x2", "'3.5' is not"),
            ("99999999999999999999999x2", "too large"),
            ("4294967296x4294967296", "overflows"),
            ("1x1x1x1x1x1x1x1x1", "at most 8"),
        ];
        for (text, needle) in table {
            let err = text.parse::<Shape>().expect_err(text).to_string();
            assert!(err.contains(needle), "{text}: {err}");
            assert!(!err.contains('\n'), "{text}: one line: {err}");
        }
    }

    #[test]
    fn display_round_trips() {
        for text in ["784x128", "3x3x64x128", "7"] {
            assert_eq!(text.parse::<Shape>().unwrap().to_string(), text);
        }
    }

    #[test]
    fn len_is_product() {
        assert_eq!("3x3x64x128".parse::<Shape>().unwrap().len(), 73728);
    }
}
