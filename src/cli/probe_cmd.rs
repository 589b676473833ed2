//! `weightinit probe`: runs schemes through a dense chain and prints what happened to
//! the signal, as a table, a terminal chart, JSON or an image.

use crate::cli::choice::choice;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::error::{Error, Result};
use crate::inspect::probe::stack::{RecipeProbe, StackProbe};
use crate::inspect::probe::{Input, Probe, SchemeProbe, Setup};
use crate::model::activation::Activation;
use crate::scheme::SchemeSpec;

const EXAMPLES: &str = "\
Examples:
  weightinit probe --layers 784-512x50-10 --activation relu \\
                   --scheme he-normal,xavier-normal,normal:std=0.01,normal:std=1,zeros
  weightinit probe --layers 256x30 --activation tanh --scheme xavier-uniform,he-uniform --plot probe.svg
  weightinit probe --layers 784-256-10 --input x.npy --json | jq '.schemes[].verdict.kind'
  weightinit probe --hf-config config.json --recipe family,torchtitan,megatron,olmo-mitchell --seed 1";

/// Push a batch through a dense chain initialized by each scheme and watch the signal:
/// activation and gradient variance per layer, dead and distinct units, and a verdict
/// (stable / vanishing / exploding / symmetric) with the layer where it turned. With
/// --hf-config instead: a family's residual stack, initialized by each --recipe.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct ProbeArgs {
    /// The chain's widths, input first: 784-512x50-10 (512x50 repeats a width).
    #[arg(long)]
    pub layers: Option<String>,

    /// A Hugging Face config.json instead of --layers: its family's residual stack
    /// (embedding, attention and MLP per layer, dense or mixture of experts, with the
    /// family's norms, final norm, lm_head), with the weights `gen --hf-config` writes.
    #[arg(long, value_name = "CONFIG")]
    pub hf_config: Option<PathBuf>,

    /// Init recipes to compare on --hf-config, comma-separated or repeated (`weightinit
    /// recipes` lists them); `family` (or `transformers`) is the family's own init.
    /// Default: family.
    #[arg(long = "recipe", value_name = "RECIPE[,RECIPE...]")]
    pub recipes: Vec<String>,

    /// Activation after every hidden layer (the last layer is linear). Default: relu.
    #[arg(long, value_parser = choice::<Activation>())]
    pub activation: Option<Activation>,

    /// Schemes to compare, comma-separated or repeated; parameters go inline
    /// (normal:std=0.01). Default: the one the activation calls for.
    #[arg(long = "scheme", value_name = "SCHEME[,SCHEME...]")]
    pub schemes: Vec<String>,

    /// Number of standard-normal input rows (default 1024), or of random token ids with
    /// --hf-config (default 64).
    #[arg(long, conflicts_with = "input")]
    pub batch: Option<usize>,

    /// Real inputs instead: a 2-D float array (rows × first width) in .npy, or one tensor
    /// of an .npz/.safetensors file (with --input-tensor).
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,

    /// The tensor of --input to use when the file holds several.
    #[arg(long, value_name = "NAME", requires = "input")]
    pub input_tensor: Option<String>,

    /// Seed for the weights, input and output gradient, or the weights and token ids with
    /// --hf-config (as in `gen`). Without it a fresh seed is drawn and printed.
    #[arg(long)]
    pub seed: Option<String>,

    /// Print everything measured as JSON instead of tables.
    #[arg(long)]
    pub json: bool,

    /// Also print every layer of every scheme (every sublayer of every recipe).
    #[arg(long)]
    pub detail: bool,

    /// Leave out the terminal chart.
    #[arg(long)]
    pub no_chart: bool,

    /// Draw activation variance against depth, one line per scheme (with --hf-config: the
    /// residual stream's variance, one line per recipe), into FILE.svg or FILE.png.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,

    /// Replace an existing --plot file.
    #[arg(long)]
    pub force: bool,
}

/// Splits `he-normal,normal:std=0.01,mean=1,zeros` into schemes: a piece with `=` but no
/// `:` continues the previous scheme's parameters (scheme names never contain `=`).
pub fn split_schemes(lists: &[String]) -> Result<Vec<SchemeSpec>> {
    let mut texts: Vec<String> = Vec::new();
    for list in lists {
        for piece in list.split(',').map(str::trim) {
            if piece.is_empty() {
                return Err(Error::Usage(format!(
                    "invalid --scheme '{}': empty scheme name (separate schemes with single commas)",
                    crate::text::value(list)
                )));
            }
            match texts.last_mut() {
                Some(previous) if piece.contains('=') && !piece.contains(':') => {
                    previous.push(',');
                    previous.push_str(piece);
                }
                _ => texts.push(piece.to_string()),
            }
        }
    }
    texts.iter().map(|t| t.parse::<SchemeSpec>()).collect()
}

