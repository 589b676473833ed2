//! What every module here measures with: draws widened to f64, the Kolmogorov–Smirnov
//! statistic and its critical value, sample moments and their standard errors.

use weightinit::array::dtype::DType;
use weightinit::check::Generated;
use weightinit::pipeline::generate::draw_array;
use weightinit::tensor::ResolvedTensor;

/// Sample size of each KS test.
pub const N_KS: usize = 200_000;

/// Asymptotic KS critical value at α = 0.001.
pub fn ks_critical(n: usize) -> f64 {
    1.95 / (n as f64).sqrt()
}

/// Draws a tensor in its own dtype and widens the stored values to f64 (exactly).
pub fn draw(t: &ResolvedTensor) -> (Vec<f64>, Generated) {
    match t.spec.dtype {
        DType::F32 => {
            let (a, g) = draw_array::<f32>(t).expect("draw f32");
            (a.iter().map(|&x| f64::from(x)).collect(), g)
        }
        DType::F64 => {
            let (a, g) = draw_array::<f64>(t).expect("draw f64");
            (a.iter().copied().collect(), g)
        }
        DType::F16 => {
            let (a, g) = draw_array::<half::f16>(t).expect("draw f16");
            (a.iter().map(|x| x.to_f64()).collect(), g)
        }
        DType::Bf16 => {
            let (a, g) = draw_array::<half::bf16>(t).expect("draw bf16");
            (a.iter().map(|x| x.to_f64()).collect(), g)
        }
    }
}

/// `x` rounded to `dtype`, widened back (exact).
pub fn stored(dtype: DType, x: f64) -> f64 {
    match dtype {
        DType::F32 => f64::from(x as f32),
        DType::F64 => x,
        DType::F16 => half::f16::from_f64(x).to_f64(),
        DType::Bf16 => half::bf16::from_f64(x).to_f64(),
    }
}

/// Sup-distance between the empirical CDF of `xs` and `cdf`.
///
/// Computed on u = F(x), which has the same order as x: D = maxᵢ max(u₍ᵢ₎ − i/n,
/// (i+1)/n − u₍ᵢ₎) over the sorted u. Ties (from rounding to f32) are handled correctly:
/// within a run of equal values the two terms reduce to the left limit and the value of
/// the empirical CDF there. The sort is a bucket sort on u (n buckets, then a tiny sort
/// inside each), because a comparison sort of 200k values is slow in debug builds.
pub fn ks_statistic(xs: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let n = xs.len();
    let u: Vec<f64> = xs.iter().map(|&x| cdf(x)).collect();
    let bucket = |p: f64| ((p * n as f64) as usize).min(n - 1);
    let mut start = vec![0usize; n + 1];
    for &p in &u {
        start[bucket(p) + 1] += 1;
    }
    for k in 0..n {
        start[k + 1] += start[k];
    }
    let mut next = start.clone();
    let mut sorted = vec![0.0; n];
    for &p in &u {
        let b = bucket(p);
        sorted[next[b]] = p;
        next[b] += 1;
    }
    for k in 0..n {
        let run = &mut sorted[start[k]..start[k + 1]];
        if run.len() > 1 {
            run.sort_by(f64::total_cmp);
        }
    }
    let nf = n as f64;
    let mut d = 0.0f64;
    for (i, &p) in sorted.iter().enumerate() {
        d = d.max(p - i as f64 / nf).max((i + 1) as f64 / nf - p);
    }
    d
}

pub fn mean_and_variance(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

/// Standard error of the unbiased sample variance of n iid values with variance `var`
/// and fourth central moment `mu4`: Var(s²) = (μ4 − σ⁴(n−3)/(n−1))/n.
pub fn variance_se(var: f64, mu4: f64, n: usize) -> f64 {
    let n = n as f64;
    ((mu4 - var * var * (n - 3.0) / (n - 1.0)) / n).sqrt()
}

pub const DTYPES: [DType; 2] = [DType::F32, DType::F64];

pub fn fmt_num(x: f64) -> String {
    // Rust's Display for f64 is the shortest text that parses back to the same value.
    format!("{x}")
}

pub fn check_all(failures: Vec<String>) {
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
