//! Spec files (`gen --spec FILE`): the same text read as TOML and as JSON never panics,
//! and every error is one line with no control characters (it is what the user sees).
#![no_main]

use libfuzzer_sys::fuzz_target;
use weightinit::tensor::fan::Layout;
use weightinit::model::spec::{self, Defaults, Format};
use weightinit::rng::RngMode;
use weightinit::tensor::dtype::DType;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in [Format::Toml, Format::Json] {
        let defaults = Defaults {
            seed: None,
            fresh_seed: 1,
            rng: RngMode::Native,
            dtype: DType::F32,
            layout: Layout::Io,
            rules: Default::default(),
            scheme: None,
        };
        if let Err(e) = spec::parse("spec", text, format, defaults) {
            let message = e.to_string();
            assert!(
                !message.chars().any(char::is_control),
                "{format:?}: {message:?}"
            );
        }
    }
});
