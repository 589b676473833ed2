//! The elementary functions as XLA:CPU computes them for JAX 0.10.2 (jaxlib 0.10.2) on
//! x86-64 with FMA, operation for operation: `log1p` and `log` (f32), `erf_inv` (f32 and
//! f64), `erf` (f32; f64 calls the C library), `nextafter`, and the rounding of each
//! f16/bf16 operation.
//!
//! How this was established: the HLO JAX emits (`jax.jit(f).lower(x).compile()
//! .as_text()`), the LLVM IR and object code XLA:CPU generates for it (`XLA_FLAGS=
//! --xla_dump_to=DIR`: `*.ir-no-opt.ll`, `*.ir-with-opt.ll`, `*.o`), then tests against
//! JAX over millions of arguments (tests/fixtures/make_jax_stream_fixtures.py).
//!
//! Two facts decide every last bit:
//! - XLA:CPU compiles with LLVM's `AllowFPOpFusion = Fast` but with no fast-math flags
//!   in the IR, so the x86 back end fuses `fadd(fmul(a, b), c)` (and `fsub`) into one
//!   FMA exactly when the multiplication has no other use (LLVM's DAG combiner,
//!   `visitFADDForFMACombine`, first operand first). Every `mul_add` below is one such
//!   fusion read off the object code; every plain `*` then `+` is a product that has
//!   other uses. (A CPU without FMA gets unfused results: not modelled.)
//! - Nothing else is reassociated: the IR's operation order is IEEE-exact.
#![allow(clippy::excessive_precision, clippy::unreadable_literal)]

use crate::compat::c_math;

const fn f(bits: u32) -> f32 {
    f32::from_bits(bits)
}

const fn d(bits: u64) -> f64 {
    f64::from_bits(bits)
}

/// `llvm.maximum`: NaN if either is NaN, and −0 < +0 (XLA's `max`).
#[inline(always)]
pub fn maximum_f32(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if a > b || (a == b && b.to_bits() == 0x8000_0000) {
        a
    } else {
        b
    }
}

/// `llvm.minimum`: NaN if either is NaN, and −0 < +0 (XLA's `min`).
#[inline(always)]
pub fn minimum_f32(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if a < b || (a == b && a.to_bits() == 0x8000_0000) {
        a
    } else {
        b
    }
}

/// [`maximum_f32`] for f64.
#[inline(always)]
pub fn maximum_f64(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a > b || (a == b && b.to_bits() == 0x8000_0000_0000_0000) {
        a
    } else {
        b
    }
}

/// [`minimum_f32`] for f64.
#[inline(always)]
pub fn minimum_f64(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a < b || (a == b && a.to_bits() == 0x8000_0000_0000_0000) {
        a
    } else {
        b
    }
}

/// `lax.nextafter(x, toward)` (and `np.nextafter`) in f32.
pub fn nextafter_f32(x: f32, toward: f32) -> f32 {
    if x.is_nan() || toward.is_nan() {
        return f32::NAN;
    }
    if x == toward {
        return toward;
    }
    if x == 0.0 {
        let tiny = f32::from_bits(1);
        return if toward > 0.0 { tiny } else { -tiny };
    }
    let bits = x.to_bits();
    let away_from_zero = (toward > x) == (x > 0.0);
    f32::from_bits(if away_from_zero { bits + 1 } else { bits - 1 })
}

/// `lax.nextafter(x, toward)` in f64.
pub fn nextafter_f64(x: f64, toward: f64) -> f64 {
    if x.is_nan() || toward.is_nan() {
        return f64::NAN;
    }
    if x == toward {
        return toward;
    }
    if x == 0.0 {
        let tiny = f64::from_bits(1);
        return if toward > 0.0 { tiny } else { -tiny };
    }
    let bits = x.to_bits();
    let away_from_zero = (toward > x) == (x > 0.0);
    f64::from_bits(if away_from_zero { bits + 1 } else { bits - 1 })
}

/// `x` rounded to float16 and back (round to nearest even): the result of every f16
/// operation XLA:CPU computes in f32 (LLVM promotes `half` arithmetic) — exact for the
/// sums and products here, as f32 holds them to more than twice f16's precision.
#[inline(always)]
pub fn round_f16(x: f32) -> f32 {
    half::f16::from_f32(x).to_f32()
}

/// `x` rounded to bfloat16 and back (`xla.fptrunc.f32.to.bf16`: round to nearest even).
#[inline(always)]
pub fn round_bf16(x: f32) -> f32 {
    half::bf16::from_f32(x).to_f32()
}

