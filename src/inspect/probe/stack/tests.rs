//! Unit tests of the stack model: verdicts, activations, routing, weight slicing.

use super::*;

fn row(layer: usize, sublayer: &'static str, growth: f64) -> Row {
    Row {
        layer,
        sublayer,
        branch_variance: 1.0,
        branch_ratio: 0.5,
        stream_variance: growth,
        stream_rms: growth.sqrt(),
        growth,
        routing: None,
    }
}

#[test]
fn the_verdict_turns_at_the_first_sublayer_past_the_factor() {
    let rows = [
        row(0, "attention", 2.0),
        row(0, "mlp", 50.0),
        row(1, "attention", 150.0),
        row(1, "mlp", 1e4),
    ];
    let v = judge(1.0, &rows, 1.0);
    assert_eq!(v.kind, "growing");
    assert_eq!((v.layer, v.sublayer), (Some(1), Some("attention")));
    assert_eq!(v.growth, 1e4);
    let v = judge(1.0, &rows[..2], 1.0);
    assert_eq!((v.kind, v.layer), ("stable", None));
    assert!(v.detail.contains("share 2.00%"), "{}", v.detail);
    let v = judge(1.0, &[row(0, "mlp", 0.5 / GROWTH_FACTOR)], 1.0);
    assert_eq!((v.kind, v.sublayer), ("vanishing", Some("mlp")));
    // A stream that overflowed grows.
    let v = judge(1.0, &[row(0, "attention", f64::INFINITY)], 1.0);
    assert_eq!(v.kind, "growing");
}

#[test]
fn activations_match_their_definitions() {
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(Act::Silu.apply(1.0), 1.0 / (1.0 + (-1.0f64).exp())));
    // Φ(1) = 0.8413447460685429: gelu(1) = 1 · Φ(1).
    assert!(close(Act::Gelu.apply(1.0), 0.841_344_746_068_542_9));
    assert!((Act::GeluTanh.apply(1.0) - 0.841_191_990_6).abs() < 1e-9);
    assert_eq!(Act::Relu.apply(-2.0), 0.0);
    assert_eq!(Act::parse("gelu_pytorch_tanh"), Some(Act::GeluTanh));
    assert_eq!(Act::parse("swish"), Some(Act::Silu));
    assert_eq!(Act::parse("xielu"), None);
}

fn planned(name: &str, shape: &[usize], role: Option<&str>, layer: Option<usize>) -> Planned {
    Planned {
        name: name.into(),
        shape: shape.to_vec(),
        scheme: "normal:std=0.02".into(),
        zero_row: None,
        role: role.map(String::from),
        layer,
        dtype: None,
        saved: true,
        region: None,
    }
}

fn model(family: &str, tensors: Vec<Planned>) -> crate::model::hf::Model {
    crate::model::hf::Model {
        family: family.into(),
        source: "test".into(),
        tensors,
        dtype: None,
        config_bytes: Vec::new(),
        values: BTreeMap::from([("num_experts_per_tok".into(), Value::Number(2.0))]),
        label: "config.json".into(),
        recipe_symbols: BTreeMap::new(),
        torch_schedule: None,
        torch_refusal: None,
    }
}

/// A one-layer Mixtral-like model with per-expert 2-D experts (listed out of order).
fn per_expert(experts: &[usize]) -> Vec<Planned> {
    let l = Some(0);
    let mut t = vec![
        planned(
            "model.embed_tokens.weight",
            &[16, 8],
            Some("embedding"),
            None,
        ),
        planned(
            "model.layers.0.self_attn.v_proj.weight",
            &[8, 8],
            Some("v"),
            l,
        ),
        planned(
            "model.layers.0.self_attn.o_proj.weight",
            &[8, 8],
            Some("o"),
            l,
        ),
        planned("model.layers.0.mlp.gate.weight", &[3, 8], Some("router"), l),
    ];
    for &e in experts {
        for (proj, role, shape) in [
            ("gate_proj", "expert_gate", [4, 8]),
            ("up_proj", "expert_up", [4, 8]),
            ("down_proj", "expert_down", [8, 4]),
        ] {
            t.push(planned(
                &format!("model.layers.0.mlp.experts.{e}.{proj}.weight"),
                &shape,
                Some(role),
                l,
            ));
        }
    }
    t.push(planned(
        "model.layers.0.input_layernorm.weight",
        &[8],
        None,
        l,
    ));
    t.push(planned(
        "model.layers.0.post_attention_layernorm.weight",
        &[8],
        None,
        l,
    ));
    t.push(planned("model.norm.weight", &[8], None, None));
    t
}

