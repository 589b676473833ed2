//! Hostile and broken input files through the binary: every reader (`gen --like`,
//! `verify`, `hist`, `probe --input`) checks every header against the bytes that hold it
//! before allocating anything, refuses with one line and exit code 2, and never panics,
//! aborts or writes a file. The files are built here byte by byte (a few lines of zip,
//! .npy and safetensors writing), so each can lie in exactly one place.

use std::io::Write;
use std::path::Path;
use std::process::Output;

use crate::common::cli::run;

// ---------------------------------------------------------------------------------------
// byte-level writers
// ---------------------------------------------------------------------------------------

/// An .npy (format 1.0) file: the header dict for `descr` and `shape` (Python tuple text
/// such as "(4, 4)"), then `data` whatever its length.
fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // NumPy pads the header to a multiple of 64 bytes, ending in a newline.
    while !(10 + dict.len() + 1).is_multiple_of(64) {
        dict.push(' ');
    }
    dict.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    v.extend_from_slice(dict.as_bytes());
    v.extend_from_slice(data);
    v
}

fn f32s(values: impl IntoIterator<Item = f32>) -> Vec<u8> {
    values.into_iter().flat_map(f32::to_le_bytes).collect()
}

/// `n` f32 values spread over about ±1 (any data will do; they need only differ).
fn ramp(n: usize) -> Vec<u8> {
    f32s((0..n).map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0))
}

/// CRC-32 (IEEE, reflected), bit by bit: small data only.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// One member of a hand-made zip archive; the sizes and CRC the directory gives default
/// to the true ones and can be made to lie.
struct Member {
    name: Vec<u8>,
    /// The uncompressed content.
    content: Vec<u8>,
    deflate: bool,
    claimed_size: Option<u32>,
    claimed_crc: Option<u32>,
}

impl Member {
    fn new(name: &str, content: Vec<u8>) -> Member {
        Member {
            name: name.as_bytes().to_vec(),
            content,
            deflate: false,
            claimed_size: None,
            claimed_crc: None,
        }
    }

    fn deflated(mut self) -> Member {
        self.deflate = true;
        self
    }

    fn claiming_size(mut self, size: u32) -> Member {
        self.claimed_size = Some(size);
        self
    }

    fn claiming_crc(mut self, crc: u32) -> Member {
        self.claimed_crc = Some(crc);
        self
    }
}

/// A zip archive (local headers, central directory, end record) of `members`.
fn zip(members: &[Member]) -> Vec<u8> {
    let u16le = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let u32le = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    let mut out = Vec::new();
    let mut central = Vec::new();
    for m in members {
        let stored = if m.deflate {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
            e.write_all(&m.content).unwrap();
            e.finish().unwrap()
        } else {
            m.content.clone()
        };
        let crc = m.claimed_crc.unwrap_or_else(|| crc32(&m.content));
        let size = m.claimed_size.unwrap_or(m.content.len() as u32);
        let method = if m.deflate { 8 } else { 0 };
        let offset = out.len() as u32;
        // Fields shared by the local header and the directory entry, from "version needed".
        let mut common = Vec::new();
        u16le(&mut common, 20); // version needed
        u16le(&mut common, 0); // flags
        u16le(&mut common, method);
        u16le(&mut common, 0); // time
        u16le(&mut common, 0x21); // date: 1980-01-01
        u32le(&mut common, crc);
        u32le(&mut common, stored.len() as u32);
        u32le(&mut common, size);
        u16le(&mut common, m.name.len() as u16);
        u16le(&mut common, 0); // extra field length
        u32le(&mut out, 0x0403_4b50);
        out.extend_from_slice(&common);
        out.extend_from_slice(&m.name);
        out.extend_from_slice(&stored);
        u32le(&mut central, 0x0201_4b50);
        u16le(&mut central, 20); // version made by
        central.extend_from_slice(&common);
        u16le(&mut central, 0); // comment length
        u16le(&mut central, 0); // disk
        u16le(&mut central, 0); // internal attributes
        u32le(&mut central, 0); // external attributes
        u32le(&mut central, offset);
        central.extend_from_slice(&m.name);
    }
    let central_offset = out.len() as u32;
    out.extend_from_slice(&central);
    u32le(&mut out, 0x0605_4b50);
    u16le(&mut out, 0);
    u16le(&mut out, 0);
    u16le(&mut out, members.len() as u16);
    u16le(&mut out, members.len() as u16);
    u32le(&mut out, central.len() as u32);
    u32le(&mut out, central_offset);
    u16le(&mut out, 0);
    out
}

