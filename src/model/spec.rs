//! Spec files: a whole model's tensors in one TOML or JSON file (`gen --spec FILE`).
//!
//! ```toml
//! seed = 42                    # optional; --seed overrides it
//! dtype = "f32"                # defaults for every tensor (then the command line's)
//! layout = "oi"
//! rng = "native"
//! scheme = "he-normal"         # the scheme of tensors no rule matches
//!
//! [[rule]]                     # name patterns (glob: * and ?), first match wins
//! match = "*.bias"
//! scheme = "zeros"
//!
//! [[tensor]]
//! name = "embed.weight"
//! shape = [50257, 768]         # or "50257x768"
//! scheme = "normal:std=0.02"   # overrides the rules; dtype and layout may be given too
//! ```
//!
//! JSON files have the same keys (`{"seed": 42, "rule": [...], "tensor": [...]}`; `rules`
//! and `tensors` are accepted too). Every error names the file and the line (TOML, JSON
//! syntax) or the key path (`tensor[3].shape`) and says what is wrong, in one line.

use std::path::Path;

use serde::Deserialize;

use super::rules::name_matcher;
use crate::array::dtype::DType;
use crate::array::fan::Layout;
use crate::array::shape::Shape;
use crate::error::{Error, Result};
use crate::names::Choice;
use crate::scheme::SchemeSpec;
use crate::tensor::rng::RngMode;
use crate::tensor::{ResolvedTensor, TensorSpec};

/// Limit on a spec file's size: a model of thousands of tensors is a few hundred KiB.
const MAX_SPEC_BYTES: u64 = 16 << 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    seed: Option<u64>,
    rng: Option<String>,
    dtype: Option<String>,
    layout: Option<String>,
    scheme: Option<String>,
    #[serde(default, alias = "rules")]
    rule: Vec<Rule>,
    #[serde(default, alias = "tensors")]
    tensor: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    #[serde(rename = "match")]
    pattern: String,
    scheme: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    shape: ShapeValue,
    scheme: Option<String>,
    dtype: Option<String>,
    layout: Option<String>,
    /// This tensor's own seed, beating the file's and --seed (for framework streams that
    /// seed each initializer, as `--rng keras` models Keras doing).
    seed: Option<u64>,
}

/// A tensor's shape: `"784x128"` or `[784, 128]`. Deserialized by hand rather than as an
/// untagged enum, so that a bad dimension gets its own message ("dimension -4 is
/// negative") at its own line instead of "did not match any variant".
#[derive(Debug)]
enum ShapeValue {
    Text(String),
    Dims(Vec<u64>),
}

impl<'de> Deserialize<'de> for ShapeValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Shape;
        impl<'de> serde::de::Visitor<'de> for Shape {
            type Value = ShapeValue;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a shape: a list of sizes such as [784, 128] or a string such as \"784x128\"",
                )
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<ShapeValue, E> {
                Ok(ShapeValue::Text(v.to_string()))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<ShapeValue, A::Error> {
                let mut dims = Vec::new();
                while let Some(Dim(d)) = seq.next_element()? {
                    dims.push(d);
                }
                Ok(ShapeValue::Dims(dims))
            }
        }
        d.deserialize_any(Shape)
    }
}

/// One dimension of a `[...]` shape: a whole number ≥ 0 (0 is refused later, with the
/// shape's own message).
struct Dim(u64);

