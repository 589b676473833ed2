//! One shard drawn alone equals the whole tensor at its positions (issue 24): every
//! stream, every kind of law, every dtype, every way a framework cuts a tensor (row and
//! column shards, strided shards, uneven and empty shards, out-of-order indices) — so a
//! model filled rank by rank is the model drawn on one device, bit for bit.

use proptest::prelude::*;

use weightinit::array::Region;
use weightinit::draw::DrawElement;
use weightinit::pipeline::region::Drawn;
use weightinit::{Init, Layout, RngMode};

/// The whole tensor's elements at the region's positions, picked one by one: the
/// obvious way, against which the region draw is checked.
fn picked<E: Copy>(whole: &[E], dims: &[usize], axes: &[Vec<usize>]) -> Vec<E> {
    let mut flat = vec![0usize];
    for (k, axis) in axes.iter().enumerate() {
        let stride: usize = dims[k + 1..].iter().product();
        flat = flat
            .iter()
            .flat_map(|&base| axis.iter().map(move |&i| base + i * stride))
            .collect();
    }
    flat.into_iter().map(|i| whole[i]).collect()
}

fn bits<E: DrawElement>(values: &[E]) -> Vec<u64> {
    values.iter().map(|v| v.to_f64().to_bits()).collect()
}

/// Draws `axes` of `init` alone and checks it against the whole; returns how it was made.
fn check_region<E: DrawElement>(init: &Init, dims: &[usize], axes: Vec<Vec<usize>>) -> Drawn {
    let whole = init.draw::<E>().unwrap();
    let whole = whole.as_slice().unwrap();
    let want = picked(whole, dims, &axes);
    let region = Region::new(dims, axes.clone()).unwrap();
    let mut got = vec![E::default(); region.len()];
    let drawn = init.draw_region_into(&region, &mut got).unwrap();
    assert_eq!(bits(&got), bits(&want), "{init:?} {axes:?}");
    drawn
}

/// The piece torch.chunk makes `i`-th of `n` indices cut in `k` (ceil-sized, the last
/// ones short or empty): `Shard(d)`'s rule, for uneven shards.
fn chunk(n: usize, k: usize, i: usize) -> Vec<usize> {
    let size = n.div_ceil(k);
    ((size * i).min(n)..(size * (i + 1)).min(n)).collect()
}

/// FSDP2 over tensor parallel on one axis (`_StridedShard(split_factor=s)` then
/// `Shard`): the axis cut in `s` pieces, each cut in `k`, and piece `i` of each kept.
fn strided(n: usize, s: usize, k: usize, i: usize) -> Vec<usize> {
    (0..s)
        .flat_map(|j| {
            let outer = chunk(n, s, j);
            let inner = chunk(outer.len(), k, i);
            inner.into_iter().map(move |p| outer[p])
        })
        .collect()
}

#[test]
fn every_rank_of_every_cut_draws_the_whole_tensors_values() {
    let dims = [37, 23]; // neither divides evenly
    let all = |n: usize| (0..n).collect::<Vec<_>>();
    let schemes = [
        "he-normal",
        "xavier-uniform",
        "trunc-normal:std=0.02",
        "normal:std=0.02",
        "zeros",
    ];
    for scheme in schemes {
        let init = Init::new(scheme, dims).unwrap().seed(11).name("blocks.0.w");
        for ranks in [1, 2, 3, 4, 8] {
            for r in 0..ranks {
                let rows = vec![chunk(37, ranks, r), all(23)];
                let cols = vec![all(37), chunk(23, ranks, r)];
                let both = vec![chunk(37, 2, r % 2), chunk(23, ranks, r)];
                let fsdp_tp = vec![strided(37, 2, ranks, r), all(23)];
                for axes in [rows, cols, both, fsdp_tp] {
                    assert_eq!(check_region::<f32>(&init, &dims, axes), Drawn::Alone);
                }
            }
        }
        let odd = vec![vec![36, 0, 5], vec![22, 3, 4, 5, 1]];
        check_region::<f64>(&init, &dims, odd.clone());
        check_region::<half::bf16>(&init, &dims, odd.clone());
        check_region::<half::f16>(&init, &dims, odd);
    }
}

#[test]
fn a_padding_row_stays_zero_in_the_shard_that_holds_it() {
    // --hf-config's embeddings zero their padding row (`zero_row`); a spec gives one here.
    let spec = r#"{"seed": 5, "tensor": [{"name": "embed", "shape": [10, 6], "scheme": "normal:std=0.02"}]}"#;
    let defaults = weightinit::model::spec::Defaults {
        seed: None,
        fresh_seed: 0,
        rng: RngMode::Native,
        dtype: weightinit::DType::F32,
        layout: Layout::Oi,
        rules: Default::default(),
        scheme: None,
    };
    let mut tensors = weightinit::model::spec::parse(
        "t",
        spec,
        weightinit::model::spec::SpecSyntax::Json,
        defaults,
    )
    .unwrap();
    let mut tensor = tensors.remove(0);
    tensor.zero_row = Some(3);
    let mut whole = vec![0f32; 60];
    weightinit::pipeline::generate::draw_into(&tensor, &mut whole).unwrap();
    assert!(whole[18..24].iter().all(|&v| v == 0.0));
    let axes = vec![vec![2, 3, 4], vec![1, 2, 3, 4, 5]];
    let region = Region::new(&[10, 6], axes.clone()).unwrap();
    let mut got = vec![0f32; region.len()];
    weightinit::pipeline::region::draw_region_into(&tensor, &region, &mut got).unwrap();
    assert_eq!(got, picked(&whole, &[10, 6], &axes));
}

