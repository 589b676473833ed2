//! Accuracy of the native stream's transforms against high-precision references.
//!
//! tests/fixtures/native_accuracy.py (mpmath, 80 digits) wrote the exact Box–Muller pair
//! and the exact truncated-normal inverse CDF for chosen words — the extremes, the
//! radius split at √½, every octant boundary, and seeded random ones — and this measures
//! how far weightinit's value before the final rounding (the f32 or f64 `z`) lies from it,
//! in units in the last place of the arithmetic. The bounds are the README's stated
//! accuracy.

use serde_json::Value;
use weightinit::draw::normal::pair;
use weightinit::draw::truncated::{Window, standard};

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/native_accuracy.json"
    );
    let text = std::fs::read_to_string(path).expect("reading native_accuracy.json");
    serde_json::from_str(&text).expect("parsing native_accuracy.json")
}

fn field<T: std::str::FromStr>(v: &Value) -> T
where
    T::Err: std::fmt::Debug,
{
    v.as_str().expect("a string").parse().expect("a number")
}

/// |ours − exact| in ulps of `exact` at f32 precision (exact is given to 30 digits).
fn ulps_f32(ours: f32, exact: f64) -> f64 {
    let e = exact.abs().max(f64::from(f32::MIN_POSITIVE));
    let ulp = 2f64.powi(e.log2().floor() as i32 - 23);
    (f64::from(ours) - exact).abs() / ulp
}

/// The same at f64 precision. The exact value read into an f64 is itself rounded, by at
/// most half an ulp, which the bounds below include.
fn ulps_f64(ours: f64, exact: f64) -> f64 {
    let e = exact.abs().max(f64::MIN_POSITIVE);
    let ulp = 2f64.powi(e.log2().floor() as i32 - 52);
    (ours - exact).abs() / ulp
}

/// The stated bounds, in ulps of the arithmetic.
const BOX_MULLER_F32: f64 = 4.0;
const BOX_MULLER_F64: f64 = 4.0;
const TRUNCATED_F32: f64 = 8.0;
const TRUNCATED_F64: f64 = 8.0;
/// Near the median of an f64 window that straddles it, the error is absolute rather than
/// relative: the per-tensor constants Φ(α) and the mass carry ~2⁻⁵³ relative rounding,
/// which moves the word where z = 0 by a few hundred of the 2⁶⁴ words, i.e. shifts the
/// window by ~1e-17σ. Within this absolute distance a value counts as accurate too.
const TRUNCATED_F64_ABSOLUTE: f64 = 4e-17;

#[test]
fn box_muller_is_within_a_few_ulps_of_the_exact_transform() {
    let fixture = fixture();
    let mut worst = (0.0f64, 0.0f64);
    for row in fixture["box_muller_f32"].as_array().expect("rows") {
        let (a, b): (u32, u32) = (field(&row[0]), field(&row[1]));
        let (z0, z1) = pair::<f32>(a, b);
        for (ours, exact) in [(z0, field::<f64>(&row[2])), (z1, field(&row[3]))] {
            let err = ulps_f32(ours, exact);
            worst.0 = worst.0.max(err);
            assert!(
                err <= BOX_MULLER_F32,
                "f32 ({a:#x}, {b:#x}): {ours:e} vs {exact:e}, {err:.2} ulps"
            );
        }
    }
    for row in fixture["box_muller_f64"].as_array().expect("rows") {
        let (a, b): (u64, u64) = (field(&row[0]), field(&row[1]));
        let (z0, z1) = pair::<f64>(a, b);
        for (ours, exact) in [(z0, field::<f64>(&row[2])), (z1, field(&row[3]))] {
            let err = ulps_f64(ours, exact);
            worst.1 = worst.1.max(err);
            assert!(
                err <= BOX_MULLER_F64,
                "f64 ({a:#x}, {b:#x}): {ours:e} vs {exact:e}, {err:.2} ulps"
            );
        }
    }
    eprintln!(
        "Box–Muller: worst {:.2} ulps (f32), {:.2} ulps (f64)",
        worst.0, worst.1
    );
}

#[test]
fn truncated_inverse_cdf_is_within_a_few_ulps_of_the_exact_transform() {
    let fixture = fixture();
    for (key, bound) in [
        ("truncated_f32", TRUNCATED_F32),
        ("truncated_f64", TRUNCATED_F64),
    ] {
        for window in fixture[key].as_array().expect("windows") {
            let (alpha, beta) = (
                window["alpha"].as_f64().unwrap(),
                window["beta"].as_f64().unwrap(),
            );
            let w = Window::truncated(0.0, 1.0, alpha, beta);
            let (mut worst, mut worst_absolute) = (0.0f64, 0.0f64);
            for row in window["values"].as_array().expect("rows") {
                let exact: f64 = field(&row[1]);
                let (err, absolute) = if key == "truncated_f32" {
                    let word: u32 = field(&row[0]);
                    let z = standard(word, &w.single);
                    (ulps_f32(z, exact), (f64::from(z) - exact).abs())
                } else {
                    let word: u64 = field(&row[0]);
                    let z = standard(word, &w.double);
                    (ulps_f64(z, exact), (z - exact).abs())
                };
                let near_median = key == "truncated_f64" && absolute <= TRUNCATED_F64_ABSOLUTE;
                if near_median {
                    worst_absolute = worst_absolute.max(absolute);
                } else {
                    worst = worst.max(err);
                }
                assert!(
                    err <= bound || near_median,
                    "{key} [{alpha}, {beta}] word {}: {err:.2} ulps ({absolute:e}) from {exact:e}",
                    row[0]
                );
            }
            eprintln!(
                "{key} [{alpha}, {beta}]: worst {worst:.2} ulps, {worst_absolute:e} absolute"
            );
        }
    }
}