impl<'de> Deserialize<'de> for Dim {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Size;
        impl serde::de::Visitor<'_> for Size {
            type Value = Dim;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a dimension (a whole number such as 784)")
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Dim, E> {
                Ok(Dim(v))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Dim, E> {
                u64::try_from(v)
                    .map(Dim)
                    .map_err(|_| E::custom(format!("dimension {v} is negative")))
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<Dim, E> {
                if !v.is_finite() || v.fract() != 0.0 {
                    Err(E::custom(format!("dimension {v} is not a whole number")))
                } else if v < 0.0 {
                    Err(E::custom(format!("dimension {v} is negative")))
                } else if v >= 2f64.powi(64) {
                    Err(E::custom(format!("dimension {v} is too large")))
                } else {
                    Ok(Dim(v as u64))
                }
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Dim, E> {
                Err(E::custom(format!(
                    "dimension \"{}\" is a string; write sizes as numbers, [784, 128], or the \
                     whole shape as one string, \"784x128\"",
                    crate::text::bound_to(&crate::text::escape_control(v), 40)
                )))
            }
        }
        d.deserialize_any(Size)
    }
}

/// What the command line contributes: defaults, and a seed that overrides the file's.
#[derive(Debug, Clone)]
pub struct Defaults {
    pub seed: Option<u64>,
    pub fresh_seed: u64,
    pub rng: RngMode,
    pub dtype: DType,
    pub layout: Layout,
    /// Rules from outside the file (the command line's), tried after the file's own.
    pub rules: super::rules::NameRules,
    /// `--default`, for tensors that no rule matches when the file has no `scheme`.
    pub scheme: Option<SchemeSpec>,
}

/// Reads and resolves every tensor of the spec file at `path`.
pub fn load(path: &Path, defaults: Defaults) -> Result<Vec<ResolvedTensor>> {
    let label = path.display().to_string();
    // A spec file that cannot be read is a mistake in the command (exit code 2).
    let unreadable =
        |e: std::io::Error| Error::Usage(format!("cannot read spec file '{label}': {e}"));
    let metadata = std::fs::metadata(path).map_err(unreadable)?;
    if metadata.is_dir() {
        return Err(Error::Usage(format!("spec file '{label}' is a directory")));
    }
    if metadata.len() > MAX_SPEC_BYTES {
        return Err(Error::Usage(format!(
            "{label}: {} bytes is too large for a spec file (at most {MAX_SPEC_BYTES})",
            metadata.len()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(unreadable)?;
    let format = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        SpecSyntax::Json
    } else {
        SpecSyntax::Toml
    };
    parse(&label, &text, format, defaults)
}

/// The syntax of a spec file (`load` goes by the extension: `.json` or else TOML).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecSyntax {
    Toml,
    Json,
}

/// Parses and resolves the spec file text `text`, as [`load`] does once it has read the
/// file; `label` names the file in errors. No file system access, so tests and the
/// fuzzer (fuzz/fuzz_targets/spec_file.rs) can call it directly.
pub fn parse(
    label: &str,
    text: &str,
    format: SpecSyntax,
    defaults: Defaults,
) -> Result<Vec<ResolvedTensor>> {
    let file = match format {
        SpecSyntax::Json => parse_json(label, text),
        SpecSyntax::Toml => parse_toml(label, text),
    };
    // Messages quote names and values from the file, which may hold control characters
    // (a "\n" in a JSON string): escape them, so that every error stays one line.
    file.and_then(|file| resolve(label, file, defaults))
        .map_err(|e| match e {
            Error::Usage(message) => Error::Usage(crate::text::escape_control(&message)),
            other => other,
        })
}

fn parse_json(label: &str, text: &str) -> Result<File> {
    serde_json::from_str(text).map_err(|e| {
        // serde_json's message ends with " at line L column C"; say it up front instead.
        let message = e.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m);
        Error::Usage(format!("{label}:{}:{}: {message}", e.line(), e.column()))
    })
}

fn parse_toml(label: &str, text: &str) -> Result<File> {
    toml::from_str(text).map_err(|e| {
        let place = e
            .span()
            .map(|span| {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!("{line}:{column}:")
            })
            .unwrap_or_default();
        let message = e.message().trim().replace('\n', " ");
        Error::Usage(format!("{label}:{place} {message}"))
    })
}

/// Parses a value of a name table from the file (same names and aliases as the flags).
fn value<T: Choice>(label: &str, key: &str, text: &str) -> Result<T> {
    T::from_name(text).ok_or_else(|| {
        Error::Usage(format!(
            "{label}: {key} = '{}' is not one of {}",
            crate::text::escape_control(text),
            T::accepted()
        ))
    })
}

fn resolve(label: &str, file: File, defaults: Defaults) -> Result<Vec<ResolvedTensor>> {
    if file.tensor.is_empty() {
        return Err(Error::Usage(format!(
            "{label}: no [[tensor]] entries (each needs name and shape)"
        )));
    }
    let rng = match &file.rng {
        Some(t) => value::<RngMode>(label, "rng", t)?,
        None => defaults.rng,
    };
    let dtype = match &file.dtype {
        Some(t) => value::<DType>(label, "dtype", t)?,
        None => defaults.dtype,
    };
    let layout = match &file.layout {
        Some(t) => value::<Layout>(label, "layout", t)?,
        None => defaults.layout,
    };
    let seed = defaults.seed.or(file.seed).unwrap_or(defaults.fresh_seed);
    let parse_scheme = |key: &str, text: &str| -> Result<SchemeSpec> {
        text.parse()
            .map_err(|e: Error| Error::Usage(format!("{label}: {key}: {e}")))
    };
    let default_scheme = match file.scheme.as_deref() {
        Some(s) => Some(parse_scheme("scheme", s)?),
        None => defaults.scheme.clone(),
    };
    let mut rules = super::rules::NameRules::default();
    for (i, rule) in file.rule.iter().enumerate() {
        let key = format!("rule[{i}]");
        let matcher = name_matcher(&rule.pattern)
            .map_err(|why| Error::Usage(format!("{label}: {key}.match: {why}")))?;
        rules.push_matcher(
            matcher,
            parse_scheme(&format!("{key}.scheme"), &rule.scheme)?,
        );
    }
    rules.extend(&defaults.rules);
    let mut seen = std::collections::HashSet::new();
    let mut tensors = Vec::with_capacity(file.tensor.len());
    for (i, entry) in file.tensor.iter().enumerate() {
        let key = format!("tensor[{i}]");
        let shown = crate::text::escape_control(&entry.name);
        let at = |e: Error| Error::Usage(format!("{label}: {key} '{shown}': {e}"));
        crate::tensor::validate_name(&entry.name).map_err(at)?;
        if !seen.insert(entry.name.as_str()) {
            return Err(Error::Usage(format!(
                "{label}: {key}: tensor name '{shown}' appears twice; names must be unique"
            )));
        }
        let shape: Shape = match &entry.shape {
            ShapeValue::Text(t) => t.parse().map_err(at)?,
            // Built from the numbers, not from text; `usize` holds any u64 on the 64-bit
            // targets weightinit builds for, and a dimension that does not fit is refused.
            ShapeValue::Dims(d) => d
                .iter()
                .map(|&x| usize::try_from(x))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|_| at(Error::Usage("a dimension is too large".into())))
                .and_then(|dims| Shape::new(dims).map_err(at))?,
        };
        let scheme = match &entry.scheme {
            Some(s) => parse_scheme(&format!("{key}.scheme"), s)?,
            None => match rules.scheme_for(&entry.name) {
                Some(s) => s.clone(),
                None => default_scheme.clone().ok_or_else(|| Error::SpecNoScheme {
                    place: format!("{label}: {key} '{shown}'"),
                })?,
            },
        };
        let dtype = match &entry.dtype {
            Some(t) => value::<DType>(label, &format!("{key}.dtype"), t)?,
            None => dtype,
        };
        let layout = match &entry.layout {
            Some(t) => value::<Layout>(label, &format!("{key}.layout"), t)?,
            None => layout,
        };
        let spec = TensorSpec {
            name: entry.name.clone(),
            shape,
            layout,
            scheme,
            dtype,
            seed: entry.seed.unwrap_or(seed),
            rng,
            jax: Default::default(),
        };
        tensors.push(spec.resolve().map_err(at)?);
    }
    Ok(tensors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rules::MAX_PATTERN_CHARS;

    fn defaults() -> Defaults {
        Defaults {
            seed: None,
            fresh_seed: 99,
            rng: RngMode::Native,
            dtype: DType::F32,
            layout: Layout::Io,
            rules: Default::default(),
            scheme: None,
        }
    }

    fn load_text(name: &str, text: &str) -> Result<Vec<ResolvedTensor>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        load(&path, defaults())
    }

    const TOML: &str = r#"
seed = 42
layout = "oi"
scheme = "he-normal"

[[rule]]
match = "*.bias"
scheme = "zeros"

[[rule]]
match = "embed*"
scheme = "normal:std=0.02"

[[tensor]]
name = "embed.weight"
shape = [1000, 64]

[[tensor]]
name = "fc.weight"
shape = "10x64"

[[tensor]]
name = "fc.bias"
shape = [10]

[[tensor]]
name = "head.weight"
shape = [10, 64]
scheme = "xavier-uniform"
dtype = "f64"
"#;

    #[test]
    fn toml_rules_defaults_and_overrides() {
        let t = load_text("net.toml", TOML).unwrap();
        let schemes: Vec<String> = t.iter().map(|t| t.spec.scheme.to_string()).collect();
        assert_eq!(
            schemes,
            ["normal:std=0.02", "he-normal", "zeros", "xavier-uniform"]
        );
        assert!(
            t.iter()
                .all(|t| t.spec.seed == 42 && t.spec.layout == Layout::Oi)
        );
        assert_eq!(t[3].spec.dtype, DType::F64);
        assert_eq!(t[1].spec.shape.dims(), &[10, 64]);
        // oi: fan_in is the second axis.
        assert_eq!(t[1].resolved.fans.unwrap().fan_in, 64);
    }

    #[test]
    fn json_has_the_same_keys() {
        let json = r#"{"seed": 7, "scheme": "lecun-normal",
            "rules": [{"match": "*.b", "scheme": "zeros"}],
            "tensors": [{"name": "l.w", "shape": [3, 4]}, {"name": "l.b", "shape": "4"}]}"#;
        let t = load_text("net.json", json).unwrap();
        assert_eq!(t[0].spec.scheme.to_string(), "lecun-normal");
        assert_eq!(t[1].spec.scheme.to_string(), "zeros");
    }

