//! The numerical part of a probe: one dense chain, forward with its activation and
//! backward with a fixed output gradient, measuring every layer on the way.
//!
//! Signals are column-major `Vec<f64>` (a column is one unit's values over the batch,
//! contiguous, so per-unit work is a slice): the point of a probe is to watch them
//! vanish to 1e-80 or explode to 1e120, which f32 could not hold. The weights are the
//! f32 values `gen` writes, and the matrix products run in f32 with exact power-of-two
//! rescaling (see `product`), at twice the speed of f64 ones.

use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;
use serde::Serialize;

use crate::model::activation::Activation;

/// A unit "passes no gradient" for an input when |f′(z)| is below this fraction of the
/// activation's largest slope (ReLU: z ≤ 0; tanh: |z| > 7.9; sigmoid: |z| > 14.5).
pub const DEAD_SLOPE: f64 = 1e-6;

/// A column-major matrix of `rows × cols` f64.
#[derive(Debug, Clone, Default)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

impl Matrix {
    pub fn zeros(rows: usize, cols: usize) -> Matrix {
        Matrix {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// Makes this a `rows × cols` matrix, keeping the allocation (contents unspecified).
    pub fn reshape(&mut self, rows: usize, cols: usize) {
        self.rows = rows;
        self.cols = cols;
        self.data.resize(rows * cols, 0.0);
    }

    /// From row-major values (as .npy files and the generator lay them out).
    pub fn from_row_major<T: Copy + Into<f64> + Sync>(
        rows: usize,
        cols: usize,
        values: &[T],
    ) -> crate::error::Result<Matrix> {
        debug_assert_eq!(values.len(), rows * cols);
        let mut data = crate::budget::try_zeroed::<f64>(rows * cols, || {
            format!("a {rows}x{cols} matrix of f64")
        })?;
        data.par_chunks_mut(rows.max(1))
            .enumerate()
            .for_each(|(j, column)| {
                for (i, v) in column.iter_mut().enumerate() {
                    *v = values[i * cols + j].into();
                }
            });
        Ok(Matrix { rows, cols, data })
    }

    fn columns(&self) -> impl Iterator<Item = &[f64]> {
        self.data.chunks(self.rows.max(1))
    }
}

/// A layer's weights as drawn: f32, row-major `inputs × outputs`.
#[derive(Debug, Clone)]
pub struct Weights {
    pub inputs: usize,
    pub outputs: usize,
    pub data: Vec<f32>,
}

impl Weights {
    fn view(&self) -> MatRef<'_, f32> {
        MatRef::from_row_major_slice(&self.data, self.inputs, self.outputs)
    }
}

/// Buffers reused from layer to layer and from scheme to scheme: fresh multi-megabyte
/// allocations each cost their page faults, a tenth of a probe's time before this.
#[derive(Debug, Default)]
pub struct Workspace {
    scaled: Vec<f32>,
    product: Vec<f32>,
    /// f′(z) of every hidden layer, kept for the backward pass (f32 is ample for a
    /// factor that multiplies a gradient).
    slopes: Vec<Vec<f32>>,
    /// The signal going forward or the gradient going back, and the next one.
    current: Matrix,
    next: Matrix,
}

/// `out = a · w`, or `a · wᵀ` when `transpose_w`, multiplied in f32 and returned in f64.
///
/// f32 products run at twice the f64 rate, and the weights are f32 already, so only `a`
/// is rounded (relative 6e-8; sums of hundreds of terms keep ~1e-6, ample for variances).
/// The range problem of f32 (signals that explode past 1e38 or vanish below 1e-38 within
/// a few dozen layers) is taken away by scaling `a` by an exact power of two that brings
/// its largest magnitude near 1 before the product and scaling the result back after:
/// both scalings are exact, so the f64 result spans f64's whole range. Values more than
/// 2^126 below the largest of their matrix flush to zero — irrelevant to a variance.
fn product(
    a: &Matrix,
    w: &Weights,
    transpose_w: bool,
    scaled: &mut Vec<f32>,
    product: &mut Vec<f32>,
    out: &mut Matrix,
) {
    let (rows, cols) = (a.rows, if transpose_w { w.inputs } else { w.outputs });
    out.reshape(rows, cols);
    let largest = a
        .data
        .par_iter()
        .fold(
            || 0.0f64,
            |m, v| if v.is_nan() { f64::NAN } else { m.max(v.abs()) },
        )
        .reduce(
            || 0.0,
            |x, y| {
                if x.is_nan() || y.is_nan() {
                    f64::NAN
                } else {
                    x.max(y)
                }
            },
        );
    if !largest.is_finite() {
        // Overflowed already: every product is non-finite too.
        out.data.fill(f64::NAN);
        return;
    }
    let exponent = if largest > 0.0 {
        largest.log2().round() as i32
    } else {
        0
    };
    let down = f64::from(-exponent).exp2();
    let up = f64::from(exponent).exp2();
    scaled.resize(a.data.len(), 0.0);
    scaled
        .par_iter_mut()
        .zip(a.data.par_iter())
        .for_each(|(s, &v)| *s = (v * down) as f32);
    let lhs = MatRef::from_column_major_slice(scaled, a.rows, a.cols);
    let rhs = if transpose_w {
        w.view().transpose()
    } else {
        w.view()
    };
    product.resize(rows * cols, 0.0);
    faer::linalg::matmul::matmul(
        MatMut::from_column_major_slice_mut(product, rows, cols),
        Accum::Replace,
        lhs,
        rhs,
        1.0,
        Par::rayon(0),
    );
    out.data
        .par_iter_mut()
        .zip(product.par_iter())
        .for_each(|(o, &p)| *o = f64::from(p) * up);
}

/// What one layer did to the batch.
#[derive(Debug, Clone, Serialize)]
pub struct LayerStats {
    /// 1-based: layer 1 maps the input to the first hidden layer.
    pub layer: usize,
    pub width: usize,
    /// Mean and variance of the layer's outputs (after the activation; the last layer has
    /// none), over every unit and example.
    pub activation_mean: f64,
    pub activation_variance: f64,
    /// Variance of ∂loss/∂z, the gradient at the layer's pre-activations (what its weight
    /// gradient is made from: ∂loss/∂W = inputᵀ · that).
    pub gradient_variance: f64,
    /// Units that pass no gradient for any example of the batch (see [`DEAD_SLOPE`]).
    /// Always 0 for the last layer, which has no activation.
    pub dead_fraction: f64,
    /// Units whose outputs differ from every other unit's on some example: 1 means the
    /// layer is symmetric, every unit computing the same function.
    pub distinct_units: usize,
}

/// Mean and variance of all values (two passes; ±inf and NaN propagate).
///
/// The sums run over fixed chunks added in order, not rayon's `sum` (whose split
/// depends on work stealing), so the same values always give the same bits.
pub fn mean_variance(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = values.len() as f64;
    let mean = ordered_sum(values, |v| v) / n;
    let variance = ordered_sum(values, |v| (v - mean) * (v - mean)) / n;
    (mean, variance)
}

/// Σ f(v) over fixed chunks summed in order: the same bits whatever the thread count.
fn ordered_sum(values: &[f64], f: impl Fn(f64) -> f64 + Sync) -> f64 {
    const CHUNK: usize = 1 << 14;
    let partial: Vec<f64> = values
        .par_chunks(CHUNK)
        .map(|c| c.iter().map(|&v| f(v)).sum::<f64>())
        .collect();
    partial.iter().sum()
}

/// The number of distinct columns, compared bit for bit (+0 and −0 equal).
pub fn distinct_columns(m: &Matrix) -> usize {
    let canonical = |v: f64| if v == 0.0 { 0u64 } else { v.to_bits() };
    let hashes: Vec<u64> = m
        .data
        .par_chunks(m.rows.max(1))
        .map(|column| {
            // A multiply-rotate hash of the bit patterns: only groups candidates, the
            // exact comparison below decides.
            column.iter().fold(0x9e37_79b9_7f4a_7c15u64, |h, &v| {
                (h ^ canonical(v))
                    .wrapping_mul(0xff51_afd7_ed55_8ccd)
                    .rotate_left(29)
            })
        })
        .collect();
    let mut groups: std::collections::HashMap<u64, Vec<usize>> = Default::default();
    for (j, h) in hashes.iter().enumerate() {
        groups.entry(*h).or_default().push(j);
    }
    let columns: Vec<&[f64]> = m.columns().collect();
    let same = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| x == y);
    let mut distinct = 0;
    for members in groups.values() {
        let mut representatives: Vec<usize> = Vec::new();
        for &j in members {
            if !representatives
                .iter()
                .any(|&r| same(columns[r], columns[j]))
            {
                representatives.push(j);
            }
        }
        distinct += representatives.len();
    }
    distinct
}