#[test]
fn per_expert_tensors_are_found_by_their_index() {
    let s = structure(&model("mixtral", per_expert(&[2, 0, 1]))).unwrap();
    let moe = s.layers[0].moe.as_ref().unwrap();
    let ExpertInput::Split {
        gate: ExpertWeights::Each(gate),
        up: ExpertWeights::Each(up),
    } = &moe.input
    else {
        panic!("{:?}", moe.input);
    };
    assert_eq!(gate[1], "model.layers.0.mlp.experts.1.gate_proj.weight");
    assert_eq!(up[2], "model.layers.0.mlp.experts.2.up_proj.weight");
    let ExpertWeights::Each(down) = &moe.down else {
        panic!("{:?}", moe.down);
    };
    assert_eq!(down[0], "model.layers.0.mlp.experts.0.down_proj.weight");
    assert_eq!(moe.width, 4);
    let router = s.router.unwrap();
    assert_eq!((router.experts, router.top_k), (3, 2));
    assert_eq!(router.rule, Rule::Softmax { renormalize: true });
    assert!(s.layers[0].dense.is_none());
    // An expert without its tensors is refused in one line.
    let e = structure(&model("mixtral", per_expert(&[0, 2]))).unwrap_err();
    assert!(e.to_string().contains("each of its 3 experts"), "{e}");
    assert_eq!(
        expert_index("model.layers.3.mlp.experts.12.w1.weight"),
        Some(12)
    );
    assert_eq!(
        expert_index("model.layers.3.mlp.experts.gate_up_proj"),
        None
    );
}

#[test]
fn state_space_families_are_refused_in_one_line() {
    for family in ["mamba", "mamba2"] {
        let t = vec![planned(
            "backbone.layers.0.mixer.A_log",
            &[8, 4],
            None,
            Some(0),
        )];
        let e = structure(&model(family, t)).unwrap_err().to_string();
        assert!(
            e.contains("probe models attention/MLP residual stacks")
                && e.contains(&format!("{family} is a state-space model")),
            "{e}"
        );
        assert_eq!(e.lines().count(), 1);
    }
}

#[test]
fn stacked_experts_are_sliced_one_expert_at_a_time() {
    let spec = |name: &str, shape: &str| {
        crate::tensor::TensorSpec {
            name: name.into(),
            shape: shape.parse().unwrap(),
            layout: Layout::Io,
            scheme: "normal:std=1".parse().unwrap(),
            dtype: DType::F32,
            seed: 3,
            rng: RngMode::Native,
            jax: Default::default(),
        }
        .resolve()
        .unwrap()
    };
    let stack = spec("s", "3x4x2");
    let one = spec("e1", "4x2");
    let w = Weights {
        tensors: BTreeMap::from([("s", &stack), ("e1", &one)]),
        conv1d: false,
        heads: None,
    };
    let all = draw(&stack).unwrap();
    let stacked = ExpertWeights::Stack("s".into());
    let mut source = ExpertSource::new(&w, &stacked);
    for e in [2, 0, 1] {
        let lin = source.linear(e).unwrap();
        assert_eq!((lin.out, lin.inp), (4, 2));
        assert_eq!(lin.w, all[e * 8..(e + 1) * 8]);
    }
    let each = ExpertWeights::Each(vec!["e0".into(), "e1".into()]);
    let mut source = ExpertSource::new(&w, &each);
    assert_eq!(source.linear(1).unwrap().w, draw(&one).unwrap());
    assert!(source.linear(0).is_err());
}

