//! The three-line library API gives exactly the command line's bytes: the arrays of
//! `Init::draw` equal the data of the files `weightinit gen` writes for the same request,
//! and `Init::write` writes the same files, byte for byte, in every format.

use std::path::Path;
use std::process::Command;

use weightinit::{Init, Layout, RngMode};

use crate::common::cli::BIN;

/// Runs `weightinit gen ARGS -o FILE` in `dir` and returns the file's bytes.
fn cli_file(dir: &Path, args: &str, file: &str) -> Vec<u8> {
    let out = Command::new(BIN)
        .current_dir(dir)
        .args(args.split_whitespace())
        .args(["-o", file, "--report", "none"])
        .output()
        .expect("binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(dir.join(file)).unwrap()
}

/// The data of an .npy file (after its header).
fn npy_data(bytes: &[u8]) -> &[u8] {
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    &bytes[10 + header_len..]
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn draw_equals_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let w = Init::new("he-normal", [784, 256])
        .unwrap()
        .seed(42)
        .draw::<f32>()
        .unwrap();
    assert_eq!(w.shape(), [784, 256]);
    let cli = cli_file(
        dir.path(),
        "gen --scheme he-normal --shape 784x256 --seed 42",
        "w.npy",
    );
    assert_eq!(f32_bytes(w.as_slice().unwrap()), npy_data(&cli));

    let t = Init::new("kaiming-uniform", [128, 784])
        .unwrap()
        .layout(Layout::Oi)
        .rng(RngMode::Torch)
        .seed(0)
        .draw::<f32>()
        .unwrap();
    let cli = cli_file(
        dir.path(),
        "gen --scheme kaiming-uniform --shape 128x784 --layout oi --rng torch --seed 0",
        "t.npy",
    );
    assert_eq!(f32_bytes(t.as_slice().unwrap()), npy_data(&cli));

    let h = Init::new("xavier-uniform", vec![3, 3, 8, 16])
        .unwrap()
        .seed(5)
        .name("conv")
        .draw::<f64>()
        .unwrap();
    let cli = cli_file(
        dir.path(),
        "gen --scheme xavier-uniform --shape 3x3x8x16 --seed 5 --name conv --dtype f64",
        "h.npy",
    );
    let bytes: Vec<u8> = h.iter().flat_map(|x| x.to_le_bytes()).collect();
    assert_eq!(bytes, npy_data(&cli));
}

#[test]
fn write_equals_the_command_line_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    for ext in ["npy", "json", "npz", "safetensors"] {
        let ours = dir.path().join(format!("lib.{ext}"));
        Init::new("normal:std=0.02", [500, 64])
            .unwrap()
            .seed(7)
            .name("embed")
            .write(&ours)
            .unwrap();
        let cli = cli_file(
            dir.path(),
            "gen --scheme normal:std=0.02 --shape 500x64 --seed 7 --name embed",
            &format!("cli.{ext}"),
        );
        assert_eq!(std::fs::read(&ours).unwrap(), cli, "{ext} differs");
    }
    // Like the command line, an existing file is replaced only when asked.
    let again = Init::new("zeros", [4])
        .unwrap()
        .write(dir.path().join("lib.npy"));
    assert!(
        matches!(again, Err(weightinit::Error::Exists(_))),
        "{again:?}"
    );
    Init::new("zeros", [4])
        .unwrap()
        .force(true)
        .write(dir.path().join("lib.npy"))
        .unwrap();
}

#[test]
fn bad_requests_are_typed_errors() {
    assert!(Init::new("he-normall", [4, 4]).is_err());
    assert!(Init::new("he-normal", [4, 0]).is_err());
    let one_d = Init::new("he-normal", [4]).unwrap().draw::<f32>();
    assert!(one_d.is_err());
    for bad in ["a//b", "/a", "a/", "a/../b", ".a", "a b"] {
        let bad_name = Init::new("zeros", [4]).unwrap().name(bad).draw::<f32>();
        assert!(bad_name.is_err(), "{bad}");
    }
    // Path-like names (TensorFlow/Flax checkpoints) are names like any other.
    let path_name = Init::new("zeros", [4])
        .unwrap()
        .name("bert/encoder/kernel")
        .draw::<f32>();
    assert!(path_name.is_ok());
    let err = Init::new("zeros", [4])
        .unwrap()
        .write("x.bin")
        .unwrap_err()
        .to_string();
    assert!(err.contains("x.bin") && err.contains(".npy"), "{err}");
}

