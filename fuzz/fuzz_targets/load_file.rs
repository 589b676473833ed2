//! Whole-file loading (`verify`, `hist`, `probe --input`) from memory: the first byte
//! picks the format (.npy, .npz, .safetensors), the rest is the file (written to a
//! temporary file, so it takes the same path as one on disk). Never panics,
//! never allocates more than the file can hold, and errors are one line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weightinit::inspect::load::{Entry, visit_bytes};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let format = ["npy", "npz", "safetensors"][usize::from(pick % 3)];
    let result = visit_bytes(
        bytes,
        format,
        "w",
        None,
        |entry| {
            if let Entry::Float(t) = entry {
                let numel: usize = t.shape.iter().product();
                assert_eq!(t.values.len(), numel, "{}: {:?}", t.name, t.shape);
            }
            Ok(())
        },
    );
    if let Err(e) = result {
        let message = e.to_string();
        assert!(!message.chars().any(char::is_control), "{message:?}");
    }
});
