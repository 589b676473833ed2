//! The Kolmogorov–Smirnov test against a law *as rounded to the stored dtype*: the
//! distinct stored values with their counts, the rounding interval of each, the KS
//! distance at the interval edges, and the Kolmogorov distribution's tail for the
//! p-value. `verify` uses it; the reasoning is in [`crate::inspect::verify`]'s docs.

use crate::array::dtype::DType;
use crate::law::Distribution;

/// The distinct stored values in increasing order with how often each occurs (−0 and
/// +0 counted together).
pub fn distinct_counts(values: &[f64], dtype: DType) -> Vec<(f64, usize)> {
    if dtype.is_half() {
        // 65,536 possible values: count them by an order-preserving key of their bits
        // (linear time, however many millions of values).
        let bits = |x: f64| match dtype {
            DType::F16 => half::f16::from_f64(x).to_bits(),
            _ => half::bf16::from_f64(x).to_bits(),
        };
        let key = |b: u16| if b & 0x8000 != 0 { !b } else { b | 0x8000 };
        let unkey = |k: u16| if k & 0x8000 != 0 { k & 0x7fff } else { !k };
        let mut counts = vec![0usize; 1 << 16];
        for &x in values {
            counts[usize::from(key(bits(x + 0.0)))] += 1;
        }
        counts
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c > 0)
            .map(|(k, &c)| {
                let b = unkey(k as u16);
                let v = match dtype {
                    DType::F16 => half::f16::from_bits(b).to_f64(),
                    _ => half::bf16::from_bits(b).to_f64(),
                };
                (v, c)
            })
            .collect()
    } else {
        let mut sorted: Vec<f64> = values.iter().map(|&x| x + 0.0).collect();
        sorted.sort_unstable_by(f64::total_cmp);
        // Sized exactly, so the counts never hold more than 16 bytes per distinct value.
        let distinct = 1 + sorted.windows(2).filter(|w| w[0] != w[1]).count();
        let mut out: Vec<(f64, usize)> = Vec::with_capacity(distinct);
        for x in sorted {
            match out.last_mut() {
                Some((v, c)) if *v == x => *c += 1,
                _ => out.push((x, 1)),
            }
        }
        out
    }
}

/// The interval of reals that round to `v` in `dtype` (round to nearest): half-way to
/// the neighbours on either side. f64 is treated as continuous (the interval is `v`).
pub fn rounding_interval(v: f64, dtype: DType) -> (f64, f64) {
    fn halfway16(v: f64, to_bits: fn(f64) -> u16, from_bits: fn(u16) -> f64) -> (f64, f64) {
        // IEEE bit patterns are ordered by magnitude within each sign.
        let b = to_bits(v);
        let (down, up) = match b {
            0x0000 | 0x8000 => (0x8001, 0x0001),
            b if b & 0x8000 == 0 => (b - 1, b + 1),
            b => (b + 1, b - 1),
        };
        (0.5 * (v + from_bits(down)), 0.5 * (v + from_bits(up)))
    }
    match dtype {
        DType::F64 => (v, v),
        DType::F32 => {
            let x = v as f32;
            (
                0.5 * (v + f64::from(x.next_down())),
                0.5 * (v + f64::from(x.next_up())),
            )
        }
        DType::F16 => halfway16(
            v,
            |x| half::f16::from_f64(x).to_bits(),
            |b| half::f16::from_bits(b).to_f64(),
        ),
        DType::Bf16 => halfway16(
            v,
            |x| half::bf16::from_f64(x).to_bits(),
            |b| half::bf16::from_bits(b).to_f64(),
        ),
    }
}

/// KS distance between the stored values and `law` rounded to `dtype`, and its p-value.
///
/// Both CDFs are step functions that jump only at representable values, and between two
/// stored values the empirical one is flat while the law's rises; so the supremum is
/// attained at an edge: for each distinct stored value v (rounding interval [lo, hi],
/// empirical CDF F̂ before it and after it) the candidates are |F̂(v⁻) − F(lo)| and
/// |F̂(v) − F(hi)|. For f64 (lo = hi = v) this is the classic statistic, ties included.
pub fn ks_rounded(
    counts: &[(f64, usize)],
    n: usize,
    law: &Distribution,
    dtype: DType,
) -> (f64, f64) {
    let cdf = |x: f64| law.cdf(x).unwrap_or(f64::NAN);
    let nf = n as f64;
    let mut below = 0usize;
    let mut d = 0.0f64;
    // The law's left limit at lo: a law with an atom (the dt bias's floor) jumps at a
    // value an f64 tensor stores exactly, so F(lo) there already holds the atom; 16 f64
    // ulps below lo it does not, and a continuous law moves by nothing measurable.
    let left_limit = |lo: f64| cdf(lo - 16.0 * f64::EPSILON * lo.abs());
    for &(v, c) in counts {
        let (lo, hi) = rounding_interval(v, dtype);
        d = d.max((below as f64 / nf - left_limit(lo)).abs());
        below += c;
        d = d.max((below as f64 / nf - cdf(hi)).abs());
    }
    (d, kolmogorov_p(d, n))
}

/// P(D_n ≥ d) for the KS statistic of n values, from the asymptotic Kolmogorov
/// distribution with Stephens' finite-n correction λ = (√n + 0.12 + 0.11/√n)·d
/// (M. A. Stephens, JRSS B 32 (1970) 115–122; accurate to about 1% in the tail for
/// n ≥ 5, and the tail is all the threshold looks at). For discrete (rounded) data the
/// test is conservative: the true p-value is at least this large.
pub fn kolmogorov_p(d: f64, n: usize) -> f64 {
    if n == 0 || d <= 0.0 {
        return 1.0;
    }
    let sqrt_n = (n as f64).sqrt();
    let lambda = (sqrt_n + 0.12 + 0.11 / sqrt_n) * d;
    kolmogorov_survival(lambda).clamp(0.0, 1.0)
}

/// Q(λ) = P(K > λ) for the Kolmogorov distribution K.
///
/// Two series for the same function, each used where it converges in a few terms:
/// Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²} for λ ≥ 1.18, and
/// Q(λ) = 1 − (√(2π)/λ) Σ_{k≥1} e^{−(2k−1)²π²/(8λ²)} below.
pub fn kolmogorov_survival(lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return 1.0;
    }
    if lambda < 1.18 {
        let t = std::f64::consts::PI * std::f64::consts::PI / (8.0 * lambda * lambda);
        let mut sum = 0.0;
        for k in 1..=20 {
            let odd = (2 * k - 1) as f64;
            let term = (-odd * odd * t).exp();
            sum += term;
            if term < 1e-17 * sum {
                break;
            }
        }
        1.0 - (2.0 * std::f64::consts::PI).sqrt() / lambda * sum
    } else {
        let mut sum = 0.0;
        for k in 1..=100 {
            let kf = k as f64;
            let term = (-2.0 * kf * kf * lambda * lambda).exp();
            sum += if k % 2 == 1 { term } else { -term };
            if term < 1e-17 * sum.abs() {
                break;
            }
        }
        2.0 * sum
    }
}
