//! The `.npy` header reader (also used for `.npz` members): never panics, never
//! allocates what a header merely claims, and errors are one line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weightinit::inspect::load::header::{npy_float, read_npy_header};

fuzz_target!(|data: &[u8]| {
    match read_npy_header(&mut &data[..]) {
        Ok(header) => {
            assert!(header.header_len <= data.len() as u64);
            // What the loader does next with the dtype string.
            if let Err(holds) = npy_float(&header.descr) {
                assert!(!holds.chars().any(char::is_control), "{holds:?}");
            }
        }
        Err(e) => assert!(!e.chars().any(char::is_control), "{e:?}"),
    }
});