/// A safetensors file: the JSON header (padded with spaces to 8 bytes) and the data.
fn safetensors(header: &str, data: &[u8]) -> Vec<u8> {
    let mut header = header.to_string();
    while !header.len().is_multiple_of(8) {
        header.push(' ');
    }
    let mut v = (header.len() as u64).to_le_bytes().to_vec();
    v.extend_from_slice(header.as_bytes());
    v.extend_from_slice(data);
    v
}

// ---------------------------------------------------------------------------------------
// running the binary
// ---------------------------------------------------------------------------------------

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Requires exit code 2 and exactly one `weightinit: error:` line holding every needle;
/// returns the line.
fn refused(dir: &Path, args: &[&str], needles: &[&str]) -> String {
    let out = run(dir, args);
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("weightinit: error: "), "{stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{args:?}: '{needle}' not in {stderr}"
        );
    }
    assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
    stderr
}

fn succeeds(dir: &Path, args: &[&str]) -> Output {
    let out = run(dir, args);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    out
}

/// The four readers of a file: `gen --like` (layout only), `verify`, `hist`, `probe
/// --input`.
fn every_reader(file: &str) -> Vec<Vec<&str>> {
    vec![
        vec![
            "gen",
            "--like",
            file,
            "--default",
            "zeros",
            "-o",
            "out.safetensors",
        ],
        vec!["verify", file, "--scheme", "he-normal"],
        vec!["hist", file],
        vec!["probe", "--layers", "4-4", "--seed", "1", "--input", file],
    ]
}

/// Each reader refuses `file` with every needle in its one line, and `gen` writes nothing.
fn all_refuse(dir: &Path, file: &str, needles: &[&str]) {
    for args in every_reader(file) {
        refused(dir, &args, needles);
    }
    assert!(!dir.join("out.safetensors").exists());
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

// ---------------------------------------------------------------------------------------
// shape × dtype against the bytes that hold it
// ---------------------------------------------------------------------------------------

/// The tester's file: a few hundred bytes whose .npy header claims 10^12 × 10^6 float32
/// values. `gen --like` used to write until the disk was full.
#[test]
fn a_tiny_npz_claiming_a_huge_tensor_is_refused_by_every_reader() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bytes = zip(&[Member::new(
        "w.npy",
        npy("<f4", "(1000000000000, 1000000)", &[]),
    )]);
    assert!(bytes.len() < 300, "{}", bytes.len());
    write(d, "huge.npz", &bytes);
    all_refuse(
        d,
        "huge.npz",
        &[
            "'huge.npz'",
            "member 'w.npy'",
            "shape [1000000000000, 1000000] of float32 needs 4000000000000000000 bytes",
            "the member has 0 after its header",
        ],
    );
    // The same lie with the zip directory lying too (a size deflate could never reach
    // from the member's few compressed bytes).
    let claimed = 128 + 4_000_000;
    let bytes = zip(&[Member::new("w.npy", npy("<f4", "(1000000,)", &[]))
        .deflated()
        .claiming_size(claimed)]);
    write(d, "bomb.npz", &bytes);
    all_refuse(
        d,
        "bomb.npz",
        &[
            "member 'w.npy'",
            "4000128 bytes",
            "deflate expands at most 1032:1",
        ],
    );
}

