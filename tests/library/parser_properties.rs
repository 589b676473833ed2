//! Property tests for the parsers of untrusted text and bytes (issue 11, hardening):
//! shape and scheme text round-trip through `Display`, and nothing a user or a file can
//! hand over makes a parser panic or print an error of more than one line.
//!
//! The fuzz targets in fuzz/ explore the same parsers for longer; the regression tests
//! at the end of this file are inputs they found.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

use weightinit::array::dtype::DType;
use weightinit::array::fan::Layout;
use weightinit::array::shape::{MAX_RANK, Shape};
use weightinit::model::spec::{self, Defaults, SpecSyntax};
use weightinit::output::load::header::{npy_float, read_npy_header, read_safetensors_header};
use weightinit::output::load::visit_bytes;
use weightinit::scheme::gain::Nonlinearity;
use weightinit::scheme::{ParamKey, SCHEMES, SchemeSpec};
use weightinit::tensor::rng::RngMode;

/// Enough cases to find the easy mistakes while the file runs in a few seconds.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// True when `message` can be shown as one line: no newline, no other control character.
fn one_line(message: &str) -> bool {
    !message.chars().any(char::is_control)
}

// ---------------------------------------------------------------------------------------
// Strategies

/// Text near the shape grammar: digits, separators, spaces and a few strays.
fn shape_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9xX× ]{0,24}",
        vec("[0-9]{1,21}", 1..=MAX_RANK + 1).prop_map(|d| d.join("x")),
        any::<String>(),
    ]
}

/// Every scheme name and alias the table accepts.
fn scheme_names() -> Vec<&'static str> {
    SCHEMES
        .iter()
        .flat_map(|s| std::iter::once(s.name).chain(s.aliases.iter().copied()))
        .collect()
}

/// A finite number written as a user might: `0.02`, `-1e-3`, `2`.
fn number_text() -> impl Strategy<Value = String> {
    any::<f64>()
        .prop_filter("finite", |x| x.is_finite())
        .prop_flat_map(|x| select(vec![format!("{x}"), format!("{x:e}"), format!("{x:.3}")]))
}

/// A value of the type `key` takes, in one of its accepted spellings.
fn value_text(key: ParamKey) -> BoxedStrategy<String> {
    let words = |w: &[&str]| select(w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    match key {
        ParamKey::Mode => words(&["fan-in", "fan_out", "in", "out", "FAN-AVG", "avg"]).boxed(),
        ParamKey::Distribution => words(&[
            "truncated-normal",
            "trunc_normal",
            "normal",
            "untruncated-normal",
            "uniform",
        ])
        .boxed(),
        ParamKey::Nonlinearity => select(
            Nonlinearity::ALL
                .iter()
                .flat_map(|(_, name, aliases)| {
                    std::iter::once(*name).chain(aliases.iter().copied())
                })
                .map(str::to_string)
                .collect::<Vec<_>>(),
        )
        .boxed(),
        ParamKey::InAxes | ParamKey::OutAxes => words(&["0", "1", "-1", "0+1", "2+0+-3"]).boxed(),
        _ => number_text().boxed(),
    }
}

/// A well-formed spec: a scheme name or alias with some of its own parameters, each
/// once, with values of the right type. Such a spec must parse.
fn valid_scheme_text() -> impl Strategy<Value = String> {
    (0..SCHEMES.len()).prop_flat_map(|i| {
        let info = &SCHEMES[i];
        let names: Vec<&'static str> = std::iter::once(info.name)
            .chain(info.aliases.iter().copied())
            .collect();
        let keys = info.params.to_vec();
        let n = keys.len();
        (select(names), subsequence(keys, 0..=n)).prop_flat_map(|(name, keys)| {
            let pairs: Vec<_> = keys
                .into_iter()
                .map(|k| value_text(k).prop_map(move |v| format!("{}={v}", k.name())))
                .collect();
            pairs.prop_map(move |pairs| {
                if pairs.is_empty() {
                    name.to_string()
                } else {
                    format!("{name}:{}", pairs.join(","))
                }
            })
        })
    })
}

/// Text near the scheme grammar: known names, any keys (aliases, unknown ones), any
/// values, odd separators; mostly not valid.
fn scheme_like() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        select(
            ParamKey::ALL
                .iter()
                .map(|(_, n)| n.to_string())
                .collect::<Vec<_>>()
        ),
        select(vec![
            "stddev",
            "minval",
            "maxval",
            "val",
            "negative_slope",
            "a"
        ])
        .prop_map(str::to_string),
        "[a-z_-]{0,8}",
    ];
    let value = prop_oneof![
        number_text(),
        "[a-z_.0-9eE+-]{0,10}",
        Just("nan".to_string()),
        Just("-inf".to_string()),
    ];
    prop_oneof![
        (
            select(scheme_names()),
            vec((key, value), 0..5),
            select(vec![":", "", "::"])
        )
            .prop_map(|(name, pairs, colon)| {
                let pairs: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("{name}{colon}{}", pairs.join(","))
            }),
        "[a-z_:=,.0-9-]{0,30}",
        any::<String>(),
    ]
}