/// Eigen's `plog_float` (Cephes' `logf` in Julien Pommier's vector form) as XLA:CPU's
/// `xla.log1p.f32` inlines it for arguments away from 0. Constants from that IR (they
/// are Cephes' `logf` coefficients).
#[inline(always)]
pub fn xla_log_f32(y: f32) -> f32 {
    const SQRTHF: f32 = f(0x3F35_04F3);
    const P: [f32; 9] = [
        f(0x3D90_21BB), // 7.0376836292e-2
        f(0xBDEB_D1B8), // -1.1514610310e-1
        f(0x3DEF_251A), // 1.1676998740e-1
        f(0xBDFE_5D4F), // -1.2420140846e-1
        f(0x3E11_E9BF), // 1.4249322787e-1
        f(0xBE2A_AE50), // -1.6668057665e-1
        f(0x3E4C_CEAC), // 2.0000714765e-1
        f(0xBE7F_FFFC), // -2.4999993993e-1
        f(0x3EAA_AAAA), // 3.3333331174e-1
    ];
    const Q1: f32 = f(0xB95E_8083); // -2.12194440e-4
    const Q2: f32 = f(0x3F31_8000); // 0.693359375
    let min_normal = f32::MIN_POSITIVE;
    let clamped = if y > min_normal { y } else { min_normal };
    let bits = clamped.to_bits();
    let exponent = (bits >> 23) as i32 - 127;
    let m = f32::from_bits((bits & 0x807F_FFFF) | 0x3F00_0000);
    let mut e = exponent as f32 + 1.0;
    let below = m < SQRTHF;
    let tmp = if below { m } else { 0.0 };
    let mut x = m - 1.0;
    e -= if below { 1.0 } else { 0.0 };
    x += tmp;
    let x2 = x * x;
    let x3 = x2 * x;
    // Three interleaved Horner chains, then joined by x³ (Eigen's order).
    let a = x.mul_add(P[0], P[1]).mul_add(x, P[2]);
    let b = x.mul_add(P[3], P[4]).mul_add(x, P[5]);
    let c = x.mul_add(P[6], P[7]).mul_add(x, P[8]);
    let z = a.mul_add(x3, b).mul_add(x3, c);
    let w = z.mul_add(x3, e * Q1);
    let v = (-x2).mul_add(0.5, x);
    let r = e.mul_add(Q2, v + w);
    // Special values, as the IR assembles them from bit masks.
    if y == 0.0 {
        f32::NEG_INFINITY
    } else if y == f32::INFINITY {
        f32::INFINITY
    } else if y.is_nan() || y < 0.0 {
        f32::from_bits(0xFFFF_FFFF)
    } else {
        r
    }
}

/// XLA:CPU's `xla.log1p.f32` (xla/codegen/intrinsic/log1p): for |x| < 0.41421354 the
/// rational approximation `x − x²/2 + x³·P(x)/Q(x)`, else `log(1 + x)` by
/// [`xla_log_f32`]. Both are computed, then one selected, as the vector code does.
#[inline(always)]
pub fn xla_log1p_f32(x: f32) -> f32 {
    const LIMIT: f32 = f(0x3ED4_13CD);
    const NUM: [f32; 7] = [
        4.527e-05,
        f(0x3EFF_40C5),
        f(0x40D2_84FA),
        f(0x41EF_4B9C),
        f(0x4273_CC76),
        f(0x4264_73AD),
        f(0x41A0_5101),
    ];
    const DEN: [f32; 7] = [
        1.0,
        f(0x4171_01AD),
        f(0x42A6_185B),
        f(0x435D_C32D),
        f(0x439A_8CA3),
        f(0x4358_6D8A),
        f(0x4270_7982),
    ];
    let x2 = x * x;
    // `x * 0.0` is in the IR (it keeps NaN and infinity NaN); the chains start from it.
    let zero = x * 0.0;
    let mut num = zero + NUM[0];
    let mut den = zero + DEN[0];
    for k in 1..7 {
        num = num.mul_add(x, NUM[k]);
        den = den.mul_add(x, DEN[k]);
    }
    let t = (x * x2) * (num / den);
    let small = x + x2.mul_add(-0.5, t);
    let large = xla_log_f32(x + 1.0);
    if x.abs() < LIMIT { small } else { large }
}

/// `erf_inv` coefficients for w = −log1p(−x²) < 5, in t = w − 2.5 (XLA's `ErfInv32`,
/// xla/hlo/builder/lib/math.cc, after M. Giles, "Approximating the erfinv function",
/// GPU Computing Gems Jade Edition, 2011), highest degree first.
const ERFINV_F32_CENTRAL: [f32; 9] = [
    f(0x32F1_6588), // 2.81022636e-08
    f(0x34B8_4B36), // 3.43273939e-07
    f(0xB66C_7357), // -3.5233877e-06
    f(0xB693_5AC1), // -4.39150654e-06
    f(0x3965_32DB), // 0.00021858087
    f(0xBAA4_5408), // -0.00125372503
    f(0xBB88_E4EF), // -0.00417768164
    f(0x3E7C_8F63), // 0.246640727
    f(0x3FC0_2E2F), // 1.50140941
];

