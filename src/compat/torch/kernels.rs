//! `--rng torch`: the values PyTorch's CPU `Tensor.uniform_` returns after
//! `torch.manual_seed(seed)`, bit for bit, and the PyTorch code each tensor equals.
//!
//! `uniform_(a, b)` (ATen's `uniform_kernel` and `uniform_real`, PyTorch 2.x): the bounds
//! are cast to the tensor's dtype; float32 takes 24 bits of one 32-bit draw, float64 53
//! bits of one 64-bit draw; the value is `fma(x, b − a, a)` at that precision (PyTorch's
//! kernels are compiled with FMA contraction; measured against PyTorch 2.15), and a value
//! that rounds to `b` becomes `a`, so the range stays half-open.
//!
//! `normal_(mean, std)` (ATen's `normal_kernel`): a tensor of 16 or more elements is first
//! filled with uniforms, then every 16 are turned into normals by Box–Muller on the pairs
//! (j, j + 8); if the size is not a multiple of 16, 16 fresh uniforms redo the last 16.
//! float32 uses the AVX2 kernel PyTorch runs on x86 (also on AVX-512 machines): Cephes
//! polynomials for log and sin/cos from `avx_mathfun.h`, with the multiply-adds GCC fuses
//! into FMAs (which ones was settled by testing against PyTorch: 100 000 of 100 000 values
//! equal); float64 uses the C library's `log`, `cos`, `sin`; bfloat16 (PyTorch 2.15) the
//! float32 kernel rounded, its last 16 redrawn without first drawing the incomplete 16.
//! Smaller tensors take PyTorch's scalar path, which draws pairs and keeps the second
//! value in the generator for the next call. [`skip_draw`] advances the generator past
//! such a draw without computing it (`--hf-config --rng torch` skips what transformers
//! throws away).
//!
//! Every `torch.nn.init` function built on these — `kaiming_uniform_`, `xavier_uniform_`,
//! `kaiming_normal_`, `xavier_normal_`, the `nn.Linear`/`nn.Conv2d` defaults — reduces to
//! them once its parameter is computed the way PyTorch computes it ([`super::mapping::torch_law`]).
//! `trunc_normal_` (PyTorch 2.15's algorithm) is reproduced when the window holds more
//! than 30% of the mass: `normal_` on the whole tensor, then, while any value lies
//! outside [a, b], a whole new `normal_` tensor whose values replace the outside ones
//! (the engine keeps the tensor in memory for that). Narrower windows, where PyTorch
//! switches to uniform proposals, are refused. `orthogonal_` draws `normal_` and
//! factors it in f64 (see `engine`).

use crate::array::dtype::{DType, Element};
use crate::compat::c_math;
use crate::compat::torch::generator::CpuGenerator;
use crate::law::Distribution;

