//! Whole-matrix constructions, shared by the native and the framework streams: the
//! orthogonal matrix from a Gaussian one (QR in [`super::orthogonal`]), the identity, and
//! the 2-D view of a weight tensor they work on.

use super::orthogonal;
use crate::error::{Error, Result};
use crate::law::Distribution;
use crate::tensor::ResolvedTensor;
use crate::tensor::dtype::{DType, Element};
use crate::tensor::fan::Layout;

/// The 2-D view (rows, cols) of a weight tensor for matrix schemes; see
/// [`crate::tensor::fan::matrix_view`].
pub fn matrix_view(tensor: &ResolvedTensor) -> (usize, usize) {
    crate::tensor::fan::matrix_view(tensor.spec.shape.dims(), tensor.spec.layout)
}

/// A weight's 2-D view split into equal blocks along its output side: PyTorch's rows
/// (oi: `out × in·k…`, so a block is `weight.chunk(K, 0)[b]`), Keras' columns (io:
/// `k…·in × out`). Each block is a matrix of its own for orthogonal's per-gate draws.
#[derive(Debug, Clone, Copy)]
pub struct OutputBlocks {
    pub rows: usize,
    pub cols: usize,
    pub blocks: usize,
    layout: Layout,
}

impl OutputBlocks {
    pub fn new((rows, cols): (usize, usize), blocks: usize, layout: Layout) -> Self {
        OutputBlocks {
            rows,
            cols,
            blocks: blocks.max(1),
            layout,
        }
    }

    /// One block's (rows, cols).
    pub fn block_dims(&self) -> (usize, usize) {
        match self.layout {
            Layout::Oi => (self.rows / self.blocks, self.cols),
            Layout::Io => (self.rows, self.cols / self.blocks),
        }
    }

    /// The view's flat index of block `b`'s element (r, c).
    pub fn index(&self, b: usize, r: usize, c: usize) -> usize {
        let (block_rows, block_cols) = self.block_dims();
        match self.layout {
            Layout::Oi => (b * block_rows + r) * self.cols + c,
            Layout::Io => r * self.cols + b * block_cols + c,
        }
    }

    /// Block `b`'s values, row-major, taken from the whole view.
    pub fn take<T: Copy>(&self, whole: &[T], b: usize) -> Vec<T> {
        let (block_rows, block_cols) = self.block_dims();
        (0..block_rows)
            .flat_map(|r| (0..block_cols).map(move |c| (r, c)))
            .map(|(r, c)| whole[self.index(b, r, c)])
            .collect()
    }

    /// Writes block `b`'s row-major values into the whole view.
    pub fn put<T: Copy>(&self, whole: &mut [T], b: usize, block: &[T]) {
        let (_, block_cols) = self.block_dims();
        for (k, &x) in block.iter().enumerate() {
            whole[self.index(b, k / block_cols, k % block_cols)] = x;
        }
    }
}

/// The constructions without randomness: the identity matrix (of the 2-D view) and the
/// Dirac delta kernel; an error for any other law.
pub fn matrix_without_randomness<E: Element>(
    tensor: &ResolvedTensor,
) -> Result<(Vec<E>, Option<f64>)> {
    match tensor.resolved.distribution {
        Distribution::Identity { gain } => {
            let (rows, cols) = matrix_view(tensor);
            let mut w = crate::budget::try_vec(rows * cols, E::default(), || {
                format!("an identity {rows}x{cols} matrix of {}", E::DTYPE)
            })?;
            for i in 0..rows.min(cols) {
                w[i * cols + i] = E::from_f64(gain);
            }
            Ok((w, None))
        }
        Distribution::LstmBias { forget } => {
            let n = tensor.spec.shape.len();
            let mut w = crate::budget::try_vec(n, E::default(), || {
                format!("an LSTM bias of {n} {}", E::DTYPE)
            })?;
            w[n / 4..n / 2].fill(E::from_f64(forget));
            Ok((w, None))
        }
        Distribution::Dirac { gain, groups } => {
            let dims = tensor.spec.shape.dims();
            let mut w = crate::budget::try_vec(dims.iter().product(), E::default(), || {
                format!("a Dirac {} tensor of {}", tensor.spec.shape, E::DTYPE)
            })?;
            for i in dirac_positions(dims, tensor.spec.layout, groups) {
                w[i] = E::from_f64(gain);
            }
            Ok((w, None))
        }
        other => Err(Error::Numerical(format!(
            "{other:?} is not a matrix construction without randomness"
        ))),
    }
}

/// The row-major positions of a Dirac delta kernel's non-zero taps, ascending: as
/// PyTorch's `dirac_(w, groups)` sets them, for g < groups and d < min(out/groups, in),
/// the tap at the centre of every kernel axis (`k // 2`) linking input channel d to
/// output channel g·(out/groups) + d. In `oi` layout that is `w[g·out/G + d, d, k₁//2, …]`,
/// in `io` (k… × in × out) `w[k₁//2, …, d, g·out/G + d]`.
pub fn dirac_positions(dims: &[usize], layout: Layout, groups: usize) -> Vec<usize> {
    let rank = dims.len();
    let (out_axis, in_axis) = match layout {
        Layout::Oi => (0, 1),
        Layout::Io => (rank - 1, rank - 2),
    };
    let per_group = dims[out_axis] / groups.max(1);
    let linked = per_group.min(dims[in_axis]);
    // Row-major strides.
    let mut strides = vec![1usize; rank];
    for axis in (0..rank.saturating_sub(1)).rev() {
        strides[axis] = strides[axis + 1] * dims[axis + 1];
    }
    let centre: usize = (0..rank)
        .filter(|&a| a != out_axis && a != in_axis)
        .map(|a| dims[a] / 2 * strides[a])
        .sum();
    let mut positions: Vec<usize> = (0..groups)
        .flat_map(|g| (0..linked).map(move |d| (g * per_group + d, d)))
        .map(|(o, i)| centre + o * strides[out_axis] + i * strides[in_axis])
        .collect();
    positions.sort_unstable();
    positions
}

