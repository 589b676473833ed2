//! Chart data ([`LineChart`], [`Series`], [`Histogram`]) and the axis arithmetic both
//! renderers share: drawable points, value ranges, nice ticks.

/// One line of a line chart; non-finite y values (overflow, log of 0) are gaps, not crashes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// The legend entry.
    pub label: String,
    /// `(x, y)` points, drawn in the order given.
    pub points: Vec<(f64, f64)>,
}

/// A chart of one or more lines over a shared x axis.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineChart {
    /// Printed above the chart.
    pub title: String,
    /// Description of the x axis.
    pub x_label: String,
    /// Description of the y axis.
    pub y_label: String,
    /// Draw y on a log10 axis; values ≤ 0 are then gaps.
    pub log_y: bool,
    /// The lines, each with its own colour (image) or marker (terminal).
    pub series: Vec<Series>,
}

/// A histogram of empirical densities, optionally with a theoretical density over it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Histogram {
    /// Printed above the chart.
    pub title: String,
    /// Description of the x axis (the values binned).
    pub x_label: String,
    /// `n + 1` bin edges, increasing.
    pub edges: Vec<f64>,
    /// `n` empirical densities, `count / (total · width)`, so the bars integrate to 1.
    pub density: Vec<f64>,
    /// The theoretical density sampled at many x, drawn over the bars.
    pub curve: Option<Series>,
}

impl Histogram {
    /// Bins `values` into `bins` equal-width bins spanning their finite minimum to maximum
    /// (non-finite values are not counted), with densities that integrate to 1. All-equal
    /// values get a bin of width 1 centred on them; no finite values give one empty bin
    /// over `[0, 1]`. `bins` of 0 is taken as 1.
    pub fn from_values(title: &str, x_label: &str, values: &[f64], bins: usize) -> Histogram {
        Histogram::spanning(title, x_label, values, bins, &[])
    }

    /// [`Histogram::from_values`] over a range that also covers the finite points of
    /// `include` (e.g. a law's support, so that empty edge bins show).
    pub fn spanning(
        title: &str,
        x_label: &str,
        values: &[f64],
        bins: usize,
        include: &[f64],
    ) -> Histogram {
        let bins = bins.max(1);
        let finite = || values.iter().copied().filter(|v| v.is_finite());
        let span = finite().chain(include.iter().copied().filter(|v| v.is_finite()));
        let (lo, hi) = match value_range(span) {
            Some((lo, hi)) if lo < hi => (lo, hi),
            Some((v, _)) => (v - 0.5, v + 0.5),
            None => (0.0, 1.0),
        };
        let width = (hi - lo) / bins as f64;
        let edges: Vec<f64> = (0..=bins)
            .map(|i| if i == bins { hi } else { lo + width * i as f64 })
            .collect();
        let mut counts = vec![0u64; bins];
        for v in finite() {
            // The top edge belongs to the last bin, as in numpy.histogram.
            let bin = (((v - lo) / width) as usize).min(bins - 1);
            counts[bin] += 1;
        }
        let total: u64 = counts.iter().sum();
        let density = counts
            .iter()
            .zip(edges.windows(2))
            .map(|(&c, e)| {
                if total == 0 {
                    0.0
                } else {
                    c as f64 / (total as f64 * (e[1] - e[0]))
                }
            })
            .collect();
        Histogram {
            title: title.to_string(),
            x_label: x_label.to_string(),
            edges,
            density,
            curve: None,
        }
    }

    /// The bins that are drawn: `(left edge, right edge, density)` for each bin whose edges
    /// and density are finite. Extra edges or densities (mismatched lengths) are ignored.
    pub(crate) fn bins(&self) -> Vec<(f64, f64, f64)> {
        self.edges
            .windows(2)
            .zip(&self.density)
            .map(|(e, &d)| (e[0], e[1], d))
            .filter(|(a, b, d)| a.is_finite() && b.is_finite() && d.is_finite())
            .collect()
    }
}

/// The smallest and largest of `values`, or `None` when there are none.
pub(crate) fn value_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// A series' points as they are plotted: y mapped through log10 when `log_y`, and every
/// point that cannot be drawn (non-finite x or y, y ≤ 0 on a log axis) replaced by `None`,
/// which breaks the line there.
pub(crate) fn plotted_points(series: &Series, log_y: bool) -> Vec<Option<(f64, f64)>> {
    series
        .points
        .iter()
        .map(|&(x, y)| {
            let y = if log_y {
                if y > 0.0 { y.log10() } else { f64::NAN }
            } else {
                y
            };
            (x.is_finite() && y.is_finite()).then_some((x, y))
        })
        .collect()
}

/// Splits plotted points at their gaps into runs of consecutive drawable points.
pub(crate) fn runs(points: &[Option<(f64, f64)>]) -> Vec<Vec<(f64, f64)>> {
    points
        .split(Option::is_none)
        .filter(|run| !run.is_empty())
        .map(|run| run.iter().flatten().copied().collect())
        .collect()
}

