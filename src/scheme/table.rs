//! The scheme table: every scheme's canonical name, the names it answers to, the
//! parameters it takes, its formula, default gain and what it suits.

use super::params::ParamKey;
use crate::error::{Error, Result};

/// Every scheme the tool knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemeKind {
    Zeros,
    Ones,
    Constant,
    Uniform,
    Normal,
    TruncatedNormal,
    XavierUniform,
    XavierNormal,
    HeUniform,
    HeNormal,
    LecunUniform,
    LecunNormal,
    FanInUniform,
    VarianceScaling,
    Orthogonal,
    Identity,
    Dirac,
    DeltaOrthogonal,
    Sparse,
    LstmBias,
    S4dRealLog,
    MambaDtBias,
}

/// One row of the scheme table: what the CLI accepts and what `weightinit schemes` shows.
#[derive(Debug, Clone, Copy)]
pub struct SchemeInfo {
    pub kind: SchemeKind,
    /// Canonical name.
    pub name: &'static str,
    /// Other accepted names (framework spellings).
    pub aliases: &'static [&'static str],
    /// Parameters the scheme accepts.
    pub params: &'static [ParamKey],
    /// The law, in the notation of the README's scheme table.
    pub formula: &'static str,
    /// Default gain, or "-" where the scheme has none.
    pub default_gain: &'static str,
    /// The activation it suits, as the papers prescribe (Glorot & Bengio 2010 for tanh
    /// and sigmoid, He et al. 2015 for ReLU, LeCun normal as the SELU init of Klambauer et
    /// al. 2017).
    pub suits: &'static str,
}

use ParamKey as K;
const GAIN_PARAMS: &[ParamKey] = &[K::Gain, K::Nonlinearity, K::NegativeSlope];
// Fan-based schemes also take `groups` (grouped convolutions' fans), `blocks` (per-gate
// fans) and `in-axes`/`out-axes` (any layout); the normal ones also `depth`
// (residual-projection scaling). `mult` (a factor on the law's scale, which μP's
// `--mup-base` sets) goes on every scheme the `mup` package rescales.
const FAN_UNIFORM_PARAMS: &[ParamKey] = &[
    K::Gain,
    K::Nonlinearity,
    K::NegativeSlope,
    K::Groups,
    K::Blocks,
    K::InAxes,
    K::OutAxes,
    K::Mult,
];
const FAN_NORMAL_PARAMS: &[ParamKey] = &[
    K::Gain,
    K::Nonlinearity,
    K::NegativeSlope,
    K::Groups,
    K::Blocks,
    K::InAxes,
    K::OutAxes,
    K::Depth,
    K::Mult,
];
const HE_UNIFORM_PARAMS: &[ParamKey] = &[
    K::Gain,
    K::Nonlinearity,
    K::NegativeSlope,
    K::Mode,
    K::Groups,
    K::Blocks,
    K::InAxes,
    K::OutAxes,
    K::Mult,
];
const HE_NORMAL_PARAMS: &[ParamKey] = &[
    K::Gain,
    K::Nonlinearity,
    K::NegativeSlope,
    K::Mode,
    K::Groups,
    K::Blocks,
    K::InAxes,
    K::OutAxes,
    K::Depth,
    K::Mult,
];
const ORTHOGONAL_PARAMS: &[ParamKey] = &[K::Gain, K::Nonlinearity, K::NegativeSlope, K::Blocks];

