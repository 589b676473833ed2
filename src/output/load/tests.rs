//! Unit tests of the checked reader.

use super::*;
use std::io::Write;

fn npy_bytes(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let dict = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}\n",
        if fortran { "True" } else { "False" }
    );
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    v.extend_from_slice(dict.as_bytes());
    v.extend_from_slice(data);
    v
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(bytes))
        .unwrap();
    path
}

fn f32_le(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn error(path: &Path, only: Option<&str>) -> String {
    load_tensors(path, only).unwrap_err().to_string()
}

#[test]
fn fortran_order_becomes_c_order() {
    // A 2x3 matrix [[0,1,2],[3,4,5]] stored column-major is 0,3,1,4,2,5.
    let c = fortran_to_c(vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0], &[2, 3]).unwrap();
    assert_eq!(c, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    // 2x3x2: element (i,j,k) = 6i + 2j + k; column-major offset i + 2j + 6k.
    let mut f = vec![0.0; 12];
    for i in 0..2 {
        for j in 0..3 {
            for k in 0..2 {
                f[i + 2 * j + 6 * k] = (6 * i + 2 * j + k) as f64;
            }
        }
    }
    let want: Vec<f64> = (0..12).map(f64::from).collect();
    assert_eq!(fortran_to_c(f, &[2, 3, 2]).unwrap(), want);
}

#[test]
fn reads_npy_in_every_float_dtype_and_byte_order() {
    let dir = tempfile::tempdir().unwrap();
    let xs = [1.5f32, -0.25, 3.0, 1e-3];
    let cases: Vec<(&str, Vec<u8>, DType)> = vec![
        ("<f4", f32_le(&xs), DType::F32),
        (
            ">f4",
            xs.iter().flat_map(|v| v.to_be_bytes()).collect(),
            DType::F32,
        ),
        (
            "<f8",
            xs.iter()
                .flat_map(|&v| f64::from(v).to_le_bytes())
                .collect(),
            DType::F64,
        ),
        (
            ">f8",
            xs.iter()
                .flat_map(|&v| f64::from(v).to_be_bytes())
                .collect(),
            DType::F64,
        ),
        (
            "<f2",
            xs.iter()
                .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
                .collect(),
            DType::F16,
        ),
        (
            ">f2",
            xs.iter()
                .flat_map(|&v| half::f16::from_f32(v).to_be_bytes())
                .collect(),
            DType::F16,
        ),
    ];
    for (descr, data, dtype) in cases {
        let path = write(
            dir.path(),
            "w.npy",
            &npy_bytes(descr, false, "(2, 2)", &data),
        );
        let t = load_tensors(&path, None).unwrap().remove(0);
        assert_eq!(t.name, "w");
        assert_eq!(t.shape, vec![2, 2]);
        assert_eq!(t.dtype, dtype, "{descr}");
        let want: Vec<f64> = xs
            .iter()
            .map(|&v| match dtype {
                DType::F16 => half::f16::from_f32(v).to_f64(),
                _ => f64::from(v),
            })
            .collect();
        assert_eq!(t.values, want, "{descr}");
    }
}

#[test]
fn reads_a_scalar_npy() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "s.npy",
        &npy_bytes("<f8", false, "()", &2.5f64.to_le_bytes()),
    );
    let t = load_tensors(&path, None).unwrap().remove(0);
    assert_eq!((t.shape, t.values), (vec![], vec![2.5]));
}

/// Truncated, over-long, hostile or non-float .npy files get one-line errors.
#[test]
fn refuses_bad_npy_files() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "short.npy",
            npy_bytes("<f4", false, "(2, 2)", &f32_le(&[1.0, 2.0, 3.0])),
            "shape [2, 2] of float32 needs 16 bytes of data, but the file has 12 after its header (truncated?)",
        ),
        (
            "long.npy",
            npy_bytes("<f4", false, "(1,)", &f32_le(&[1.0, 2.0])),
            "shape [1] of float32 needs 4 bytes of data, but the file has 8 after its header",
        ),
        (
            "huge.npy",
            npy_bytes("<f8", false, "(1000000000, 1000000)", &[0; 8]),
            "needs 8000000000000000",
        ),
        (
            "overflow.npy",
            npy_bytes("<f8", false, "(4294967296, 4294967296, 16)", &[0; 8]),
            "overflows",
        ),
        (
            "int.npy",
            npy_bytes("<i8", false, "(1,)", &[0; 8]),
            "it holds only int64 tensors (int); weightinit reads f16, bf16, f32, f64",
        ),
        (
            "c.npy",
            npy_bytes("<c16", false, "(1,)", &[0; 16]),
            "complex128",
        ),
        ("text.npy", b"hello world, not numpy".to_vec(), "bad magic"),
        ("empty.npy", Vec::new(), "too short"),
    ];
    for (name, bytes, needle) in cases {
        let path = write(dir.path(), name, &bytes);
        let err = error(&path, None);
        assert!(err.contains(needle), "{name}: {err}");
        assert!(!err.contains('\n'), "{name}: {err}");
    }
    let ok = write(
        dir.path(),
        "w.npy",
        &npy_bytes("<f4", false, "(1,)", &f32_le(&[1.0])),
    );
    assert!(error(&ok, Some("v")).contains("named 'w'"));
    assert!(error(Path::new("/nonexistent/w.npy"), None).contains("cannot open"));
    assert!(error(&dir.path().join("w.txt"), None).contains("expected a .npy, .npz"));
}

