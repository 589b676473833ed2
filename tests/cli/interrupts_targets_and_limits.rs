//! What a run does to the disk when it is interrupted, pointed at something that is not a
//! regular file, or asked for more than the machine, the disk or the dtype can hold: one
//! test per defect of the hardening issue, each through the binary.
//!
//! Signals are sent with the system's `kill` command to a real run writing a large
//! tensor; the test then checks that the directory is exactly as it was before.

#![cfg(unix)]

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use crate::common::cli::{BIN, argv as line, listing, run, stderr};

/// Exit code 2 (bad input), one line on stderr containing every fragment, no panic.
fn assert_refused(out: &Output, code: i32, fragments: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    for fragment in fragments {
        assert!(err.contains(fragment), "missing {fragment:?} in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

/// Waits until some file under `dir` has a name ending in `.tmp` (the run is writing).
fn wait_for_temporary(dir: &Path, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if listing(dir).iter().any(|p| p.ends_with(".tmp")) {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before it started writing");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("no temporary file appeared in {}", dir.display());
}

/// Starts `args` in `dir`, waits until it writes, sends `signal`, and returns its exit
/// code and stderr.
fn interrupt(dir: &Path, args: &[&str], signal: &str) -> (Option<i32>, String) {
    let mut child = Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    wait_for_temporary(dir, &mut child);
    let killed = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    (out.status.code(), stderr(&out))
}

/// A tensor big enough (1 GiB) that writing it takes far longer than delivering a
/// signal, on one thread so it does not hog the machine.
const BIG: [&str; 7] = [
    "gen",
    "--scheme",
    "he-normal",
    "--shape",
    "16384x16384",
    "--threads",
    "1",
];

fn big_with(extra: &[&str]) -> Vec<String> {
    BIG.iter().chain(extra).map(|s| s.to_string()).collect()
}

#[test]
fn signals_mid_write_leave_the_directory_as_it_was() {
    let cases: [(&str, i32, &[&str]); 3] = [
        ("TERM", 143, &["-o", "big.npy"]),
        ("INT", 130, &["-o", "big.safetensors"]),
        ("HUP", 129, &["-o", "out/", "--name", "w"]),
    ];
    for (signal, code, target) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keep.txt"), b"mine").unwrap();
        let before = listing(dir.path());
        let args = big_with(target);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (status, err) = interrupt(dir.path(), &args, signal);
        assert_eq!(status, Some(code), "SIG{signal}: {err}");
        assert!(
            err.contains(&format!("interrupted by SIG{signal}")),
            "{err}"
        );
        assert!(err.contains("removed 1 temporary file"), "{err}");
        assert_eq!(
            listing(dir.path()),
            before,
            "SIG{signal} left files behind: {err}"
        );
        if target[1] == "out/" {
            assert!(err.contains("1 created directory (out)"), "{err}");
        }
    }
}

#[test]
fn completed_files_of_a_multi_file_run_stay_after_an_interrupt() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "gen",
        "--scheme",
        "he-normal",
        "--shape",
        "8x8",
        "--shape",
        "16384x16384",
        "--threads",
        "1",
        "-o",
        "out/",
    ];
    let (status, err) = interrupt(dir.path(), &args, "TERM");
    assert_eq!(status, Some(143), "{err}");
    // The first tensor was whole before the second started: it stays, and so does the
    // directory that holds it; the second's temporary file and the manifest do not.
    assert_eq!(listing(dir.path()), vec!["out/", "out/w0_8x8.npy"], "{err}");
}

#[test]
fn stale_temporaries_of_a_killed_run_are_removed_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join(".w.npy.Ab12Cd.tmp");
    let unrelated = dir.path().join(".x.npy.Ab12Cd.tmp");
    for path in [&stale, &unrelated] {
        let file = std::fs::File::create(path).unwrap();
        file.set_modified(SystemTime::now() - Duration::from_secs(3600))
            .unwrap();
    }
    let out = run(
        dir.path(),
        &line("gen --scheme zeros --shape 4 -o w.npy --report none"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("a temporary file left by an earlier run"));
    assert!(!stale.exists());
    assert!(
        unrelated.exists(),
        "another target's temporary file is not ours"
    );
    assert!(dir.path().join("w.npy").exists());
}

#[test]
fn a_character_device_is_written_through_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    for force in [false, true] {
        let mut args = vec![
            "gen",
            "--scheme",
            "he-normal",
            "--shape",
            "64x64",
            "-o",
            "/dev/null",
            "--format",
            "npy",
            "--report",
            "none",
        ];
        if force {
            args.push("--force");
        }
        let out = run(dir.path(), &args);
        assert!(out.status.success(), "{}", stderr(&out));
        use std::os::unix::fs::FileTypeExt;
        let meta = std::fs::metadata("/dev/null").unwrap();
        assert!(meta.file_type().is_char_device(), "/dev/null was replaced");
    }
}

