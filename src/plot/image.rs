//! Chart images: SVG and PNG drawn with `plotters`.
//!
//! Text is laid out (SVG) and rasterized (PNG) with a font compiled into the binary, a
//! subset of DejaVu Sans (`assets/fonts/`), registered with plotters' `ab_glyph` backend.
//! So drawing needs no system fonts and no fontconfig, and gives the same bytes on
//! every machine: plotters' default `ttf` feature would look fonts up through font-kit,
//! which fails on minimal systems and makes the output depend on what is installed.
//! An SVG names the family `sans-serif`, so a viewer renders its text with its own
//! sans-serif font; the layout was measured with DejaVu Sans.
//!
//! PNGs are rendered into memory and encoded with the `png` crate (not through plotters'
//! file encoder) so that the file is written atomically like every other output.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::chart::{
    Histogram, LineChart, format_log_tick, format_tick, line_chart_ranges, plotted_points, runs,
    snap_to_zero, value_range, widen,
};
use crate::error::{Error, Result};
use crate::output::atomic::{FileOptions, check_target, write_file};

/// Image width in pixels.
pub const WIDTH: u32 = 800;
/// Image height in pixels.
pub const HEIGHT: u32 = 500;

/// The family name the embedded font is registered under, and the one SVGs ask for.
const FONT: &str = "sans-serif";
/// DejaVu Sans 2.37 (Debian's fonts-dejavu-core), subset by `assets/fonts/make-subset.sh`;
/// Bitstream Vera license, `assets/fonts/LICENSE.txt`.
static FONT_DATA: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");

const TITLE_SIZE: f64 = 20.0;
const AXIS_DESC_SIZE: f64 = 15.0;
const LABEL_SIZE: f64 = 13.0;

/// Line colours, in series order (matplotlib's "tab10", which stays distinguishable for
/// the ~8 schemes a probe compares); more series than colours repeat them.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
const GRID: RGBColor = RGBColor(225, 225, 225);
const BAR_FILL: RGBColor = RGBColor(158, 202, 225);
const CURVE: RGBColor = RGBColor(214, 39, 40);

/// The image formats a chart can be written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// Scalable vector graphics, text as `<text>` elements.
    Svg,
    /// An 8-bit RGB bitmap.
    Png,
}

impl ImageFormat {
    /// The format named by `path`'s extension, `.svg` or `.png` in any case.
    pub fn from_path(path: &Path) -> Result<ImageFormat> {
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match extension.as_deref() {
            Some("svg") => Ok(ImageFormat::Svg),
            Some("png") => Ok(ImageFormat::Png),
            _ => Err(Error::Usage(format!(
                "cannot tell the image format of '{}': the file name must end in .svg or .png",
                crate::text::path(path)
            ))),
        }
    }
}

/// Writes `chart` as an SVG or PNG chosen by `path`'s extension (`.svg` / `.png`,
/// case-insensitive; anything else is a usage error naming the path and the accepted
/// extensions). The file appears atomically; an existing file is replaced only with
/// `force`.
pub fn write_line_chart(path: &Path, chart: &LineChart, force: bool) -> Result<()> {
    write_image(path, force, |format| line_chart_image(chart, format))
}

/// Writes `hist` as an SVG or PNG chosen by `path`'s extension, like [`write_line_chart`].
pub fn write_histogram(path: &Path, hist: &Histogram, force: bool) -> Result<()> {
    write_image(path, force, |format| histogram_image(hist, format))
}

/// The bytes of `chart` drawn as a [`WIDTH`] × [`HEIGHT`] image.
pub fn line_chart_image(chart: &LineChart, format: ImageFormat) -> Result<Vec<u8>> {
    render(Chart::Line(chart), format)
}

/// The bytes of `hist` drawn as a [`WIDTH`] × [`HEIGHT`] image.
pub fn histogram_image(hist: &Histogram, format: ImageFormat) -> Result<Vec<u8>> {
    render(Chart::Histogram(hist), format)
}

/// Checks an image target before any work: its extension names a format, its
/// directory exists, and it does not exist yet unless `force`. Returns the format.
pub fn check_image_target(path: &Path, force: bool) -> Result<ImageFormat> {
    let format = ImageFormat::from_path(path)?;
    check_target(path, force)?;
    Ok(format)
}