/// The rows of `--input`, as a batch × width matrix. Loading holds the values once (8
/// bytes each, which become the matrix); the probe's own budget counts them again.
fn read_input(path: &std::path::Path, tensor: Option<&str>) -> Result<Input> {
    let label = crate::text::path(path);
    let purpose = crate::output::load::Purpose {
        reader: "probe",
        bytes_per_value: 8,
    };
    let t = crate::output::load::load_one_for(path, tensor, "--input-tensor", purpose)?;
    let (rows, cols) = match t.shape[..] {
        [rows, cols] => (rows, cols),
        [cols] => (1, cols),
        _ => {
            return Err(Error::Usage(format!(
                "--input '{label}' has shape {:?}: expected rows x features (2-D) or one row (1-D)",
                t.shape
            )));
        }
    };
    if rows == 0 || cols == 0 {
        return Err(Error::Usage(format!("--input '{label}' is empty")));
    }
    if let Some(bad) = t.values.iter().find(|v| !v.is_finite()) {
        return Err(Error::Usage(format!(
            "--input '{label}' contains {bad}: a probe needs finite inputs"
        )));
    }
    // The values are row-major f64 already: they become the matrix without a copy.
    Ok(Input::Data {
        label,
        rows: crate::inspect::probe::Matrix {
            rows,
            cols,
            data: t.values,
        },
    })
}

pub fn run(args: &ProbeArgs) -> Result<()> {
    let layers = match (&args.layers, &args.hf_config) {
        (Some(_), Some(_)) => {
            return Err(Error::Usage(
                "--layers and --hf-config each give the network to probe; give one".into(),
            ));
        }
        (None, Some(config)) => return run_stack(args, config),
        (Some(layers), None) => layers,
        (None, None) => {
            return Err(Error::Usage(
                "probe needs --layers WIDTHS (a dense chain) or --hf-config CONFIG (a family's \
                 residual stack)"
                    .into(),
            ));
        }
    };
    if !args.recipes.is_empty() {
        return Err(Error::Usage(
            "--recipe needs --hf-config: recipes give laws to a family's weights; a --layers \
             chain takes --scheme"
                .into(),
        ));
    }
    let widths = crate::model::layers::parse_widths(layers)?;
    let activation = args.activation.unwrap_or(Activation::Relu);
    let schemes = if args.schemes.is_empty() {
        vec![activation.weight_scheme().parse()?]
    } else {
        split_schemes(&args.schemes)?
    };
    let batch = args.batch.unwrap_or(1024);
    if batch == 0 {
        return Err(Error::Usage(
            "invalid --batch 0: a probe needs at least one input row".into(),
        ));
    }
    if let Some(plot) = &args.plot {
        crate::plot::check_image_target(plot, args.force)?;
    }
    let input = match &args.input {
        Some(path) => read_input(path, args.input_tensor.as_deref())?,
        None => Input::StandardNormal { batch },
    };
    let setup = Setup {
        widths,
        activation,
        seed: crate::tensor::rng::parse_seed(args.seed.as_deref())?,
        input,
    };
    let probe = crate::inspect::probe::run(&setup, &schemes)?;
    if let Some(path) = &args.plot {
        crate::plot::write_line_chart(path, &variance_chart(&probe), args.force)?;
    }
    print(&probe, args.json, || render(&probe, args))
}

/// Prints a probe to stdout: as JSON, or as `render` writes it for people.
fn print<T: serde::Serialize>(
    probe: &T,
    json: bool,
    render: impl FnOnce() -> String,
) -> Result<()> {
    let text = if json {
        let mut text = serde_json::to_string_pretty(probe)
            .map_err(|e| Error::Numerical(format!("JSON: {e}")))?;
        text.push('\n');
        text
    } else {
        render()
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("<stdout>", e))
}

