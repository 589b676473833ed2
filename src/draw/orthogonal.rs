//! Random (semi-)orthogonal matrices: QR of a Gaussian matrix, with the sign correction
//! Q·sign(diag R) that makes Q Haar-distributed (Mezzadri, "How to generate random
//! matrices from the classical compact groups", Notices AMS 54, 2007). The QR itself is
//! faer's Householder QR, split into a fixed number of tasks so the result does not
//! depend on the thread count.

use faer::Mat;
use faer::linalg::matmul::triangular::BlockStructure;
use faer::traits::RealField;

use crate::array::dtype::DType;
use crate::error::{Error, Result};

/// faer splits its work into this many parallel tasks, whatever the size of the rayon
/// pool that runs them. faer's results depend on how the work is split (measured: Par
/// with 1, 2, 3 and 7 tasks gave four different matrices), so the split is fixed and
/// `--threads` only decides how many threads execute the tasks: the bytes stay the same.
const QR_PARALLELISM: faer::Par = faer::Par::Rayon(std::num::NonZeroUsize::new(4).unwrap());

/// Q with orthonormal columns, `tall x narrow` (`tall >= narrow`), from a Gaussian matrix
/// given row-major, as a row-major `Vec`.
///
/// The QR runs at the tensor's precision: in f32 for f32 tensors (half the flops of f64;
/// max |QᵀQ − I| ≈ 6e-7 at 4096², the same order as PyTorch's f32 `orthogonal_`, and well
/// inside the 1e-5 tolerance), in f64 for f64 tensors.
pub fn orthonormal_columns(
    gaussian: &[f64],
    tall: usize,
    narrow: usize,
    precision: DType,
) -> Result<Vec<f64>> {
    debug_assert!(tall >= narrow && gaussian.len() == tall * narrow);
    products_fit(tall, narrow, precision.size())?;
    match precision {
        // 16-bit tensors: an f32 QR is far more precise than their storage.
        DType::F32 | DType::F16 | DType::Bf16 => q_with_positive_r_diagonal(
            &Mat::from_fn(tall, narrow, |i, j| gaussian[i * narrow + j] as f32),
            f64::from,
        ),
        DType::F64 => q_with_positive_r_diagonal(
            &Mat::from_fn(tall, narrow, |i, j| gaussian[i * narrow + j]),
            |x| x,
        ),
    }
}

/// Q·sign(diag R) of the thin QR of `a`, row-major, widened to f64 by `widen`.
fn q_with_positive_r_diagonal<T: RealField + Copy + std::fmt::Display>(
    a: &Mat<T>,
    widen: impl Fn(T) -> f64,
) -> Result<Vec<f64>> {
    faer::set_global_parallelism(QR_PARALLELISM);
    let (tall, narrow) = (a.nrows(), a.ncols());
    let qr = a.qr();
    let q = qr.compute_thin_Q();
    let r = qr.thin_R();
    let mut out = crate::budget::try_zeroed::<f64>(tall * narrow, || {
        format!("the Q factor of a {tall}x{narrow} matrix in f64")
    })?;
    for j in 0..narrow {
        let d = widen(r[(j, j)]);
        if !d.is_finite() || d == 0.0 {
            return Err(Error::Numerical(format!(
                "QR of the Gaussian matrix gave R[{j},{j}] = {d}; try another seed"
            )));
        }
        let sign = if d < 0.0 { -1.0 } else { 1.0 };
        for i in 0..tall {
            out[i * narrow + j] = widen(q[(i, j)]) * sign;
        }
    }
    Ok(out)
}

/// Refuses, before faer runs, the QR or Gram matrix of a `tall x narrow` matrix (of
/// `element` bytes) that a process memory limit leaves no room for: faer's own
/// allocations abort when refused, so this is asked first (see
/// [`crate::budget::products_reserve`]). Counts the matrix, faer's copy and factor, and
/// Q widened to f64.
pub fn products_fit(tall: usize, narrow: usize, element: usize) -> Result<()> {
    let values = (tall as u64).saturating_mul(narrow as u64);
    let needed = values.checked_mul(3 * element as u64 + 8);
    crate::budget::check_products(
        needed,
        &format!("the matrix products of a {tall}x{narrow} matrix"),
    )
}

/// Largest entry of |G − I| where G is the Gram matrix of the smaller side of the
/// row-major `rows x cols` matrix `w` divided by `gain²`: WᵀW when rows ≥ cols, WWᵀ
/// otherwise.
pub fn orthogonality_error(w: &[f64], rows: usize, cols: usize, gain: f64) -> f64 {
    // Put the smaller side in the columns, so the Gram matrix is MᵀM in both cases.
    let m = if rows >= cols {
        Mat::from_fn(rows, cols, |i, j| w[i * cols + j] / gain)
    } else {
        Mat::from_fn(cols, rows, |i, j| w[j * cols + i] / gain)
    };
    let n = m.ncols();
    // The Gram matrix is symmetric: computing its lower triangle halves the work.
    let mut gram = Mat::<f64>::zeros(n, n);
    faer::linalg::matmul::triangular::matmul(
        gram.as_mut(),
        BlockStructure::TriangularLower,
        faer::Accum::Replace,
        m.transpose(),
        BlockStructure::Rectangular,
        m.as_ref(),
        BlockStructure::Rectangular,
        1.0,
        QR_PARALLELISM,
    );
    let mut worst = 0.0f64;
    for j in 0..n {
        for i in j..n {
            let target = if i == j { 1.0 } else { 0.0 };
            worst = worst.max((gram[(i, j)] - target).abs());
        }
    }
    worst
}