/// Fills `out`, the next block of a tensor of `total` elements (`last` when it is the
/// final one), with `distribution`'s values in PyTorch's order, continuing `rng`. A block
/// other than the last holds a multiple of 16 elements, and the last one at least 16 when
/// the tensor has (the engine's sequential blocks are cut that way).
pub fn fill<E: Element>(
    rng: &mut CpuGenerator,
    distribution: &Distribution,
    out: &mut [E],
    total: usize,
    last: bool,
) {
    match *distribution {
        Distribution::Constant { value } => out.fill(E::from_f64(value)),
        Distribution::Uniform { low, high } => match E::DTYPE {
            DType::F32 => {
                let (from, to) = (low as f32, high as f32);
                let width = to - from;
                let units = units_f32(rng, out.len());
                for (x, unit) in out.iter_mut().zip(units) {
                    let value = unit.mul_add(width, from);
                    *x = E::from_f64(f64::from(if value == to { from } else { value }));
                }
            }
            DType::F64 => {
                let width = high - low;
                for x in out.iter_mut() {
                    let value = unit_f64(rng).mul_add(width, low);
                    *x = E::from_f64(if value == high { low } else { value });
                }
            }
            DType::F16 | DType::Bf16 => {
                unreachable!("16-bit uniforms are refused with --rng torch")
            }
        },
        Distribution::Normal { mean, std } if total < 16 => {
            for x in out.iter_mut() {
                // `static_cast<scalar_t>(double)`: a bfloat16 goes through float first.
                let value = small_normal(rng, mean, std);
                *x = match E::DTYPE {
                    DType::Bf16 => E::from_f64(bf16_of_f32(value as f32)),
                    _ => E::from_f64(value),
                };
            }
        }
        Distribution::Normal { mean, std } => match E::DTYPE {
            DType::F32 => {
                let (mean, std) = (mean as f32, std as f32);
                let mut data = units_f32(rng, out.len());
                box_muller_f32(&mut data, mean, std);
                if last && !total.is_multiple_of(16) {
                    let tail = data.len() - 16;
                    for x in &mut data[tail..] {
                        *x = unit_f32(rng);
                    }
                    box_muller_f32(&mut data[tail..], mean, std);
                }
                for (x, v) in out.iter_mut().zip(data) {
                    *x = E::from_f64(f64::from(v));
                }
            }
            DType::F64 => {
                let mut data: Vec<f64> = (0..out.len()).map(|_| unit_f64(rng)).collect();
                box_muller_f64(&mut data, mean, std);
                if last && !total.is_multiple_of(16) {
                    let tail = data.len() - 16;
                    for x in &mut data[tail..] {
                        *x = unit_f64(rng);
                    }
                    box_muller_f64(&mut data[tail..], mean, std);
                }
                for (x, v) in out.iter_mut().zip(data) {
                    *x = E::from_f64(v);
                }
            }
            DType::Bf16 => {
                // bfloat16 (PyTorch 2.15, measured): the float32 kernel on every complete
                // 16, rounded to bfloat16; a tensor whose size is not a multiple of 16
                // takes 16 fresh uniforms for its last 16 values *without* drawing
                // uniforms for the incomplete 16 first, as float32 does.
                let (mean, std) = (mean as f32, std as f32);
                let tail = if last { total % 16 } else { 0 };
                let mut data = units_f32(rng, out.len() - tail);
                box_muller_f32(&mut data, mean, std);
                if tail != 0 {
                    let mut fresh = units_f32(rng, 16);
                    box_muller_f32(&mut fresh, mean, std);
                    let keep = out.len() - 16;
                    data.truncate(keep);
                    data.extend(fresh);
                }
                for (x, v) in out.iter_mut().zip(data) {
                    *x = E::from_f64(bf16_of_f32(v));
                }
            }
            DType::F16 => unreachable!("float16 is refused with --rng torch"),
        },
        _ => unreachable!("not drawn under --rng torch: {distribution:?}"),
    }
}

/// Advances `rng` past the draw `fill` would make of a whole tensor of `total` elements
/// of `dtype` from `distribution`, without computing it: 32-bit words are skipped
/// (uniform: one a value, two for float64; `normal_` on 16 or more: one a value, and 16
/// more when the size is not a multiple of 16 — for bfloat16 the incomplete 16 is not
/// drawn first — doubled for float64); a normal under 16 elements is drawn, as its
/// cached second value decides what it takes. `None` for a law whose consumption
/// depends on its values (`trunc_normal_` redraws) or that is not drawn here.
pub fn skip_draw(
    rng: &mut CpuGenerator,
    distribution: &Distribution,
    total: usize,
    dtype: DType,
) -> Option<()> {
    let n = total as u64;
    let per_value = if dtype == DType::F64 { 2 } else { 1 };
    match *distribution {
        Distribution::Constant { .. } => {}
        Distribution::Uniform { .. } => rng.skip(n * per_value),
        Distribution::Normal { mean, std } if total < 16 => {
            for _ in 0..total {
                small_normal(rng, mean, std);
            }
        }
        Distribution::Normal { .. } => {
            let words = match (dtype, n % 16) {
                (_, 0) => n,
                (DType::Bf16 | DType::F16, rest) => n - rest + 16,
                (_, _) => n + 16,
            };
            rng.skip(words * per_value);
        }
        _ => return None,
    }
    Some(())
}

/// A float rounded to bfloat16 as c10's `BFloat16(float)` rounds it (to nearest, ties to
/// even), as an f64 (exact). Rounded from the f32 itself: `half`'s f64 → bf16 conversion
/// (2.7) misrounds some f32 values just past a midpoint (measured: 142 of 2.7 million).
fn bf16_of_f32(value: f32) -> f64 {
    f64::from(half::bf16::from_f32(value).to_f32())
}

/// `len` values of `uniform_real_distribution<float>(0, 1)`, in bulk.
fn units_f32(rng: &mut CpuGenerator, len: usize) -> Vec<f32> {
    let mut words = vec![0u32; len];
    rng.fill_random(&mut words);
    words
        .into_iter()
        .map(|w| (w & 0x00ff_ffff) as f32 * (1.0 / 16_777_216.0))
        .collect()
}