/// Random access: any range equals that slice of the whole tensor, for ranges that start
/// and end mid-pair and mid-block, in every dtype; out-of-range and whole-matrix schemes
/// are refused with one line.
#[test]
fn draw_range_equals_the_slice_of_the_whole() {
    fn check<E: weightinit::draw::DrawElement + PartialEq + std::fmt::Debug>(scheme: &str) {
        let init = Init::new(scheme, [300, 701]).unwrap().seed(5).name("r");
        let whole = init.draw::<E>().unwrap();
        let flat = whole.as_slice().unwrap();
        for (first, len) in [(0, 1), (1, 2), (65535, 3), (65_537, 70_000), (210_299, 1)] {
            let part = init.draw_range::<E>(first as u64, len).unwrap();
            assert_eq!(part, flat[first..first + len], "{scheme} {first}+{len}");
        }
    }
    for scheme in [
        "normal:std=0.02",
        "he-uniform",
        "truncated-normal",
        "constant:value=0.5",
    ] {
        check::<f32>(scheme);
        check::<f64>(scheme);
        check::<half::bf16>(scheme);
        check::<half::f16>(scheme);
    }
    let init = Init::new("he-normal", [10, 10]).unwrap();
    let outside = init.draw_range::<f32>(95, 6).unwrap_err().to_string();
    assert!(
        outside.contains("95..101") && outside.contains("100"),
        "{outside}"
    );
    let whole = Init::new("orthogonal", [10, 10])
        .unwrap()
        .draw_range::<f32>(0, 1);
    assert!(whole.unwrap_err().to_string().contains("whole matrix"));
}

/// `draw_into` fills memory the caller owns with exactly `draw`'s values, for every
/// stream and element type, and refuses a buffer of the wrong length.
#[test]
fn draw_into_fills_the_callers_buffer_with_draws_values() {
    fn check<E: weightinit::draw::DrawElement + PartialEq + std::fmt::Debug>(init: &Init) {
        let whole = init.draw::<E>().unwrap();
        let mut out = vec![E::default(); whole.len()];
        init.draw_into(&mut out).unwrap();
        assert_eq!(out, whole.as_slice().unwrap());
    }
    let native = Init::new("he-normal", [70, 1001]).unwrap().seed(3);
    check::<f32>(&native);
    check::<f64>(&native);
    check::<half::f16>(&native);
    check::<half::bf16>(&native);
    let numpy = Init::new("xavier-uniform", [30, 40])
        .unwrap()
        .seed(1)
        .rng(RngMode::Numpy);
    check::<f32>(&numpy);
    let torch = Init::new("kaiming-uniform", [30, 40])
        .unwrap()
        .seed(1)
        .layout(Layout::Oi)
        .rng(RngMode::Torch);
    check::<f64>(&torch);
    let mut short = vec![0f32; 1199];
    let err = torch.draw_into(&mut short).unwrap_err().to_string();
    assert!(err.contains("1200") && err.contains("1199"), "{err}");
}

/// Arrays drawn in place refuse a value their dtype cannot hold, as files do, and keep
/// values that come near the limit without passing it.
#[test]
fn in_place_draws_refuse_overflow_and_keep_large_finite_values() {
    let over = Init::new("normal:std=40000", [1000]).unwrap().seed(1);
    let err = over.draw::<half::f16>().unwrap_err().to_string();
    assert!(err.contains("beyond the largest finite f16"), "{err}");
    let mut buffer = vec![half::f16::ZERO; 1000];
    assert!(over.draw_into(&mut buffer).is_err());
    // 40·std passes f32's largest value, so the values are scanned: all finite.
    let near = Init::new("normal:std=1e37", [1000]).unwrap().seed(1);
    let w = near.draw::<f32>().unwrap();
    assert!(w.iter().all(|x| x.is_finite()) && w.iter().any(|x| x.abs() > 1e37));
}