fn write_image(
    path: &Path,
    force: bool,
    image: impl FnOnce(ImageFormat) -> Result<Vec<u8>>,
) -> Result<()> {
    // Refuse a bad target before spending time on drawing.
    let format = check_image_target(path, force)?;
    let bytes = image(format)?;
    write_file(
        path,
        &bytes,
        FileOptions {
            force,
            fsync: false,
        },
    )
}

/// What plotters reports when drawing on backend `DB` fails.
type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Any chart, so one function can draw it on each format's backend.
#[derive(Clone, Copy)]
enum Chart<'a> {
    Line(&'a LineChart),
    Histogram(&'a Histogram),
}

impl Chart<'_> {
    fn draw<DB: DrawingBackend>(self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        match self {
            Chart::Line(chart) => draw_line_chart(root, chart),
            Chart::Histogram(hist) => draw_histogram(root, hist),
        }
    }
}

fn render(chart: Chart, format: ImageFormat) -> Result<Vec<u8>> {
    register_font()?;
    match format {
        ImageFormat::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
                chart.draw(&root).map_err(chart_error)?;
                root.present().map_err(chart_error)?;
            }
            Ok(svg.into_bytes())
        }
        ImageFormat::Png => {
            let mut rgb = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
            {
                let root =
                    BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
                chart.draw(&root).map_err(chart_error)?;
                root.present().map_err(chart_error)?;
            }
            encode_png(&rgb, WIDTH, HEIGHT)
        }
    }
}

/// Encodes 8-bit RGB pixels as a PNG. The encoder (pure Rust, fixed settings) gives the
/// same bytes for the same pixels on every machine.
fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>> {
    let mut png_bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut png_bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    let mut writer = encoder.write_header().map_err(chart_error)?;
    writer.write_image_data(rgb).map_err(chart_error)?;
    writer.finish().map_err(chart_error)?;
    Ok(png_bytes)
}

/// Makes the embedded font known to plotters, once per process.
fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FONT, FontStyle::Normal, FONT_DATA).is_ok());
    if ok {
        Ok(())
    } else {
        Err(Error::Chart("the embedded font could not be loaded".into()))
    }
}

fn chart_error(e: impl std::fmt::Display) -> Error {
    Error::Chart(e.to_string())
}

/// Lines (and lone points between gaps) in palette colours, a legend column to the right.
fn draw_line_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &LineChart,
) -> DrawResult<DB> {
    let label_style = (FONT, LABEL_SIZE).into_font();
    let legend_width = legend_width(root, chart, &label_style);
    let (plot_area, legend_area) = root.split_horizontally(WIDTH - legend_width);

    let ((x_lo, x_hi), (y_lo, y_hi)) = line_chart_ranges(chart);
    let mut builder = ChartBuilder::on(&plot_area);
    if !chart.title.is_empty() {
        builder.caption(&chart.title, (FONT, TITLE_SIZE));
    }
    let mut plot = builder
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;

    let x_formatter = |v: &f64| format_tick(snap_to_zero(*v, x_hi - x_lo));
    let y_formatter = |v: &f64| {
        if chart.log_y {
            format_log_tick(*v)
        } else {
            format_tick(snap_to_zero(*v, y_hi - y_lo))
        }
    };
    // On a log axis, at most one label per decade: the range is whole decades, so the
    // ticks then fall on powers of ten.
    let y_labels = if chart.log_y {
        ((y_hi - y_lo) as usize + 1).min(11)
    } else {
        8
    };
    plot.configure_mesh()
        .x_desc(&chart.x_label)
        .y_desc(&chart.y_label)
        .x_labels(10)
        .y_labels(y_labels)
        .x_label_formatter(&x_formatter)
        .y_label_formatter(&y_formatter)
        .label_style(label_style.clone())
        .axis_desc_style((FONT, AXIS_DESC_SIZE))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .draw()?;

    for (index, series) in chart.series.iter().enumerate() {
        let colour = PALETTE[index % PALETTE.len()];
        for run in runs(&plotted_points(series, chart.log_y)) {
            if let [point] = run[..] {
                // A point with gaps on both sides has no line to be part of.
                plot.draw_series(std::iter::once(Circle::new(point, 3, colour.filled())))?;
            } else {
                plot.draw_series(LineSeries::new(run, colour.stroke_width(2)))?;
            }
        }
    }

    if legend_width > 0 {
        draw_legend(&legend_area, chart, &label_style)?;
    }
    Ok(())
}