/// A 4×4 header over 1 MiB of data: the header would make a reader take the first 64
/// bytes and ignore the rest; every reader refuses instead, `gen --like` included.
#[test]
fn a_small_header_over_large_data_is_refused_by_every_reader() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = ramp(1 << 18);
    write(
        d,
        "big.npz",
        &zip(&[Member::new("w.npy", npy("<f4", "(4, 4)", &data))]),
    );
    all_refuse(
        d,
        "big.npz",
        &[
            "member 'w.npy'",
            "shape [4, 4] of float32 needs 64 bytes of data",
            "the member has 1048576 after its header",
        ],
    );
    write(d, "big.npy", &npy("<f4", "(4, 4)", &data));
    for args in &every_reader("big.npy")[1..] {
        refused(
            d,
            args,
            &[
                "'big.npy'",
                "shape [4, 4] of float32 needs 64 bytes of data, but the file has 1048576",
            ],
        );
    }
    // Safetensors: a range that does not match the shape, and two that overlap.
    let header = r#"{"w":{"dtype":"F32","shape":[4,4],"data_offsets":[0,1048576]}}"#;
    write(d, "big.safetensors", &safetensors(header, &data));
    all_refuse(
        d,
        "big.safetensors",
        &["tensor 'w'", "[0, 1048576]", "shape [4, 4]"],
    );
    let header = r#"{"a":{"dtype":"F32","shape":[4,4],"data_offsets":[0,64]},
                     "b":{"dtype":"F32","shape":[4,4],"data_offsets":[32,96]}}"#;
    write(d, "overlap.safetensors", &safetensors(header, &ramp(24)));
    all_refuse(
        d,
        "overlap.safetensors",
        &["tensors 'a' [0, 64] and 'b' [32, 96] overlap"],
    );
}

/// The zip directory's claims against the member itself: a stored member whose size and
/// stored bytes disagree, a member whose bytes run past the end of the file. `gen
/// --like` reads no data, but these it sees from the headers.
#[test]
fn zip_sizes_that_cannot_be_true_are_refused_by_every_reader() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let content = npy("<f4", "(4, 4)", &ramp(16));
    let size = content.len() as u32;
    write(
        d,
        "stored.npz",
        &zip(&[Member::new("w.npy", content.clone()).claiming_size(size + 4096)]),
    );
    all_refuse(
        d,
        "stored.npz",
        &[
            "member 'w.npy' is stored uncompressed",
            &format!("{} bytes in {size}", size + 4096),
        ],
    );
    // Cut the archive inside the member's data, then put back a directory that still
    // describes the whole member.
    let whole = zip(&[Member::new("w.npy", content.clone())]);
    let local = 30 + "w.npy".len() + content.len();
    let mut cut = whole[..local - 40].to_vec();
    cut.extend_from_slice(&whole[local..]);
    // The directory's offset to itself moved by 40 bytes.
    let n = cut.len();
    let offset = u32::from_le_bytes(cut[n - 6..n - 2].try_into().unwrap()) - 40;
    cut[n - 6..n - 2].copy_from_slice(&offset.to_le_bytes());
    write(d, "cut.npz", &cut);
    all_refuse(
        d,
        "cut.npz",
        &[
            "'cut.npz'",
            "members overlap each other or the zip directory",
        ],
    );
    // Two directory entries over the same bytes (the overlapping-entry zip bomb's trick).
    let mut twice = zip(&[Member::new("a.npy", content.clone())]);
    let n = twice.len();
    let (end, entry) = (
        twice[n - 22..].to_vec(),
        twice[n - 22 - 46 - 5..n - 22].to_vec(),
    );
    twice.truncate(n - 22);
    let mut copy = entry.clone();
    copy[46] = b'b';
    twice.extend_from_slice(&copy);
    let mut end = end;
    end[8..10].copy_from_slice(&2u16.to_le_bytes());
    end[10..12].copy_from_slice(&2u16.to_le_bytes());
    end[12..16].copy_from_slice(&(2 * entry.len() as u32).to_le_bytes());
    twice.extend_from_slice(&end);
    write(d, "twice.npz", &twice);
    all_refuse(d, "twice.npz", &["members overlap"]);
    // Two members of one name: which one np.load returns depends on the reader.
    let same = zip(&[
        Member::new("w.npy", content.clone()),
        Member::new("w.npy", content.clone()),
    ]);
    write(d, "same.npz", &same);
    all_refuse(d, "same.npz", &["two of its members have the same name"]);
}