#[test]
fn a_fifo_is_written_through_and_stays_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.npy");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let out = run(
        dir.path(),
        &line("gen --scheme ones --shape 3x5 -o pipe.npy --report none"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = reader.join().unwrap();
    assert!(bytes.starts_with(b"\x93NUMPY"), "not an .npy stream");
    assert_eq!(&bytes[bytes.len() - 4..], &1f32.to_le_bytes());
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    assert_eq!(listing(dir.path()), vec!["pipe.npy"]);

    // An .npz archive seeks back; a FIFO cannot: refused before anything is written.
    let out = run(
        dir.path(),
        &line("gen --scheme ones --shape 3 -o pipe.npy --format npz"),
    );
    assert_refused(&out, 2, &["not seekable"]);
}

#[test]
fn a_symbolic_link_is_followed_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("real.npy"), b"old").unwrap();
    std::os::unix::fs::symlink("real.npy", dir.path().join("link.npy")).unwrap();
    let args = [
        "gen", "--scheme", "ones", "--shape", "2", "-o", "link.npy", "--report", "none",
    ];
    assert_refused(&run(dir.path(), &args), 2, &["already exists", "--force"]);
    let mut forced = args.to_vec();
    forced.push("--force");
    let out = run(dir.path(), &forced);
    assert!(out.status.success(), "{}", stderr(&out));
    let link = std::fs::symlink_metadata(dir.path().join("link.npy")).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced");
    let real = std::fs::read(dir.path().join("real.npy")).unwrap();
    assert!(
        real.starts_with(b"\x93NUMPY"),
        "the file behind the link was not replaced"
    );

    std::os::unix::fs::symlink("missing.npy", dir.path().join("dangling.npy")).unwrap();
    let out = run(
        dir.path(),
        &line("gen --scheme ones --shape 2 -o dangling.npy --force"),
    );
    assert_refused(&out, 2, &["symbolic link", "missing.npy", "does not exist"]);
}

#[test]
fn oversized_in_memory_tensors_are_refused_not_aborted() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &line("gen --scheme orthogonal --shape 100000x100000 -o q.npy"),
    );
    assert_refused(
        &out,
        2,
        &[
            "orthogonal",
            "100000x100000",
            "memory budget",
            "--max-memory",
        ],
    );
    // A small budget refuses small matrices too, and torch's truncated normal (which
    // PyTorch draws whole); the default budget lets them through.
    let small = ["--max-memory", "1MiB"];
    let cases: [&[&str]; 2] = [
        &line("gen --scheme orthogonal --shape 512x512 -o q.npy"),
        &line(
            "gen --rng torch --seed 0 --scheme truncated-normal --shape 512x512 --layout oi -o t.npy",
        ),
    ];
    for args in cases {
        let limited: Vec<&str> = args.iter().chain(&small).copied().collect();
        assert_refused(&run(dir.path(), &limited), 2, &["needs", "1.0 MiB"]);
        let mut fine = args.to_vec();
        fine.extend(["--report", "none"]);
        let out = run(dir.path(), &fine);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(listing(dir.path()), vec!["q.npy", "t.npy"]);
    assert_refused(
        &run(
            dir.path(),
            &line("gen --scheme zeros --shape 2 --max-memory lots"),
        ),
        2,
        &["'lots' is not a size"],
    );
}

#[test]
fn a_job_larger_than_the_disk_is_refused_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &line("gen --scheme he-normal --shape 100000x100000x100000 -o big.npy"),
    );
    assert_refused(&out, 1, &["needs at least 3.6 PiB", "free"]);
    let out = run(
        dir.path(),
        &line("gen --scheme he-normal --shape 100000x100000x100000 --shape 4x4 -o new/"),
    );
    assert_refused(&out, 1, &["needs at least", "'new'"]);
    assert!(listing(dir.path()).is_empty(), "{:?}", listing(dir.path()));
}