/// The scheme table, in the order `weightinit schemes` prints it.
pub static SCHEMES: &[SchemeInfo] = &[
    SchemeInfo {
        kind: SchemeKind::Zeros,
        name: "zeros",
        aliases: &["zero", "zeros_"],
        params: &[],
        formula: "w = 0",
        default_gain: "-",
        suits: "biases only (no symmetry breaking)",
    },
    SchemeInfo {
        kind: SchemeKind::Ones,
        name: "ones",
        aliases: &["one", "ones_"],
        params: &[],
        formula: "w = 1",
        default_gain: "-",
        suits: "norm scales only (no symmetry breaking)",
    },
    SchemeInfo {
        kind: SchemeKind::Constant,
        name: "constant",
        aliases: &["const", "constant_"],
        params: &[K::Value],
        formula: "w = value",
        default_gain: "-",
        suits: "biases only (no symmetry breaking)",
    },
    SchemeInfo {
        kind: SchemeKind::Uniform,
        name: "uniform",
        aliases: &["random-uniform", "uniform_"],
        params: &[K::Low, K::High, K::Mult],
        formula: "U(low, high); default U(0, 1)",
        default_gain: "-",
        suits: "any, scaled by hand",
    },
    SchemeInfo {
        kind: SchemeKind::Normal,
        name: "normal",
        aliases: &["random-normal", "gaussian", "normal_"],
        params: &[K::Mean, K::Std, K::Depth, K::Mult],
        formula: "N(mean, std²); default N(0, 1)",
        default_gain: "-",
        suits: "any, scaled by hand (std=0.02: GPT-2)",
    },
    SchemeInfo {
        kind: SchemeKind::TruncatedNormal,
        name: "truncated-normal",
        aliases: &["trunc-normal", "truncnormal", "trunc_normal_"],
        params: &[
            K::Mean,
            K::Std,
            K::Low,
            K::High,
            K::SigmaLow,
            K::SigmaHigh,
            K::Depth,
            K::Mult,
        ],
        formula: "N(mean, std²) restricted to [low, high] (absolute) or [mean+sigma-low·std, mean+sigma-high·std]; default ±2std",
        default_gain: "-",
        suits: "any, scaled by hand (BERT, ViT)",
    },
    SchemeInfo {
        kind: SchemeKind::XavierUniform,
        name: "xavier-uniform",
        aliases: &["glorot-uniform", "xavier_uniform_"],
        params: FAN_UNIFORM_PARAMS,
        formula: "U(±gain·√(6/(fan_in+fan_out)))",
        default_gain: "1",
        suits: "tanh, sigmoid",
    },
    SchemeInfo {
        kind: SchemeKind::XavierNormal,
        name: "xavier-normal",
        aliases: &["glorot-normal", "xavier_normal_"],
        params: FAN_NORMAL_PARAMS,
        formula: "N(0, gain²·2/(fan_in+fan_out))",
        default_gain: "1",
        suits: "tanh, sigmoid",
    },
    SchemeInfo {
        kind: SchemeKind::HeUniform,
        name: "he-uniform",
        aliases: &["kaiming-uniform", "kaiming_uniform_"],
        params: HE_UNIFORM_PARAMS,
        formula: "U(±gain·√(3/fan)), fan = fan_in (mode=fan-out: fan_out)",
        default_gain: "√2 (relu)",
        suits: "relu, leaky-relu",
    },
    SchemeInfo {
        kind: SchemeKind::HeNormal,
        name: "he-normal",
        aliases: &["kaiming-normal", "kaiming_normal_"],
        params: HE_NORMAL_PARAMS,
        formula: "N(0, gain²/fan), fan = fan_in (mode=fan-out: fan_out)",
        default_gain: "√2 (relu)",
        suits: "relu, leaky-relu",
    },
    SchemeInfo {
        kind: SchemeKind::LecunUniform,
        name: "lecun-uniform",
        aliases: &[],
        params: FAN_UNIFORM_PARAMS,
        formula: "U(±gain·√(3/fan_in))",
        default_gain: "1",
        suits: "selu, linear",
    },
    SchemeInfo {
        kind: SchemeKind::LecunNormal,
        name: "lecun-normal",
        aliases: &[],
        params: FAN_NORMAL_PARAMS,
        formula: "N(0, gain²/fan_in)",
        default_gain: "1",
        suits: "selu, linear",
    },
    SchemeInfo {
        kind: SchemeKind::FanInUniform,
        name: "fan-in-uniform",
        aliases: &["torch-default", "default-uniform"],
        params: &[K::Groups, K::Blocks, K::InAxes, K::OutAxes, K::Mult],
        formula: "U(±1/√fan_in) (PyTorch's nn.Linear/Conv default)",
        default_gain: "-",
        suits: "any (PyTorch layer default)",
    },
    SchemeInfo {
        kind: SchemeKind::VarianceScaling,
        name: "variance-scaling",
        aliases: &["variance_scaling"],
        params: &[
            K::Scale,
            K::Mode,
            K::Distribution,
            K::Groups,
            K::Blocks,
            K::InAxes,
            K::OutAxes,
            K::Depth,
            K::Mult,
        ],
        formula: "variance scale/n, n per mode; truncated-normal std = √(scale/n)/0.8796…, ±2σ",
        default_gain: "-",
        suits: "any (Keras/JAX general form)",
    },
    SchemeInfo {
        kind: SchemeKind::Orthogonal,
        name: "orthogonal",
        aliases: &["orthogonal_", "orth"],
        params: ORTHOGONAL_PARAMS,
        formula: "gain·Q, Q from QR of a Gaussian matrix, Q·sign(diag R); blocks=K: one Q per output block",
        default_gain: "1",
        suits: "deep linear / RNN stacks",
    },
    SchemeInfo {
        kind: SchemeKind::Identity,
        name: "identity",
        aliases: &["eye", "eye_"],
        params: GAIN_PARAMS,
        formula: "gain·I (2-D only)",
        default_gain: "1",
        suits: "residual/IRNN-style layers",
    },
    SchemeInfo {
        kind: SchemeKind::Dirac,
        name: "dirac",
        aliases: &["dirac_", "delta"],
        params: &[K::Gain, K::Groups],
        formula: "gain at the kernel centre from input d to output d of each group, 0 elsewhere (conv, 3+ dims)",
        default_gain: "1",
        suits: "identity-preserving conv stacks",
    },
    SchemeInfo {
        kind: SchemeKind::DeltaOrthogonal,
        name: "delta-orthogonal",
        aliases: &["delta_orthogonal", "conv-delta-orthogonal"],
        params: GAIN_PARAMS,
        formula: "gain·Q (orthogonal, channels) at the kernel centre ((k-1)//2), 0 elsewhere; in ≤ out",
        default_gain: "1",
        suits: "very deep plain CNNs (dynamical isometry)",
    },
    SchemeInfo {
        kind: SchemeKind::Sparse,
        name: "sparse",
        aliases: &["sparse_"],
        params: &[K::Sparsity, K::Std],
        formula: "N(0, std²) with ⌈sparsity·out⌉ of each input's out weights 0 (2-D; std default 0.01)",
        default_gain: "-",
        suits: "Hessian-free / sparse-connectivity nets (Martens 2010)",
    },
    SchemeInfo {
        kind: SchemeKind::LstmBias,
        name: "lstm-bias",
        aliases: &["unit-forget-bias", "forget-bias"],
        params: &[K::Forget],
        formula: "0, and forget (default 1) on the forget gate's quarter: gates i, f, g, o (PyTorch) = i, f, c, o (Keras)",
        default_gain: "-",
        suits: "LSTM biases (Jozefowicz et al. 2015)",
    },
    SchemeInfo {
        kind: SchemeKind::S4dRealLog,
        name: "s4d-real-log",
        aliases: &["s4d-real", "mamba-a-log", "a-log"],
        params: &[],
        formula: "w[…, n] = ln(n + 1), n = 0 … N−1 the position on the last axis, nothing random (ln of −A, S4D-real's A = −(n+1): Gu et al. 2022 S4D; transformers 5.25 MambaMixer.init_mamba_weights, Mamba2Mixer.init_mamba2_weights)",
        default_gain: "-",
        suits: "state-space A_log: Mamba (channels x state), Mamba-2 (heads)",
    },
    SchemeInfo {
        kind: SchemeKind::MambaDtBias,
        name: "mamba-dt-bias",
        aliases: &["dt-bias", "mamba-dt"],
        params: &[K::DtMin, K::DtMax, K::DtFloor],
        formula: "ln(e^dt − 1) (inverse softplus), dt = max(exp(ln dt-min + U·(ln dt-max − ln dt-min)), dt-floor), U ~ U(0, 1); defaults 0.001, 0.1, 1e-4 (Gu & Dao 2023 Mamba; transformers 5.25 init_mamba_weights)",
        default_gain: "-",
        suits: "state-space time-step biases (Mamba dt_proj.bias, Mamba-2 dt_bias)",
    },
];