/// The same for w ≥ 5, in t = √w − 3.
const ERFINV_F32_TAIL: [f32; 9] = [
    f(0xB951_F09B), // -0.000200214257
    f(0x38D3_B56B), // 0.000100950558
    f(0x3AB0_DC72), // 0.00134934322
    f(0xBB70_BDE7), // -0.00367342844
    f(0x3BBC_127B), // 0.00573950773
    f(0xBBF9_C5D7), // -0.0076224613
    f(0x3C1A_A57E), // 0.00943887047
    f(0x3F80_36DB), // 1.00167406
    f(0x4035_4F7E), // 2.83297682
];

/// `lax.erf_inv` on f32 as XLA:CPU computes it: w = −log1p(−x·x) by
/// [`xla_log1p_f32`], Giles' two polynomials by Horner's rule in fused multiply-adds,
/// times x; ±1 gives ±∞.
#[inline(always)]
pub fn xla_erf_inv_f32(x: f32) -> f32 {
    let l = xla_log1p_f32(x * -x);
    // The IR tests `l > −5` (w < 5) and forms −2.5 − l (= w − 2.5) and √(−l) − 3.
    let central = l > -5.0;
    let t = if central { -2.5 - l } else { (-l).sqrt() - 3.0 };
    let mut p = pick(central, 0).mul_add(t, pick(central, 1));
    for k in 2..9 {
        p = p.mul_add(t, pick(central, k));
    }
    let p = if x.abs() == 1.0 { f32::INFINITY } else { p };
    x * p
}

#[inline(always)]
fn pick(central: bool, k: usize) -> f32 {
    if central {
        ERFINV_F32_CENTRAL[k]
    } else {
        ERFINV_F32_TAIL[k]
    }
}

/// XLA:CPU's `xla.log1p.f64`: the rational approximation for |x| < 0.41421356…, else
/// the C library's `log(1 + x)` (the object code calls `log`; glibc's on Linux).
#[inline(always)]
pub fn xla_log1p_f64(x: f64) -> f64 {
    const LIMIT: f64 = d(0x3FDA_8279_99FC_EF32);
    const NUM: [f64; 7] = [
        d(0x3F07_BC09_62B3_95CA),
        d(0x3FDF_E818_A0FE_1A83),
        d(0x401A_509F_46F4_FA53),
        d(0x403D_E973_8B8C_B9C9),
        d(0x404E_798E_B86C_3351),
        d(0x404C_8E75_9747_9A10),
        d(0x4034_0A20_2D99_830A),
    ];
    const DEN: [f64; 7] = [
        1.0,
        d(0x402E_2035_9E90_3E37),
        d(0x4054_C30B_5221_3498),
        d(0x406B_B865_90FC_FB56),
        d(0x4073_5194_5DC9_08A5),
        d(0x406B_0DB1_3E48_E066),
        d(0x404E_0F30_4466_448E),
    ];
    if x.abs() < LIMIT {
        let x2 = x * x;
        let zero = x * 0.0;
        let mut num = zero + NUM[0];
        let mut den = zero + DEN[0];
        for k in 1..7 {
            num = num.mul_add(x, NUM[k]);
            den = den.mul_add(x, DEN[k]);
        }
        let t = (x * x2) * (num / den);
        x + x2.mul_add(-0.5, t)
    } else {
        c_math::log(x + 1.0)
    }
}