/// The channel matrix of a convolution kernel at its centre tap, as JAX's
/// `delta_orthogonal` and Xiao et al. 2018 place it: index `(k − 1) // 2` on every kernel
/// axis. Returns the matrix's (rows, cols) — (out, in) in `oi` layout, (in, out) in `io`
/// — and the row-major positions in the tensor of its entries, in the matrix's own
/// row-major order.
pub fn centre_channels(dims: &[usize], layout: Layout) -> ((usize, usize), Vec<usize>) {
    let rank = dims.len();
    let (row_axis, col_axis) = match layout {
        Layout::Oi => (0, 1),
        Layout::Io => (rank - 2, rank - 1),
    };
    let mut strides = vec![1usize; rank];
    for axis in (0..rank.saturating_sub(1)).rev() {
        strides[axis] = strides[axis + 1] * dims[axis + 1];
    }
    let centre: usize = (0..rank)
        .filter(|&a| a != row_axis && a != col_axis)
        .map(|a| dims[a].saturating_sub(1) / 2 * strides[a])
        .sum();
    let (rows, cols) = (dims[row_axis], dims[col_axis]);
    let positions = (0..rows)
        .flat_map(|r| (0..cols).map(move |c| (r, c)))
        .map(|(r, c)| centre + r * strides[row_axis] + c * strides[col_axis])
        .collect();
    ((rows, cols), positions)
}

/// `gain ·` the orthonormal factor of `gaussian` (the tall orientation, `max(rows, cols)
/// x min(rows, cols)` row-major), transposed back for a wide matrix; the QR runs at
/// `precision`. Returns the stored values and their orthogonality error.
pub fn orthogonal_from<E: Element>(
    gaussian: &[f64],
    rows: usize,
    cols: usize,
    gain: f64,
    precision: DType,
) -> Result<(Vec<E>, Option<f64>)> {
    let (tall, narrow) = (rows.max(cols), rows.min(cols));
    let q = orthogonal::orthonormal_columns(gaussian, tall, narrow, precision)?;
    let mut w = crate::budget::try_vec(rows * cols, E::default(), || {
        format!("an orthogonal {rows}x{cols} matrix of {}", E::DTYPE)
    })?;
    if rows >= cols {
        for (out, &x) in w.iter_mut().zip(&q) {
            *out = E::from_f64(gain * x);
        }
    } else {
        // Wide matrix: the transpose of a tall orthonormal-column matrix.
        for i in 0..rows {
            for j in 0..cols {
                w[i * cols + j] = E::from_f64(gain * q[j * narrow + i]);
            }
        }
    }
    let stored: Vec<f64> = w.iter().map(|x| x.to_f64()).collect();
    let error = orthogonal::orthogonality_error(&stored, rows, cols, gain);
    Ok((w, Some(error)))
}

/// A row-major `rows x cols` matrix in its tall orientation (transposed when wide), as
/// the frameworks' orthogonal recipes factor it.
pub fn tall_orientation(drawn: Vec<f64>, rows: usize, cols: usize) -> Vec<f64> {
    if rows >= cols {
        return drawn;
    }
    let mut t = vec![0.0; rows * cols];
    for i in 0..rows {
        for j in 0..cols {
            t[j * rows + i] = drawn[i * cols + j];
        }
    }
    t
}

#[cfg(test)]
mod dirac_tests {
    use super::*;

    /// The io kernel (k… × in × out) holds the taps of the oi one (out × in × k…) at the
    /// transposed positions; with groups, output g·out/G + d links to input d.
    #[test]
    fn io_taps_are_the_oi_taps_transposed() {
        let (out, inp, kh, kw) = (8usize, 4usize, 3usize, 5usize);
        for groups in [1, 2, 4, 8] {
            let oi = dirac_positions(&[out, inp, kh, kw], Layout::Oi, groups);
            let io = dirac_positions(&[kh, kw, inp, out], Layout::Io, groups);
            let mut transposed: Vec<usize> = oi
                .iter()
                .map(|&p| {
                    let (o, rest) = (p / (inp * kh * kw), p % (inp * kh * kw));
                    let (i, rest) = (rest / (kh * kw), rest % (kh * kw));
                    let (y, x) = (rest / kw, rest % kw);
                    ((y * kw + x) * inp + i) * out + o
                })
                .collect();
            transposed.sort_unstable();
            assert_eq!(io, transposed, "groups {groups}");
            let per_group = out / groups;
            let expected: Vec<(usize, usize)> = (0..groups)
                .flat_map(|g| (0..per_group.min(inp)).map(move |d| (g * per_group + d, d)))
                .collect();
            let got: Vec<(usize, usize)> = oi
                .iter()
                .map(|&p| (p / (inp * kh * kw), p / (kh * kw) % inp))
                .collect();
            let mut expected_sorted = expected.clone();
            expected_sorted.sort_unstable();
            assert_eq!(got, expected_sorted, "groups {groups}");
            // Every tap at the kernel centre (1, 2).
            assert!(oi.iter().all(|&p| p % (kh * kw) == kw + 2));
        }
    }
}