impl SchemeKind {
    /// The table row for this scheme.
    pub fn info(self) -> &'static SchemeInfo {
        SCHEMES
            .iter()
            .find(|s| s.kind == self)
            .expect("every SchemeKind has a row in SCHEMES")
    }

    /// Looks a scheme up by name or alias (case-insensitive, `_` and `-` alike),
    /// suggesting the closest name when there is no match.
    pub fn lookup(text: &str) -> Result<SchemeKind> {
        let wanted = normalize(text);
        for s in SCHEMES {
            if normalize(s.name) == wanted || s.aliases.iter().any(|a| normalize(a) == wanted) {
                return Ok(s.kind);
            }
        }
        let closest = SCHEMES
            .iter()
            .flat_map(|s| {
                std::iter::once(s.name)
                    .chain(s.aliases.iter().copied())
                    .map(move |alias| (alias, s.name))
            })
            .map(|(alias, name)| (strsim::jaro_winkler(&wanted, &normalize(alias)), name))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let suggestion = match closest {
            Some((score, name)) if score > 0.8 => format!(" (did you mean '{name}'?)"),
            _ => String::new(),
        };
        Err(Error::UnknownScheme {
            name: crate::text::escape_control(text),
            suggestion,
        })
    }
}

fn normalize(name: &str) -> String {
    name.trim()
        .trim_end_matches('_')
        .to_ascii_lowercase()
        .replace('_', "-")
}

/// The scheme table as pretty JSON: an array of objects (name, aliases, params,
/// formula, default_gain, suits).
pub fn table_json() -> String {
    let rows: Vec<serde_json::Value> = SCHEMES
        .iter()
        .map(|s| {
            serde_json::json!({
                "name": s.name,
                "aliases": s.aliases,
                "params": s.params.iter().map(|k| k.name()).collect::<Vec<_>>(),
                "formula": s.formula,
                "default_gain": s.default_gain,
                "suits": s.suits,
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&rows).expect("scheme table serializes");
    text.push('\n');
    text
}
