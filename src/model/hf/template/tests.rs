//! Unit tests of the template engine: blocks, conditions, nested repeats, ordering and
//! the refusals.

use super::*;

const TOY: &str = r#"
family = "toy"
architectures = ["ToyForCausalLM"]
model_types = ["toy"]
source = "a test"

[defaults]
hidden_size = 8
num_heads = 2
head_dim = "hidden_size / num_heads"
layers = 2
tie = false
initializer_range = 0.02

[repeat]
layer = "layers"

[[tensor]]
name = "embed.weight"
shape = ["10", "hidden_size"]
scheme = "normal:std={initializer_range}"
zero_row = "pad_token_id"

[[tensor]]
name = "layers.{i}.q.weight"
block = "layer"
shape = ["num_heads * head_dim", "hidden_size"]
scheme = "normal:std={initializer_range / sqrt(2 * layers)}"

[[tensor]]
name = "layers.{i}.q.bias"
block = "layer"
shape = ["num_heads * head_dim"]
scheme = "zeros"
if = "bias"

[[tensor]]
name = "head.weight"
shape = ["10", "hidden_size"]
scheme = "normal:std={initializer_range}"
unless = "tie"
"#;

fn expand(config: &[(&str, Value)]) -> Result<Vec<Planned>> {
    let t = Template::parse("toy.toml", TOY).unwrap();
    let config = config
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let values = t.scope_values(&config, "config.json")?;
    t.expand(&values, "config.json")
}

#[test]
fn blocks_repeat_in_order_with_conditions_and_expressions() {
    let names = |ps: &[Planned]| ps.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
    let plain = expand(&[]).unwrap();
    assert_eq!(
        names(&plain),
        [
            "embed.weight",
            "layers.0.q.weight",
            "layers.1.q.weight",
            "head.weight"
        ]
    );
    assert_eq!(plain[1].shape, [8, 8]);
    assert_eq!(
        plain[1].scheme,
        format!("normal:std={}", 0.02 / 4f64.sqrt())
    );
    assert_eq!(plain[0].zero_row, None);
    let other = expand(&[
        ("bias", Value::Bool(true)),
        ("tie", Value::Bool(true)),
        ("layers", Value::Number(1.0)),
        ("pad_token_id", Value::Number(3.0)),
    ])
    .unwrap();
    assert_eq!(
        names(&other),
        ["embed.weight", "layers.0.q.weight", "layers.0.q.bias"]
    );
    assert_eq!(other[0].zero_row, Some(3));
}

const MOE: &str = r#"
family = "moe"
source = "a test"
[defaults]
layers = 4
first_dense = 1
dense_layers = [3]
[repeat]
layer = "layers"
[[tensor]]
name = "layers.{i}.mlp.gate.weight"
block = "layer"
shape = ["8", "4"]
scheme = "normal:std=0.02"
if = "i >= first_dense and i not in dense_layers"
dtype = "float32"
role = "router"
[[tensor]]
name = "layers.{i}.mlp.up.weight"
block = "layer"
shape = ["4", "i + 1"]
scheme = "zeros"
unless = "i >= first_dense and i not in dense_layers"
"#;

#[test]
fn layers_may_differ_by_index_and_keep_a_dtype() {
    let t = Template::parse("moe.toml", MOE).unwrap();
    let config = [("dense_layers".to_string(), Value::List(vec![2.0]))].into();
    let values = t.scope_values(&config, "config.json").unwrap();
    let plan = t.expand(&values, "config.json").unwrap();
    let names: Vec<&str> = plan.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "layers.0.mlp.up.weight",
            "layers.1.mlp.gate.weight",
            "layers.2.mlp.up.weight",
            "layers.3.mlp.gate.weight"
        ]
    );
    assert_eq!(plan[2].shape, [4, 3]);
    assert_eq!((plan[1].dtype, plan[1].layer), (Some(DType::F32), Some(1)));
    assert_eq!((plan[0].dtype, plan[0].layer), (None, Some(0)));
    // The default list stands for a missing key.
    let values = t.scope_values(&BTreeMap::new(), "config.json").unwrap();
    let plan = t.expand(&values, "config.json").unwrap();
    let names: Vec<&str> = plan.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names[1..],
        [
            "layers.1.mlp.gate.weight",
            "layers.2.mlp.gate.weight",
            "layers.3.mlp.up.weight"
        ]
    );
    let bad = Template::parse("bad.toml", &MOE.replace("[3]", "[\"x\"]")).unwrap();
    let err = bad
        .scope_values(&BTreeMap::new(), "c")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("dense_layers") && err.contains("list of numbers"),
        "{err}"
    );
    let err = Template::parse("bad.toml", &MOE.replace("float32", "int4"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("int4") && err.contains("mlp.gate"), "{err}");
}

