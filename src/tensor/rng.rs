//! Which random stream a tensor is drawn from ([`RngMode`]: the native stream in
//! [`crate::draw`], or a framework's in [`crate::compat`]) and its seed.

use std::fmt;

use serde::Serialize;

use crate::names::{Choice, Named};

/// Which generator produced a tensor; recorded in every file's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RngMode {
    /// ChaCha8 blocks keyed by (seed, tensor name): the documented native contract.
    #[default]
    Native,
    /// NumPy's `np.random.default_rng(seed)`, bit for bit; one generator per run,
    /// drawn tensor after tensor.
    Numpy,
    /// PyTorch's CPU generator after `torch.manual_seed(seed)` (uniform_-based inits),
    /// bit for bit; one generator per run, drawn tensor after tensor.
    Torch,
    /// JAX's `jax.random` (threefry2x32) and `jax.nn.initializers`, bit for bit: each
    /// tensor from its own key ([`JaxStream`]), counter-based, drawn in parallel.
    Jax,
    /// Keras 3's initializers on the JAX backend (`keras.initializers.X(seed=SEED)`),
    /// bit for bit: JAX's stream with the raw key `[SEED, 0]` Keras hands it, and Keras'
    /// own formulas.
    Keras,
}

impl Choice for RngMode {
    const TABLE: &'static [Named<Self>] = &[
        Named {
            value: RngMode::Native,
            name: "native",
            aliases: &[],
            help: "ChaCha8 blocks keyed by (seed, tensor name): the documented native contract",
        },
        Named {
            value: RngMode::Numpy,
            name: "numpy",
            aliases: &[],
            help: "NumPy's `np.random.default_rng(seed)`, bit for bit; one generator per run, \
                   drawn tensor after tensor",
        },
        Named {
            value: RngMode::Torch,
            name: "torch",
            aliases: &[],
            help: "PyTorch's CPU generator after `torch.manual_seed(seed)` (uniform_-based \
                   inits), bit for bit; one generator per run, drawn tensor after tensor",
        },
        Named {
            value: RngMode::Jax,
            name: "jax",
            aliases: &[],
            help: "JAX's `jax.random` (threefry2x32) and `jax.nn.initializers`, bit for bit: \
                   each tensor from its own key ([`JaxStream`]), counter-based, drawn in parallel",
        },
        Named {
            value: RngMode::Keras,
            name: "keras",
            aliases: &[],
            help: "Keras 3's initializers on the JAX backend (`keras.initializers.X(seed=SEED)`), \
                   bit for bit: JAX's stream with the raw key `[SEED, 0]` Keras hands it, and \
                   Keras' own formulas",
        },
    ];
}

/// How a `--rng jax` tensor's key and bits come about: JAX's configuration flags and
/// which key, derived from `jax.random.key(seed)`, the tensor is drawn with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JaxStream {
    /// `jax_threefry_partitionable` (True by default since jax 0.5).
    pub partitionable: bool,
    /// `jax_enable_x64`: the seed's high 32 bits enter the key; needed for float64.
    pub x64: bool,
    pub key: JaxKeyPath,
}

impl Default for JaxStream {
    fn default() -> Self {
        JaxStream {
            partitionable: true,
            x64: false,
            key: JaxKeyPath::Root,
        }
    }
}

/// Which key a tensor gets from the run's root key `jax.random.key(seed)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JaxKeyPath {
    /// The root key itself.
    Root,
    /// `jax.random.split(root, count)[index]`.
    Split { count: usize, index: usize },
    /// The key Flax linen's `model.init(root, ...)` gives the `counter`-th parameter
    /// (from 1) of the module at `path`.
    Flax { path: Vec<String>, counter: u64 },
    /// Explicit steps: `split(n)[i]` and `fold_in(d)`, applied in order.
    Steps(Vec<JaxKeyStep>),
}

/// One step of an explicit key path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JaxKeyStep {
    Split { count: usize, index: usize },
    FoldIn(u32),
}