/// `uniform_real_distribution<float>(0, 1)`: 24 bits of one 32-bit draw.
#[inline]
fn unit_f32(rng: &mut CpuGenerator) -> f32 {
    (rng.random() & 0x00ff_ffff) as f32 * (1.0 / 16_777_216.0)
}

/// `uniform_real_distribution<double>(0, 1)`: 53 bits of one 64-bit draw.
#[inline]
fn unit_f64(rng: &mut CpuGenerator) -> f64 {
    (rng.random64() & ((1 << 53) - 1)) as f64 * (1.0 / 9_007_199_254_740_992.0)
}

/// `normal_distribution<double>` (the path for tensors under 16 elements): Box–Muller on
/// two uniforms, the sine value kept in the generator for the next call.
fn small_normal(rng: &mut CpuGenerator, mean: f64, std: f64) -> f64 {
    let z = match rng.take_double_normal() {
        Some(z) => z,
        None => {
            let u1 = unit_f64(rng);
            let u2 = unit_f64(rng);
            let r = (-2.0 * c_math::log1p(-u2)).sqrt();
            let theta = 2.0 * std::f64::consts::PI * u1;
            rng.set_double_normal(r * c_math::sin(theta));
            r * c_math::cos(theta)
        }
    };
    z.mul_add(std, mean)
}

/// float64 `NormalFill16` on every complete 16 of `data` (uniforms in, normals out).
fn box_muller_f64(data: &mut [f64], mean: f64, std: f64) {
    for block in data.chunks_exact_mut(16) {
        for j in 0..8 {
            let u1 = 1.0 - block[j];
            let u2 = block[j + 8];
            let radius = (-2.0 * c_math::log(u1)).sqrt();
            let theta = 2.0 * std::f64::consts::PI * u2;
            block[j] = (radius * c_math::cos(theta)).mul_add(std, mean);
            block[j + 8] = (radius * c_math::sin(theta)).mul_add(std, mean);
        }
    }
}

crate::simd::dispatched! {
    /// float32 `NormalFill16` (PyTorch's AVX2 kernel) on every complete 16 of `data`.
    fn box_muller_f32(data: &mut [f32], mean: f32, std: f32) = box_muller_f32_body;
}

#[inline(always)]
fn box_muller_f32_body(data: &mut [f32], mean: f32, std: f32) {
    // 2π as PyTorch writes it: `_mm256_set1_ps(2.0f * c10::pi<double>)`.
    let two_pi = (2.0 * std::f64::consts::PI) as f32;
    for block in data.chunks_exact_mut(16) {
        let mut out = [0f32; 16];
        for j in 0..8 {
            let u1 = 1.0 - block[j];
            let u2 = block[j + 8];
            let radius = (-2.0 * cephes::log(u1)).sqrt();
            let (sin, cos) = cephes::sincos(two_pi * u2);
            out[j] = (radius * cos).mul_add(std, mean);
            out[j + 8] = (radius * sin).mul_add(std, mean);
        }
        block.copy_from_slice(&out);
    }
}

/// `log256_ps` and `sincos256_ps` of PyTorch's `avx_mathfun.h` (after Julien
/// Pommier's SSE/AVX versions of the Cephes library's single-precision routines), one
/// lane at a time. The constants are Cephes'. `mul_add` marks exactly the multiply-adds
/// GCC fuses in PyTorch's build: in each `a * b` followed by an add or subtract, the
/// earliest multiplication whose only use is that add.
#[allow(
    clippy::excessive_precision,
    clippy::unreadable_literal,
    clippy::approx_constant
)]
mod cephes {
    // The header writes these as double literals stored into float arrays: a double
    // rounded to float, which `as f32` reproduces (a direct f32 literal could round
    // differently).
    const SQRTHF: f32 = 0.707106781186547524_f64 as f32;
    const LOG_P: [f32; 9] = [
        7.0376836292E-2_f64 as f32,
        -1.1514610310E-1_f64 as f32,
        1.1676998740E-1_f64 as f32,
        -1.2420140846E-1_f64 as f32,
        1.4249322787E-1_f64 as f32,
        -1.6668057665E-1_f64 as f32,
        2.0000714765E-1_f64 as f32,
        -2.4999993993E-1_f64 as f32,
        3.3333331174E-1_f64 as f32,
    ];
    const LOG_Q1: f32 = -2.12194440e-4_f64 as f32;
    const LOG_Q2: f32 = 0.693359375_f64 as f32;