fn safetensors_bytes(header: &str, data: &[u8]) -> Vec<u8> {
    let mut v = (header.len() as u64).to_le_bytes().to_vec();
    v.extend_from_slice(header.as_bytes());
    v.extend_from_slice(data);
    v
}

#[test]
fn reads_safetensors_floats_and_skips_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let header = r#"{"__metadata__":{"format":"pt"},
        "w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},
        "idx":{"dtype":"I64","shape":[1],"data_offsets":[4,12]},
        "b":{"dtype":"F64","shape":[1],"data_offsets":[12,20]}}"#;
    let mut data = Vec::new();
    data.extend(half::bf16::from_f32(0.5).to_le_bytes());
    data.extend(half::bf16::from_f32(-3.0).to_le_bytes());
    data.extend(7i64.to_le_bytes());
    data.extend(0.1f64.to_le_bytes());
    let path = write(
        dir.path(),
        "m.safetensors",
        &safetensors_bytes(header, &data),
    );
    let mut seen = Vec::new();
    visit_tensors(&path, None, |e| {
        seen.push(e);
        Ok(())
    })
    .unwrap();
    assert_eq!(
        seen,
        vec![
            Entry::Float(LoadedTensor {
                name: "w".into(),
                shape: vec![2],
                dtype: DType::Bf16,
                values: vec![0.5, -3.0]
            }),
            Entry::Other(OtherTensor {
                name: "idx".into(),
                shape: vec![1],
                holds: "int64".into()
            }),
            Entry::Float(LoadedTensor {
                name: "b".into(),
                shape: vec![1],
                dtype: DType::F64,
                values: vec![0.1]
            }),
        ]
    );
    let only = load_tensors(&path, Some("b")).unwrap();
    assert_eq!(only.len(), 1);
    assert!(error(&path, Some("idx")).contains("'idx' holds int64 values"));
    let err = error(&path, Some("ww"));
    assert!(
        err.contains("no tensor 'ww' (did you mean 'w'?); the file holds: w, idx, b"),
        "{err}"
    );
    // Offsets past the data: refused from the header, before reading anything.
    let lying = r#"{"w":{"dtype":"F32","shape":[1000000000000],"data_offsets":[0,4000000000000]}}"#;
    let path = write(
        dir.path(),
        "l.safetensors",
        &safetensors_bytes(lying, &[0; 4]),
    );
    assert!(error(&path, None).contains("do not match"));
    let path = write(dir.path(), "e.safetensors", &safetensors_bytes("{}", &[]));
    assert!(error(&path, None).contains("holds no tensors"));
}

/// A stored (uncompressed) archive: the crate's zip build reads deflate but does not
/// write it; tests/fixtures/load has compressed archives written by NumPy.
fn npz(dir: &Path, name: &str, members: &[(&str, Vec<u8>)]) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (member, bytes) in members {
        zip.start_file(*member, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
    path
}

#[test]
fn reads_npz_members_and_reports_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let members = [
        (
            "w.npy",
            npy_bytes("<f4", false, "(2,)", &f32_le(&[1.0, 2.0])),
        ),
        ("idx.npy", npy_bytes("<i4", false, "(1,)", &[1, 0, 0, 0])),
        ("notes.txt", b"not a tensor".to_vec()),
        (
            "f.npy",
            npy_bytes(
                ">f8",
                true,
                "(2, 2)",
                &[1.0f64, 3.0, 2.0, 4.0]
                    .iter()
                    .flat_map(|v| v.to_be_bytes())
                    .collect::<Vec<_>>(),
            ),
        ),
    ];
    let path = npz(dir.path(), "m.npz", &members);
    let all = load_tensors(&path, None).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].values, vec![1.0, 2.0]);
    assert_eq!(all[1].name, "f");
    assert_eq!(all[1].values, vec![1.0, 2.0, 3.0, 4.0]);
    assert!(error(&path, Some("idx")).contains("holds int32 values"));
    assert!(error(&path, Some("x")).contains("the file holds: w, idx, f"));

    let short = [("w.npy", npy_bytes("<f4", false, "(3,)", &f32_le(&[1.0])))];
    let path = npz(dir.path(), "short.npz", &short);
    let err = error(&path, None);
    assert!(
        err.contains(
            "member 'w.npy': shape [3] of float32 needs 12 bytes of data, but the member has 4 \
             after its header"
        ),
        "{err}"
    );
    let huge = [(
        "w.npy",
        npy_bytes("<f4", false, "(1000000000000000,)", &[0; 4]),
    )];
    let path = npz(dir.path(), "huge.npz", &huge);
    assert!(error(&path, None).contains("needs 4000000000000000"));
    let path = write(dir.path(), "bad.npz", b"PK\x03\x04 not really");
    assert!(error(&path, None).contains("not a readable .npz"));
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/load")
        .join(name)
}