/// A member whose data does not match the CRC-32 of the zip directory, or which holds
/// more than the directory's size (deflated, so only decompressing shows it): refused
/// when the data is read, as `np.load` refuses it. `gen --like` reads no data, and its
/// header agrees with the directory's size, so it takes the layout.
#[test]
fn bad_checksums_and_understated_sizes_are_refused_when_the_data_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let content = npy("<f4", "(4, 4)", &ramp(16));
    let crc = crc32(&content);
    write(
        d,
        "crc.npz",
        &zip(&[Member::new("w.npy", content.clone()).claiming_crc(crc ^ 1)]),
    );
    let data_readers = &every_reader("crc.npz")[1..];
    for args in data_readers {
        refused(d, args, &["'crc.npz'", "member 'w.npy'", "CRC-32"]);
    }
    succeeds(d, &every_reader("crc.npz")[0]);
    std::fs::remove_file(d.join("out.safetensors")).unwrap();

    // 4x4 in the header and in the directory's size, 1 MiB more after it in the stream.
    let mut long = content.clone();
    long.extend_from_slice(&vec![0u8; 1 << 20]);
    let size = content.len() as u32;
    write(
        d,
        "under.npz",
        &zip(&[Member::new("w.npy", long).deflated().claiming_size(size)]),
    );
    for args in &every_reader("under.npz")[1..] {
        refused(
            d,
            args,
            &[
                "'under.npz': member 'w.npy'",
                &format!("holds more than the {size} bytes the zip directory gives it"),
            ],
        );
    }
    // The header also agreeing with a size the directory understates is caught too.
    let mut liar = content.clone();
    liar.extend_from_slice(&[0u8; 4]);
    write(
        d,
        "liar.npz",
        &zip(&[Member::new("w.npy", liar)
            .deflated()
            .claiming_size(size + 4)]),
    );
    all_refuse(
        d,
        "liar.npz",
        &[
            "member 'w.npy'",
            "needs 64 bytes of data, but the member has 68",
        ],
    );
}

// ---------------------------------------------------------------------------------------
// one line naming the cause
// ---------------------------------------------------------------------------------------

#[test]
fn a_directory_is_called_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for name in ["w.npy", "m.npz", "m.safetensors"] {
        std::fs::create_dir(d.join(name)).unwrap();
        all_refuse(d, name, &[&format!("'{name}' is a directory")]);
    }
    std::fs::create_dir(d.join("net.toml")).unwrap();
    refused(
        d,
        &["gen", "--spec", "net.toml", "-o", "x.npz"],
        &["spec file 'net.toml' is a directory"],
    );
}

/// A file of integer tensors only: each reader says which dtypes it found and which it
/// reads, instead of "holds 0 tensors".
#[test]
fn files_of_non_float_tensors_name_their_dtypes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ids = npy("<i4", "(3,)", &[1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]);
    write(d, "ids.npz", &zip(&[Member::new("ids.npy", ids)]));
    for (args, reader) in [
        (vec!["hist", "ids.npz"], "hist"),
        (vec!["verify", "ids.npz", "--scheme", "zeros"], "verify"),
        (
            vec![
                "probe", "--layers", "3-2", "--seed", "1", "--input", "ids.npz",
            ],
            "probe",
        ),
    ] {
        refused(
            d,
            &args,
            &[&format!(
                "'ids.npz': it holds only int32 tensors (ids); {reader} reads f16, bf16, f32, f64"
            )],
        );
    }
    refused(
        d,
        &[
            "gen",
            "--like",
            "ids.npz",
            "--default",
            "zeros",
            "-o",
            "o.npz",
        ],
        &["no floating-point tensors to initialize: it holds only int32 tensors (ids)"],
    );
    let header = r#"{"pos":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},
                     "mask":{"dtype":"BOOL","shape":[2],"data_offsets":[16,18]}}"#;
    write(d, "ints.safetensors", &safetensors(header, &[0; 18]));
    refused(
        d,
        &["hist", "ints.safetensors"],
        &["holds only int64, bool tensors (pos, mask); hist reads"],
    );
}

