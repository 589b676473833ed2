//! `weightinit verify FILE --scheme S`: does the file look like it was drawn from S for
//! its stored shapes? The checks live in [`crate::inspect::verify`]; this module parses, prints
//! and turns "no" into [`Error::Inconsistent`] (exit code 1).

use crate::cli::choice::choice;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::array::fan::Layout;
use crate::error::{Error, Result};
use crate::inspect::verify;
use crate::scheme::SchemeSpec;

#[derive(Debug, Args)]
#[command(
    after_help = "Checks: mean and variance (|z| ≤ 5), bounds of uniform and truncated \
laws, a Kolmogorov–Smirnov test against the law rounded to the stored dtype (p ≥ 1e-6), exact \
values for constant laws, WᵀW ≈ gain²·I for orthogonal, no identical rows or columns for random \
laws.
Exit status: 0 consistent, 1 NOT consistent, 2 bad input.

Examples:
  weightinit verify w.npy --scheme he-normal
  weightinit verify model.safetensors --scheme kaiming-uniform --layout oi
  weightinit verify m.npz --scheme zeros --tensor fc0.bias --json"
)]
pub struct VerifyArgs {
    /// The file to check: .npy, .npz or .safetensors.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// The scheme the values should have been drawn from, with parameters as for gen:
    /// he-normal, normal:std=0.02, variance-scaling:scale=2,mode=fan-avg.
    #[arg(long, short = 's', value_name = "SCHEME")]
    pub scheme: String,

    /// Axis convention of the stored shapes, as for gen: io (Keras/JAX/TF: in x out) or
    /// oi (PyTorch: out x in).
    #[arg(long, value_parser = choice::<Layout>(), default_value_t)]
    pub layout: Layout,

    /// The stream the file was drawn with, for what the scheme's name means: under jax (and keras),
    /// he-normal, lecun-normal and xavier-normal are JAX's truncated normals
    /// (variance_scaling with truncated_normal). The other streams draw the native laws.
    #[arg(long, value_parser = choice::<crate::tensor::rng::RngMode>(), default_value_t)]
    pub rng: crate::tensor::rng::RngMode,

    /// Check only this tensor (an .npz member without ".npy", a safetensors key).
    #[arg(long, value_name = "NAME")]
    pub tensor: Option<String>,

    /// Print the report as JSON (every number) instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &VerifyArgs) -> Result<()> {
    let mut scheme: SchemeSpec = args.scheme.parse()?;
    if matches!(
        args.rng,
        crate::tensor::rng::RngMode::Jax | crate::tensor::rng::RngMode::Keras
    ) {
        scheme = crate::compat::jax::mapping::native_equivalent(&scheme);
    }
    let verification =
        verify::verify_file(&args.file, &scheme, args.layout, args.tensor.as_deref())?;
    let text = if args.json {
        let mut text = serde_json::to_string_pretty(&verification)
            .map_err(|e| Error::Usage(format!("cannot encode the report: {e}")))?;
        text.push('\n');
        text
    } else {
        verification.render_human()
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("<stdout>", e))?;
    match verification.reason {
        Some(reason) => Err(Error::Inconsistent(reason)),
        None => Ok(()),
    }
}
