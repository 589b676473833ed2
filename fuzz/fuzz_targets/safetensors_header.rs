//! The safetensors header reader: never panics, never allocates what the length prefix
//! merely claims, accepts only entries inside the data, and errors are one line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weightinit::inspect::load::header::read_safetensors_header;

fuzz_target!(|data: &[u8]| {
    let file_len = data.len() as u64;
    match read_safetensors_header(&mut &data[..], file_len) {
        Ok((entries, header_len)) => {
            let data_len = file_len - 8 - header_len;
            for e in entries {
                assert!(e.begin <= e.end && e.end <= data_len, "{e:?}");
            }
        }
        Err(e) => assert!(!e.chars().any(char::is_control), "{e:?}"),
    }
});