/// log10 of activation variance against depth (0 = the input), one series per scheme.
pub fn variance_chart(probe: &Probe) -> crate::plot::LineChart {
    let series = probe
        .schemes
        .iter()
        .map(|s| crate::plot::Series {
            // A variance of exactly 0 has no place on a log axis; say so in the legend.
            label: if s.layers.iter().all(|l| l.activation_variance == 0.0) {
                format!("{} (variance 0)", s.scheme)
            } else {
                s.scheme.clone()
            },
            points: std::iter::once((0.0, probe.input_variance))
                .chain(
                    s.layers
                        .iter()
                        .map(|l| (l.layer as f64, l.activation_variance)),
                )
                .collect(),
        })
        .collect();
    crate::plot::LineChart {
        title: format!(
            "Activation variance through {} ({}, batch {})",
            crate::model::layers::widths_text(&probe.widths),
            probe.activation,
            probe.batch
        ),
        x_label: "layer (0 = input)".into(),
        y_label: "activation variance".into(),
        log_y: true,
        series,
    }
}

fn sci(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        "overflow".into()
    } else {
        format!("{x:.2e}")
    }
}

fn summary_row(s: &SchemeProbe) -> Vec<String> {
    let first = s.layers.first();
    let last = s.layers.last();
    let hidden = &s.layers[..s.layers.len().saturating_sub(1)];
    let max_dead = hidden.iter().map(|l| l.dead_fraction).fold(0.0, f64::max);
    // Distinct units of the hidden layers (the output's few units say little), as
    // "distinct/width" at the layer where the fraction is smallest.
    let judged = if hidden.is_empty() {
        &s.layers[..]
    } else {
        hidden
    };
    let min_distinct = judged
        .iter()
        .min_by(|a, b| {
            let fa = a.distinct_units as f64 / a.width as f64;
            let fb = b.distinct_units as f64 / b.width as f64;
            fa.total_cmp(&fb)
        })
        .map_or("-".to_string(), |l| {
            format!("{}/{}", l.distinct_units, l.width)
        });
    vec![
        s.scheme.clone(),
        s.verdict.kind.name().to_string(),
        s.verdict
            .layer
            .map_or("-".to_string(), |l| format!("layer {l}")),
        sci(first.map_or(f64::NAN, |l| l.activation_variance)),
        sci(last.map_or(f64::NAN, |l| l.activation_variance)),
        sci(first.map_or(f64::NAN, |l| l.gradient_variance)),
        sci(hidden.last().map_or(f64::NAN, |l| l.gradient_variance)),
        format!("{:.0}%", 100.0 * max_dead),
        min_distinct,
    ]
}

fn render(probe: &Probe, args: &ProbeArgs) -> String {
    let depth = probe.widths.len() - 1;
    let mut out = format!(
        "probe: {} ({depth} layers), {} after each hidden layer, batch {} ({}, variance {}), seed {}\n",
        crate::model::layers::widths_text(&probe.widths),
        probe.activation,
        probe.batch,
        probe.input,
        sci(probe.input_variance),
        probe.seed
    );
    out.push_str(&format!(
        "loss = sum(g * output), g standard normal; a signal turns when its variance moves {}x \
         from its reference (docs/inspect.md, \"Why initialization matters\")\n\n",
        probe.turn_factor
    ));
    let mut rows = vec![
        [
            "SCHEME",
            "VERDICT",
            "TURNED AT",
            "ACT VAR L1",
            &format!("ACT VAR L{depth}"),
            "GRAD VAR L1",
            &format!("GRAD VAR L{}", depth.saturating_sub(1).max(1)),
            "MAX DEAD",
            "MIN DISTINCT",
        ]
        .map(String::from)
        .to_vec(),
    ];
    rows.extend(probe.schemes.iter().map(summary_row));
    out.push_str(&super::table::text_table(&rows));
    out.push('\n');
    for s in &probe.schemes {
        out.push_str(&format!(
            "{}: {}: {}\n",
            s.scheme,
            s.verdict.kind.name(),
            s.verdict.detail
        ));
    }
    if args.detail {
        for s in &probe.schemes {
            out.push_str(&format!("\n{}\n", s.scheme));
            let mut rows = vec![
                [
                    "LAYER", "WIDTH", "ACT MEAN", "ACT VAR", "GRAD VAR", "DEAD", "DISTINCT",
                ]
                .map(String::from)
                .to_vec(),
            ];
            rows.extend(s.layers.iter().map(|l| {
                vec![
                    l.layer.to_string(),
                    l.width.to_string(),
                    sci(l.activation_mean),
                    sci(l.activation_variance),
                    sci(l.gradient_variance),
                    format!("{:.1}%", 100.0 * l.dead_fraction),
                    l.distinct_units.to_string(),
                ]
            }));
            out.push_str(&super::table::text_table(&rows));
        }
    }
    if !args.no_chart {
        out.push('\n');
        out.push_str(&crate::plot::line_chart_text(
            &variance_chart(probe),
            72,
            18,
        ));
    }
    if let Some(plot) = &args.plot {
        out.push_str(&format!("\nplot: {}\n", plot.display()));
    }
    out.push_str(&format!(
        "\n{} scheme{} x {depth} layers, batch {}: {:.2} s\n",
        probe.schemes.len(),
        if probe.schemes.len() == 1 { "" } else { "s" },
        probe.batch,
        probe.seconds
    ));
    out
}

