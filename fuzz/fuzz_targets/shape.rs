//! Shape text (`--shape 784x128`): parsing never panics, a parsed shape displays as
//! text that parses back to the same shape, and an error is one line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weightinit::tensor::shape::Shape;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.parse::<Shape>() {
        Ok(shape) => {
            let shown = shape.to_string();
            let again: Shape = shown.parse().expect("a displayed shape parses");
            assert_eq!(again, shape, "{text:?} displays as {shown:?}");
            assert_eq!(shape.len(), shape.dims().iter().product::<usize>());
        }
        Err(e) => {
            let message = e.to_string();
            assert!(!message.chars().any(char::is_control), "{message:?}");
        }
    }
});