impl JaxKeyPath {
    /// Parses explicit steps such as `split(4)[2]/fold_in(7)`, each applied to the key
    /// the previous one gave, starting from the root key.
    pub fn parse_steps(text: &str) -> crate::error::Result<JaxKeyPath> {
        let bad = |why: &str| {
            crate::error::Error::Usage(format!(
                "invalid --jax-key '{}': {why} (write root, split, flax, or steps such as \
                 split(4)[2]/fold_in(7))",
                crate::text::bound_to(&crate::text::escape_control(text), 60)
            ))
        };
        let mut steps = Vec::new();
        for step in text.split('/') {
            let step = step.trim();
            if let Some(rest) = step.strip_prefix("split(") {
                let (count, rest) = rest
                    .split_once(")[")
                    .ok_or_else(|| bad("split needs (n)[i]"))?;
                let index = rest
                    .strip_suffix(']')
                    .ok_or_else(|| bad("split needs (n)[i]"))?;
                let count: usize = count
                    .trim()
                    .parse()
                    .map_err(|_| bad("split's n is a whole number"))?;
                let index: usize = index
                    .trim()
                    .parse()
                    .map_err(|_| bad("split's index is a whole number"))?;
                if count == 0 || index >= count || count > 1 << 24 {
                    return Err(bad("split(n)[i] needs 0 <= i < n <= 16777216"));
                }
                steps.push(JaxKeyStep::Split { count, index });
            } else if let Some(rest) = step.strip_prefix("fold_in(") {
                let data = rest
                    .strip_suffix(')')
                    .ok_or_else(|| bad("fold_in needs (d)"))?;
                let data: u32 = data
                    .trim()
                    .parse()
                    .map_err(|_| bad("fold_in's data is a whole number from 0 to 4294967295"))?;
                steps.push(JaxKeyStep::FoldIn(data));
            } else {
                return Err(bad(&format!("unknown step '{step}'")));
            }
        }
        Ok(JaxKeyPath::Steps(steps))
    }

    /// The Python expression of the key, given the root key's expression.
    pub fn expression(&self, root: &str) -> String {
        match self {
            JaxKeyPath::Root => root.to_string(),
            JaxKeyPath::Split { count, index } => {
                format!("jax.random.split({root}, {count})[{index}]")
            }
            JaxKeyPath::Flax { path, counter } => format!(
                "the key Flax linen's init({root}, ...) gives parameter {counter} of module '{}'",
                path.join("/")
            ),
            JaxKeyPath::Steps(steps) => {
                steps.iter().fold(root.to_string(), |key, step| match step {
                    JaxKeyStep::Split { count, index } => {
                        format!("jax.random.split({key}, {count})[{index}]")
                    }
                    JaxKeyStep::FoldIn(d) => format!("jax.random.fold_in({key}, {d})"),
                })
            }
        }
    }
}

impl RngMode {
    /// The stream's name, as `--rng` takes it and metadata records it.
    pub fn name(self) -> &'static str {
        match self {
            RngMode::Native => "native",
            RngMode::Numpy => "numpy",
            RngMode::Torch => "torch",
            RngMode::Jax => "jax",
            RngMode::Keras => "keras",
        }
    }
}

impl fmt::Display for RngMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `--seed` argument, or a fresh seed (see [`fresh_seed`]) when there is none.
pub fn parse_seed(text: Option<&str>) -> crate::error::Result<u64> {
    match text {
        None => Ok(fresh_seed()),
        Some(t) => t.trim().parse().map_err(|_| {
            crate::error::Error::Usage(format!(
                "invalid seed '{}': expected a whole number from 0 to {}",
                crate::text::value(t),
                u64::MAX
            ))
        }),
    }
}

/// A fresh seed from the operating system, below 2^53 so that it survives JSON readers
/// (JavaScript, jq) that hold every number as a double.
pub fn fresh_seed() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS entropy (exotic sandbox): fall back on the clock; the seed is printed
        // and recorded either way, so the output stays reproducible.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        bytes = nanos.to_le_bytes();
    }
    u64::from_le_bytes(bytes) >> 11
}

/// PyTorch's CPU generator as plain data (MT19937's 624 state words, the position of the
/// next output, and the normal value `normal_` keeps between small draws), so a tensor
/// can carry where its draw starts without this layer knowing the generator.
#[derive(Debug, Clone, PartialEq)]
pub struct TorchState {
    pub words: Vec<u32>,
    pub position: usize,
    pub cached_normal: Option<f64>,
}

/// `--hf-config --rng torch`: where a tensor's values come from in the run of draws
/// transformers makes building the model (`torch.manual_seed(s); from_config(cfg)`),
/// which is neither the run's order nor one draw per tensor: the generator right before
/// the draw that leaves the tensor's values, that draw's law and element count, and
/// which of its elements are the tensor's (a per-expert tensor is a slice of the
/// experts' fused draw).
#[derive(Debug, Clone, PartialEq)]
pub struct TorchReplay {
    pub start: TorchState,
    pub law: crate::law::Distribution,
    pub draw_len: usize,
    pub offset: usize,
}
