//! Whole-file loading (`verify`, `hist`, `probe --input`) from memory: the first byte
//! picks the format (.npy, .npz, .safetensors), the rest is the file. Never panics,
//! never allocates more than the file can hold, and errors are one line.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use weightinit::load::{Entry, visit_source};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let format = ["npy", "npz", "safetensors"][usize::from(pick % 3)];
    let result = visit_source(
        Cursor::new(bytes),
        bytes.len() as u64,
        format,
        "fuzz",
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