#[test]
fn whole_matrix_laws_and_framework_streams_are_built_whole_then_cut() {
    let dims = [12, 9];
    let axes = vec![chunk(12, 5, 1), chunk(9, 2, 1)];
    for scheme in ["orthogonal", "sparse:sparsity=0.5", "identity", "dirac"] {
        let shape = if scheme == "dirac" {
            vec![12, 9, 3]
        } else {
            dims.to_vec()
        };
        let init = Init::new(scheme, shape.clone())
            .unwrap()
            .seed(3)
            .layout(Layout::Oi);
        let mut region_axes = axes.clone();
        if scheme == "dirac" {
            region_axes.push(vec![1, 2]);
        }
        match check_region::<f32>(&init, &shape, region_axes) {
            Drawn::FromWhole { bytes } => assert!(bytes >= 12 * 9 * 4, "{scheme}: {bytes}"),
            Drawn::Alone => panic!("{scheme} exists only whole"),
        }
    }
    for rng in [RngMode::Torch, RngMode::Numpy, RngMode::Jax] {
        let init = Init::new("kaiming-uniform", dims)
            .unwrap()
            .seed(3)
            .layout(Layout::Oi)
            .rng(rng);
        assert!(matches!(
            check_region::<f32>(&init, &dims, axes.clone()),
            Drawn::FromWhole { .. }
        ));
    }
}

#[test]
fn a_whole_tensor_over_the_memory_budget_is_refused_in_one_line() {
    // 200000² f32 values and their QR: terabytes, past any machine's default budget.
    let dims = [200_000, 200_000];
    let init = Init::new("orthogonal", dims).unwrap().seed(1);
    let region = Region::new(&dims, vec![vec![0], vec![0, 1]]).unwrap();
    let e = init
        .draw_region_into(&region, &mut [0f32; 2])
        .unwrap_err()
        .to_string();
    assert!(!e.contains('\n') && e.contains("whole of tensor"), "{e}");
}

#[test]
fn a_region_of_another_shape_or_size_is_refused() {
    let init = Init::new("he-normal", [4, 4]).unwrap().seed(1);
    let region = Region::new(&[4, 5], vec![vec![0], vec![0]]).unwrap();
    let e = init
        .draw_region_into(&region, &mut [0f32; 1])
        .unwrap_err()
        .to_string();
    assert!(e.contains("4x5") && e.contains("4x4"), "{e}");
    let region = Region::new(&[4, 4], vec![vec![0], vec![0, 1]]).unwrap();
    let e = init
        .draw_region_into(&region, &mut [0f32; 3])
        .unwrap_err()
        .to_string();
    assert!(e.contains("holds 2 elements"), "{e}");
}

fn cut() -> impl Strategy<Value = (Vec<usize>, Vec<Vec<usize>>)> {
    proptest::collection::vec(1usize..9, 1..4).prop_flat_map(|dims| {
        let axes: Vec<_> = dims
            .iter()
            .map(|&d| proptest::sample::subsequence((0..d).collect::<Vec<_>>(), 0..=d))
            .collect();
        (Just(dims), axes)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any subset of indices along each axis, any shape up to 3 dimensions.
    #[test]
    fn any_region_equals_the_whole_at_its_positions((dims, axes) in cut(), seed in any::<u64>()) {
        let init = Init::new("normal:std=1", dims.clone()).unwrap().seed(seed).name("p");
        check_region::<f32>(&init, &dims, axes.clone());
        let init = Init::new("uniform:low=-1,high=1", dims.clone()).unwrap().seed(seed);
        check_region::<f64>(&init, &dims, axes);
    }
}

/// The state-space laws (Mamba's A_log and dt bias) are drawn element by element from
/// their positions alone, so any cut of them is the whole tensor's values too.
#[test]
fn state_space_laws_draw_any_region_alone() {
    let all = |n: usize| (0..n).collect::<Vec<_>>();
    for scheme in [
        "s4d-real-log",
        "mamba-dt-bias",
        "mamba-dt-bias:dt-min=0.002,dt-max=0.2,dt-floor=0.005",
    ] {
        let dims = [37, 23];
        let init = Init::new(scheme, dims).unwrap().seed(3).name("mixer.A");
        for ranks in [1, 2, 3, 8] {
            for r in 0..ranks {
                let rows = vec![chunk(37, ranks, r), all(23)];
                let cols = vec![all(37), chunk(23, ranks, r)];
                let fsdp_tp = vec![strided(37, 2, ranks, r), all(23)];
                for axes in [rows, cols, fsdp_tp] {
                    assert_eq!(check_region::<f32>(&init, &dims, axes), Drawn::Alone);
                }
            }
        }
        let odd = vec![vec![36, 0, 5], vec![22, 3, 4, 5, 1]];
        check_region::<f64>(&init, &dims, odd.clone());
        check_region::<half::bf16>(&init, &dims, odd.clone());
        check_region::<half::f16>(&init, &dims, odd);
        // A 1-D bias (Mamba-2's per-head dt_bias) cut in uneven pieces.
        let init = Init::new(scheme, [301])
            .unwrap()
            .seed(3)
            .name("mixer.dt_bias");
        for r in 0..4 {
            assert_eq!(
                check_region::<f32>(&init, &[301], vec![chunk(301, 4, r)]),
                Drawn::Alone
            );
        }
    }
}
