//! The charting API: a probe-style line chart (variance against depth, log axis) and a
//! histogram of drawn weights against the theoretical density, as images and as text.
//!
//! Run: `cargo run --example charts -- [DIR]` (writes DIR/variance.{svg,png} and
//! DIR/histogram.{svg,png}, replacing earlier ones; DIR defaults to `.`).

use std::path::PathBuf;

use weightinit::array::dtype::DType;
use weightinit::array::fan::Layout;
use weightinit::pipeline::generate::draw_array;
use weightinit::plot::{self, Histogram, LineChart, Series};
use weightinit::scheme::SchemeSpec;
use weightinit::tensor::TensorSpec;
use weightinit::tensor::rng::RngMode;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));

    // Variance of a ReLU network's pre-activations, layer by layer, 512 units wide:
    // each layer multiplies it by fan_in · Var(w) / 2, so only He's Var(w) = 2 / fan_in
    // keeps it level. (A stand-in for what `probe` will measure.)
    let fan_in: f64 = 512.0;
    let weight_variances = [
        ("he-normal", 2.0 / fan_in),
        ("lecun-normal", 1.0 / fan_in),
        ("he-normal, gain 0.9", 2.0 * 0.81 / fan_in),
        ("normal:std=0.01", 1e-4),
        ("normal:std=1", 1.0),
        ("he-normal, gain 1.1", 2.0 * 1.21 / fan_in),
    ];
    let series = weight_variances
        .iter()
        .map(|&(label, var_w)| Series {
            label: label.into(),
            points: (0..=60)
                .map(|depth| (depth as f64, (fan_in * var_w / 2.0).powi(depth)))
                .collect(),
        })
        .collect();
    let chart = LineChart {
        title: "Signal variance through a 60-layer ReLU MLP (width 512)".into(),
        x_label: "depth".into(),
        y_label: "variance".into(),
        log_y: true,
        series,
    };
    for name in ["variance.svg", "variance.png"] {
        plot::write_line_chart(&dir.join(name), &chart, true)?;
    }
    println!("{}", plot::line_chart_text(&chart, 80, 20));

    // A he-normal tensor's values against N(0, 2 / fan_in).
    let tensor = TensorSpec {
        name: "fc0.weight".into(),
        shape: "512x256".parse()?,
        layout: Layout::Io,
        scheme: "he-normal".parse::<SchemeSpec>()?,
        dtype: DType::F64,
        seed: 42,
        rng: RngMode::Native,
        jax: Default::default(),
    }
    .resolve()?;
    let (weights, _) = draw_array::<f64>(&tensor)?;
    let values: Vec<f64> = weights.iter().copied().collect();
    let mut hist = Histogram::from_values("he-normal 512x256", "weight", &values, 40);
    let std = (2.0f64 / fan_in).sqrt();
    let normal =
        |x: f64| (-0.5 * (x / std).powi(2)).exp() / (std * (2.0 * std::f64::consts::PI).sqrt());
    hist.curve = Some(Series {
        label: format!("N(0, {std:.4}²)"),
        points: (-400..=400)
            .map(|i| i as f64 / 100.0 * std)
            .map(|x| (x, normal(x)))
            .collect(),
    });
    for name in ["histogram.svg", "histogram.png"] {
        plot::write_histogram(&dir.join(name), &hist, true)?;
    }
    println!("{}", plot::histogram_text(&hist, 80));
    Ok(())
}
