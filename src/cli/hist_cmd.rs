//! `weightinit hist`: a tensor's histogram in the terminal (or an image), with the
//! density it should follow drawn over it.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::distribution::Distribution;
use crate::error::{Error, Result};
use crate::fan::Layout;
use crate::load::LoadedTensor;
use crate::plot::{Histogram, Series};
use crate::scheme::SchemeSpec;

const EXAMPLES: &str = "\
Examples:
  weightinit hist w.npy --scheme he-normal
  weightinit hist model.safetensors --tensor fc0.weight --scheme he-normal --plot fc0.png";

/// Histogram of a stored tensor with the density of its scheme (or of a fitted normal)
/// drawn over it.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct HistArgs {
    /// A .npy, .npz or .safetensors file.
    pub file: PathBuf,

    /// The tensor to show, for files that hold several.
    #[arg(long, value_name = "NAME")]
    pub tensor: Option<String>,

    /// Draw this scheme's density, resolved for the tensor's stored shape. Without it, a
    /// normal with the values' own mean and standard deviation.
    #[arg(long)]
    pub scheme: Option<String>,

    /// Axis convention of the stored shape, for the scheme's fans.
    #[arg(long, value_enum, default_value_t)]
    pub layout: Layout,

    /// Number of bins.
    #[arg(long, default_value_t = 31)]
    pub bins: usize,

    /// Columns of the terminal chart.
    #[arg(long, default_value_t = 72)]
    pub width: usize,

    /// Also draw the histogram into FILE.svg or FILE.png.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,

    /// Replace an existing --plot file.
    #[arg(long)]
    pub force: bool,
}

/// The one tensor of `file` that `--tensor` names (or the only one there is).
pub fn one_tensor(
    file: &std::path::Path,
    name: Option<&str>,
    option: &str,
) -> Result<LoadedTensor> {
    let mut tensors = crate::load::load_tensors(file, name)?;
    if tensors.len() != 1 {
        let names: Vec<&str> = tensors.iter().map(|t| t.name.as_str()).collect();
        return Err(Error::Usage(format!(
            "'{}' holds {} tensors ({}); choose one with {option}",
            file.display(),
            tensors.len(),
            names.join(", ")
        )));
    }
    Ok(tensors.remove(0))
}

/// The density to draw and its legend label.
fn overlay(
    args: &HistArgs,
    t: &LoadedTensor,
    mean: f64,
    std: f64,
) -> Result<(Option<Distribution>, String)> {
    let Some(text) = &args.scheme else {
        return Ok((
            (std > 0.0).then_some(Distribution::Normal { mean, std }),
            format!("normal fit N({mean:.3e}, {std:.3e}^2)"),
        ));
    };
    let scheme: SchemeSpec = text.parse()?;
    let shape = t.law_shape()?;
    let law = scheme.resolve(&shape, args.layout)?.distribution;
    Ok(match law {
        Distribution::Orthogonal { gain } => {
            let view = crate::fan::matrix_view(shape.dims(), args.layout);
            let entries = Distribution::orthogonal_entries(gain, view);
            (
                Some(entries),
                format!(
                    "{scheme}: entries close to {} for large matrices",
                    entries.describe()
                ),
            )
        }
        Distribution::Constant { .. } | Distribution::Identity { .. } => {
            (None, format!("{scheme}: {}", law.describe()))
        }
        _ => (Some(law), format!("{scheme}: {}", law.describe())),
    })
}

pub fn run(args: &HistArgs) -> Result<()> {
    if args.bins == 0 || args.bins > 10_000 {
        return Err(Error::Usage(format!(
            "invalid --bins {}: expected 1 to 10000",
            args.bins
        )));
    }
    if let Some(plot) = &args.plot {
        super::probe_cmd::check_plot_target(plot, args.force)?;
    }
    let t = one_tensor(&args.file, args.tensor.as_deref(), "--tensor")?;
    let finite: Vec<f64> = t.values.iter().copied().filter(|v| v.is_finite()).collect();
    let skipped = t.values.len() - finite.len();
    if finite.is_empty() {
        return Err(Error::Usage(format!(
            "'{}' tensor '{}' has no finite values to count",
            args.file.display(),
            t.name
        )));
    }
    let stats = crate::stats::Stats::of(finite.iter().copied());
    let (mean, std) = (stats.mean, stats.std());
    let (law, label) = overlay(args, &t, mean, std)?;
    let hist = histogram(&finite, args.bins, law.as_ref(), &label, &t, &args.file);

    let mut out = format!(
        "{} '{}': shape {:?}, {}, n = {}: mean {:.4e}, std {:.4e}, min {:.4e}, max {:.4e}{}\n",
        args.file.display(),
        t.name,
        t.shape,
        t.dtype,
        finite.len(),
        mean,
        std,
        stats.min,
        stats.max,
        if skipped > 0 {
            format!(" ({skipped} non-finite values left out)")
        } else {
            String::new()
        }
    );
    out.push_str(&format!("overlay: {label}\n\n"));
    out.push_str(&crate::plot::histogram_text(&hist, args.width));
    if let Some(plot) = &args.plot {
        crate::plot::write_histogram(plot, &hist, args.force)?;
        out.push_str(&format!("\nplot: {}\n", plot.display()));
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::io("<stdout>", e))
}

/// Equal-width bins over the values' range (widened to the law's support when it is
/// bounded, so that an empty edge shows), densities normalized to integrate to 1.
fn histogram(
    values: &[f64],
    bins: usize,
    law: Option<&Distribution>,
    label: &str,
    t: &LoadedTensor,
    file: &std::path::Path,
) -> Histogram {
    let (mut lo, mut hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if let Some(
        Distribution::Uniform { low, high } | Distribution::TruncatedNormal { low, high, .. },
    ) = law
    {
        lo = lo.min(*low);
        hi = hi.max(*high);
    }
    if hi <= lo {
        // All values equal: one bin of width 1 around them.
        lo -= 0.5;
        hi += 0.5;
    }
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0u64; bins];
    for &v in values {
        let k = (((v - lo) / width) as usize).min(bins - 1);
        counts[k] += 1;
    }
    let n = values.len() as f64;
    let edges: Vec<f64> = (0..=bins).map(|k| lo + width * k as f64).collect();
    let density = counts.iter().map(|&c| c as f64 / (n * width)).collect();
    let curve = law.and_then(|d| {
        let samples = 400;
        let points: Option<Vec<(f64, f64)>> = (0..=samples)
            .map(|k| {
                let x = lo + (hi - lo) * k as f64 / samples as f64;
                d.pdf(x).map(|p| (x, p))
            })
            .collect();
        points.map(|points| Series {
            label: label.to_string(),
            points,
        })
    });
    Histogram {
        title: format!("{} '{}' {:?} {}", file.display(), t.name, t.shape, t.dtype),
        x_label: "value".into(),
        edges,
        density,
        curve,
    }
}