/// Width of the legend column: the widest label plus its line sample, capped at a third
/// of the image (longer labels are clipped); 0 when no series has a label.
fn legend_width<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &LineChart,
    style: &FontDesc,
) -> u32 {
    let widest = chart
        .series
        .iter()
        .filter(|s| !s.label.is_empty())
        .map(|s| {
            root.estimate_text_size(&s.label, &TextStyle::from(style.clone()))
                .map_or(0, |(w, _)| w)
        })
        .max();
    match widest {
        None => 0,
        Some(w) => (w + LEGEND_TEXT_X + 16).min(WIDTH / 3),
    }
}

/// Where legend text starts, right of a line sample from x = 4 to 28.
const LEGEND_TEXT_X: u32 = 36;

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &LineChart,
    style: &FontDesc,
) -> DrawResult<DB> {
    let text_style = style.color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    // Start level with the top of the plot, below the title.
    let top = if chart.title.is_empty() { 24 } else { 56 };
    for (index, series) in chart.series.iter().enumerate() {
        let colour = PALETTE[index % PALETTE.len()];
        let y = top + 22 * index as i32;
        area.draw(&PathElement::new(
            vec![(4, y), (28, y)],
            colour.stroke_width(2),
        ))?;
        area.draw_text(&series.label, &text_style, (LEGEND_TEXT_X as i32, y))?;
    }
    Ok(())
}