    /// globset panics on a pattern whose regex outgrows its limit (200 000 `?` did);
    /// patterns are bounded first, and a malformed one is an error naming the rule.
    #[test]
    fn long_and_malformed_patterns_are_errors() {
        let spec = |pattern: &str| {
            format!(
                "[[rule]]\nmatch = \"{pattern}\"\nscheme = \"zeros\"\n\
                 [[tensor]]\nname = \"w\"\nshape = [3]\n"
            )
        };
        let err = load_text("p.toml", &spec(&"?".repeat(200_000)))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("rule[0].match: a pattern of 200000 characters is longer than the 1000"),
            "{err}"
        );
        let err = load_text("p.toml", &spec("w[")).unwrap_err().to_string();
        assert!(err.contains("rule[0].match: 'w[':"), "{err}");
        // The longest pattern allowed compiles, and matches.
        let longest = format!("w{}", "*".repeat(MAX_PATTERN_CHARS - 1));
        let t = load_text("p.toml", &spec(&longest)).unwrap();
        assert_eq!(t[0].spec.scheme.to_string(), "zeros");
    }

    /// Each bad file gets one line naming the file and the place.
    #[test]
    fn errors_name_the_file_and_the_place() {
        let cases = [
            (
                "a.toml",
                "seed = 1\n[[tensor]]\nname = \"w\"\nshap = [3]\n",
                "a.toml:4:1:",
            ),
            (
                "b.toml",
                "[[tensor]]\nname = \"w\"\nshape = [3, 0]\nscheme = \"zeros\"\n",
                "tensor[0] 'w'",
            ),
            (
                "c.toml",
                "[[tensor]]\nname = \"w\"\nshape = [3, 4]\n",
                "has no scheme",
            ),
            (
                "d.toml",
                "[[tensor]]\nname = \"w\"\nshape = [3, 4]\nscheme = \"he-normall\"\n",
                "tensor[0].scheme",
            ),
            (
                "e.json",
                "{\"tensor\": [{\"name\": \"w\", \"shape\": [3]},]}",
                "e.json:1:",
            ),
            (
                "f.toml",
                "dtype = \"f8\"\n[[tensor]]\nname = \"w\"\nshape = [3]\nscheme = \"zeros\"\n",
                "dtype = 'f8'",
            ),
            (
                "g.toml",
                "[[tensor]]\nname = \"w\"\nshape = [3]\nscheme = \"zeros\"\n[[tensor]]\nname = \"w\"\nshape = [3]\nscheme = \"zeros\"\n",
                "appears twice",
            ),
            ("h.toml", "seed = 1\n", "no [[tensor]]"),
            (
                "i.toml",
                "[[tensor]]\nname = \"w\"\nshape = [3, -4]\nscheme = \"zeros\"\n",
                "i.toml:3:",
            ),
            (
                "j.json",
                "{\"tensor\": [{\"name\": \"w\",\n \"shape\": [2.5], \"scheme\": \"zeros\"}]}",
                "j.json:2:",
            ),
            (
                "k.toml",
                "[[tensor]]\nname = \"w\"\nshape = 3\nscheme = \"zeros\"\n",
                "a list of sizes such as [784, 128]",
            ),
        ];
        for (name, text, needle) in cases {
            let err = load_text(name, text).expect_err(name).to_string();
            assert!(err.contains(needle), "{name}: {err}");
            assert!(!err.contains('\n'), "{name}: one line: {err}");
            assert!(
                err.contains(name),
                "{name}: error must name the file: {err}"
            );
        }
    }
}
