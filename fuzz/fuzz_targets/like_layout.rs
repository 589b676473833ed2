//! `gen --like FILE` reads only headers of a .safetensors or .npz file. `read_layout`
//! takes a path, so each input is written to a temporary file; the first byte picks the
//! extension. Never panics, and errors are one line.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use weightinit::model::like::read_layout;

/// One directory for the whole run (in memory where /dev/shm exists).
fn dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        if shm.is_dir() {
            tempfile::tempdir_in(shm).expect("temp dir in /dev/shm")
        } else {
            tempfile::tempdir().expect("temp dir")
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let name = if pick % 2 == 0 {
        "m.safetensors"
    } else {
        "m.npz"
    };
    let path: PathBuf = dir().path().join(name);
    std::fs::write(&path, bytes).expect("write the input");
    match read_layout(&path) {
        Ok(tensors) => assert!(!tensors.is_empty()),
        Err(e) => {
            let message = e.to_string();
            assert!(!message.chars().any(char::is_control), "{message:?}");
        }
    }
});