/// Bars for the empirical densities, the theoretical curve over them, legend top right.
fn draw_histogram<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    hist: &Histogram,
) -> DrawResult<DB> {
    let bins = hist.bins();
    let curve_runs = hist
        .curve
        .as_ref()
        .map(|c| runs(&plotted_points(c, false)))
        .unwrap_or_default();
    let curve_points = || curve_runs.iter().flatten();

    // The x axis covers the bars and the whole curve (its tails may reach past the data).
    let xs = bins
        .iter()
        .flat_map(|&(a, b, _)| [a, b])
        .chain(curve_points().map(|p| p.0));
    let (x_lo, x_hi) = widen(value_range(xs), 0.0);
    let ys = bins.iter().map(|b| b.2).chain(curve_points().map(|p| p.1));
    let y_top = value_range(ys).map_or(1.0, |(_, hi)| hi);
    let (y_lo, y_hi) = if y_top > 0.0 {
        (0.0, y_top * 1.08)
    } else {
        widen(Some((y_top, 0.0)), 0.05)
    };

    let mut builder = ChartBuilder::on(root);
    if !hist.title.is_empty() {
        builder.caption(&hist.title, (FONT, TITLE_SIZE));
    }
    let mut plot = builder
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
    plot.configure_mesh()
        .x_desc(&hist.x_label)
        .y_desc("density")
        .x_labels(10)
        .y_labels(8)
        .x_label_formatter(&|v| format_tick(snap_to_zero(*v, x_hi - x_lo)))
        .y_label_formatter(&|v| format_tick(snap_to_zero(*v, y_hi - y_lo)))
        .label_style((FONT, LABEL_SIZE))
        .axis_desc_style((FONT, AXIS_DESC_SIZE))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .draw()?;

    let bar = |&(a, b, d): &(f64, f64, f64)| Rectangle::new([(a, 0.0), (b, d)], BAR_FILL.filled());
    plot.draw_series(bins.iter().map(bar))?
        .label("empirical density")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], BAR_FILL.filled()));
    // White outlines keep neighbouring bars apart.
    let outline =
        |&(a, b, d): &(f64, f64, f64)| Rectangle::new([(a, 0.0), (b, d)], WHITE.stroke_width(1));
    plot.draw_series(bins.iter().map(outline))?;

    if let Some(curve) = &hist.curve {
        for (index, run) in curve_runs.iter().enumerate() {
            let drawn = plot.draw_series(LineSeries::new(run.clone(), CURVE.stroke_width(2)))?;
            if index == 0 {
                drawn.label(&curve.label).legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], CURVE.stroke_width(2))
                });
            }
        }
    }

    plot.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT, LABEL_SIZE))
        .background_style(WHITE.mix(0.9))
        .border_style(GRID)
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::chart::Series;

    /// Signal variance against depth for three gains: vanishing, steady and exploding,
    /// with an overflow (a gap) in the last.
    fn probe_like() -> LineChart {
        let series = [("shrinks", 0.1f64), ("steady", 1.0), ("explodes", 1e4)]
            .iter()
            .map(|&(label, factor)| Series {
                label: label.to_string(),
                points: (0..=60)
                    .map(|depth| {
                        let y = factor.powi(depth);
                        (depth as f64, if depth == 40 { f64::INFINITY } else { y })
                    })
                    .collect(),
            })
            .collect();
        LineChart {
            title: "variance by depth".into(),
            x_label: "depth".into(),
            y_label: "variance".into(),
            log_y: true,
            series,
        }
    }

    fn normal_histogram() -> Histogram {
        // Deterministic, roughly normal values: sums of 12 uniform-ish fractions.
        let values: Vec<f64> = (0..5000u64)
            .map(|i| {
                (0..12u64)
                    .map(|k| ((i * 7919 + k * 104729) % 1000) as f64 / 1000.0)
                    .sum::<f64>()
                    - 6.0
            })
            .collect();
        let mut hist = Histogram::from_values("he-normal 784x128", "value", &values, 30);
        let density = |x: f64| (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
        hist.curve = Some(Series {
            label: "N(0, 1)".into(),
            points: (-400..=400)
                .map(|i| i as f64 / 100.0)
                .map(|x| (x, density(x)))
                .collect(),
        });
        hist
    }

    /// Width and height from a PNG's IHDR chunk, after checking the signature.
    fn png_size(bytes: &[u8]) -> (u32, u32) {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&bytes[12..16], b"IHDR");
        let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
        (be(16), be(20))
    }

    #[test]
    fn svg_names_every_series_and_is_deterministic() {
        let chart = probe_like();
        let first = line_chart_image(&chart, ImageFormat::Svg).unwrap();
        let second = line_chart_image(&chart, ImageFormat::Svg).unwrap();
        assert_eq!(first, second);
        let svg = String::from_utf8(first).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..50]);
        for text in [
            "shrinks",
            "steady",
            "explodes",
            "variance by depth",
            "depth",
            "1e-50",
            "1e0",
            "1e200",
        ] {
            // plotters writes each text element's content on a line of its own.
            assert!(
                svg.contains(&format!("\n{text}\n")),
                "no {text:?} in the SVG"
            );
        }
        // Each series is drawn in its own colour.
        for colour in ["#1F77B4", "#FF7F0E", "#2CA02C"] {
            assert!(svg.contains(colour), "no {colour}");
        }
    }

    #[test]
    fn png_has_the_requested_size_and_is_deterministic() {
        let chart = probe_like();
        let png = line_chart_image(&chart, ImageFormat::Png).unwrap();
        assert_eq!(png_size(&png), (WIDTH, HEIGHT));
        assert_eq!(png, line_chart_image(&chart, ImageFormat::Png).unwrap());
        let hist = histogram_image(&normal_histogram(), ImageFormat::Png).unwrap();
        assert_eq!(png_size(&hist), (WIDTH, HEIGHT));
        let decoded = png::Decoder::new(std::io::Cursor::new(&hist))
            .read_info()
            .unwrap();
        assert_eq!(decoded.info().size(), (WIDTH, HEIGHT));
    }

    #[test]
    fn text_is_rasterized_from_the_embedded_font() {
        // Same chart with and without a title: the title's glyphs must change pixels.
        let mut chart = probe_like();
        let titled = line_chart_image(&chart, ImageFormat::Png).unwrap();
        chart.title.clear();
        let untitled = line_chart_image(&chart, ImageFormat::Png).unwrap();
        assert_ne!(titled, untitled);
    }

    #[test]
    fn histogram_svg_has_bars_curve_and_legend() {
        let svg =
            String::from_utf8(histogram_image(&normal_histogram(), ImageFormat::Svg).unwrap())
                .unwrap();
        assert!(svg.contains("\nN(0, 1)\n") && svg.contains("\nempirical density\n"));
        assert!(svg.matches("<rect").count() >= 30, "one rectangle per bin");
        assert!(svg.contains("<polyline"), "the curve");
    }

    #[test]
    fn format_follows_the_extension() {
        for (name, format) in [
            ("a.svg", ImageFormat::Svg),
            ("b.PNG", ImageFormat::Png),
            ("c.Svg", ImageFormat::Svg),
        ] {
            assert_eq!(ImageFormat::from_path(Path::new(name)).unwrap(), format);
        }
        for name in ["chart.jpg", "chart", "svg", "dir/chart.svg.txt"] {
            let err = ImageFormat::from_path(Path::new(name)).unwrap_err();
            let text = err.to_string();
            assert!(err.is_usage(), "{text}");
            assert!(
                text.contains(name) && text.contains(".svg") && text.contains(".png"),
                "{text}"
            );
        }
    }

    #[test]
    fn writes_atomically_and_refuses_to_overwrite_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("probe.svg");
        let chart = probe_like();
        write_line_chart(&path, &chart, false).unwrap();
        let written = std::fs::read(&path).unwrap();
        assert_eq!(written, line_chart_image(&chart, ImageFormat::Svg).unwrap());

        let err = write_histogram(&path, &normal_histogram(), false).unwrap_err();
        assert!(matches!(err, Error::Exists(_)), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), written, "left untouched");
        write_histogram(&path, &normal_histogram(), true).unwrap();
        assert_ne!(std::fs::read(&path).unwrap(), written);

        let bad = dir.path().join("probe.gif");
        assert!(write_line_chart(&bad, &chart, false).is_err());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no stray files"
        );
    }

    #[test]
    fn degenerate_inputs_draw_without_panicking() {
        let series = |points: Vec<(f64, f64)>| Series {
            label: "s".into(),
            points,
        };
        let charts = [
            LineChart::default(),
            LineChart {
                series: vec![series(vec![])],
                ..LineChart::default()
            },
            LineChart {
                log_y: true,
                series: vec![series(vec![(0.0, 0.0), (1.0, f64::NAN), (2.0, -1.0)])],
                ..LineChart::default()
            },
            LineChart {
                series: vec![series(vec![(5.0, 3.0)])],
                ..LineChart::default()
            },
            LineChart {
                log_y: true,
                series: vec![series(vec![(0.0, 7.0), (1.0, 7.0), (2.0, 7.0)])],
                ..LineChart::default()
            },
            LineChart {
                series: vec![series(vec![
                    (0.0, -f64::MAX),
                    (1.0, f64::MAX),
                    (1.0, f64::MIN_POSITIVE),
                ])],
                ..LineChart::default()
            },
            LineChart {
                log_y: true,
                series: vec![series(vec![
                    (0.0, f64::MIN_POSITIVE / 1e10),
                    (1.0, f64::MAX),
                ])],
                ..LineChart::default()
            },
            LineChart {
                series: (0..12)
                    .map(|i| series(vec![(0.0, i as f64), (1.0, 1.0)]))
                    .collect(),
                ..LineChart::default()
            },
        ];
        for chart in &charts {
            for format in [ImageFormat::Svg, ImageFormat::Png] {
                line_chart_image(chart, format).unwrap();
            }
        }
        let hists = [
            Histogram::default(),
            Histogram::from_values("", "", &[], 1),
            Histogram::from_values("one", "x", &[3.0, 3.0], 1),
            Histogram {
                edges: vec![0.0, 1.0, 2.0],
                density: vec![f64::NAN],
                curve: Some(series(vec![(f64::INFINITY, 1.0)])),
                ..Histogram::default()
            },
            Histogram {
                edges: vec![1.0, 1.0],
                density: vec![0.0],
                curve: Some(series(vec![])),
                ..Histogram::default()
            },
        ];
        for hist in &hists {
            for format in [ImageFormat::Svg, ImageFormat::Png] {
                histogram_image(hist, format).unwrap();
            }
        }
    }
}
