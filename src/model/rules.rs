//! Name rules: glob patterns on tensor names, each with the scheme for the tensors it
//! matches, tried in order (the first match wins). Spec files' `[[rule]]` blocks and the
//! command line's `PATTERN=SCHEME` rules are the same thing and parsed here once.

use globset::{Glob, GlobMatcher};

use crate::error::{Error, Result};
use crate::scheme::SchemeSpec;

/// Longest tensor-name pattern (`match`, `--rule`), in characters. Names have at most
/// 200; and globset panics, rather than returning an error, when a pattern's regex
/// outgrows its 10 MiB limit (some 100 000 `?`), so patterns stay far below that.
pub const MAX_PATTERN_CHARS: usize = 1000;

/// Compiles a tensor-name pattern (glob: `*`, `?`, `[...]`, `{a,b}`), refusing one of
/// more than [`MAX_PATTERN_CHARS`]. The error says why, for the caller to place.
pub fn name_matcher(pattern: &str) -> std::result::Result<GlobMatcher, String> {
    let chars = pattern.chars().count();
    if chars > MAX_PATTERN_CHARS {
        return Err(format!(
            "a pattern of {chars} characters is longer than the {MAX_PATTERN_CHARS} allowed"
        ));
    }
    let glob = Glob::new(pattern)
        .map_err(|e| format!("'{}': {e}", crate::text::escape_control(pattern)))?;
    Ok(glob.compile_matcher())
}

/// Patterns with their schemes, first match wins.
#[derive(Debug, Clone, Default)]
pub struct NameRules(Vec<(GlobMatcher, SchemeSpec)>);

impl NameRules {
    /// Adds a rule after the ones already there; `pattern` is a glob (`*`, `?`, `[…]`,
    /// `{a,b}`). The error says why, for the caller to place (a file and key, a flag).
    pub fn push(&mut self, pattern: &str, scheme: SchemeSpec) -> Result<(), String> {
        self.push_matcher(name_matcher(pattern.trim())?, scheme);
        Ok(())
    }

    /// Adds a rule whose pattern is already compiled ([`name_matcher`]).
    pub fn push_matcher(&mut self, matcher: GlobMatcher, scheme: SchemeSpec) {
        self.0.push((matcher, scheme));
    }

    /// Parses `PATTERN=SCHEME` (e.g. `*.bias=zeros`) into its two halves.
    pub fn split_rule(text: &str) -> Result<(&str, SchemeSpec)> {
        let (pattern, scheme) = text.split_once('=').ok_or_else(|| {
            Error::Usage(format!(
                "invalid rule '{}': write PATTERN=SCHEME, e.g. '*.bias=zeros'",
                crate::text::value(text)
            ))
        })?;
        Ok((pattern.trim(), scheme.trim().parse()?))
    }

    /// The rules of `other`, tried after these.
    pub fn extend(&mut self, other: &NameRules) {
        self.0.extend(other.0.iter().cloned());
    }

    /// The scheme of the first rule whose pattern matches `name`.
    pub fn scheme_for(&self, name: &str) -> Option<&SchemeSpec> {
        self.0
            .iter()
            .find(|(matcher, _)| matcher.is_match(name))
            .map(|(_, scheme)| scheme)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_match_wins_and_rules_parse() {
        let mut rules = NameRules::default();
        let (pattern, scheme) = NameRules::split_rule("*.bias = zeros").unwrap();
        rules.push(pattern, scheme).unwrap();
        rules.push("*", "ones".parse().unwrap()).unwrap();
        assert_eq!(rules.scheme_for("fc0.bias").unwrap().name(), "zeros");
        assert_eq!(rules.scheme_for("fc0.weight").unwrap().name(), "ones");
        assert!(NameRules::split_rule("no-equals").is_err());
        assert!(rules.push("[", "zeros".parse().unwrap()).is_err());
    }
}
