//! The transcendental functions of the native stream, written out operation by operation.
//!
//! The platform's `log` and `exp` differ between C libraries, and a compiler may fuse a
//! multiply and an add on one CPU and not on another. Every function here uses only
//! IEEE-754 additions, multiplications, divisions, square roots and exact bit
//! manipulations, in a fixed order (Rust never contracts `a * b + c` into an FMA), so
//! each returns the same bits on every CPU, at every SIMD level, and in the NumPy
//! re-implementation of the contract (tests/fixtures/native_reference.py).
//!
//! * [`ln_f32`], [`ln_f64`] (and their parts, so that ln(1 − v) can be taken without
//!   rounding 1 − v): natural logarithms, per element, for Box–Muller's radius and the
//!   inverse CDF's tails; [`sin_cos_f32`], [`sin_cos_f64`]: on [0, π/4], for
//!   Box–Muller's angle.
//! * [`upper_tail`], [`centred_cdf`]: Q(x) = P(Z > x) and Φ(x) − ½ in f64, computed once
//!   per tensor for the truncated normal's window (with [`exp_f64`]).
//! * [`one_minus_exp_neg`], [`inverse_softplus`]: 1 − e^(−x) and ln(eˣ − 1), per element,
//!   for Mamba's dt bias (with [`exp_f64`] and [`ln_f64`]).

// ---------------------------------------------------------------------------------------
// Logarithms

/// Cephes `logf` (S. L. Moshier, Cephes Math Library 2.8, 2000): ln(1+f) ≈
/// f − f²/2 + f³·P(f) on √½ < 1+f ≤ √2, P of degree 8, with ln 2 split in two
/// (0.693359375 is exact in 9 bits, so e·0.693359375 is exact for |e| < 2¹⁵).
/// The constants are the published decimals, rounded to f32 by the compiler.
#[allow(clippy::excessive_precision)]
const LOGF_P: [f32; 9] = [
    7.0376836292E-2,
    -1.1514610310E-1,
    1.1676998740E-1,
    -1.2420140846E-1,
    1.4249322787E-1,
    -1.6668057665E-1,
    2.0000714765E-1,
    -2.4999993993E-1,
    3.3333331174E-1,
];
#[allow(clippy::excessive_precision)] // exact: 355/512
const LOGF_LN2_HI: f32 = 0.693359375;
#[allow(clippy::excessive_precision)]
const LOGF_LN2_LO: f32 = -2.12194440E-4;

/// ln(x) for a positive normal f32 (subnormals, zero, infinities and NaN are never
/// passed: the samplers' probabilities are ≥ 2⁻¹²³). Within 1 ulp on the stream's range.
#[inline(always)]
pub fn ln_f32(x: f32) -> f32 {
    let (f, e) = ln_parts_f32(x);
    ln_core_f32(f, e)
}

/// x = 2ᵉ·(1 + f) with 1 + f in (√½, √2].
#[inline(always)]
pub fn ln_parts_f32(x: f32) -> (f32, f32) {
    let bits = x.to_bits();
    let exponent = ((bits >> 23) & 0xff) as i32 - 127;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let high = m > std::f32::consts::SQRT_2;
    let m = if high { m * 0.5 } else { m };
    (m - 1.0, (exponent + i32::from(high)) as f32)
}

/// ln(2ᵉ·(1 + f)) for 1 + f in (√½, √2] (f is exact, e an integer).
#[inline(always)]
pub fn ln_core_f32(f: f32, e: f32) -> f32 {
    let z = f * f;
    let mut y = LOGF_P[0];
    for &c in &LOGF_P[1..] {
        y = y * f + c;
    }
    let y = y * f * z;
    let y = y + LOGF_LN2_LO * e;
    let y = y - 0.5 * z;
    let r = f + y;
    r + LOGF_LN2_HI * e
}

/// fdlibm `e_log.c` (Sun Microsystems, 1993): with s = f/(2+f),
/// ln(1+f) = f − (hfsq − s·(hfsq + R(s))), R a degree-14 even polynomial, ln 2 split so
/// that k·LN2_HI is exact.
#[allow(clippy::excessive_precision)]
const LG: [f64; 7] = [
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
];
#[allow(clippy::excessive_precision)]
const LN2_HI: f64 = 6.93147180369123816490e-01;
#[allow(clippy::excessive_precision)]
const LN2_LO: f64 = 1.90821492927058770002e-10;

/// ln(x) for a positive normal f64 (the samplers' probabilities are ≥ 2⁻³⁶⁰·2⁻⁶⁴).
/// Within 1 ulp.
#[inline(always)]
pub fn ln_f64(x: f64) -> f64 {
    let (f, k) = ln_parts_f64(x);
    ln_core_f64(f, k)
}

