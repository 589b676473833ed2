//! f16 and bf16: the f32 stream's draws rounded once, for elementwise and orthogonal
//! schemes.

use crate::common::tensors::*;
use crate::orthogonal_and_identity::{ORTHO_SHAPES, gram_error, matrix_dims, tolerance};
use crate::support::*;
use weightinit::array::dtype::DType;
use weightinit::array::fan::Layout;

/// f16 and bf16 tensors are the f32 tensors' draws rounded once to 16 bits from the f64
/// value (README "Reproducibility"): each value is within one 16-bit step of the f32
/// value rounded to 16 bits, almost always equal (they differ only when rounding through
/// f32 first would round twice), and the engine's report finds them consistent with the
/// law. Orthogonal matrices stay orthogonal to 16-bit precision.
#[test]
fn half_types_are_the_f32_draws_rounded_once() {
    let mut failures = Vec::new();
    for dtype in [DType::F16, DType::Bf16] {
        let step = match dtype {
            DType::F16 => 2f64.powi(-10),
            _ => 2f64.powi(-7),
        };
        for scheme in [
            "he-normal",
            "xavier-uniform",
            "truncated-normal:std=0.02",
            "normal:mean=3",
        ] {
            let t16 = tensor(scheme, "400x300", Layout::Io, dtype, 11, "h");
            let t32 = tensor(scheme, "400x300", Layout::Io, DType::F32, 11, "h");
            let (a16, generated) = draw(&t16);
            let (a32, _) = draw(&t32);
            let mut equal = 0usize;
            for (i, (&x16, &x32)) in a16.iter().zip(&a32).enumerate() {
                let rounded = stored(dtype, x32);
                if x16 == rounded {
                    equal += 1;
                } else if (x16 - rounded).abs() > step * x32.abs().max(f64::MIN_POSITIVE) {
                    failures.push(format!("{scheme} {dtype} [{i}]: {x16} vs f32 {x32}"));
                    break;
                }
            }
            if equal * 1000 < a16.len() * 999 {
                failures.push(format!(
                    "{scheme} {dtype}: only {equal} of {} equal",
                    a16.len()
                ));
            }
            let report = weightinit::check::report::TensorReport::new(&t16, &generated, "-".into());
            if !report.consistent {
                failures.push(format!(
                    "{scheme} {dtype}: report says inconsistent: {:?}",
                    report.notes
                ));
            }
        }
        for &(shape, layout) in ORTHO_SHAPES.iter() {
            let (rows, cols) = matrix_dims(shape, layout);
            let t = tensor("orthogonal", shape, layout, dtype, 7, "q");
            let (w, _) = draw(&t);
            let err = gram_error(&w, rows, cols, 1.0);
            if err > tolerance(dtype) {
                failures.push(format!(
                    "orthogonal {shape} {dtype}: max |Gram − I| = {err:e}"
                ));
            }
        }
    }
    check_all(failures);
}
