//! `weightinit hist`: a tensor's histogram in the terminal (or an image), with the
//! density it should follow drawn over it.

use crate::cli::choice::choice;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::array::fan::Layout;
use crate::error::{Error, Result};
use crate::law::Distribution;
use crate::output::load::LoadedTensor;
use crate::plot::{Histogram, Series};
use crate::scheme::SchemeSpec;
use crate::text::escape_control;

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
    #[arg(long, value_parser = choice::<Layout>(), default_value_t)]
    pub layout: Layout,

    /// Number of bins (1 to 10000).
    #[arg(long, default_value_t = 31)]
    pub bins: usize,

    /// Columns of the terminal chart (20 to 1000).
    #[arg(long, default_value_t = 72)]
    pub width: usize,

    /// Also draw the histogram into FILE.svg or FILE.png.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,

    /// Replace an existing --plot file.
    #[arg(long)]
    pub force: bool,
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
        Distribution::Orthogonal { gain, blocks } => {
            let view = crate::array::fan::matrix_view(shape.dims(), args.layout);
            let view =
                crate::array::geometry::OutputBlocks::new(view, blocks, args.layout).block_dims();
            let entries = Distribution::orthogonal_entries(gain, view);
            (
                Some(entries),
                format!(
                    "{scheme}: entries close to {} for large matrices",
                    entries.describe()
                ),
            )
        }
        Distribution::Constant { .. }
        | Distribution::Identity { .. }
        | Distribution::Dirac { .. }
        | Distribution::DeltaOrthogonal { .. }
        | Distribution::Sparse { .. }
        | Distribution::LstmBias { .. }
        | Distribution::S4dRealLog { .. } => (None, format!("{scheme}: {}", law.describe())),
        _ => (Some(law), format!("{scheme}: {}", law.describe())),
    })
}

/// The bins a histogram may have: each is a row of the chart.
pub const BINS: std::ops::RangeInclusive<usize> = 1..=10_000;
/// The columns a terminal chart may have: room for the bin labels and a bar, and no
/// more than any terminal shows.
pub const WIDTH: std::ops::RangeInclusive<usize> = 20..=1000;

/// Memory `hist` holds per value: the values themselves (8 bytes); the non-finite ones
/// are dropped in place and the bins are counted in one pass.
pub const BYTES_PER_VALUE: u64 = 8;

pub fn run(args: &HistArgs) -> Result<()> {
    for (flag, value, range) in [("--bins", args.bins, BINS), ("--width", args.width, WIDTH)] {
        if !range.contains(&value) {
            return Err(Error::Usage(format!(
                "invalid {flag} {value}: expected {} to {}",
                range.start(),
                range.end()
            )));
        }
    }
    if let Some(plot) = &args.plot {
        crate::plot::check_image_target(plot, args.force)?;
    }
    let purpose = crate::output::load::Purpose {
        reader: "hist",
        bytes_per_value: BYTES_PER_VALUE,
    };
    let mut t =
        crate::output::load::load_one_for(&args.file, args.tensor.as_deref(), "--tensor", purpose)?;
    let mut finite = std::mem::take(&mut t.values);
    let total = finite.len();
    finite.retain(|v| v.is_finite());
    let skipped = total - finite.len();
    let file = escape_control(&args.file.display().to_string());
    let name = escape_control(&t.name);
    if finite.is_empty() {
        return Err(Error::Usage(format!(
            "'{file}' tensor '{name}' has no finite values to count"
        )));
    }
    let stats = crate::check::stats::Stats::of(finite.iter().copied());
    let (mean, std) = (stats.mean, stats.std());
    let (law, label) = overlay(args, &t, mean, std)?;
    let title = format!("{file} '{name}' {:?} {}", t.shape, t.dtype);
    let hist = histogram(&finite, args.bins, law.as_ref(), &label, &title);

    let mut out = format!(
        "{file} '{name}': shape {:?}, {}, n = {}: mean {:.4e}, std {:.4e}, min {:.4e}, max {:.4e}{}\n",
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

/// The bins of the values (over the law's support too when it is bounded, so that an
/// empty edge shows) with the law's density sampled across them.
fn histogram(
    values: &[f64],
    bins: usize,
    law: Option<&Distribution>,
    label: &str,
    title: &str,
) -> Histogram {
    let support = match law {
        Some(
            Distribution::Uniform { low, high } | Distribution::TruncatedNormal { low, high, .. },
        ) => vec![*low, *high],
        Some(&Distribution::MambaDtBias {
            dt_min,
            dt_max,
            floor,
        }) => {
            // The density curve is the continuous part's; the floor's atom (if any) shows
            // as the first bin standing above it.
            let law = crate::law::DtBias::new(dt_min, dt_max, floor);
            vec![law.low(), law.high()]
        }
        _ => Vec::new(),
    };
    let mut hist = Histogram::spanning(title, "value", values, bins, &support);
    let (lo, hi) = (hist.edges[0], hist.edges[hist.edges.len() - 1]);
    hist.curve = law.and_then(|d| {
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
    hist
}