/// x = 2ᵏ·(1 + f) with 1 + f in (√½, √2].
#[inline(always)]
pub fn ln_parts_f64(x: f64) -> (f64, f64) {
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let high = m > std::f64::consts::SQRT_2;
    let m = if high { m * 0.5 } else { m };
    (m - 1.0, (exponent + i64::from(high)) as f64)
}

/// ln(2ᵏ·(1 + f)) for 1 + f in (√½, √2] (f is exact, k an integer).
#[inline(always)]
pub fn ln_core_f64(f: f64, k: f64) -> f64 {
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG[1] + w * (LG[3] + w * LG[5]));
    let t2 = z * (LG[0] + w * (LG[2] + w * (LG[4] + w * LG[6])));
    let r = t2 + t1;
    let hfsq = 0.5 * f * f;
    k * LN2_HI - ((hfsq - (s * (hfsq + r) + k * LN2_LO)) - f)
}

// ---------------------------------------------------------------------------------------
// Sine and cosine on [0, π/4]

/// Cephes `sinf`/`cosf` (Moshier 2000): sin x ≈ x + x·z·S(z), cos x ≈ 1 − z/2 + z²·C(z),
/// z = x², on [0, π/4].
#[allow(clippy::excessive_precision)]
const SINF: [f32; 3] = [-1.9515295891E-4, 8.3321608736E-3, -1.6666654611E-1];
#[allow(clippy::excessive_precision)]
const COSF: [f32; 3] = [
    2.443315711809948E-005,
    -1.388731625493765E-003,
    4.166664568298827E-002,
];

/// (sin x, cos x) for x in [0, π/4], each within 1–2 ulps.
#[inline(always)]
pub fn sin_cos_f32(x: f32) -> (f32, f32) {
    let z = x * x;
    let sin = ((SINF[0] * z + SINF[1]) * z + SINF[2]) * z * x + x;
    let cos = ((COSF[0] * z + COSF[1]) * z + COSF[2]) * z * z;
    let cos = (cos - 0.5 * z) + 1.0;
    (sin, cos)
}

/// fdlibm `k_sin.c` and `k_cos.c` (Sun Microsystems, 1993), on [−π/4, π/4].
#[allow(clippy::excessive_precision)]
const SIN: [f64; 6] = [
    -1.66666666666666324348e-01,
    8.33333333332248946124e-03,
    -1.98412698298579493134e-04,
    2.75573137070700676789e-06,
    -2.50507602534068634195e-08,
    1.58969099521155010221e-10,
];
#[allow(clippy::excessive_precision)]
const COS: [f64; 6] = [
    4.16666666666666019037e-02,
    -1.38888888888741095749e-03,
    2.48015872894767294178e-05,
    -2.75573143513906633035e-07,
    2.08757232129817482790e-09,
    -1.13596475577881948265e-11,
];

/// (sin x, cos x) for x in [0, π/4], each within 1 ulp.
#[inline(always)]
pub fn sin_cos_f64(x: f64) -> (f64, f64) {
    let z = x * x;
    let v = z * x;
    let r = SIN[1] + z * (SIN[2] + z * (SIN[3] + z * (SIN[4] + z * SIN[5])));
    let sin = x + v * (SIN[0] + z * r);
    let r = z * (COS[0] + z * (COS[1] + z * (COS[2] + z * (COS[3] + z * (COS[4] + z * COS[5])))));
    let hz = 0.5 * z;
    let w = 1.0 - hz;
    let cos = w + (((1.0 - w) - hz) + z * r);
    (sin, cos)
}

// ---------------------------------------------------------------------------------------
// The normal distribution's tails, once per tensor

/// Terms of the Taylor series of exp(r), |r| ≤ ½ ln 2: 14 terms leave < 1e-17.
const EXP_TERMS: u32 = 14;

/// exp(t) for t ≤ 709 (the dt bias's exp(ln dt) is the only positive use), within a few
/// ulps; 0 below −746.
/// exp(t) = 2ᵏ·exp(r), k = ⌊t/ln 2 + ½⌋, r = (t − k·LN2_HI) − k·LN2_LO, exp(r) by its
/// Taylor series in Horner form 1 + r(1 + r/2(1 + r/3(…))).
pub fn exp_f64(t: f64) -> f64 {
    if t < -746.0 {
        return 0.0;
    }
    let k = (t * std::f64::consts::LOG2_E + 0.5).floor();
    let r = (t - k * LN2_HI) - k * LN2_LO;
    let mut sum = 1.0;
    for n in (1..EXP_TERMS).rev() {
        sum = 1.0 + r * sum / f64::from(n);
    }
    scale_by_power_of_two(sum, k as i32)
}

