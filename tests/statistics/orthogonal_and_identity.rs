//! The matrix schemes: orthogonal (orthogonal, gain-scaled, seeded, sign-balanced) and
//! identity (gain on the diagonal, exact zeros elsewhere).

use crate::common::tensors::*;
use crate::support::*;
use weightinit::array::dtype::DType;
use weightinit::array::fan::Layout;

// ---------------------------------------------------------------------------------------
// Orthogonal and identity
// ---------------------------------------------------------------------------------------

/// The 2-D view a matrix scheme works on, from the layout conventions: PyTorch (oi)
/// flattens everything after the first axis, Keras (io) everything before the last.
pub fn matrix_dims(shape: &str, layout: Layout) -> (usize, usize) {
    let dims: Vec<usize> = shape.split('x').map(|d| d.parse().unwrap()).collect();
    let n: usize = dims.iter().product();
    match layout {
        Layout::Oi => (dims[0], n / dims[0]),
        Layout::Io => {
            let last = *dims.last().unwrap();
            (n / last, last)
        }
    }
}

/// max |G/g² − I| with G = WᵀW (tall or square) or WWᵀ (wide), computed here in f64.
pub fn gram_error(w: &[f64], rows: usize, cols: usize, gain: f64) -> f64 {
    let g2 = gain * gain;
    let mut worst = 0.0f64;
    if rows >= cols {
        for a in 0..cols {
            for b in a..cols {
                let dot: f64 = (0..rows).map(|i| w[i * cols + a] * w[i * cols + b]).sum();
                let target = if a == b { 1.0 } else { 0.0 };
                worst = worst.max((dot / g2 - target).abs());
            }
        }
    } else {
        for a in 0..rows {
            for b in a..rows {
                let (ra, rb) = (&w[a * cols..(a + 1) * cols], &w[b * cols..(b + 1) * cols]);
                let dot: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
                let target = if a == b { 1.0 } else { 0.0 };
                worst = worst.max((dot / g2 - target).abs());
            }
        }
    }
    worst
}

pub const ORTHO_SHAPES: [(&str, Layout); 7] = [
    ("300x100", Layout::Io),    // tall
    ("100x300", Layout::Io),    // wide
    ("128x128", Layout::Io),    // square
    ("3x3x16x32", Layout::Io),  // conv, io: 144 x 32 (tall)
    ("32x16x3x3", Layout::Oi),  // conv, oi: 32 x 144 (wide)
    ("3x3x64x128", Layout::Io), // conv, io: 576 x 128
    ("128x64x3x3", Layout::Oi), // conv, oi: 128 x 576
];

pub fn tolerance(dtype: DType) -> f64 {
    match dtype {
        DType::F32 => 1e-5,
        DType::F64 => 1e-12,
        DType::F16 => 2e-3,
        DType::Bf16 => 1.6e-2,
    }
}

#[test]
fn orthogonal_is_orthogonal() {
    let mut failures = Vec::new();
    for dtype in DTYPES {
        for (k, &(shape, layout)) in ORTHO_SHAPES.iter().enumerate() {
            let (rows, cols) = matrix_dims(shape, layout);
            let t = tensor("orthogonal", shape, layout, dtype, 50 + k as u64, "q");
            let (w, generated) = draw(&t);
            let err = gram_error(&w, rows, cols, 1.0);
            if err > tolerance(dtype) {
                failures.push(format!(
                    "{shape} {layout} {dtype} ({rows}x{cols}): max |Gram − I| = {err:e}"
                ));
            }
            // The engine measures the same quantity on the stored values.
            match generated.orthogonality_error {
                Some(e) if (e - err).abs() <= 1e-12 => {}
                other => failures.push(format!(
                    "{shape} {layout} {dtype}: engine reports orthogonality error {other:?}, \
                     measured {err:e}"
                )),
            }
        }
    }
    check_all(failures);
}