#[test]
fn per_expert_routing_matches_a_token_by_token_sum() {
    let spec = |name: &str, shape: &str, seed: u64| {
        crate::tensor::TensorSpec {
            name: name.into(),
            shape: shape.parse().unwrap(),
            layout: Layout::Io,
            scheme: "normal:std=0.5".parse().unwrap(),
            dtype: DType::F64,
            seed,
            rng: RngMode::Native,
            jax: Default::default(),
        }
        .resolve()
        .unwrap()
    };
    let (d, i, e_count, tokens) = (6, 5, 3, 7);
    let mut owned = vec![spec("router", &format!("{e_count}x{d}"), 1)];
    for e in 0..e_count {
        for (role, shape) in [("gate", format!("{i}x{d}")), ("up", format!("{i}x{d}"))] {
            owned.push(spec(&format!("{role}{e}"), &shape, 10 + e as u64));
        }
        owned.push(spec(
            &format!("down{e}"),
            &format!("{d}x{i}"),
            20 + e as u64,
        ));
    }
    let input = spec("h", &format!("{tokens}x{d}"), 2);
    let w = Weights {
        tensors: owned.iter().map(|t| (t.spec.name.as_str(), t)).collect(),
        conv1d: false,
        heads: None,
    };
    let names =
        |role: &str| ExpertWeights::Each((0..e_count).map(|e| format!("{role}{e}")).collect());
    let moe = Moe {
        router: "router".into(),
        correction: None,
        input: ExpertInput::Split {
            gate: names("gate"),
            up: names("up"),
        },
        down: names("down"),
        width: i,
    };
    let router = Router {
        experts: e_count,
        top_k: 2,
        rule: Rule::Softmax { renormalize: false },
    };
    let h = Mat {
        rows: tokens,
        cols: d,
        data: draw(&input).unwrap(),
    };
    let (out, routing) = experts(Act::Silu, &moe, &router, &w, &h).unwrap();
    assert_eq!(routing.load.iter().sum::<usize>(), tokens * 2);
    // Token by token: Σ weight · down(silu(gate x) ⊙ up x) over the chosen experts.
    let lin = |name: &str| w.linear(name).unwrap();
    let logits = lin("router").apply(&h);
    for t in 0..tokens {
        let x = Mat {
            rows: 1,
            cols: d,
            data: h.row(t).to_vec(),
        };
        let mut expected = vec![0.0; d];
        for (e, weight) in router.route(logits.row(t), None) {
            let mut g = lin(&format!("gate{e}")).apply(&x);
            let u = lin(&format!("up{e}")).apply(&x);
            for (g, u) in g.data.iter_mut().zip(&u.data) {
                *g = Act::Silu.apply(*g) * u;
            }
            let y = lin(&format!("down{e}")).apply(&g);
            for (o, v) in expected.iter_mut().zip(&y.data) {
                *o += weight * v;
            }
        }
        for (a, b) in out.row(t).iter().zip(&expected) {
            assert!((a - b).abs() < 1e-12, "token {t}: {a} vs {b}");
        }
    }
}

#[test]
fn fused_rows_and_products() {
    // W = [[1, 2], [3, 4], [5, 6]] (3 outputs × 2 inputs), bias [1, 0, -1].
    let lin = Linear {
        out: 3,
        inp: 2,
        w: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        bias: Some(vec![1.0, 0.0, -1.0]),
    };
    let x = Mat {
        rows: 2,
        cols: 2,
        data: vec![1.0, 1.0, 2.0, -1.0],
    };
    assert_eq!(lin.apply(&x).data, [4.0, 7.0, 10.0, 1.0, 2.0, 3.0]);
    let v = lin.rows(1, 3);
    assert_eq!((v.out, v.inp), (2, 2));
    assert_eq!(v.apply(&x).data, [7.0, 10.0, 2.0, 3.0]);
}