/// x·2ᵏ with one rounding (x in [½, 2], k ≥ −1100): two exact power-of-two factors
/// when 2ᵏ itself is not a normal number.
fn scale_by_power_of_two(x: f64, k: i32) -> f64 {
    let power = |k: i32| f64::from_bits(((k + 1023) as u64) << 52);
    if k >= -1022 {
        x * power(k)
    } else {
        x * power(k + 1000) * power(-1000)
    }
}

/// 1/√(2π), rounded to the nearest double.
#[allow(clippy::excessive_precision)]
const INV_SQRT_2PI: f64 = 0.398942280401432677939946059934;

/// φ(x), the standard normal density, for 0 ≤ x < 2³⁶. x² is split as
/// xh² + (xh·xl + xl²/2)·2 with xh = ⌊x·2¹⁶⌋/2¹⁶, so that the large part is exact and
/// exp's argument carries no rounding error worth a tail's relative precision.
fn density(x: f64) -> f64 {
    let high = (x * 65536.0).floor() / 65536.0;
    let low = x - high;
    let big = 0.5 * (high * high);
    let small = high * low + 0.5 * (low * low);
    INV_SQRT_2PI * (exp_f64(-big) * exp_f64(-small))
}

/// Where the series for Φ(x) − ½ hands over to the continued fraction for Q(x).
const SERIES_LIMIT: f64 = 1.5;
/// Terms of the series: at x = 1.5 the 40th is below 1e-40 of the sum.
const SERIES_TERMS: u32 = 40;
/// Depth of the continued fraction, evaluated backwards: from x = 1.5 on, depth 300
/// agrees with mpmath's Mills ratio to 1e-16 (checked when choosing it).
const FRACTION_DEPTH: u32 = 300;

/// Φ(x) − ½ for x ≥ 0 (x may be +∞), without cancellation for small x.
///
/// Below 1.5: φ(x)·Σₙ x²ⁿ⁺¹/(1·3·5···(2n+1)) (Abramowitz & Stegun 26.2.10), a sum of
/// positive terms. From 1.5 on: ½ − Q(x).
pub fn centred_cdf(x: f64) -> f64 {
    if x < SERIES_LIMIT {
        let x2 = x * x;
        let mut term = x;
        let mut sum = x;
        for n in 1..=SERIES_TERMS {
            term = term * x2 / f64::from(2 * n + 1);
            sum += term;
        }
        density(x) * sum
    } else {
        0.5 - upper_tail(x)
    }
}

/// Q(x) = P(Z > x) = 1 − Φ(x) for x ≥ 0 (x may be +∞), to full relative precision far
/// into the tail (Q(9) ≈ 1.1e−19, Q(38) ≈ 2.9e−316).
///
/// Below 1.5: ½ − (Φ(x) − ½). From 1.5 on: φ(x)·R(x) with Mills' ratio R as Laplace's
/// continued fraction R(x) = 1/(x + 1/(x + 2/(x + 3/(x + …)))) (A&S 26.2.14), evaluated
/// from depth 300 back to the top.
pub fn upper_tail(x: f64) -> f64 {
    if x == f64::INFINITY {
        return 0.0;
    }
    if x < SERIES_LIMIT {
        return 0.5 - centred_cdf(x);
    }
    let mut t = x;
    for k in (1..=FRACTION_DEPTH).rev() {
        t = x + f64::from(k) / t;
    }
    density(x) / t
}

// ---------------------------------------------------------------------------------------
// Mamba's dt bias: 1 − e^(−x) and the inverse softplus

/// Terms of the series of 1 − e^(−x) below [`SERIES_SWITCH`]: at x = ½ the 20th term is
/// 2⁻²⁰/20! ≈ 4e-25, far below an f64 ulp of the sum (≥ x/2).
const ONE_MINUS_EXP_TERMS: u32 = 20;
/// Where 1 − exp(−x) takes over from the series: from ½ on, e^(−x) ≤ 0.61 and the
/// subtraction loses at most one bit.
const SERIES_SWITCH: f64 = 0.5;

/// 1 − e^(−x) for x ≥ 0 (−expm1(−x)), to full relative precision: below ½ the series
/// x·(1 − x/2·(1 − x/3·(1 − …·(1 − x/20)))) evaluated from the innermost factor out,
/// from ½ on 1 − `exp_f64(−x)`.
#[inline(always)]
pub fn one_minus_exp_neg(x: f64) -> f64 {
    if x < SERIES_SWITCH {
        let mut s = 1.0;
        for k in (2..=ONE_MINUS_EXP_TERMS).rev() {
            s = 1.0 - x / f64::from(k) * s;
        }
        x * s
    } else {
        1.0 - exp_f64(-x)
    }
}