/// The x and y ranges a line chart's axes span (in log10 units for a log y axis), each
/// of nonzero width. A log axis is widened to whole decades so its ticks are powers of ten.
pub(crate) fn line_chart_ranges(chart: &LineChart) -> ((f64, f64), (f64, f64)) {
    let points: Vec<(f64, f64)> = chart
        .series
        .iter()
        .flat_map(|s| plotted_points(s, chart.log_y))
        .flatten()
        .collect();
    let x = widen(value_range(points.iter().map(|p| p.0)), 0.0);
    let y_data = value_range(points.iter().map(|p| p.1));
    let y = if chart.log_y {
        let (lo, hi) = y_data.unwrap_or((0.0, 1.0));
        let (lo, hi) = (lo.floor(), hi.ceil());
        if lo < hi {
            (lo, hi)
        } else {
            (lo - 1.0, hi + 1.0)
        }
    } else {
        widen(y_data, 0.05)
    };
    (x, y)
}

/// A drawable axis range for data spanning `range`: `margin` (a fraction of the width)
/// added on both sides, and a zero-width or missing range widened to a unit around it.
pub(crate) fn widen(range: Option<(f64, f64)>, margin: f64) -> (f64, f64) {
    match range {
        None => (0.0, 1.0),
        Some((lo, hi)) if lo < hi => {
            if !(hi - lo).is_finite() {
                // Wider than an f64 can measure (-1e308 to 1e308): no scale can map it,
                // so the axis shows the widest range that can be, about its middle.
                let middle = lo / 2.0 + hi / 2.0;
                return (middle - f64::MAX / 2.0, middle + f64::MAX / 2.0);
            }
            let pad = (hi - lo) * margin;
            let (a, b) = (lo - pad, hi + pad);
            // Padding can overflow near f64::MAX; then the unpadded range still draws.
            if a.is_finite() && b.is_finite() && (b - a).is_finite() {
                (a, b)
            } else {
                (lo, hi)
            }
        }
        Some((v, _)) => {
            let half = if v == 0.0 { 1.0 } else { v.abs() * 0.5 };
            (v - half, v + half)
        }
    }
}

/// Up to `max_count` (at least 2) evenly spaced tick values inside `[lo, hi]`, at
/// multiples of 1, 2 or 5 times a power of ten, as people label axes.
pub(crate) fn nice_ticks(lo: f64, hi: f64, max_count: usize) -> Vec<f64> {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return if lo.is_finite() { vec![lo] } else { vec![] };
    }
    let max_count = max_count.max(2);
    let ends = vec![lo, hi];
    let mut step = 10f64.powf((span / max_count as f64).log10().floor());
    if !(step.is_finite() && step > 0.0) {
        // Spans near the ends of f64's range have no usable power-of-ten step.
        return ends;
    }
    // Steps go 1, 2, 5, 10, 20, 50, ... times the starting power of ten; a bounded loop,
    // since each round multiplies the step by at least 2.
    for factor in [2.0, 2.5, 2.0].iter().cycle().take(4000) {
        let first = (lo / step).ceil();
        let last = (hi / step).floor();
        let count = last - first + 1.0;
        if count <= max_count as f64 {
            if count < 1.0 {
                return ends;
            }
            // Clamped: the product can round a hair past an end (3 × 1e-9 > 3e-9).
            return (0..count as i64)
                .map(|i| ((first + i as f64) * step).clamp(lo, hi))
                .collect();
        }
        step *= factor;
    }
    ends
}

