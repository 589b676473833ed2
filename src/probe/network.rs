//! The numerical part of a probe: one dense chain, forward with its activation and
//! backward with a fixed output gradient, measuring every layer on the way.
//!
//! Matrices are column-major `Vec<f64>` (a column is one unit's values over the batch,
//! contiguous, so per-unit work is a slice) multiplied with faer. Everything is f64:
//! the point of a probe is to watch signals vanish to 1e-80 or explode to 1e120, which
//! f32 could not hold. The weights themselves are the f32 values `gen` writes.

use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;
use serde::Serialize;

use crate::activation::Activation;

/// A unit "passes no gradient" for an input when |f′(z)| is below this fraction of the
/// activation's largest slope (ReLU: z ≤ 0; tanh: |z| > 7.9; sigmoid: |z| > 14.5).
pub const DEAD_SLOPE: f64 = 1e-6;

/// A column-major matrix of `rows × cols` f64.
#[derive(Debug, Clone)]
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

    /// From row-major values (as .npy files and the generator lay them out).
    pub fn from_row_major<T: Copy + Into<f64> + Sync>(
        rows: usize,
        cols: usize,
        values: &[T],
    ) -> Matrix {
        debug_assert_eq!(values.len(), rows * cols);
        let mut data = vec![0.0; rows * cols];
        data.par_chunks_mut(rows.max(1))
            .enumerate()
            .for_each(|(j, column)| {
                for (i, v) in column.iter_mut().enumerate() {
                    *v = values[i * cols + j].into();
                }
            });
        Matrix { rows, cols, data }
    }

    fn view(&self) -> MatRef<'_, f64> {
        MatRef::from_column_major_slice(&self.data, self.rows, self.cols)
    }

    fn view_mut(&mut self) -> MatMut<'_, f64> {
        MatMut::from_column_major_slice_mut(&mut self.data, self.rows, self.cols)
    }

    fn columns(&self) -> impl Iterator<Item = &[f64]> {
        self.data.chunks(self.rows.max(1))
    }
}

/// `a · b`, or `a · bᵀ` when `transpose_b`.
fn product(a: &Matrix, b: &Matrix, transpose_b: bool) -> Matrix {
    let (rows, cols) = (a.rows, if transpose_b { b.rows } else { b.cols });
    let mut out = Matrix::zeros(rows, cols);
    let rhs = if transpose_b {
        b.view().transpose()
    } else {
        b.view()
    };
    faer::linalg::matmul::matmul(
        out.view_mut(),
        Accum::Replace,
        a.view(),
        rhs,
        1.0,
        Par::rayon(0),
    );
    out
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
pub fn mean_variance(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = values.len() as f64;
    let mean = values.par_iter().sum::<f64>() / n;
    let variance = values
        .par_iter()
        .map(|v| (v - mean) * (v - mean))
        .sum::<f64>()
        / n;
    (mean, variance)
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

/// Runs `input` (batch × widths[0]) through the chain with `weights[i]` (in × out) and
/// `activation` after every layer but the last, then back from `output_gradient`
/// (batch × last width), the gradient of loss = Σ output_gradient ⊙ output.
pub fn run(
    input: &Matrix,
    weights: &[Matrix],
    activation: Activation,
    output_gradient: &Matrix,
) -> Vec<LayerStats> {
    let depth = weights.len();
    let mut stats = Vec::with_capacity(depth);
    // f′(z) of every hidden layer, kept for the backward pass.
    let mut slopes: Vec<Matrix> = Vec::with_capacity(depth.saturating_sub(1));
    let dead_below = DEAD_SLOPE * activation.max_slope();
    let mut signal = input.clone();
    for (i, w) in weights.iter().enumerate() {
        let mut z = product(&signal, w, false);
        let mut dead = 0usize;
        if i + 1 < depth {
            let mut slope = Matrix::zeros(z.rows, z.cols);
            let rows = z.rows.max(1);
            dead = z
                .data
                .par_chunks_mut(rows)
                .zip(slope.data.par_chunks_mut(rows))
                .map(|(zs, ds)| {
                    let mut alive = false;
                    for (v, d) in zs.iter_mut().zip(ds.iter_mut()) {
                        let (f, df) = activation.value_and_slope(*v);
                        *v = f;
                        *d = df;
                        // NaN slopes (from an overflowed z) count as alive: not dead, broken.
                        alive |= df.abs() > dead_below || df.is_nan();
                    }
                    usize::from(!alive)
                })
                .sum();
            slopes.push(slope);
        }
        let (mean, variance) = mean_variance(&z.data);
        stats.push(LayerStats {
            layer: i + 1,
            width: z.cols,
            activation_mean: mean,
            activation_variance: variance,
            gradient_variance: f64::NAN,
            dead_fraction: dead as f64 / z.cols.max(1) as f64,
            distinct_units: distinct_columns(&z),
        });
        signal = z;
    }
    let mut delta = output_gradient.clone();
    for i in (0..depth).rev() {
        stats[i].gradient_variance = mean_variance(&delta.data).1;
        if i == 0 {
            break;
        }
        let mut back = product(&delta, &weights[i], true);
        let slope = &slopes[i - 1];
        back.data
            .par_iter_mut()
            .zip(slope.data.par_iter())
            .for_each(|(g, d)| *g *= d);
        delta = back;
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: usize, cols: usize, f: impl Fn(usize, usize) -> f64) -> Matrix {
        let values: Vec<f64> = (0..rows * cols).map(|k| f(k / cols, k % cols)).collect();
        Matrix::from_row_major(rows, cols, &values)
    }

    /// A two-layer chain small enough to differentiate by hand.
    #[test]
    fn forward_and_backward_match_hand_computation() {
        // x = [[1, -2]], W1 = [[1, 2], [3, -1]] → z1 = [-5, 4], relu → [0, 4]
        // W2 = [[2], [0.5]] → y = [2]; loss = g·y with g = 3.
        let x = matrix(1, 2, |_, j| [1.0, -2.0][j]);
        let w1 = matrix(2, 2, |i, j| [[1.0, 2.0], [3.0, -1.0]][i][j]);
        let w2 = matrix(2, 1, |i, _| [2.0, 0.5][i]);
        let g = matrix(1, 1, |_, _| 3.0);
        let stats = run(&x, &[w1, w2], Activation::Relu, &g);
        assert_eq!(stats[0].activation_mean, 2.0);
        assert_eq!(stats[0].activation_variance, 4.0);
        assert_eq!(stats[0].dead_fraction, 0.5);
        assert_eq!(stats[1].activation_mean, 2.0);
        // ∂loss/∂z1 = (g · W2ᵀ) ⊙ relu′(z1) = [6, 1.5] ⊙ [0, 1] = [0, 1.5].
        assert_eq!(stats[0].gradient_variance, 0.5625);
        assert_eq!(stats[1].gradient_variance, 0.0);
        assert_eq!(stats[0].distinct_units, 2);
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
