//! Random (semi-)orthogonal matrices: QR of a Gaussian matrix, with the sign correction
//! Q·sign(diag R) that makes Q Haar-distributed (Mezzadri, "How to generate random
//! matrices from the classical compact groups", Notices AMS 54, 2007). The QR itself is
//! faer's Householder QR, run sequentially so the result does not depend on the thread
//! count.

use faer::Mat;

use crate::error::{Error, Result};

/// Q with orthonormal columns, `tall x narrow` (`tall >= narrow`), from a Gaussian matrix
/// given row-major, as a row-major `Vec`.
pub fn orthonormal_columns(gaussian: &[f64], tall: usize, narrow: usize) -> Result<Vec<f64>> {
    debug_assert!(tall >= narrow && gaussian.len() == tall * narrow);
    faer::set_global_parallelism(faer::Par::Seq);
    let a = Mat::from_fn(tall, narrow, |i, j| gaussian[i * narrow + j]);
    let qr = a.qr();
    let q = qr.compute_thin_Q();
    let r = qr.thin_R();
    let mut out = vec![0.0; tall * narrow];
    for j in 0..narrow {
        let d = r[(j, j)];
        if !d.is_finite() || d == 0.0 {
            return Err(Error::Numerical(format!(
                "QR of the Gaussian matrix gave R[{j},{j}] = {d}; try another seed"
            )));
        }
        let sign = if d < 0.0 { -1.0 } else { 1.0 };
        for i in 0..tall {
            out[i * narrow + j] = q[(i, j)] * sign;
        }
    }
    Ok(out)
}

/// Largest entry of |G − I| where G is the Gram matrix of the smaller side of the
/// row-major `rows x cols` matrix `w` divided by `gain²`: WᵀW when rows ≥ cols, WWᵀ
/// otherwise.
pub fn orthogonality_error(w: &[f64], rows: usize, cols: usize, gain: f64) -> f64 {
    let m = Mat::from_fn(rows, cols, |i, j| w[i * cols + j] / gain);
    let gram = if rows >= cols {
        m.transpose() * &m
    } else {
        &m * m.transpose()
    };
    let n = gram.nrows();
    let mut worst = 0.0f64;
    for i in 0..n {
        for j in 0..n {
            let target = if i == j { 1.0 } else { 0.0 };
            worst = worst.max((gram[(i, j)] - target).abs());
        }
    }
    worst
}
