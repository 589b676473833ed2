//! The schemes that are not a law on every element: constants fill every element with
//! their value; native `sparse` zeros a fixed count per unit, uniformly placed, and
//! keeps normal weights.

use crate::common::tensors::*;
use crate::support::*;
use weightinit::array::dtype::DType;
use weightinit::array::fan::Layout;
use weightinit::law::Distribution;

#[test]
fn constant_schemes_fill_every_element() {
    // 70000 x 2 spans three 65536-element blocks.
    for dtype in DTYPES {
        for (scheme, value) in [
            ("zeros", 0.0),
            ("ones", 1.0),
            ("constant:value=0.1", 0.1),
            ("constant:value=-3.75", -3.75),
        ] {
            let t = tensor(scheme, "70000x2", Layout::Io, dtype, 9, "c");
            let (xs, generated) = draw(&t);
            let want = stored(dtype, value);
            assert_eq!(xs.len(), 140_000);
            if let Some((i, x)) = xs
                .iter()
                .enumerate()
                .find(|(_, x)| x.to_bits() != want.to_bits())
            {
                panic!("{scheme} {dtype}: element {i} is {x:e}, want {want:e} (bitwise)");
            }
            assert_eq!(
                (generated.stats.min, generated.stats.max),
                (want, want),
                "{scheme} {dtype}"
            );
        }
    }
}

/// Native `sparse`: every input unit has exactly ⌈sparsity·out⌉ zeros, which fall on its
/// weights uniformly (each of the out places is zero in a fraction zeros/out of the units,
/// within 5 binomial standard errors), and the kept weights are N(0, std²) (KS), in both
/// layouts.
#[test]
fn sparse_zeros_are_uniform_and_kept_weights_normal() {
    let (out, inputs, sparsity, std) = (20usize, 4000usize, 0.3, 0.05);
    let zeros = (sparsity * out as f64).ceil() as usize; // 6
    let mut failures = Vec::new();
    for (layout, shape) in [
        (Layout::Oi, format!("{out}x{inputs}")),
        (Layout::Io, format!("{inputs}x{out}")),
    ] {
        let scheme = format!("sparse:sparsity={sparsity},std={std}");
        let t = tensor(&scheme, &shape, layout, DType::F64, 21, "sparse");
        let (xs, _) = draw(&t);
        let at = |j: usize, k: usize| match layout {
            Layout::Oi => xs[k * inputs + j],
            Layout::Io => xs[j * out + k],
        };
        let mut per_place = vec![0usize; out];
        for j in 0..inputs {
            let z = (0..out).filter(|&k| at(j, k) == 0.0).count();
            if z != zeros {
                failures.push(format!("{layout}: unit {j} has {z} zeros, not {zeros}"));
                break;
            }
            for (k, count) in per_place.iter_mut().enumerate() {
                *count += usize::from(at(j, k) == 0.0);
            }
        }
        let p = zeros as f64 / out as f64;
        let se = (inputs as f64 * p * (1.0 - p)).sqrt();
        for (k, &c) in per_place.iter().enumerate() {
            let z = (c as f64 - inputs as f64 * p) / se;
            if z.abs() > 5.0 {
                failures.push(format!(
                    "{layout}: place {k} is zero in {c} units, z = {z:.1}"
                ));
            }
        }
        let kept: Vec<f64> = xs.iter().copied().filter(|&x| x != 0.0).collect();
        let law = Distribution::Normal { mean: 0.0, std };
        let d = ks_statistic(&kept, |x| law.cdf(x).unwrap());
        if d > ks_critical(kept.len()) {
            failures.push(format!("{layout}: kept weights KS D = {d:.5}"));
        }
    }
    check_all(failures);
}