/// `probe --hf-config CONFIG [--recipe R,...]`: the residual stack of the config's family,
/// once per recipe ([`crate::inspect::probe::stack`]).
fn run_stack(args: &ProbeArgs, config: &std::path::Path) -> Result<()> {
    if !args.schemes.is_empty() || args.input.is_some() || args.activation.is_some() {
        return Err(Error::Usage(
            "--scheme, --input and --activation describe a --layers chain; with --hf-config \
             the family gives the activation and --recipe the laws"
                .into(),
        ));
    }
    let mut recipes: Vec<String> = Vec::new();
    for list in &args.recipes {
        for piece in list.split(',').map(str::trim) {
            if piece.is_empty() {
                return Err(Error::Usage(format!(
                    "invalid --recipe '{}': empty recipe name (separate recipes with single commas)",
                    crate::text::value(list)
                )));
            }
            if !recipes.iter().any(|r| r == piece) {
                recipes.push(piece.to_string());
            }
        }
    }
    if recipes.is_empty() {
        recipes.push(crate::inspect::probe::stack::FAMILY.to_string());
    }
    if let Some(plot) = &args.plot {
        crate::plot::check_image_target(plot, args.force)?;
    }
    let setup = crate::inspect::probe::stack::StackSetup {
        config: config.to_path_buf(),
        recipes,
        batch: args.batch.unwrap_or(64),
        seed: crate::tensor::rng::parse_seed(args.seed.as_deref())?,
    };
    // The tensors gen would draw for each recipe, on the same request path.
    let resolve = |recipe: Option<&str>| {
        crate::request::GenRequest {
            hf_config: Some(setup.config.clone()),
            recipe: recipe.map(String::from),
            seed: Some(setup.seed.to_string()),
            ..Default::default()
        }
        .tensors()
    };
    let probe = crate::inspect::probe::stack::run(&setup, &resolve)?;
    if let Some(path) = &args.plot {
        crate::plot::write_line_chart(path, &stack_chart(&probe), args.force)?;
    }
    print(&probe, args.json, || render_stack(&probe, args))
}

/// The residual stream's variance against depth: 0 is the embedding, 2l + 1 after layer
/// l's attention, 2l + 2 after its MLP; one series per recipe.
pub fn stack_chart(probe: &StackProbe) -> crate::plot::LineChart {
    let series = probe
        .recipes
        .iter()
        .map(|r| crate::plot::Series {
            label: r.recipe.clone(),
            points: std::iter::once((0.0, r.embedding_variance))
                .chain(
                    r.rows
                        .iter()
                        .enumerate()
                        .map(|(i, row)| ((i + 1) as f64, row.stream_variance)),
                )
                .collect(),
        })
        .collect();
    crate::plot::LineChart {
        title: format!(
            "Residual stream variance, {} x {} layers, {} tokens",
            probe.family, probe.layers, probe.batch
        ),
        x_label: "sublayer (0 embedding, 2l+1 attention, 2l+2 MLP of layer l)".into(),
        y_label: "residual stream variance".into(),
        log_y: true,
        series,
    }
}

fn stack_summary_row(r: &RecipeProbe) -> Vec<String> {
    let largest = |sublayer: &str| {
        r.rows
            .iter()
            .filter(|row| row.sublayer == sublayer)
            .map(|row| row.branch_ratio)
            .fold(f64::NAN, f64::max)
    };
    vec![
        r.recipe.clone(),
        r.verdict.kind.to_string(),
        match (r.verdict.layer, r.verdict.sublayer) {
            (Some(l), Some(s)) => format!("layer {l} {s}"),
            _ => "-".into(),
        },
        sci(r.embedding_variance),
        sci(r
            .rows
            .last()
            .map_or(r.embedding_variance, |row| row.stream_variance)),
        sci(r.verdict.growth),
        sci(largest("attention")),
        sci(largest("mlp")),
        sci(r.logits_std),
    ]
}