/// Names from files reach errors, headers and reports with their control characters
/// escaped (no terminal escape sequence, no forged second line), and long lists of
/// names are cut.
#[test]
fn names_from_files_are_escaped_and_lists_are_cut() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let evil = "w\u{1b}[2J\nFAKE";
    let header = format!(
        r#"{{"{}":{{"dtype":"F32","shape":[20,10],"data_offsets":[0,800]}},
            "ids\u0007":{{"dtype":"I64","shape":[1],"data_offsets":[800,808]}}}}"#,
        evil.replace('\u{1b}', "\\u001b").replace('\n', "\\n")
    );
    let mut data = ramp(200);
    data.extend_from_slice(&[0; 8]);
    write(d, "evil.safetensors", &safetensors(&header, &data));
    let escaped = "w\\u{1b}[2J\\nFAKE";
    let clean = |out: &Output| {
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!all.contains('\u{1b}') && !all.contains('\u{7}'), "{all}");
        assert!(!all.contains("\nFAKE"), "{all}");
        assert!(all.contains(escaped), "{all}");
    };
    let out = run(
        d,
        &["verify", "evil.safetensors", "--scheme", "normal:std=0.5"],
    );
    clean(&out);
    assert!(
        text(&out.stdout).contains("skipped ids\\u{7}: holds int64"),
        "{}",
        text(&out.stdout)
    );
    clean(&succeeds(d, &["hist", "evil.safetensors"]));
    let out = run(d, &["hist", "evil.safetensors", "--tensor", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    clean(&out);
    // gen --like: the float tensor's name is refused, escaped.
    let out = run(
        d,
        &[
            "gen",
            "--like",
            "evil.safetensors",
            "--default",
            "zeros",
            "-o",
            "o.safetensors",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    clean(&out);

    // Thirty tensors: "choose one" names eight and counts the rest.
    let members: Vec<Member> = (0..30)
        .map(|i| Member::new(&format!("t{i}.npy"), npy("<f4", "(2,)", &ramp(2))))
        .collect();
    write(d, "many.npz", &zip(&members));
    refused(
        d,
        &["hist", "many.npz"],
        &[
            "holds 30 float tensors (t0, t1, t2, t3, t4, t5, t6, t7 … and 22 more); choose one with --tensor",
        ],
    );
    refused(
        d,
        &["verify", "many.npz", "--scheme", "zeros", "--tensor", "x"],
        &["no tensor 'x'; the file holds: t0, t1", "… and 22 more"],
    );
}

/// A header whose dtype is not ASCII used to panic while naming it.
#[test]
fn a_non_ascii_dtype_is_named_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "u.npy", &npy("é4", "(1,)", &[0; 4]));
    refused(
        d,
        &["verify", "u.npy", "--scheme", "zeros"],
        &["'u.npy'", "é4"],
    );
}

// ---------------------------------------------------------------------------------------
// sizes of requests: chart widths, bins, the memory budget
// ---------------------------------------------------------------------------------------

#[test]
fn hist_refuses_widths_and_bins_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "w.npy", &npy("<f4", "(10, 10)", &ramp(100)));
    for (flag, value, range) in [
        ("--width", "1000000000", "expected 20 to 1000"),
        ("--width", "0", "expected 20 to 1000"),
        ("--bins", "0", "expected 1 to 10000"),
        ("--bins", "10001", "expected 1 to 10000"),
    ] {
        refused(
            d,
            &["hist", "w.npy", flag, value],
            &[&format!("invalid {flag} {value}: {range}")],
        );
    }
    let out = succeeds(d, &["hist", "w.npy", "--width", "20", "--bins", "3"]);
    assert!(
        text(&out.stdout)
            .lines()
            .any(|l| l.starts_with('[') && l.contains('█'))
    );
}