/// Runs `input` (batch × first width) through the chain with each `Weights` (in × out) and
/// `activation` after every layer but the last, then back from `output_gradient`
/// (batch × last width), the gradient of loss = Σ output_gradient ⊙ output.
pub fn run(
    input: &Matrix,
    weights: &[Weights],
    activation: Activation,
    output_gradient: &Matrix,
    ws: &mut Workspace,
) -> Vec<LayerStats> {
    let depth = weights.len();
    let mut stats = Vec::with_capacity(depth);
    let dead_below = DEAD_SLOPE * activation.max_slope();
    ws.slopes.resize_with(depth.saturating_sub(1), Vec::new);
    ws.current.reshape(input.rows, input.cols);
    ws.current.data.copy_from_slice(&input.data);
    for (i, w) in weights.iter().enumerate() {
        product(
            &ws.current,
            w,
            false,
            &mut ws.scaled,
            &mut ws.product,
            &mut ws.next,
        );
        std::mem::swap(&mut ws.current, &mut ws.next);
        let z = &mut ws.current;
        let mut dead = 0usize;
        if i + 1 < depth {
            let slope = &mut ws.slopes[i];
            slope.resize(z.data.len(), 0.0);
            let rows = z.rows.max(1);
            dead = z
                .data
                .par_chunks_mut(rows)
                .zip(slope.par_chunks_mut(rows))
                .map(|(zs, ds)| {
                    let mut alive = false;
                    for (v, d) in zs.iter_mut().zip(ds.iter_mut()) {
                        let (f, df) = activation.value_and_slope(*v);
                        *v = f;
                        *d = df as f32;
                        // NaN slopes (from an overflowed z) count as alive: not dead, broken.
                        alive |= df.abs() > dead_below || df.is_nan();
                    }
                    usize::from(!alive)
                })
                .sum();
        }
        let (mean, variance) = mean_variance(&z.data);
        stats.push(LayerStats {
            layer: i + 1,
            width: z.cols,
            activation_mean: mean,
            activation_variance: variance,
            gradient_variance: f64::NAN,
            dead_fraction: dead as f64 / z.cols.max(1) as f64,
            distinct_units: distinct_columns(z),
        });
    }
    ws.current
        .reshape(output_gradient.rows, output_gradient.cols);
    ws.current.data.copy_from_slice(&output_gradient.data);
    for i in (0..depth).rev() {
        stats[i].gradient_variance = mean_variance(&ws.current.data).1;
        if i == 0 {
            break;
        }
        product(
            &ws.current,
            &weights[i],
            true,
            &mut ws.scaled,
            &mut ws.product,
            &mut ws.next,
        );
        std::mem::swap(&mut ws.current, &mut ws.next);
        ws.current
            .data
            .par_iter_mut()
            .zip(ws.slopes[i - 1].par_iter())
            .for_each(|(g, &d)| *g *= f64::from(d));
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: usize, cols: usize, f: impl Fn(usize, usize) -> f64) -> Matrix {
        let values: Vec<f64> = (0..rows * cols).map(|k| f(k / cols, k % cols)).collect();
        Matrix::from_row_major(rows, cols, &values).unwrap()
    }

    /// A two-layer chain small enough to differentiate by hand.
    #[test]
    fn forward_and_backward_match_hand_computation() {
        // x = [[1, -2]], W1 = [[1, 2], [3, -1]] → z1 = [-5, 4], relu → [0, 4]
        // W2 = [[2], [0.5]] → y = [2]; loss = g·y with g = 3.
        let x = matrix(1, 2, |_, j| [1.0, -2.0][j]);
        let w1 = Weights {
            inputs: 2,
            outputs: 2,
            data: vec![1.0, 2.0, 3.0, -1.0],
        };
        let w2 = Weights {
            inputs: 2,
            outputs: 1,
            data: vec![2.0, 0.5],
        };
        let g = matrix(1, 1, |_, _| 3.0);
        let stats = run(
            &x,
            &[w1, w2],
            Activation::Relu,
            &g,
            &mut Workspace::default(),
        );
        assert_eq!(stats[0].activation_mean, 2.0);
        assert_eq!(stats[0].activation_variance, 4.0);
        assert_eq!(stats[0].dead_fraction, 0.5);
        assert_eq!(stats[1].activation_mean, 2.0);
        // ∂loss/∂z1 = (g · W2ᵀ) ⊙ relu′(z1) = [6, 1.5] ⊙ [0, 1] = [0, 1.5].
        assert_eq!(stats[0].gradient_variance, 0.5625);
        assert_eq!(stats[1].gradient_variance, 0.0);
        assert_eq!(stats[0].distinct_units, 2);
    }

    /// Signals far outside f32's range keep their exact scale through the products.
    #[test]
    fn products_keep_f64_range() {
        let w = Weights {
            inputs: 2,
            outputs: 2,
            data: vec![0.5, 1.0, 0.25, -2.0],
        };
        for scale in [1e-200, 1e-30, 1.0, 1e50, 1e250] {
            let a = matrix(3, 2, |i, j| scale * (1.0 + i as f64 - 2.0 * j as f64));
            let (mut scaled, mut buffer, mut z, mut back) =
                (Vec::new(), Vec::new(), Matrix::default(), Matrix::default());
            product(&a, &w, false, &mut scaled, &mut buffer, &mut z);
            for i in 0..3 {
                let (a0, a1) = (scale * (1.0 + i as f64), scale * (i as f64 - 1.0));
                let want = [a0 * 0.5 + a1 * 0.25, a0 - 2.0 * a1];
                for (j, want) in want.iter().enumerate() {
                    let got = z.data[j * 3 + i];
                    assert!(
                        (got - want).abs() <= 1e-6 * scale,
                        "{scale}: {got} vs {want}"
                    );
                }
            }
            product(&z, &w, true, &mut scaled, &mut buffer, &mut back);
            assert_eq!((back.rows, back.cols), (3, 2));
            assert!(back.data.iter().all(|v| v.is_finite()));
        }
        let overflowed = matrix(1, 2, |_, j| if j == 0 { f64::INFINITY } else { 1.0 });
        let mut out = Matrix::default();
        product(
            &overflowed,
            &w,
            false,
            &mut Vec::new(),
            &mut Vec::new(),
            &mut out,
        );
        assert!(out.data.iter().all(|v| v.is_nan()));
    }

    #[test]
    fn distinct_columns_compares_exactly() {
        let m = matrix(3, 4, |i, j| if j == 2 { 5.0 } else { i as f64 });
        assert_eq!(distinct_columns(&m), 2);
        let signed_zero = matrix(2, 2, |_, j| if j == 0 { 0.0 } else { -0.0 });
        assert_eq!(distinct_columns(&signed_zero), 1);
        let all_different = matrix(2, 3, |i, j| (i * 3 + j) as f64);
        assert_eq!(distinct_columns(&all_different), 3);
    }
}