/// Lines from which TOML spec files are put together: the real keys with good, odd and
/// hostile values, in any order and number.
fn spec_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[[tensor]]".to_string()),
        Just("[[rule]]".to_string()),
        "[a-z.*?{},\\[\\]!-]{0,8}".prop_map(|m| format!("match = \"{m}\"")),
        scheme_like().prop_map(|s| format!("scheme = {}", toml_string(&s))),
        valid_scheme_text().prop_map(|s| format!("scheme = {}", toml_string(&s))),
        prop_oneof!["[a-z0-9._-]{0,6}", any::<String>()]
            .prop_map(|n| format!("name = {}", toml_string(&n))),
        vec(prop_oneof![0u64..6, any::<u64>()], 0..5).prop_map(|d| format!("shape = {d:?}")),
        shape_like().prop_map(|s| format!("shape = {}", toml_string(&s))),
        select(vec![
            "dtype = \"f16\"",
            "dtype = \"bf16\"",
            "dtype = \"f64\"",
            "dtype = \"f8\"",
            "rng = \"numpy\"",
            "rng = \"torch\"",
            "layout = \"oi\"",
            "layout = \"torch\"",
            "seed = 3",
            "seed = -1",
            "extra = 1",
        ])
        .prop_map(str::to_string),
    ]
}

/// `text` as a TOML basic string (JSON's escapes are TOML's, except `\u` needs 4 digits,
/// which serde_json writes).
fn toml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

fn defaults() -> Defaults {
    Defaults {
        seed: None,
        fresh_seed: 1,
        rng: RngMode::Native,
        dtype: DType::F32,
        layout: Layout::Io,
        rules: Default::default(),
        scheme: None,
    }
}

/// An .npy file near the format: the magic, a version, a length that is right or
/// arbitrary, and a header dict whose values are right, odd or hostile.
fn npy_like() -> impl Strategy<Value = Vec<u8>> {
    let descr = prop_oneof![
        select(vec![
            "<f4", ">f8", "=f2", "|f4", "<i8", "|b1", "<c16", "<U3"
        ])
        .prop_map(str::to_string),
        "[<>|=]?[a-zA-Z¹é?]{0,2}[0-9]{0,21}",
    ];
    let dim = prop_oneof!["[0-9]{1,3}", "[0-9]{19,22}", "[ a-z\n\u{1}-]{0,3}"];
    let dict = (
        descr,
        select(vec!["True", "False", "Maybe"]),
        vec(dim, 0..4),
        "[ \n]{0,3}",
    )
        .prop_map(|(descr, fortran, dims, tail)| {
            format!(
                "{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': ({}), }}{tail}",
                dims.join(", ")
            )
        });
    (
        0u8..5,
        dict,
        prop_oneof![Just(None), any::<u32>().prop_map(Some)],
        vec(any::<u8>(), 0..32),
    )
        .prop_map(|(version, dict, claimed, data)| {
            let mut bytes = b"\x93NUMPY".to_vec();
            bytes.extend([version, 0]);
            let len = claimed.unwrap_or(dict.len() as u32);
            if version == 1 {
                bytes.extend((len as u16).to_le_bytes());
            } else {
                bytes.extend(len.to_le_bytes());
            }
            bytes.extend(dict.as_bytes());
            bytes.extend(data);
            bytes
        })
}

/// A safetensors file near the format: a length prefix (right or arbitrary) and a JSON
/// header whose entries have right, odd or hostile names, dtypes, shapes and offsets.
fn safetensors_like() -> impl Strategy<Value = Vec<u8>> {
    let size = prop_oneof![0u64..16, any::<u64>()];
    let entry = (
        prop_oneof![
            "[a-z.]{1,4}",
            "[a-z\n\u{1}\u{1b}]{1,4}",
            Just("__metadata__".to_string())
        ],
        select(vec![
            "F32", "F16", "BF16", "F64", "I64", "BOOL", "F8_E4M3", "f32", "Q4",
        ]),
        vec(size.clone(), 0..4),
        (size.clone(), size),
    )
        .prop_map(|(name, dtype, shape, (begin, end))| {
            (
                name,
                serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}),
            )
        });
    (
        vec(entry, 0..4),
        prop_oneof![Just(None), any::<u64>().prop_map(Some)],
        0usize..96,
    )
        .prop_map(|(entries, claimed, data)| {
            let header = serde_json::Value::Object(entries.into_iter().collect()).to_string();
            let len = claimed.unwrap_or(header.len() as u64);
            let mut bytes = len.to_le_bytes().to_vec();
            bytes.extend(header.as_bytes());
            bytes.extend(std::iter::repeat_n(0u8, data));
            bytes
        })
}