/// An expert-load histogram in a table cell: every count up to 16 experts, else the range.
fn expert_load(routing: &crate::inspect::probe::stack::Routing) -> String {
    let load = &routing.load;
    if load.len() <= 16 {
        load.iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        format!(
            "{}..{} over {} experts",
            load.iter().min().unwrap_or(&0),
            load.iter().max().unwrap_or(&0),
            load.len()
        )
    }
}

fn render_stack(probe: &StackProbe, args: &ProbeArgs) -> String {
    let mut out = format!(
        "probe: {} ({} family: {} layers, hidden {}, vocabulary {}, {} {}, MLP {} with {}{}), \
         batch {} tokens ({}), seed {}\n",
        probe.config,
        probe.family,
        probe.layers,
        probe.hidden_size,
        probe.vocab_size,
        probe.residual,
        probe.norm,
        probe.mlp,
        probe.activation,
        if probe.tied { ", lm_head tied" } else { "" },
        probe.batch,
        probe.tokens,
        probe.seed
    );
    out.push_str("model:\n");
    for line in &probe.model {
        out.push_str(&format!("  - {line}\n"));
    }
    out.push_str(&format!(
        "verdict: growing once the residual stream's variance passes {}x the embedding's \
         (the embedding then makes under {}% of it)\n\n",
        probe.growth_factor,
        100.0 / probe.growth_factor
    ));
    let mut rows = vec![
        [
            "RECIPE",
            "VERDICT",
            "TURNED AT",
            "EMB VAR",
            "FINAL VAR",
            "GROWTH",
            "MAX ATTN/STREAM",
            "MAX MLP/STREAM",
            "LOGITS STD",
        ]
        .map(String::from)
        .to_vec(),
    ];
    rows.extend(probe.recipes.iter().map(stack_summary_row));
    out.push_str(&super::table::text_table(&rows));
    out.push('\n');
    for r in &probe.recipes {
        out.push_str(&format!(
            "{}: {}: {}\n",
            r.recipe, r.verdict.kind, r.verdict.detail
        ));
    }
    if args.detail {
        for r in &probe.recipes {
            out.push_str(&format!("\n{} ({})\n", r.recipe, r.summary));
            let moe = probe.moe.is_some();
            let mut header: Vec<String> = [
                "LAYER",
                "SUBLAYER",
                "BRANCH VAR",
                "BRANCH/STREAM",
                "STREAM VAR",
                "STREAM RMS",
                "GROWTH",
            ]
            .map(String::from)
            .to_vec();
            if moe {
                header.push("EXPERT LOAD (TOKENS PER EXPERT)".into());
            }
            let mut rows = vec![header];
            rows.extend(r.rows.iter().map(|row| {
                let mut cells = vec![
                    row.layer.to_string(),
                    row.sublayer.to_string(),
                    sci(row.branch_variance),
                    sci(row.branch_ratio),
                    sci(row.stream_variance),
                    sci(row.stream_rms),
                    sci(row.growth),
                ];
                if moe {
                    cells.push(row.routing.as_ref().map_or("-".into(), expert_load));
                }
                cells
            }));
            out.push_str(&super::table::text_table(&rows));
        }
    }
    if !args.no_chart {
        out.push('\n');
        out.push_str(&crate::plot::line_chart_text(&stack_chart(probe), 72, 18));
    }
    if let Some(plot) = &args.plot {
        out.push_str(&format!("\nplot: {}\n", plot.display()));
    }
    out.push_str(&format!(
        "\n{} recipe{} x {} layers, batch {}: {:.2} s\n",
        probe.recipes.len(),
        if probe.recipes.len() == 1 { "" } else { "s" },
        probe.layers,
        probe.batch,
        probe.seconds
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_lists_keep_parameters_together() {
        let lists = vec![
            "he-normal, normal:std=0.01,mean=1 ,zeros".to_string(),
            "truncated-normal:std=0.02,low=-0.04,high=0.04".to_string(),
        ];
        let schemes: Vec<String> = split_schemes(&lists)
            .unwrap()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(schemes.len(), 4, "{schemes:?}");
        assert!(schemes[1].contains("std=0.01") && schemes[1].contains("mean=1"));
        assert!(split_schemes(&["he-normal,,zeros".into()]).is_err());
        assert!(split_schemes(&["no-such-scheme".into()]).is_err());
    }
}