const NESTED: &str = r#"
family = "nested"
source = "a test"
sorted = "hub"
[defaults]
layers = 2
experts = 2
hub = true
[repeat]
layer = "layers"
[repeat.expert]
count = "experts"
within = "layer"
index = "e"
[[tensor]]
name = "model.layers.{i}.attn.weight"
block = "layer"
shape = ["4", "4"]
scheme = "zeros"
[[tensor]]
name = "model.layers.{i}.moe.router.weight"
block = "layer"
shape = ["experts", "4"]
scheme = "zeros"
role = "router"
sort_as = "model.layers.{i}.mlp.gate.weight"
if = "experts > 0"
[[tensor]]
name = "model.layers.{i}.moe.experts.{e}.w1.weight"
block = "expert"
shape = ["3", "4"]
scheme = "zeros"
role = "expert_gate"
if = "hub and i >= 1"
sort_as = "model.layers.{i}.mlp.experts.gate_up_proj"
[[tensor]]
name = "model.layers.{i}.moe.experts.{e}.w3.weight"
block = "expert"
shape = ["3", "4"]
scheme = "zeros"
role = "expert_up"
if = "hub and i >= 1"
sort_as = "model.layers.{i}.mlp.experts.gate_up_proj"
[[tensor]]
name = "model.layers.{i}.input_layernorm.weight"
block = "layer"
shape = ["4"]
scheme = "ones"
[[tensor]]
name = "model.layers.{i}.moe.experts.{e}.w2.weight"
block = "expert"
shape = ["4", "3"]
scheme = "zeros"
role = "expert_down"
if = "hub and i >= 1"
sort_as = "model.layers.{i}.mlp.experts.down_proj"
[[tensor]]
name = "model.norm.weight"
shape = ["4"]
scheme = "ones"
"#;

fn nested_names(text: &str, config: &[(&str, Value)]) -> Result<Vec<String>> {
    let t = Template::parse("nested.toml", text)?;
    let config = config
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let values = t.scope_values(&config, "config.json")?;
    Ok(t.expand(&values, "config.json")?
        .into_iter()
        .map(|p| p.name)
        .collect())
}

