//! Whole-matrix constructions, shared by the native and the framework streams: the
//! orthogonal matrix from a Gaussian one (QR in [`super::orthogonal`]), the identity, and
//! the 2-D view of a weight tensor they work on.

use super::orthogonal;
use crate::array::dtype::{DType, Element};
use crate::array::geometry::dirac_positions;
use crate::error::{Error, Result};
use crate::law::Distribution;
use crate::tensor::ResolvedTensor;

/// The constructions without randomness: the identity matrix (of the 2-D view) and the
/// Dirac delta kernel; an error for any other law.
pub fn matrix_without_randomness<E: Element>(
    tensor: &ResolvedTensor,
) -> Result<(Vec<E>, Option<f64>)> {
    match tensor.resolved.distribution {
        Distribution::Identity { gain } => {
            let (rows, cols) = tensor.matrix_view();
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
