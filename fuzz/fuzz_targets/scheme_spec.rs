//! Scheme spec text (`he-normal:mode=fan-out`): parsing never panics, a parsed spec
//! displays as text that parses back to an equal spec, and resolving it against a few
//! small shapes (where the cross-parameter validation runs) never panics either. Errors
//! are one line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weightinit::tensor::fan::Layout;
use weightinit::scheme::SchemeSpec;
use weightinit::tensor::shape::Shape;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let one_line = |e: weightinit::Error| {
        let message = e.to_string();
        assert!(!message.chars().any(char::is_control), "{message:?}");
    };
    let spec = match text.parse::<SchemeSpec>() {
        Ok(spec) => spec,
        Err(e) => return one_line(e),
    };
    let shown = spec.to_string();
    let again: SchemeSpec = shown.parse().expect("a displayed spec parses");
    assert_eq!(again, spec, "{text:?} displays as {shown:?}");
    for dims in [&[7][..], &[4, 3], &[3, 3, 2, 5]] {
        let shape = Shape::new(dims.to_vec()).unwrap();
        for layout in [Layout::Io, Layout::Oi] {
            match spec.resolve(&shape, layout) {
                Ok(resolved) => {
                    // What `report` and `schemes` print for a resolved law.
                    let _ = resolved.distribution.theory();
                    let _ = resolved.distribution.describe();
                }
                Err(e) => one_line(e),
            }
        }
    }
});