/// ln(eˣ − 1) = x + ln(1 − e^(−x)) for x > 0 (normal): the inverse of softplus, with
/// [`one_minus_exp_neg`] and [`ln_f64`], in that order.
#[inline(always)]
pub fn inverse_softplus(x: f64) -> f64 {
    x + ln_f64(one_minus_exp_neg(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logarithms_of_exact_cases() {
        assert_eq!(ln_f32(1.0), 0.0);
        assert_eq!(ln_f64(1.0), 0.0);
        for k in [-120, -33, -1, 1, 20] {
            let x = 2f64.powi(k);
            let want = f64::from(k) * std::f64::consts::LN_2;
            assert!((ln_f64(x) - want).abs() <= want.abs() * 2e-16, "2^{k}");
            let got = f64::from(ln_f32(x as f32));
            assert!((got - want).abs() <= want.abs() * 2e-7, "2^{k} f32");
        }
    }

    #[test]
    fn logarithms_agree_with_libm_within_an_ulp_or_two() {
        let mut x = 1.0e-30f64;
        while x < 0.6 {
            let (ours, libm) = (ln_f64(x), libm::log(x));
            assert!(
                (ours - libm).abs() <= 2.0 * f64::EPSILON * libm.abs(),
                "{x}"
            );
            let x32 = x as f32;
            let (ours32, libm32) = (ln_f32(x32), libm::logf(x32));
            assert!(
                (ours32 - libm32).abs() <= 2.0 * f32::EPSILON * libm32.abs(),
                "{x32}: {ours32} vs {libm32}"
            );
            x *= 1.0137;
        }
    }

    #[test]
    fn exp_agrees_with_libm() {
        let mut t = -745.0;
        while t <= 0.0 {
            let (ours, libm) = (exp_f64(t), libm::exp(t));
            let tolerance = 4.0 * f64::EPSILON * libm + 5e-324;
            assert!((ours - libm).abs() <= tolerance, "{t}: {ours} vs {libm}");
            t += 0.3711;
        }
        assert_eq!(exp_f64(0.0), 1.0);
        assert_eq!(exp_f64(-800.0), 0.0);
    }

    #[test]
    fn tails_against_libm_erfc() {
        for i in 0..=400 {
            let x = f64::from(i) * 0.05;
            let erfc = 0.5 * libm::erfc(x / std::f64::consts::SQRT_2);
            // libm's erfc at x/√2 carries the rounding of x/√2: ~x² ulps of relative error.
            // Below 1.5, Q = ½ − (Φ − ½) also carries the subtraction's ½ ulp of ½.
            let tolerance = (8.0 + x * x) * f64::EPSILON * erfc + 0.5 * f64::EPSILON;
            assert!((upper_tail(x) - erfc).abs() <= tolerance, "Q({x})");
            let centred = 0.5 - erfc;
            assert!(
                (centred_cdf(x) - centred).abs() <= 4.0 * f64::EPSILON,
                "P0({x})"
            );
        }
        assert_eq!(upper_tail(f64::INFINITY), 0.0);
        assert_eq!(centred_cdf(f64::INFINITY), 0.5);
        assert!(upper_tail(38.0) > 0.0 && upper_tail(40.0) == 0.0);
    }

    #[test]
    fn exp_of_positive_arguments_agrees_with_libm() {
        // The dt bias takes exp of ln dt, which is positive for dt > 1.
        let mut t = 0.0;
        while t < 700.0 {
            let (ours, libm) = (exp_f64(t), libm::exp(t));
            assert!(
                (ours - libm).abs() <= 4.0 * f64::EPSILON * libm,
                "{t}: {ours} vs {libm}"
            );
            t += 0.2917;
        }
    }

    #[test]
    fn inverse_softplus_agrees_with_libm_expm1() {
        let mut x = 1e-300f64;
        while x < 800.0 {
            let want = -libm::expm1(-x);
            let got = one_minus_exp_neg(x);
            assert!(
                (got - want).abs() <= 2.0 * f64::EPSILON * want,
                "1-e^-{x}: {got} vs {want}"
            );
            let want = x + libm::log(want);
            let got = inverse_softplus(x);
            assert!(
                (got - want).abs() <= 4.0 * f64::EPSILON * want.abs().max(x),
                "g({x}): {got} vs {want}"
            );
            x *= 1.0731;
        }
    }
}