    /// `log256_ps` for arguments in (0, 1] (all Box–Muller passes it).
    #[inline(always)]
    pub fn log(x: f32) -> f32 {
        let x = x.max(f32::from_bits(0x0080_0000)); // smallest normal: no denormals
        let exponent = (x.to_bits() >> 23) as i32 - 0x7f;
        // Mantissa with exponent of 0.5: x in [0.5, 1).
        let mut x = f32::from_bits((x.to_bits() & !0x7f80_0000) | 0.5f32.to_bits());
        let mut e = exponent as f32 + 1.0;
        let below = x < SQRTHF;
        let tmp = if below { x } else { 0.0 };
        x -= 1.0;
        e -= if below { 1.0 } else { 0.0 };
        x += tmp;
        let z = x * x;
        let mut y = LOG_P[0];
        for &p in &LOG_P[1..] {
            y = y.mul_add(x, p);
        }
        y *= x;
        y = y.mul_add(z, e * LOG_Q1);
        y = (-z).mul_add(0.5, y);
        e.mul_add(LOG_Q2, x + y)
    }

    const FOUR_OVER_PI: f32 = 1.27323954473516_f64 as f32;
    const MINUS_DP1: f32 = -0.78515625_f64 as f32;
    const MINUS_DP2: f32 = -2.4187564849853515625e-4_f64 as f32;
    const MINUS_DP3: f32 = -3.77489497744594108e-8_f64 as f32;
    const SIN_P: [f32; 3] = [
        -1.9515295891E-4_f64 as f32,
        8.3321608736E-3_f64 as f32,
        -1.6666654611E-1_f64 as f32,
    ];
    const COS_P: [f32; 3] = [
        2.443315711809948E-005_f64 as f32,
        -1.388731625493765E-003_f64 as f32,
        4.166664568298827E-002_f64 as f32,
    ];

    /// `sincos256_ps`: (sin x, cos x).
    #[inline(always)]
    pub fn sincos(x: f32) -> (f32, f32) {
        let mut sign_sin = x.to_bits() & 0x8000_0000;
        let mut x = f32::from_bits(x.to_bits() & 0x7fff_ffff);
        // Octant: j = (int(x·4/π) + 1) & ~1.
        let octant = ((x * FOUR_OVER_PI) as i32 + 1) & !1;
        let y = octant as f32;
        let swap_sign_sin = ((octant & 4) as u32) << 29;
        let use_sin_poly = octant & 2 == 0;
        // Extended-precision reduction x − y·π/4 in three parts.
        x = y.mul_add(MINUS_DP1, x);
        x = y.mul_add(MINUS_DP2, x);
        x = y.mul_add(MINUS_DP3, x);
        let sign_cos = ((!(octant - 2) & 4) as u32) << 29;
        sign_sin ^= swap_sign_sin;
        let z = x * x;
        let mut c = COS_P[0].mul_add(z, COS_P[1]);
        c = c.mul_add(z, COS_P[2]);
        c *= z;
        c = c.mul_add(z, -(z * 0.5));
        c += 1.0;
        let mut s = SIN_P[0].mul_add(z, SIN_P[1]);
        s = s.mul_add(z, SIN_P[2]);
        s *= z;
        s = s.mul_add(x, x);
        // The blend exactly as written there (masks, subtractions, additions, with the
        // header's names), so that signed zeros come out the same.
        let ysin2 = if use_sin_poly { s } else { 0.0 };
        let ysin1 = if use_sin_poly { 0.0 } else { c };
        let sin = ysin1 + ysin2;
        let cos = (c - ysin1) + (s - ysin2);
        (
            f32::from_bits(sin.to_bits() ^ sign_sin),
            f32::from_bits(cos.to_bits() ^ sign_cos),
        )
    }
}

/// `torch.randperm(n)` on the CPU generator: the identity permutation shuffled by
/// Fisher–Yates from the front, swapping element i with element i + (random() mod (n − i))
/// for i < n − 1 (ATen's `randperm_cpu`, one 32-bit draw per step).
pub fn randperm(rng: &mut CpuGenerator, n: usize) -> Vec<usize> {
    let mut permutation: Vec<usize> = (0..n).collect();
    for i in 0..n.saturating_sub(1) {
        let z = (u64::from(rng.random()) % (n - i) as u64) as usize;
        permutation.swap(i, i + z);
    }
    permutation
}