#[test]
fn orthogonal_gain_scales_the_same_matrix() {
    let mut failures = Vec::new();
    for dtype in DTYPES {
        // Relative rounding of one stored value, with room for the scaling.
        let eps = match dtype {
            DType::F32 => 2f64.powi(-23),
            DType::F64 => 2f64.powi(-51),
            DType::F16 => 2f64.powi(-10),
            DType::Bf16 => 2f64.powi(-7),
        };
        for &(shape, layout) in &[("300x100", Layout::Io), ("32x16x3x3", Layout::Oi)] {
            let (rows, cols) = matrix_dims(shape, layout);
            let base = draw(&tensor("orthogonal", shape, layout, dtype, 5, "g")).0;
            for (scheme, gain) in [
                ("orthogonal:gain=2.5", 2.5),
                ("orthogonal:nonlinearity=tanh", 5.0 / 3.0),
                ("orthogonal:nonlinearity=relu", std::f64::consts::SQRT_2),
            ] {
                let t = tensor(scheme, shape, layout, dtype, 5, "g");
                let (w, _) = draw(&t);
                let err = gram_error(&w, rows, cols, gain);
                if err > tolerance(dtype) {
                    failures.push(format!(
                        "{scheme} {shape} {dtype}: max |Gram/g² − I| = {err:e}"
                    ));
                }
                let worst = w
                    .iter()
                    .zip(&base)
                    .map(|(x, b)| (x - gain * b).abs() / (gain * b.abs()).max(1e-30))
                    .fold(0.0, f64::max);
                if worst > 2.0 * eps {
                    failures.push(format!(
                        "{scheme} {shape} {dtype}: not gain × the gain-1 matrix \
                         (worst relative difference {worst:e})"
                    ));
                }
            }
        }
    }
    check_all(failures);
}

#[test]
fn orthogonal_depends_on_seed_and_name() {
    for dtype in DTYPES {
        let a = draw(&tensor("orthogonal", "64x64", Layout::Io, dtype, 1, "q")).0;
        let b = draw(&tensor("orthogonal", "64x64", Layout::Io, dtype, 2, "q")).0;
        let c = draw(&tensor("orthogonal", "64x64", Layout::Io, dtype, 1, "r")).0;
        for (other, what) in [(&b, "seed"), (&c, "name")] {
            // Compare magnitudes, so a mere column sign flip would also count as "same".
            let same = a
                .iter()
                .zip(other)
                .filter(|(x, y)| x.abs() == y.abs())
                .count();
            assert!(
                same < a.len() / 100,
                "{dtype}: changing the {what} left {same} of {} entries unchanged",
                a.len()
            );
        }
    }
}

/// Haar measure (Mezzadri 2007) needs the Q·sign(diag R) correction. Without it a
/// Householder QR fixes the sign of Q's diagonal (LAPACK-style R has R₀₀ of sign opposite
/// to A₀₀, so Q₀₀ ≤ 0 always); with it each diagonal entry is positive half the time.
#[test]
fn orthogonal_diagonal_signs_are_balanced() {
    const SEEDS: u64 = 200;
    const DIM: usize = 4;
    let mut positive = [0u32; DIM];
    for seed in 0..SEEDS {
        let w = draw(&tensor(
            "orthogonal",
            "4x4",
            Layout::Io,
            DType::F64,
            seed,
            "haar",
        ))
        .0;
        for (i, count) in positive.iter_mut().enumerate() {
            if w[i * DIM + i] > 0.0 {
                *count += 1;
            }
        }
    }
    // Binomial(200, 1/2): mean 100, sd √50 ≈ 7.07; allow 4 sd.
    for (i, &count) in positive.iter().enumerate() {
        assert!(
            (f64::from(count) - 100.0).abs() <= 4.0 * 50f64.sqrt(),
            "diagonal entry {i} positive in {count} of {SEEDS} matrices"
        );
    }
}

#[test]
fn identity_is_gain_on_the_diagonal_and_exact_zeros_elsewhere() {
    for dtype in DTYPES {
        for shape in ["4x4", "3x5", "5x3", "1x7"] {
            let (rows, cols) = matrix_dims(shape, Layout::Io);
            for (scheme, gain) in [
                ("identity", 1.0),
                ("identity:gain=2", 2.0),
                ("identity:nonlinearity=tanh", 5.0 / 3.0),
            ] {
                for layout in [Layout::Io, Layout::Oi] {
                    let t = tensor(scheme, shape, layout, dtype, 3, "eye");
                    let (w, _) = draw(&t);
                    let diag = stored(dtype, gain);
                    for i in 0..rows {
                        for j in 0..cols {
                            let want = if i == j { diag } else { 0.0 };
                            let got = w[i * cols + j];
                            assert!(
                                got.to_bits() == want.to_bits(),
                                "{scheme} {shape} {layout} {dtype}: [{i},{j}] = {got}, want {want}"
                            );
                        }
                    }
                }
            }
        }
    }
}