/// Giles' double-precision `erf_inv` as XLA emits it (`ErfInv64`, xla/hlo/builder/lib/
/// math.cc): three polynomials by Horner's rule in fused multiply-adds — 23 coefficients
/// in t = w − 3.125 for w < 6.25, 19 in t = √w − 3.25 for w < 16, 17 in t = √w − 5
/// beyond — with w = −log1p(−x·x) by [`xla_log1p_f64`].
#[inline(always)]
pub fn xla_erf_inv_f64(x: f64) -> f64 {
    const CENTRAL: [u64; 23] = [
        0xBBB1_35D2_E746_E627,
        0xBC08_DDF9_3324_D327,
        0x3C37_B83E_EF0B_7C9F,
        0x3C69_BA72_CD58_9B91,
        0xBCA3_3689_090A_6B96,
        0x3C78_2E11_8981_32E0,
        0x3CFD_E4AC_FD9E_26BA,
        0xBD26_D33E_ED66_C487,
        0xBD36_F216_7040_D8E2,
        0x3D87_2A22_C2D7_7E20,
        0xBDAC_8859_C4E5_C0AF,
        0xBDCD_C583_D118_A561,
        0x3E12_0F47_CCF4_6B3C,
        0xBE31_A9E3_8DC8_4D60,
        0xBE5F_36CD_6D3D_46A9,
        0x3E9C_6B4F_5D03_B787,
        0xBEB6_E8A5_434A_E8A2,
        0xBEED_1D1F_7B87_36F6,
        0x3F28_79C2_A212_F024,
        0xBF48_4576_9484_FCA8,
        0xBF78_B6C3_3114_F909,
        0x3FCE_BD80_D9B1_3E28,
        0x3FFA_755E_7C99_AE86,
    ];
    const MIDDLE: [u64; 19] = [
        0x3E23_040F_87DB_D932,
        0x3E78_5CBE_5287_8635,
        0xBE92_7774_53DD_3955,
        0x3E53_95AB_CD55_4C6C,
        0x3EB9_3638_8A37_90AD,
        0xBED0_D5DB_812B_5083,
        0x3EC8_860C_D5D6_52F6,
        0x3EEA_29A0_CACD_FB23,
        0xBF08_CEF1_F802_81F2,
        0x3F11_E684_D0B9_188A,
        0x3EF9_32CD_54C8_A222,
        0xBF37_448A_89EF_8AA3,
        0x3F4F_3CC5_5AD4_0C25,
        0xBF5B_A924_132F_38B1,
        0x3F64_68EE_CA53_3CF8,
        0xBF6E_BADA_BB89_1BBD,
        0x3F75_FFCF_E5B7_6AFC,
        0x3FF0_158A_6D64_1D39,
        0x4008_ABCC_380D_5A48,
    ];
    const TAIL: [u64; 17] = [
        0xBDBD_CEC3_A778_5389,
        0xBDF1_8FEE_C0E3_8727,
        0x3E19_E6BF_2DDA_45E3,
        0xBE30_468F_B24E_2F5F,
        0x3E40_5AC6_A8FB_A182,
        0xBE50_102E_495F_B9C0,
        0x3E5F_4C20_E133_4AF8,
        0xBE72_2D22_0FDF_9C3E,
        0x3E8E_BC8B_B824_CB54,
        0xBEB0_A8D4_0EA3_72CC,
        0x3ED2_FBD2_9D09_3D2B,
        0xBEF4_A349_7E1E_0FAC,
        0x3F13_EBF4_EB00_938F,
        0xBF2C_2F36_A8FC_5D53,
        0xBF22_2EA5_DF04_047C,
        0x3FF0_2A30_D1FB_A0DC,
        0x4013_664D_DD1A_D7FB,
    ];
    let w = -xla_log1p_f64(x * -x);
    let (coefficients, t): (&[u64], f64) = if w < 6.25 {
        (&CENTRAL, w - 3.125)
    } else if w < 16.0 {
        (&MIDDLE, w.sqrt() - 3.25)
    } else {
        (&TAIL, w.sqrt() - 5.0)
    };
    let mut p = d(coefficients[0]).mul_add(t, d(coefficients[1]));
    for &c in &coefficients[2..] {
        p = p.mul_add(t, d(c));
    }
    let p = if x.abs() == 1.0 { f64::INFINITY } else { p };
    x * p
}

/// `lax.erf` on an f32 scalar inside a fusion (how `truncated_normal` computes the CDF
/// of its bounds): the argument clamped to ±3.7439; beyond, ±1; else x·P(x²)/Q(x²),
/// both by Horner's rule in explicit FMAs (the `llvm.fma` calls are in XLA's IR, so they
/// do not depend on contraction). XLA's stand-alone vectorized `erf` kernel
/// (`xla.erf.v8f32`) uses 3.8325 as its cut-off and no clamp; the two agree below 3.7439.
pub fn xla_erf_f32(x: f32) -> f32 {
    const CUTOFF: f32 = f(0x406F_9C68);
    const P: [f32; 5] = [
        f(0x3970_2D51),
        f(0x3B5F_5DA2),
        f(0x3D50_B6EB),
        f(0x3E3D_A740),
        f(0x3F90_6EBA),
    ];
    const Q: [f32; 7] = [
        f(0xB3FD_3906),
        f(0x37C5_88DF),
        f(0x3A85_6D28),
        f(0x3C66_87D4),
        f(0x3DE3_4C21),
        f(0x3EFE_B44A),
        1.0,
    ];
    if x.abs() >= CUTOFF {
        return 1f32.copysign(x);
    }
    let c = minimum_f32(maximum_f32(x, -CUTOFF), CUTOFF);
    let x2 = c * c;
    let mut p = x2.mul_add(P[0], P[1]);
    for &k in &P[2..] {
        p = p.mul_add(x2, k);
    }
    let mut q = x2.mul_add(Q[0], Q[1]);
    for &k in &Q[2..] {
        q = q.mul_add(x2, k);
    }
    (c * p) / q
}

/// `lax.erf` on f64: XLA:CPU calls the C library's `erf`.
pub fn xla_erf_f64(x: f64) -> f64 {
    c_math::erf(x)
}