fn ramp(n: usize, scale: f64, shift: f64) -> Vec<f64> {
    (0..n).map(|k| (k as f64 - shift) / scale).collect()
}

/// Files written by NumPy and safetensors (tests/fixtures/load/make_load_fixtures.py
/// says what each holds): big-endian, Fortran order, format 2.0, 0-d, float16,
/// np.savez_compressed and safetensors.numpy.
#[test]
fn reads_files_written_by_numpy_and_safetensors() {
    let one = |name: &str| {
        let mut all = load_tensors(&fixture(name), None).unwrap();
        assert_eq!(all.len(), 1, "{name}");
        all.remove(0)
    };
    let t = one("be_f4.npy");
    assert_eq!((t.shape, t.dtype), (vec![2, 3], DType::F32));
    assert_eq!(t.values, ramp(6, 4.0, 0.0));
    let t = one("fortran_f8.npy");
    assert_eq!((t.shape, t.dtype), (vec![3, 4], DType::F64));
    assert_eq!(t.values, ramp(12, 8.0, 0.0));
    let t = one("half.npy");
    assert_eq!((t.shape, t.dtype), (vec![2, 4], DType::F16));
    assert_eq!(t.values, ramp(8, 8.0, 4.0));
    let t = one("v2_f4.npy");
    assert_eq!(t.values, ramp(5, 2.0, 0.0));
    let t = one("scalar.npy");
    assert_eq!((t.shape, t.values), (vec![], vec![0.5]));

    let mut seen = Vec::new();
    visit_tensors(&fixture("compressed.npz"), None, |e| {
        seen.push(e);
        Ok(())
    })
    .unwrap();
    let floats: Vec<&LoadedTensor> = seen
        .iter()
        .filter_map(|e| match e {
            Entry::Float(t) => Some(t),
            Entry::Other(_) => None,
        })
        .collect();
    assert_eq!(floats.len(), 3);
    assert_eq!(
        (floats[0].name.as_str(), &floats[0].shape),
        ("w", &vec![4, 5])
    );
    assert_eq!(floats[0].values, ramp(20, 16.0, 0.0));
    assert_eq!(
        (floats[1].name.as_str(), floats[1].dtype),
        ("h", DType::F16)
    );
    assert_eq!(floats[1].values, ramp(5, 4.0, 0.0));
    assert_eq!(
        (floats[2].name.as_str(), &floats[2].shape),
        ("fw", &vec![2, 3])
    );
    assert_eq!(floats[2].values, ramp(6, 2.0, 0.0));
    assert!(seen.contains(&Entry::Other(OtherTensor {
        name: "idx".into(),
        shape: vec![3],
        holds: "int64".into()
    })));

    let all = load_tensors(&fixture("mixed.safetensors"), None).unwrap();
    let by_name = |n: &str| all.iter().find(|t| t.name == n).unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(by_name("w").values, ramp(6, 2.0, 0.0));
    assert_eq!(by_name("w").shape, vec![2, 3]);
    assert_eq!(by_name("h").dtype, DType::F16);
    assert_eq!(by_name("h").values, ramp(4, 8.0, 0.0));
    assert_eq!(by_name("d").values, ramp(2, 4.0, 0.0));
}

/// A compressed member cut short: the inflater runs out of input, which must be an
/// error naming the member, not a panic or a short tensor.
#[test]
fn refuses_a_truncated_compressed_npz() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("compressed.npz")).unwrap();
    for cut in [bytes.len() / 2, bytes.len() - 30, 40] {
        let path = write(dir.path(), "cut.npz", &bytes[..cut]);
        let err = error(&path, None);
        assert!(!err.contains('\n'), "{cut}: {err}");
        assert!(
            err.starts_with(&format!("'{}'", path.display())),
            "{cut}: {err}"
        );
    }
}