// ---------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(config())]

    /// A shape built from valid dimensions displays as text that parses back to it.
    #[test]
    fn shape_display_round_trips(dims in vec(1usize..5000, 1..=MAX_RANK)) {
        if let Ok(shape) = Shape::new(dims) {
            let text = shape.to_string();
            prop_assert_eq!(text.parse::<Shape>().unwrap(), shape);
        }
    }

    /// Any text: no panic; a parsed shape round-trips through display; an error is one
    /// line (control characters in the text are escaped).
    #[test]
    fn shape_parse_never_panics(text in shape_like()) {
        match text.parse::<Shape>() {
            Ok(shape) => prop_assert_eq!(shape.to_string().parse::<Shape>().unwrap(), shape),
            Err(e) => prop_assert!(one_line(&e.to_string()), "{e}"),
        }
    }

    /// A well-formed spec parses, and its canonical display parses back to an equal spec.
    #[test]
    fn scheme_display_round_trips(text in valid_scheme_text()) {
        let spec: SchemeSpec = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        let shown = spec.to_string();
        prop_assert_eq!(shown.parse::<SchemeSpec>().unwrap(), spec, "{} -> {}", text, shown);
    }

    /// Any text: no panic, round trip when it parses, and resolving against small shapes
    /// (where the checks between parameters run) never panics either; errors are one line.
    #[test]
    fn scheme_parse_and_resolve_never_panic(text in scheme_like()) {
        let spec = match text.parse::<SchemeSpec>() {
            Ok(spec) => spec,
            Err(e) => {
                prop_assert!(one_line(&e.to_string()), "{e}");
                return Ok(());
            }
        };
        prop_assert_eq!(spec.to_string().parse::<SchemeSpec>().unwrap(), spec.clone());
        for dims in [vec![5], vec![4, 3], vec![3, 3, 2, 4]] {
            let shape = Shape::new(dims).unwrap();
            for layout in [Layout::Io, Layout::Oi] {
                if let Err(e) = spec.resolve(&shape, layout) {
                    prop_assert!(one_line(&e.to_string()), "{e}");
                }
            }
        }
    }

    /// Spec files put together from real keys and hostile values: no panic, and every
    /// error is one line.
    #[test]
    fn spec_file_toml_never_panics(lines in vec(spec_line(), 0..14)) {
        let text = lines.join("\n");
        if let Err(e) = spec::parse("net.toml", &text, SpecSyntax::Toml, defaults()) {
            prop_assert!(one_line(&e.to_string()), "{e}\n--- file:\n{text}");
        }
    }

    /// Arbitrary text read as TOML and as JSON: no panic, one-line errors.
    #[test]
    fn spec_file_arbitrary_text_never_panics(text in any::<String>()) {
        for format in [SpecSyntax::Toml, SpecSyntax::Json] {
            if let Err(e) = spec::parse("net", &text, format, defaults()) {
                prop_assert!(one_line(&e.to_string()), "{e}");
            }
        }
    }

    /// .npy headers, arbitrary and near-valid: no panic, never a header longer than the
    /// bytes, one-line errors (including the dtype's).
    #[test]
    fn npy_header_never_panics(bytes in prop_oneof![vec(any::<u8>(), 0..300), npy_like()]) {
        match read_npy_header(&mut bytes.as_slice()) {
            Ok(h) => {
                prop_assert!(h.header_len <= bytes.len() as u64);
                if let Err(holds) = npy_float(&h.descr) {
                    prop_assert!(one_line(&holds), "{holds}");
                }
            }
            Err(e) => prop_assert!(one_line(&e), "{e}"),
        }
    }

    /// safetensors headers, arbitrary and near-valid: no panic, entries only inside the
    /// data section, one-line errors.
    #[test]
    fn safetensors_header_never_panics(
        bytes in prop_oneof![vec(any::<u8>(), 0..300), safetensors_like()]
    ) {
        let len = bytes.len() as u64;
        match read_safetensors_header(&mut bytes.as_slice(), len) {
            Ok((entries, header_len)) => {
                for e in entries {
                    prop_assert!(e.begin <= e.end && e.end <= len - 8 - header_len, "{e:?}");
                }
            }
            Err(e) => prop_assert!(one_line(&e), "{e}"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Regression tests: inputs the fuzz targets found (fuzz/fuzz_targets/*.rs).

/// Loads `bytes` as a file of `format` from memory; the error text if it fails.
fn load_error(bytes: &[u8], format: &str) -> Option<String> {
    visit_bytes(bytes, format, "w", None, |_| Ok(()))
        .err()
        .map(|e| e.to_string())
}

/// An .npy file with the given header dict and data.
fn npy(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend((dict.len() as u16).to_le_bytes());
    v.extend(dict.as_bytes());
    v.extend(data);
    v
}

/// npy_header: a dtype string starting with a multi-byte character ('¹4') panicked
/// slicing it; now it is named in the error.
#[test]
fn npy_dtype_with_a_multibyte_first_character() {
    let bytes = npy(
        "{'descr': '¹4', 'fortran_order': False, 'shape': (5,), }\n",
        &[0; 20],
    );
    let err = load_error(&bytes, "npy").unwrap();
    assert!(
        err.ends_with(
            "w.npy': it holds only '¹4' tensors (w); weightinit reads f16, bf16, f32, f64"
        ),
        "{err}"
    );
}

/// npy_header, load_file: a shape entry holding a newline came back in a two-line error.
#[test]
fn npy_shape_entry_with_a_newline_is_escaped() {
    let bytes = npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 's\nape'), }\n",
        &[],
    );
    let err = load_error(&bytes, "npy").unwrap();
    assert!(
        err.ends_with("w.npy': shape entry ''s\\nape'' is not a size"),
        "{err}"
    );
}

/// Found reading the loader while writing load_file (the fuzzer did not reach it): a
/// Fortran-order array with a zero-length axis and huge others (so no data at all)
/// overflowed computing its strides.
#[test]
fn npy_fortran_order_with_an_empty_axis() {
    let bytes = npy(
        "{'descr': '<f8', 'fortran_order': True, 'shape': (0, 4294967296, 4294967296), }\n",
        &[],
    );
    assert_eq!(load_error(&bytes, "npy"), None);
}

/// safetensors: tensor names are JSON strings and may hold control characters; the
/// error quoting one stays one line.
#[test]
fn safetensors_name_with_control_characters_is_escaped() {
    let header = r#"{"a\nb\u001b":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(header.as_bytes());
    bytes.extend([0; 4]);
    let err = load_error(&bytes, "safetensors").unwrap();
    assert!(err.contains("tensor 'a\\nb\\u{1b}': data_offsets"), "{err}");
}

/// spec_file: a JSON key or a tensor name with a newline in it came back in a
/// multi-line error.
#[test]
fn spec_file_errors_with_newlines_in_names_are_one_line() {
    let cases = [
        (
            r#"{"tensor": [{"name": "w", "shape": [3]}], "a\nb": 1}"#,
            SpecSyntax::Json,
        ),
        (
            r#"{"tensor": [{"name": "w\nx", "shape": [3], "scheme": "zeros"}]}"#,
            SpecSyntax::Json,
        ),
        (
            "[[tensor]]\nname = \"w\"\nshape = \"3\\nx4\"\nscheme = \"zeros\"\n",
            SpecSyntax::Toml,
        ),
        (
            "[[tensor]]\nname = \"w\"\nshape = [3]\nscheme = \"normal:std=\\u0007\"\n",
            SpecSyntax::Toml,
        ),
    ];
    for (text, format) in cases {
        let err = spec::parse("net", text, format, defaults())
            .unwrap_err()
            .to_string();
        assert!(one_line(&err), "{text}: {err}");
    }
}

/// The same class as the spec-file findings, at its source: shape and scheme text is
/// quoted in errors with its control characters escaped, from the command line too.
#[test]
fn shape_and_scheme_errors_escape_control_characters() {
    let err = "3\nx4".parse::<Shape>().unwrap_err().to_string();
    assert_eq!(
        err,
        "invalid shape '3\\nx4': '3\\n' is not a positive whole number (write dimensions like 784x128)"
    );
    for (text, needle) in [
        ("he-norma\x1b", "unknown scheme 'he-norma\\u{1b}'"),
        ("normal:std=1\x07", "invalid std '1\\u{7}'"),
        ("normal:s\ttd=1", "unknown parameter 's\\ttd'"),
        ("normal:std\r", "scheme parameter 'std\\r'"),
        (
            "he-normal:nonlinearity=relu\0",
            "unknown nonlinearity 'relu\\u{0}'",
        ),
    ] {
        let err = text.parse::<SchemeSpec>().unwrap_err().to_string();
        assert!(err.contains(needle), "{text:?}: {err}");
        assert!(one_line(&err), "{text:?}: {err}");
    }
}