#[test]
fn values_the_dtype_cannot_hold_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &str); 4] = [
        ("constant:value=70000", "f16", "65504"),
        ("normal:std=1e30", "f16", "65504"),
        ("uniform:low=0,high=1e39", "f32", "3.4028234663852886e38"),
        (
            "normal:mean=1e308,std=1e308",
            "f64",
            "1.7976931348623157e308",
        ),
    ];
    for (scheme, dtype, largest) in cases {
        let out = run(
            dir.path(),
            &[
                "gen",
                "--scheme",
                scheme,
                "--dtype",
                dtype,
                "--shape",
                "4x4",
                "-o",
                "w.safetensors",
            ],
        );
        assert_refused(&out, 2, &[scheme, dtype, largest]);
    }
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn the_report_states_the_stored_constant_and_verify_accepts_gen_s_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &line("gen --scheme constant:value=0.1 --dtype f16 --shape 8 -o c.npy"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("exactly 0.0999755859375 (0.1 rounded to f16)"),
        "{}",
        stderr(&out)
    );
    for scheme in ["constant:value=0.1", "constant:value=65504"] {
        let file = format!("{}.npy", scheme.len());
        let out = run(
            dir.path(),
            &[
                "gen", "--scheme", scheme, "--dtype", "f16", "--shape", "8", "-o", &file,
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let out = run(dir.path(), &["verify", &file, "--scheme", scheme]);
        assert!(
            out.status.success(),
            "verify refused gen's {scheme}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn threads_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = run(
        dir.path(),
        &line("gen --scheme zeros --shape 4x4 --threads 100000"),
    );
    assert_refused(&out, 2, &["--threads 100000", "1024"]);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn no_arguments_is_a_usage_error_with_the_help() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("Usage: weightinit"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn error_lines_are_bounded_and_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let deep = vec!["2"; 3000].join("x");
    let out = run(
        dir.path(),
        &["gen", "--scheme", "he-normal", "--shape", &deep],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1);
    assert!(
        err.chars().count() < 400,
        "{} characters",
        err.chars().count()
    );
    assert!(err.contains("more characters)"), "{err}");

    let hostile = "w\u{1b}[31mred\nsecond line";
    let out = run(
        dir.path(),
        &[
            "gen",
            "--scheme",
            "he-normal",
            "--shape",
            "4",
            "--name",
            hostile,
        ],
    );
    let err = stderr(&out);
    assert!(
        !err.contains('\u{1b}'),
        "raw escape reached the terminal: {err:?}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err:?}");
    assert!(!out.status.success());
}

/// A small tmpfs of our own, so a write can run out of room half-way: the run's checks
/// pass (they count the tensor data, not the few hundred bytes of headers around it)
/// and the disk fills while it writes. Needs root for `mount`; CI runs as root.
struct SmallFilesystem(tempfile::TempDir);

impl SmallFilesystem {
    fn mount(bytes: usize) -> Option<SmallFilesystem> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .is_ok_and(|o| o.status.success());
        if !mounted {
            assert!(
                std::env::var("CI").is_err(),
                "CI runs as root and must be able to mount a tmpfs for this test"
            );
            eprintln!("SKIPPED disk-full tests: cannot mount a tmpfs (not root?)");
            return None;
        }
        Some(SmallFilesystem(dir))
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for SmallFilesystem {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

#[test]
fn a_disk_that_fills_mid_write_gives_one_line_and_leaves_nothing() {
    let Some(fs) = SmallFilesystem::mount(64 << 10) else {
        return;
    };
    // 65,440 bytes of data fit the 64 KiB the check sees; the headers around them do not.
    for target in ["m.npz", "m.safetensors", "m.npy", "m.json"] {
        let out = run(
            fs.path(),
            &line(&format!(
                "gen --scheme he-normal --shape 4x4090 -o {target}"
            )),
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{target}: {err}");
        assert_eq!(err.lines().count(), 1, "{target}: {err}");
        assert!(err.contains("No space left on device"), "{target}: {err}");
        assert!(!err.contains("ZipWriter") && !err.contains(".tmp"), "{err}");
        assert!(
            listing(fs.path()).is_empty(),
            "{target}: {:?}",
            listing(fs.path())
        );
    }
}
