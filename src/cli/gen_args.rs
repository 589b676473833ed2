//! `gen`'s flags (clap) and their plain decoding: the scheme with inline and flag
//! parameters merged, the seed, the tensor names.

use crate::cli::choice::choice;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

use crate::array::dtype::DType;
use crate::array::fan::Layout;
use crate::model::activation::Activation;
use crate::model::preset::Preset;
use crate::output::Format;
use crate::request::GenRequest;
use crate::scheme::ParamKey;
use crate::tensor::rng::RngMode;

/// Where the report goes and in which form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ReportMode {
    /// A table on stderr.
    #[default]
    Human,
    /// JSON on stdout (on stderr when the data itself goes to stdout).
    Json,
    /// No report.
    None,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  weightinit gen --scheme he-normal --shape 784x128
  weightinit gen --scheme xavier-uniform --shape 784x128 -o w.json
  weightinit gen --scheme normal:std=0.02 --shape 50257x768 --seed 7 -o emb.npy
  weightinit gen --scheme kaiming-uniform --layout oi --shape 128x784 -o w.npy
  weightinit gen --scheme he-uniform --shape 784x256 --shape 256x10 -o out/")]
pub struct GenArgs {
    /// Scheme name, optionally with parameters: he-normal, normal:std=0.02,
    /// variance-scaling:scale=2,mode=fan-avg (see `weightinit schemes`).
    #[arg(
        long,
        short = 's',
        value_name = "SCHEME",
        required_unless_present_any = ["preset", "layers", "spec", "like", "hf_config"]
    )]
    pub scheme: Option<String>,

    /// Instead of --scheme: a module's weight and bias as its framework initializes them
    /// (names NAME.weight and NAME.bias; the shape is the constructor's arguments).
    #[arg(long, value_parser = choice::<Preset>(), conflicts_with = "scheme")]
    pub preset: Option<Preset>,

    /// Tensor shape as stored, e.g. 784x128 or 3x3x64x128; repeat for several tensors.
    #[arg(
        long,
        value_name = "SHAPE",
        required_unless_present_any = ["layers", "spec", "like", "hf_config"],
        allow_hyphen_values = true
    )]
    pub shape: Vec<String>,

    /// Instead of --shape: the layout (names, shapes, dtypes) of a .safetensors or .npz
    /// file, read from its headers only; schemes come from --rule and --default.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["shape", "preset", "layers", "spec", "name", "scheme"])]
    pub like: Option<PathBuf>,

    /// Instead of --shape: a Hugging Face config.json. Writes the tensors save_pretrained
    /// writes for it, each by the law the model's _init_weights gives it, as
    /// DIR/model.safetensors (or shards with --max-shard-size) plus config.json. The
    /// family comes from the config's architectures (Llama, Mistral, Mixtral, Qwen2, Qwen3,
    /// Qwen3-MoE, OLMo 2, OLMoE, DeepSeek-V3, Gemma, Gemma 2, Gemma 3 text, Phi-3, GPT-2,
    /// BERT); --spec FAMILY.toml gives your own template. See docs/guide.md, "Training from
    /// scratch".
    #[arg(long, value_name = "FILE", conflicts_with_all = ["shape", "preset", "layers", "like", "name", "scheme"])]
    pub hf_config: Option<PathBuf>,

    /// With --hf-config: the init recipe of a pretraining codebase instead of
    /// transformers' _init_weights, for the weights it names (torchtitan, megatron,
    /// olmo-mitchell, ...; `weightinit recipes` lists them with their sources).
    #[arg(long, value_name = "NAME", requires = "hf_config")]
    pub recipe: Option<String>,

    /// With --hf-config, for a mixture of experts (Mixtral, Qwen3-MoE, OLMoE,
    /// DeepSeek-V3): original (default) writes each routed expert's own matrices under the
    /// Hub's names (experts.{e}.gate_proj/up_proj/down_proj, Mixtral's w1/w3/w2), in
    /// save_pretrained's sorted order, as transformers 5's save_pretrained writes by
    /// default and the Hub, vLLM, llama.cpp and transformers 4 read; fused writes them as
    /// transformers 5 holds them in memory (experts.gate_up_proj [E, 2I, d],
    /// experts.down_proj [E, d, I]), as save_pretrained(save_original_format=False) does.
    #[arg(long, value_name = "LAYOUT", value_parser = choice::<crate::model::hf::HfExperts>(), requires = "hf_config")]
    pub hf_experts: Option<crate::model::hf::HfExperts>,

    /// With --like or --spec: PATTERN=SCHEME, e.g. '*.bias=zeros' or
    /// 'embed*=normal:std=0.02' (glob on tensor names; repeatable, first match wins; after
    /// a spec file's own rules).
    #[arg(long = "rule", value_name = "PATTERN=SCHEME")]
    pub rules: Vec<String>,

    /// Write only shard I of N (1-based) of the model as Hugging Face sharded safetensors
    /// in -o DIR/: model-0000I-of-0000N.safetensors plus model.safetensors.index.json.
    /// Shards can run on different machines; together they equal one run. `auto` takes
    /// I = rank + 1 and N = world size from the launcher: RANK and WORLD_SIZE (torchrun),
    /// else SLURM_PROCID and SLURM_NTASKS (srun), else OMPI_COMM_WORLD_RANK and
    /// OMPI_COMM_WORLD_SIZE (Open MPI's mpirun). Give every shard the same --seed.
    #[arg(long, value_name = "I/N|auto")]
    pub shard: Option<String>,

    /// Split the model into Hugging Face safetensors files of at most SIZE bytes each
    /// (5GB = 5·10⁹, 5GiB = 5·2³⁰), as `save_pretrained(max_shard_size=...)` does, with
    /// model.safetensors.index.json; needs -o DIR/. With --shard I/N, this process writes
    /// files I, I+N, I+2N, … of them.
    #[arg(long, value_name = "SIZE")]
    pub max_shard_size: Option<String>,

    /// With --like or --spec: the scheme of tensors no rule matches (a spec file's own
    /// top-level scheme comes first).
    #[arg(long = "default", value_name = "SCHEME")]
    pub default_scheme: Option<String>,

    /// Instead of --shape: a TOML or JSON file listing the model's tensors (name, shape,
    /// scheme, dtype, layout), with defaults and name rules; see docs/guide.md, "Spec files".
    #[arg(long, value_name = "FILE", conflicts_with_all = ["shape", "preset", "layers", "name", "scheme"])]
    pub spec: Option<PathBuf>,

    /// Instead of --shape: a chain of dense layers by width, e.g. 784-256-128-10
    /// (512x3 repeats a width), giving fc0.weight, fc0.bias, fc1.weight, ... with the
    /// weight scheme chosen by --activation unless --scheme is given.
    #[arg(long, value_name = "WIDTHS", conflicts_with_all = ["shape", "preset", "name"])]
    pub layers: Option<String>,

    /// With --layers: the activation after each layer, which picks the weight scheme:
    /// relu, leaky-relu, gelu → he-normal; tanh, sigmoid, linear → xavier-normal;
    /// selu → lecun-normal.
    #[arg(long, value_parser = choice::<Activation>(), default_value_t = Activation::Relu, requires = "layers")]
    pub activation: Activation,

    /// With --layers: the bias scheme (zeros, a 1-D scheme such as normal:std=0.01,
    /// fan-in-uniform for PyTorch's U(±1/√fan_in)), or none for no biases.
    #[arg(
        long,
        value_name = "SCHEME",
        default_value = "zeros",
        requires = "layers"
    )]
    pub bias: String,

    /// Tensor name, once per --shape; it names the file in a directory and, with the
    /// seed, keys the random stream. Default: w0, w1, ...
    #[arg(long, value_name = "NAME")]
    pub name: Vec<String>,

    /// μP (Tensor Programs V, as the `mup` package initializes): the base model the
    /// widths are measured against — a spec file with --spec, a config.json with
    /// --hf-config, widths (e.g. 784-256x3-10) with --layers. Each tensor's law is
    /// rescaled by mup's rule for its scheme and role; see docs/guide.md, "μP".
    #[arg(long, value_name = "BASE")]
    pub mup_base: Option<String>,

    /// With --mup-base: zero the readout tensors whose names match PATTERN (mup's
    /// `MuReadout(readout_zero_init=True)`), e.g. 'lm_head.*' or 'fc3.*'; repeatable.
    #[arg(long, value_name = "PATTERN", requires = "mup_base")]
    pub mup_zero_readout: Vec<String>,

    /// Axis convention: io (Keras/JAX/TF: in x out, kh x kw x in x out) or oi
    /// (PyTorch: out x in, out x in x kh x kw).
    #[arg(long, value_parser = choice::<Layout>(), default_value_t)]
    pub layout: Layout,

    /// Element type [default: f32, or the dtype a --hf-config names].
    #[arg(long, value_parser = choice::<DType>())]
    pub dtype: Option<DType>,

    /// Seed (0 to 2^64-1). Without it a fresh seed is drawn, printed and recorded.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub seed: Option<String>,

    /// Random stream: native (weightinit's own; parallel, identical on every machine),
    /// numpy (exactly np.random.default_rng(SEED)'s draws) or torch (exactly what
    /// torch.nn.init draws after torch.manual_seed(SEED); use --layout oi; with
    /// --hf-config, exactly what transformers' from_config draws). The framework
    /// streams use one generator for the run's tensors in order; the report prints the
    /// equivalent code.
    #[arg(long, value_parser = choice::<RngMode>(), default_value_t)]
    pub rng: RngMode,

    // The help is an attribute, not a doc comment: rustdoc would read its brackets as links.
    #[arg(
        long,
        value_name = "KEY",
        help = "With --rng jax: which key each tensor is drawn with, from \
                jax.random.key(SEED): root (the key itself; the default for one tensor), split \
                (tensor i of n gets jax.random.split(key, n)[i]; the default for several), \
                flax (names are Flax module paths, e.g. Dense_0/kernel: the keys Flax linen's \
                model.init gives), or steps such as 'split(4)[2]/fold_in(7)'. See \
                docs/reproducibility.md, \"JAX-exact stream\"."
    )]
    pub jax_key: Option<String>,

    /// With --rng jax: the value of jax_threefry_partitionable (True by default since
    /// jax 0.5; false reproduces older JAX and checkpoints made with the flag off).
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub jax_partitionable: bool,

    /// With --rng jax: as under jax_enable_x64 (the seed's high 32 bits enter the key;
    /// implied by --dtype f64, which JAX draws only with x64).
    #[arg(long)]
    pub jax_x64: bool,

    /// Output: a file (.npy or .json), a directory ending in '/', or '-' for stdout.
    /// Default: SCHEME_SHAPE.npy in the current directory.
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// File format; by default taken from the output file's extension, else npy.
    #[arg(long, value_parser = choice::<Format>())]
    pub format: Option<Format>,

    /// Replace existing files.
    #[arg(long)]
    pub force: bool,

    /// Print the plan — every tensor's name, shape, dtype and law, the files, the
    /// parameter count and bytes — and write nothing (as JSON with --report json).
    #[arg(long)]
    pub dry_run: bool,

    /// Flush each file to the disk before it takes its final name, so it survives a
    /// power cut too (slower: waits for the device).
    #[arg(long)]
    pub fsync: bool,

    /// The variance report: human (stderr), json (stdout, or stderr when data is on
    /// stdout) or none.
    #[arg(long, value_enum, default_value_t)]
    pub report: ReportMode,

    /// Worker threads (default: all cores). The output does not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// constant: the value.
    #[arg(long, help_heading = "Scheme parameters", allow_hyphen_values = true)]
    pub value: Option<String>,
    /// normal, truncated-normal: the mean.
    #[arg(long, help_heading = "Scheme parameters", allow_hyphen_values = true)]
    pub mean: Option<String>,
    /// normal, truncated-normal: standard deviation (before truncation).
    #[arg(long, help_heading = "Scheme parameters", allow_hyphen_values = true)]
    pub std: Option<String>,
    /// uniform: lower end; truncated-normal: absolute lower bound.
    #[arg(long, help_heading = "Scheme parameters", allow_hyphen_values = true)]
    pub low: Option<String>,
    /// uniform: upper end; truncated-normal: absolute upper bound.
    #[arg(long, help_heading = "Scheme parameters", allow_hyphen_values = true)]
    pub high: Option<String>,
    /// variance-scaling: the scale (variance = scale / fan).
    #[arg(long, help_heading = "Scheme parameters", allow_hyphen_values = true)]
    pub scale: Option<String>,
    /// he-*: fan-in or fan-out; variance-scaling: also fan-avg and fan-geo-avg (√(fan_in·fan_out), JAX's).
    #[arg(long, help_heading = "Scheme parameters")]
    pub mode: Option<String>,
    /// variance-scaling: truncated-normal, normal or uniform.
    #[arg(long, help_heading = "Scheme parameters")]
    pub distribution: Option<String>,
    /// xavier, he, lecun, orthogonal, identity: an explicit gain.
    #[arg(long, help_heading = "Scheme parameters", allow_hyphen_values = true)]
    pub gain: Option<String>,
    /// Sets the gain for: linear, sigmoid, tanh, relu, leaky-relu, selu.
    #[arg(long, help_heading = "Scheme parameters")]
    pub nonlinearity: Option<String>,
    /// leaky-relu's negative slope (default 0.01).
    #[arg(long, help_heading = "Scheme parameters", allow_hyphen_values = true)]
    pub negative_slope: Option<String>,
    /// truncated-normal: lower bound in standard deviations from the mean (JAX's lower).
    #[arg(long, help_heading = "Scheme parameters", allow_hyphen_values = true)]
    pub sigma_low: Option<String>,
    /// truncated-normal: upper bound in standard deviations from the mean (JAX's upper).
    #[arg(long, help_heading = "Scheme parameters", allow_hyphen_values = true)]
    pub sigma_high: Option<String>,
    /// Normal-family schemes: scale std by 1/√(2·L) for a residual projection in a
    /// network of L blocks (GPT-2's c_proj).
    #[arg(long, help_heading = "Scheme parameters", value_name = "L")]
    pub depth: Option<String>,
    /// Fan-based schemes: the weight is a grouped convolution's with G groups (fan_out
    /// per group; depthwise: G = channels).
    #[arg(long, help_heading = "Scheme parameters", value_name = "G")]
    pub groups: Option<String>,
    /// sparse: the fraction of each input's weights set to 0.
    #[arg(long, help_heading = "Scheme parameters")]
    pub sparsity: Option<String>,
    /// Fan-based schemes and orthogonal: the weight is K equal blocks along its output
    /// side, each initialized on its own (LSTM: 4 gates, GRU: 3).
    #[arg(long, help_heading = "Scheme parameters", value_name = "K")]
    pub blocks: Option<String>,
    /// lstm-bias: the forget gate's bias (default 1).
    #[arg(long, help_heading = "Scheme parameters", allow_hyphen_values = true)]
    pub forget: Option<String>,
    /// Fan-based schemes: the input axes, e.g. 0 or 0+1 (-1 is the last), for layouts
    /// neither io nor oi describes (PyTorch transposed conv: --in-axes 0 --out-axes 1).
    #[arg(
        long,
        help_heading = "Scheme parameters",
        allow_hyphen_values = true,
        value_name = "AXES"
    )]
    pub in_axes: Option<String>,
    /// Fan-based schemes: the output axes (with --in-axes; the rest are the receptive field).
    #[arg(
        long,
        help_heading = "Scheme parameters",
        allow_hyphen_values = true,
        value_name = "AXES"
    )]
    pub out_axes: Option<String>,
    /// Scale-based schemes (uniform, normal, truncated-normal, fan-based): a factor on
    /// the law's scale (std and bounds); --mup-base sets it per tensor.
    #[arg(long, help_heading = "Scheme parameters", value_name = "M")]
    pub mult: Option<String>,
    /// mamba-dt-bias: the smallest time step dt (default 0.001).
    #[arg(long, help_heading = "Scheme parameters", value_name = "DT")]
    pub dt_min: Option<String>,
    /// mamba-dt-bias: the largest time step dt (default 0.1).
    #[arg(long, help_heading = "Scheme parameters", value_name = "DT")]
    pub dt_max: Option<String>,
    /// mamba-dt-bias: the floor dt is raised to (default 1e-4).
    #[arg(long, help_heading = "Scheme parameters", value_name = "DT")]
    pub dt_floor: Option<String>,
}