#[test]
fn nested_blocks_repeat_inside_each_layer_and_sort_as_transformers_saves() {
    // Unsorted: template order, each run of the nested block over its experts inside
    // its layer; conditions see the layer's i.
    let plain = nested_names(NESTED, &[("hub", Value::Bool(false))]).unwrap();
    assert_eq!(
        plain,
        [
            "model.layers.0.attn.weight",
            "model.layers.0.moe.router.weight",
            "model.layers.0.input_layernorm.weight",
            "model.layers.1.attn.weight",
            "model.layers.1.moe.router.weight",
            "model.layers.1.input_layernorm.weight",
            "model.norm.weight",
        ]
    );
    let unsorted = NESTED.replace("sorted = \"hub\"", "");
    let names = nested_names(&unsorted, &[]).unwrap();
    assert_eq!(
        names[3..13],
        [
            "model.layers.1.attn.weight",
            "model.layers.1.moe.router.weight",
            "model.layers.1.moe.experts.0.w1.weight",
            "model.layers.1.moe.experts.0.w3.weight",
            "model.layers.1.moe.experts.1.w1.weight",
            "model.layers.1.moe.experts.1.w3.weight",
            "model.layers.1.input_layernorm.weight",
            "model.layers.1.moe.experts.0.w2.weight",
            "model.layers.1.moe.experts.1.w2.weight",
            "model.norm.weight",
        ]
    );
    // Sorted: by the names they sort as (numbers as numbers: layer 10 after 9); a
    // fused tensor's parts in template order, each over its experts; the renamed
    // router where the model's `mlp.gate` sorts.
    let sorted = nested_names(NESTED, &[("layers", Value::Number(11.0))]).unwrap();
    assert_eq!(
        sorted[..12],
        [
            "model.layers.0.attn.weight",
            "model.layers.0.input_layernorm.weight",
            "model.layers.0.moe.router.weight",
            "model.layers.1.attn.weight",
            "model.layers.1.input_layernorm.weight",
            "model.layers.1.moe.experts.0.w2.weight",
            "model.layers.1.moe.experts.1.w2.weight",
            "model.layers.1.moe.experts.0.w1.weight",
            "model.layers.1.moe.experts.1.w1.weight",
            "model.layers.1.moe.experts.0.w3.weight",
            "model.layers.1.moe.experts.1.w3.weight",
            "model.layers.1.moe.router.weight",
        ]
    );
    assert_eq!(sorted[sorted.len() - 1], "model.norm.weight");
    let layer = |n: &String| n.split('.').nth(2).unwrap().parse::<usize>().unwrap();
    let layers: Vec<usize> = sorted[..sorted.len() - 1].iter().map(layer).collect();
    assert!(layers.windows(2).all(|w| w[0] <= w[1]), "{layers:?}");
    // No experts: the nested block does not repeat (a count, not a size).
    let none = nested_names(NESTED, &[("experts", Value::Number(0.0))]).unwrap();
    assert!(none.iter().all(|n| !n.contains("experts")), "{none:?}");
    let err = nested_names(NESTED, &[("experts", Value::Number(-1.0))])
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a count"), "{err}");
    // The nested count is bounded with the layers'.
    let err = nested_names(NESTED, &[("experts", Value::Number(1e6))])
        .unwrap_err()
        .to_string();
    assert!(err.contains("more than"), "{err}");
}

#[test]
fn a_nested_block_needs_a_top_level_block_and_its_own_index() {
    for bad in [
        NESTED.replace("within = \"layer\"", "within = \"nowhere\""),
        NESTED.replace("index = \"e\"", "index = \"i\""),
        NESTED.replace("index = \"e\"", "index = \"e}\""),
    ] {
        let err = Template::parse("nested.toml", &bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("block 'expert'"), "{err}");
    }
}

#[test]
fn natural_key_orders_as_transformers_dot_natural_key() {
    let mut names = vec![
        "model.layers.10.mlp.weight",
        "model.layers.9.mlp.weight",
        "lm_head.weight",
        "model.layers.9.mlp.experts.down_proj",
        "a.w10",
        "a.w2",
        "a.w",
        "a.2",
        "model.layers.9.mlp.experts.gate_up_proj",
        "model.layers.9.mlp.gate.e_score_correction_bias",
        "model.layers.9.mlp.gate.weight",
    ];
    names.sort_by_key(|n| natural_key(n));
    assert_eq!(
        names,
        [
            "a.2",
            "a.w",
            "a.w2",
            "a.w10",
            "lm_head.weight",
            "model.layers.9.mlp.experts.down_proj",
            "model.layers.9.mlp.experts.gate_up_proj",
            "model.layers.9.mlp.gate.e_score_correction_bias",
            "model.layers.9.mlp.gate.weight",
            "model.layers.9.mlp.weight",
            "model.layers.10.mlp.weight",
        ]
    );
}

#[test]
fn bad_configs_are_refused_with_the_key() {
    let err = expand(&[("num_heads", Value::Number(3.0))])
        .unwrap_err()
        .to_string();
    assert!(err.contains("num_heads = 3"), "{err}");
    let err = expand(&[("pad_token_id", Value::Number(10.0))])
        .unwrap_err()
        .to_string();
    assert!(err.contains("pad_token_id = 10"), "{err}");
    let err = expand(&[("layers", Value::Number(1e9))])
        .unwrap_err()
        .to_string();
    assert!(err.contains("more than"), "{err}");
    let err = expand(&[("hidden_size", Value::Number(0.0))])
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a size"), "{err}");
}

