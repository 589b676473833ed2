//! Unit tests of `verify`: the checks, the KS pieces and the repeat checks.

use super::*;
use crate::check::ks::*;

#[test]
fn kolmogorov_distribution_matches_published_values() {
    // Q(λ) = P(K > λ): tabulated values (Smirnov 1948; e.g. Marsaglia, Tsang & Wang
    // 2003): the 5% and 1% critical points 1.3581 and 1.6276, Q(1) = 0.269999671.
    let table = [
        (1.0, 0.269_999_671),
        (1.3581, 0.05),
        (1.6276, 0.01),
        (0.5, 0.963_945_2),
    ];
    for (lambda, q) in table {
        let got = kolmogorov_survival(lambda);
        assert!(
            (got - q).abs() < 2e-5 * q.max(0.01) / 0.01,
            "Q({lambda}) = {got}, want {q}"
        );
    }
    // The two series agree where they meet.
    let (below, above) = (kolmogorov_survival(1.18 - 1e-12), kolmogorov_survival(1.18));
    assert!((below - above).abs() < 1e-12, "{below} vs {above}");
    assert_eq!(kolmogorov_survival(0.0), 1.0);
    assert!(kolmogorov_survival(10.0) < 1e-80);
    assert_eq!(kolmogorov_p(0.0, 100), 1.0);
}

#[test]
fn rounding_intervals_reach_half_way_to_the_neighbours() {
    let (lo, hi) = rounding_interval(1.0, DType::F16);
    assert_eq!((lo, hi), (1.0 - 2f64.powi(-12), 1.0 + 2f64.powi(-11)));
    let (lo, hi) = rounding_interval(-1.0, DType::Bf16);
    assert_eq!((lo, hi), (-1.0 - 2f64.powi(-8), -1.0 + 2f64.powi(-9)));
    let (lo, hi) = rounding_interval(1.0, DType::F32);
    assert_eq!((lo, hi), (1.0 - 2f64.powi(-25), 1.0 + 2f64.powi(-24)));
    let (lo, hi) = rounding_interval(0.0, DType::F16);
    assert!(lo < 0.0 && hi > 0.0 && hi == -lo);
    assert_eq!(rounding_interval(0.3, DType::F64), (0.3, 0.3));
}

/// The reason for comparing with the *rounded* law: a sample that follows the
/// bf16-rounded normal perfectly (counts n·P(v) for every bf16 value v) is rejected
/// by the plain KS test at n = 10⁸ — rounding alone makes D ≈ half a CDF jump — and
/// accepted by ours.
#[test]
fn rounded_data_is_compared_with_the_rounded_law() {
    let law = Distribution::Normal {
        mean: 0.0,
        std: 0.05,
    };
    let n_target = 1e8;
    let mut counts = Vec::new();
    // Every bf16 value in ±7σ, in increasing order.
    let mut v = half::bf16::from_f64(-0.35);
    while v.to_f64() <= 0.35 {
        let x = v.to_f64();
        let (lo, hi) = rounding_interval(x, DType::Bf16);
        let c = (n_target * (law.cdf(hi).unwrap() - law.cdf(lo).unwrap())).round() as usize;
        if c > 0 && !(x == 0.0 && counts.iter().any(|&(y, _)| y == 0.0)) {
            counts.push((x, c));
        }
        let b = v.to_bits();
        v = half::bf16::from_bits(match b {
            0x8000 => 0x0001,
            b if b & 0x8000 != 0 => b - 1,
            b => b + 1,
        });
    }
    let n: usize = counts.iter().map(|&(_, c)| c).sum();
    let (d_rounded, p_rounded) = ks_rounded(&counts, n, &law, DType::Bf16);
    let (d_plain, p_plain) = ks_rounded(&counts, n, &law, DType::F64);
    assert!(p_rounded > 0.5, "rounded: D = {d_rounded}, p = {p_rounded}");
    assert!(p_plain < KS_P_LIMIT, "plain: D = {d_plain}, p = {p_plain}");
}

fn tensor(shape: &[usize], values: Vec<f64>) -> LoadedTensor {
    LoadedTensor {
        name: "w".into(),
        shape: shape.to_vec(),
        dtype: DType::F64,
        values,
    }
}

fn scheme(text: &str) -> SchemeSpec {
    text.parse().unwrap()
}

/// A deterministic U(0,1) stream for test data (SplitMix64).
fn uniforms(seed: u64, n: usize) -> Vec<f64> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((z ^ (z >> 31)) >> 11) as f64 * 2f64.powi(-53)
        })
        .collect()
}

#[test]
fn repeated_rows_and_columns_are_found_only_when_they_cannot_be_chance() {
    // 200x50 uniform(-1, 1) values: consistent; then row 17 := row 3.
    let mut values: Vec<f64> = uniforms(1, 10_000).iter().map(|u| 2.0 * u - 1.0).collect();
    let s = scheme("uniform:low=-1,high=1");
    let ok = verify_tensor(&tensor(&[200, 50], values.clone()), &s, Layout::Io).unwrap();
    assert!(ok.consistent, "{:?}", ok.first_failure());
    let (first, rest) = values.split_at_mut(17 * 50);
    rest[..50].copy_from_slice(&first[3 * 50..4 * 50]);
    let bad = verify_tensor(&tensor(&[200, 50], values.clone()), &s, Layout::Io).unwrap();
    let failure = bad.first_failure().unwrap();
    assert_eq!(failure.check, "rows");
    assert!(
        failure.detail.starts_with("rows 3 and 17 are identical"),
        "{}",
        failure.detail
    );
    // A 10000x1 view has one-value rows: repeats there would prove nothing, so the
    // row check is skipped rather than run.
    let column = verify_tensor(&tensor(&[10_000, 1], values), &s, Layout::Io).unwrap();
    let rows = column.checks.iter().find(|c| c.check == "rows").unwrap();
    assert_eq!(rows.status, Status::Skipped, "{}", rows.detail);
}

#[test]
fn constant_and_identity_laws_need_exact_values() {
    let eye = vec![2.0, 0.0, 0.0, 0.0, 2.0, 0.0];
    let v = verify_tensor(
        &tensor(&[2, 3], eye.clone()),
        &scheme("identity:gain=2"),
        Layout::Io,
    )
    .unwrap();
    assert!(v.consistent);
    let mut off = eye;
    off[5] = 1e-9;
    let v = verify_tensor(
        &tensor(&[2, 3], off),
        &scheme("identity:gain=2"),
        Layout::Io,
    )
    .unwrap();
    assert!(
        v.first_failure()
            .unwrap()
            .detail
            .starts_with("element 5 is")
    );
    let v = verify_tensor(
        &tensor(&[3], vec![0.1; 3]),
        &scheme("constant:value=0.1"),
        Layout::Io,
    )
    .unwrap();
    assert!(v.consistent);
    let v = verify_tensor(
        &tensor(&[3], vec![f64::NAN; 3]),
        &scheme("zeros"),
        Layout::Io,
    )
    .unwrap();
    assert_eq!(v.first_failure().unwrap().check, "finite");
}

#[test]
fn small_samples_say_the_checks_are_weak() {
    let values: Vec<f64> = uniforms(2, 20).iter().map(|u| u - 0.5).collect();
    let v = verify_tensor(
        &tensor(&[20], values),
        &scheme("uniform:low=-0.5,high=0.5"),
        Layout::Io,
    )
    .unwrap();
    assert!(v.variance_resolution.unwrap() > WEAK_RESOLUTION);
    assert!(
        v.notes.iter().any(|n| n.contains("too small")),
        "{:?}",
        v.notes
    );
}