impl GenArgs {
    /// The library request these flags ask for. The parser has already refused what it
    /// can express (one source, options that need another); a default that came from the
    /// parser (`--activation relu`, `--bias zeros`) is passed only when it was typed.
    pub fn into_request(self) -> GenRequest {
        let params = [
            (ParamKey::Value, self.value),
            (ParamKey::Mean, self.mean),
            (ParamKey::Std, self.std),
            (ParamKey::Low, self.low),
            (ParamKey::High, self.high),
            (ParamKey::Scale, self.scale),
            (ParamKey::Mode, self.mode),
            (ParamKey::Distribution, self.distribution),
            (ParamKey::Gain, self.gain),
            (ParamKey::Nonlinearity, self.nonlinearity),
            (ParamKey::NegativeSlope, self.negative_slope),
            (ParamKey::SigmaLow, self.sigma_low),
            (ParamKey::SigmaHigh, self.sigma_high),
            (ParamKey::Depth, self.depth),
            (ParamKey::Groups, self.groups),
            (ParamKey::Sparsity, self.sparsity),
            (ParamKey::Blocks, self.blocks),
            (ParamKey::Forget, self.forget),
            (ParamKey::InAxes, self.in_axes),
            (ParamKey::OutAxes, self.out_axes),
            (ParamKey::Mult, self.mult),
            (ParamKey::DtMin, self.dt_min),
            (ParamKey::DtMax, self.dt_max),
            (ParamKey::DtFloor, self.dt_floor),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some((key, value?)))
        .collect();
        let chain = self.layers.is_some();
        GenRequest {
            params,
            activation: chain.then_some(self.activation),
            bias: chain.then_some(self.bias),
            scheme: self.scheme,
            preset: self.preset,
            shape: self.shape,
            like: self.like,
            hf_config: self.hf_config,
            recipe: self.recipe,
            hf_experts: self.hf_experts,
            rules: self.rules,
            shard: self.shard,
            max_shard_size: self.max_shard_size,
            default_scheme: self.default_scheme,
            spec: self.spec,
            layers: self.layers,
            name: self.name,
            mup_base: self.mup_base,
            mup_zero_readout: self.mup_zero_readout,
            layout: self.layout,
            dtype: self.dtype,
            seed: self.seed,
            rng: self.rng,
            jax_key: self.jax_key,
            jax_partitionable: self.jax_partitionable,
            jax_x64: self.jax_x64,
            output: self.output,
            format: self.format,
            force: self.force,
            dry_run: self.dry_run,
            fsync: self.fsync,
            threads: self.threads,
        }
    }
}