const SCHEDULED: &str = r#"
family = "toy"
source = "a test"

[defaults]
hidden = 4
layers = 2
bias = false
tie = true

[repeat]
layer = "layers"

[[tensor]]
name = "embed.weight"
shape = ["6", "hidden"]
scheme = "normal:std=0.02"

[[tensor]]
name = "l.{i}.fc.weight"
block = "layer"
shape = ["2 * hidden", "hidden"]
scheme = "normal:std=0.02"

[[tensor]]
name = "l.{i}.fc.bias"
block = "layer"
shape = ["2 * hidden"]
scheme = "zeros"
if = "bias"

[[tensor]]
name = "head.weight"
shape = ["6", "hidden"]
scheme = "normal:std=0.02"
not_saved = "tie"

[[torch]]
steps = ["embedding embed"]

[[torch]]
each = "layer"
steps = ["linear l.{i}.fc", "init l.{i}.fc.weight", "draw l.{i}.fc.weight normal:std={hidden}"]

[[torch]]
steps = ["linear head", "init head.weight", "init missing.weight"]
"#;

/// (tensor, scheme) of every draw of the toy schedule for `config`.
fn draws(config: &[(&str, Value)]) -> Vec<(String, String)> {
    let template = Template::parse("toy.toml", SCHEDULED).unwrap();
    let config: BTreeMap<String, Value> = config
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let values = template.scope_values(&config, "config.json").unwrap();
    let planned = template.expand(&values, "config.json").unwrap();
    let schedule = template
        .torch_schedule(&values, &planned, "config.json")
        .unwrap();
    schedule
        .unwrap()
        .into_iter()
        .map(|d| (d.tensor, d.scheme))
        .collect()
}

#[test]
fn a_torch_schedule_expands_per_layer_and_skips_what_the_config_leaves_out() {
    let got = draws(&[]);
    let want = [
        ("embed.weight", "normal:std=1"),
        ("l.0.fc.weight", "fan-in-uniform"),
        ("l.0.fc.weight", "normal:std=0.02"),
        ("l.0.fc.weight", "normal:std=4"),
        ("l.1.fc.weight", "fan-in-uniform"),
        ("l.1.fc.weight", "normal:std=0.02"),
        ("l.1.fc.weight", "normal:std=4"),
        // Tied: not written, but built and drawn all the same.
        ("head.weight", "fan-in-uniform"),
        ("head.weight", "normal:std=0.02"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(t, s)| (t.to_string(), s.to_string()))
        .collect();
    assert_eq!(got, want);
    // A bias the config turns on is drawn after its weight, U(±1/√fan_in).
    let with_bias = draws(&[("bias", Value::Bool(true))]);
    assert_eq!(
        with_bias[2],
        ("l.0.fc.bias".into(), "uniform:low=-0.5,high=0.5".into())
    );
}

#[test]
fn not_saved_tensors_are_planned_but_not_written() {
    let template = Template::parse("toy.toml", SCHEDULED).unwrap();
    let values = template
        .scope_values(&BTreeMap::new(), "config.json")
        .unwrap();
    let planned = template.expand(&values, "config.json").unwrap();
    let head = planned.iter().find(|p| p.name == "head.weight").unwrap();
    assert!(!head.saved);
    assert!(
        planned
            .iter()
            .filter(|p| p.name != "head.weight")
            .all(|p| p.saved)
    );
}

#[test]
fn a_bad_torch_step_is_refused_at_parse_time() {
    for (bad, needle) in [
        (
            "steps = [\"bake embed\"]",
            "KIND one of linear, embedding, conv1d, init, draw",
        ),
        ("steps = [\"draw embed.weight\"]", "KIND TARGET"),
        (
            "each = \"nope\"\nsteps = [\"init embed.weight\"]",
            "not a top-level block",
        ),
    ] {
        let text = format!("{SCHEDULED}\n[[torch]]\n{bad}\n");
        let err = Template::parse("toy.toml", &text).unwrap_err().to_string();
        assert!(err.contains(needle), "{bad}: {err}");
    }
}