/// Loading asks the budget first, with the real peak of the command: refused with the
/// tensor's name and size, before reading its data.
#[test]
fn the_memory_budget_is_asked_before_a_tensor_is_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 256 x 256 f32: 65536 values, 0.5 MiB as f64; verify holds 32 bytes a value (2 MiB).
    write(d, "w.npy", &npy("<f4", "(256, 256)", &ramp(1 << 16)));
    let budget = ["--max-memory", "1MiB"];
    refused(
        d,
        &[
            &["verify", "w.npy", "--scheme", "normal:std=0.5"][..],
            &budget,
        ]
        .concat(),
        &[
            "verify on tensor 'w' ([256, 256] float32, 65536 values) needs 2.0 MiB",
            "memory budget of 1.0 MiB",
        ],
    );
    refused(
        d,
        &["hist", "w.npy", "--max-memory", "256KiB"],
        &[
            "hist on tensor 'w'",
            "needs 512.0 KiB",
            "budget of 256.0 KiB",
        ],
    );
    refused(
        d,
        &[
            "probe",
            "--layers",
            "256-4",
            "--seed",
            "1",
            "--input",
            "w.npy",
            "--max-memory",
            "256KiB",
        ],
        &["probe on tensor 'w'", "needs 512.0 KiB"],
    );
    succeeds(d, &[&["hist", "w.npy"][..], &budget].concat());
    // probe's own chain: the layers and the batch are named.
    refused(
        d,
        &[
            "probe",
            "--layers",
            "4096x3",
            "--batch",
            "64",
            "--seed",
            "1",
            "--max-memory",
            "16MiB",
        ],
        &[
            "a probe of layers 4096x3 (2 layers, widest 4096) with batch 64 needs",
            "budget of 16.0 MiB",
        ],
    );
}

// ---------------------------------------------------------------------------------------
// spec files
// ---------------------------------------------------------------------------------------

/// A negative or fractional dimension names itself, the file and the line, in TOML and
/// JSON.
#[test]
fn spec_file_dimensions_name_the_value_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases = [
        (
            "neg.toml",
            "scheme = \"zeros\"\n\n[[tensor]]\nname = \"w\"\nshape = [3, -4]\n",
            "neg.toml:5:",
            "dimension -4 is negative",
        ),
        (
            "frac.toml",
            "scheme = \"zeros\"\n[[tensor]]\nname = \"w\"\nshape = [2.5, 3]\n",
            "frac.toml:4:",
            "dimension 2.5 is not a whole number",
        ),
        (
            "neg.json",
            "{\"scheme\": \"zeros\",\n \"tensor\": [\n  {\"name\": \"w\",\n   \"shape\": [3, -4]}]}\n",
            "neg.json:4:",
            "dimension -4 is negative",
        ),
        (
            "frac.json",
            "{\"scheme\": \"zeros\",\n \"tensor\": [{\"name\": \"w\", \"shape\": [2.5]}]}\n",
            "frac.json:2:",
            "dimension 2.5 is not a whole number",
        ),
        (
            "text.toml",
            "scheme = \"zeros\"\n[[tensor]]\nname = \"w\"\nshape = [\"3\", 4]\n",
            "text.toml:4:",
            "dimension \"3\" is a string",
        ),
    ];
    for (name, body, place, message) in cases {
        write(d, name, body.as_bytes());
        let line = refused(
            d,
            &["gen", "--spec", name, "-o", "out.npz"],
            &[place, message],
        );
        assert!(!line.contains("untagged"), "{line}");
    }
    assert!(!d.join("out.npz").exists());
    // Whole numbers written as floats are sizes.
    write(
        d,
        "ok.toml",
        b"scheme = \"zeros\"\n[[tensor]]\nname = \"w\"\nshape = [2.0, 3]\n",
    );
    succeeds(
        d,
        &[
            "gen", "--spec", "ok.toml", "-o", "ok.npz", "--report", "none",
        ],
    );
}