/// Tick text for a value on a linear axis: plain decimals for moderate magnitudes,
/// scientific notation for very large or small ones, no float noise (`0.30000000000000004`).
pub(crate) fn format_tick(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    let magnitude = v.abs();
    if !(1e-3..1e5).contains(&magnitude) {
        let text = format!("{v:.2e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        return format!("{mantissa}e{exponent}");
    }
    let text = format!("{v:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `v`, or 0 when it is within rounding error of 0 on an axis `span` wide (plotters'
/// ticks come from float steps and can land on -5.55e-17 instead of 0).
pub(crate) fn snap_to_zero(v: f64, span: f64) -> f64 {
    if v.abs() < span.abs() * 1e-9 { 0.0 } else { v }
}

/// Tick text for a value on a log10 axis, given in log10 units: `1e-40` for whole
/// decades, the value itself (3 significant digits) between them.
pub(crate) fn format_log_tick(exponent: f64) -> String {
    let rounded = exponent.round();
    if (exponent - rounded).abs() < 1e-9 {
        format!("1e{}", rounded as i64)
    } else {
        format_tick(10f64.powf(exponent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spanning_widens_to_the_included_points() {
        let h = Histogram::spanning("t", "x", &[0.0, 1.0], 4, &[-1.0, 3.0, f64::NAN]);
        assert_eq!(h.edges, [-1.0, 0.0, 1.0, 2.0, 3.0]);
        assert_eq!(h.density, [0.0, 0.5, 0.5, 0.0]);
    }

    #[test]
    fn gaps_split_runs_and_log_axis_drops_non_positive() {
        let s = Series {
            label: "s".into(),
            points: vec![
                (0.0, 1.0),
                (1.0, 10.0),
                (2.0, 0.0),
                (3.0, f64::INFINITY),
                (4.0, 100.0),
                (f64::NAN, 5.0),
                (6.0, 1000.0),
                (7.0, 1e4),
            ],
        };
        let runs = runs(&plotted_points(&s, true));
        assert_eq!(
            runs,
            vec![
                vec![(0.0, 0.0), (1.0, 1.0)],
                vec![(4.0, 2.0)],
                vec![(6.0, 3.0), (7.0, 4.0)]
            ]
        );
        // On a linear axis 0 is an ordinary value.
        assert_eq!(plotted_points(&s, false)[2], Some((2.0, 0.0)));
    }

    #[test]
    fn ranges_are_never_empty() {
        let chart = |log_y, points: Vec<(f64, f64)>| LineChart {
            log_y,
            series: vec![Series {
                label: "s".into(),
                points,
            }],
            ..LineChart::default()
        };
        // No data at all.
        assert_eq!(
            line_chart_ranges(&LineChart::default()),
            ((0.0, 1.0), (0.0, 1.0))
        );
        // A single point, linear and log.
        assert_eq!(
            line_chart_ranges(&chart(false, vec![(3.0, 0.0)])),
            ((1.5, 4.5), (-1.0, 1.0))
        );
        assert_eq!(
            line_chart_ranges(&chart(true, vec![(0.0, 100.0)])),
            ((-1.0, 1.0), (1.0, 3.0))
        );
        // Log axes snap outward to whole decades.
        let ((_, _), (lo, hi)) = line_chart_ranges(&chart(true, vec![(0.0, 3e-81), (60.0, 2e119)]));
        assert_eq!((lo, hi), (-81.0, 120.0));
        // Huge values do not overflow the padding.
        let (_, (lo, hi)) =
            line_chart_ranges(&chart(false, vec![(0.0, -f64::MAX), (1.0, f64::MAX)]));
        assert!(lo < hi && (hi - lo).is_finite(), "{lo} {hi}");
    }

    #[test]
    fn nice_ticks_are_round_and_bounded() {
        assert_eq!(
            nice_ticks(0.0, 60.0, 7),
            vec![0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
        );
        assert_eq!(nice_ticks(-80.0, 120.0, 6), vec![-50.0, 0.0, 50.0, 100.0]);
        assert_eq!(nice_ticks(0.0, 1.0, 2), vec![0.0, 1.0]);
        for (lo, hi, n) in [
            (0.0, 1.0, 5),
            (-3.7, 12.2, 4),
            (1e-9, 3e-9, 3),
            (0.0, 1e300, 8),
        ] {
            let ticks = nice_ticks(lo, hi, n);
            assert!(!ticks.is_empty() && ticks.len() <= n, "{lo} {hi} {ticks:?}");
            assert!(ticks.iter().all(|t| (lo..=hi).contains(t)), "{ticks:?}");
        }
        assert_eq!(nice_ticks(2.0, 2.0, 5), vec![2.0]);
        assert!(nice_ticks(f64::NAN, 1.0, 5).is_empty());
    }

    #[test]
    fn tick_text() {
        let cases = [
            (0.0, "0"),
            (0.1 + 0.2, "0.3"),
            (60.0, "60"),
            (-2.5, "-2.5"),
            (1e-5, "1e-5"),
            (123456.0, "1.23e5"),
        ];
        for (v, text) in cases {
            assert_eq!(format_tick(v), text, "{v}");
        }
        assert_eq!(format_log_tick(-40.0), "1e-40");
        assert_eq!(format_log_tick(0.0), "1e0");
        assert_eq!(format_log_tick(0.5), "3.1623");
        assert_eq!(format_tick(snap_to_zero(-5.55e-17, 0.6)), "0");
        assert_eq!(snap_to_zero(1e-3, 0.6), 1e-3);
    }

    #[test]
    fn histogram_from_values_integrates_to_one() {
        let values: Vec<f64> = (0..1000).map(|i| (i as f64 / 999.0).powi(2)).collect();
        let h = Histogram::from_values("t", "x", &values, 10);
        assert_eq!(h.edges.len(), 11);
        assert_eq!((h.edges[0], h.edges[10]), (0.0, 1.0));
        let area: f64 = h.bins().iter().map(|(a, b, d)| (b - a) * d).sum();
        assert!((area - 1.0).abs() < 1e-12, "{area}");
        // Skewed data: the first bin is the densest.
        assert!(h.density[0] > h.density[9]);

        let same = Histogram::from_values("t", "x", &[2.0, 2.0, f64::NAN], 0);
        assert_eq!(
            (same.edges.clone(), same.density.clone()),
            (vec![1.5, 2.5], vec![1.0])
        );
        let empty = Histogram::from_values("t", "x", &[], 3);
        assert_eq!(empty.density, vec![0.0; 3]);
    }
}
