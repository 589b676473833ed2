//! Charts as plain text for a terminal: no colours or escape codes, every line at most
//! the requested width (counted in characters; all characters used are one column wide).
//!
//! A line chart is a grid of cells with one marker character per series; where two
//! series land on the same cell, the later series' marker is shown. A histogram is one
//! row per bin: the bin's range, a bar of block characters (eighths of a cell) and a `|`
//! where the theoretical density lies.

use super::chart::{
    Histogram, LineChart, format_log_tick, format_tick, line_chart_ranges, nice_ticks,
    plotted_points,
};

/// Markers for series 1, 2, 3, ...; more series than markers reuse them.
pub const MARKERS: [char; 8] = ['*', 'o', '+', 'x', '#', '@', '%', '&'];

/// Marks the theoretical density in a histogram row.
const CURVE_MARK: char = '|';
/// Block characters for 1/8 .. 8/8 of a cell.
const EIGHTHS: [char; 8] = ['▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'];

/// `chart` as text: a title, a plot of `height` rows by as many columns as fit in
/// `width` after the y-axis labels, x-axis labels, the axis descriptions and one legend
/// line per series (`* he-normal`). Gaps (non-finite values, values ≤ 0 on a log axis)
/// are simply not marked. Every line is at most `width` characters.
pub fn line_chart_text(chart: &LineChart, width: usize, height: usize) -> String {
    let rows = height.max(2);
    let ((x_lo, x_hi), (y_lo, y_hi)) = line_chart_ranges(chart);
    let y_text = |v: f64| {
        if chart.log_y {
            format_log_tick(v)
        } else {
            format_tick(v)
        }
    };

    // Y ticks: at most one every third row, so labels stay apart.
    let y_ticks: Vec<(usize, String)> = nice_ticks(y_lo, y_hi, rows.div_ceil(3).max(2))
        .into_iter()
        .map(|v| (row_of(v, y_lo, y_hi, rows), y_text(v)))
        .collect();
    let gutter = y_ticks
        .iter()
        .map(|(_, t)| t.chars().count())
        .max()
        .unwrap_or(0);
    // The plot area: what is left of the width after the labels and the axis line.
    let columns = width.saturating_sub(gutter + 1).max(1);

    let mut grid = vec![vec![' '; columns]; rows];
    for (index, series) in chart.series.iter().enumerate() {
        let marker = MARKERS[index % MARKERS.len()];
        for (x, y) in plotted_points(series, chart.log_y).into_iter().flatten() {
            let column = column_of(x, x_lo, x_hi, columns);
            grid[row_of(y, y_lo, y_hi, rows)][column] = marker;
        }
    }

    let mut lines = Vec::with_capacity(rows + 6 + chart.series.len());
    if !chart.title.is_empty() {
        lines.push(chart.title.clone());
    }
    if !chart.y_label.is_empty() {
        lines.push(chart.y_label.clone());
    }
    for (row, cells) in grid.iter().enumerate() {
        let label = y_ticks
            .iter()
            .find(|(r, _)| *r == row)
            .map_or("", |(_, t)| t.as_str());
        let cells: String = cells.iter().collect();
        lines.push(format!("{label:>gutter$}│{cells}"));
    }
    lines.push(format!("{:gutter$}└{}", "", "─".repeat(columns)));
    lines.push(format!(
        "{:gutter$} {}",
        "",
        x_tick_line(x_lo, x_hi, columns)
    ));
    if !chart.x_label.is_empty() {
        let centred = format!("{:^columns$}", chart.x_label);
        lines.push(format!("{:gutter$} {}", "", centred.trim_end()));
    }
    if chart
        .series
        .iter()
        .all(|s| plotted_points(s, chart.log_y).iter().all(Option::is_none))
    {
        lines.push("(no finite values to plot)".to_string());
    }
    for (index, series) in chart.series.iter().enumerate() {
        lines.push(format!(
            "{} {}",
            MARKERS[index % MARKERS.len()],
            series.label
        ));
    }
    finish(lines, width)
}

/// `hist` as text: one row per bin with its range, a bar proportional to the density
/// and, when a curve is given, a `|` at the curve's value at the bin centre (linear
/// interpolation between its finite points; no mark outside them), then a legend line.
/// Bars and marks share one scale, so the largest of them fills the row.
pub fn histogram_text(hist: &Histogram, width: usize) -> String {
    let bins = hist.bins();
    let curve: Vec<(f64, f64)> = match &hist.curve {
        Some(c) => {
            let mut points: Vec<(f64, f64)> =
                plotted_points(c, false).into_iter().flatten().collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            points
        }
        None => Vec::new(),
    };
    let expected: Vec<Option<f64>> = bins
        .iter()
        .map(|&(a, b, _)| interpolate(&curve, a / 2.0 + b / 2.0))
        .collect();

    let ranges: Vec<String> = bins
        .iter()
        .map(|&(a, b, _)| format!("[{}, {})", format_tick(a), format_tick(b)))
        .collect();
    let label_width = ranges.iter().map(|r| r.chars().count()).max().unwrap_or(0);
    let bar_width = width.saturating_sub(label_width + 1).max(1);
    let scale = bins
        .iter()
        .map(|b| b.2)
        .chain(expected.iter().flatten().copied())
        .fold(0.0f64, f64::max);

    let mut lines = Vec::with_capacity(bins.len() + 3);
    if !hist.title.is_empty() {
        lines.push(hist.title.clone());
    }
    if !hist.x_label.is_empty() {
        lines.push(format!("{:label_width$} density by {}", "", hist.x_label));
    }
    if bins.is_empty() {
        lines.push("(no bins)".to_string());
    }
    for ((range, &(_, _, density)), expected) in ranges.iter().zip(&bins).zip(&expected) {
        let mut cells = bar(density / scale, bar_width);
        if let Some(e) = expected {
            let column = ((e / scale * bar_width as f64).round() as usize).clamp(1, bar_width) - 1;
            cells.resize(bar_width.max(cells.len()), ' ');
            cells[column] = CURVE_MARK;
        }
        let row: String = cells.iter().collect();
        lines.push(format!("{range:<label_width$} {}", row.trim_end()));
    }
    let mut legend = "█ empirical density".to_string();
    if let Some(c) = &hist.curve {
        legend.push_str(&format!("   {CURVE_MARK} {}", c.label));
    }
    lines.push(legend);
    finish(lines, width)
}

/// The grid row (0 at the top) for value `v` on an axis from `lo` (bottom) to `hi`.
fn row_of(v: f64, lo: f64, hi: f64, rows: usize) -> usize {
    let from_top = (hi - v) / (hi - lo) * (rows - 1) as f64;
    // `as` saturates: NaN and negatives give 0, huge values are clamped next.
    (from_top.round() as usize).min(rows - 1)
}

/// The grid column for value `x` on an axis from `lo` (left) to `hi`.
fn column_of(x: f64, lo: f64, hi: f64, columns: usize) -> usize {
    let from_left = (x - lo) / (hi - lo) * (columns - 1) as f64;
    (from_left.round() as usize).min(columns - 1)
}

/// X tick labels placed under their columns, each centred where it fits, skipped where
/// it would run into the previous one.
fn x_tick_line(lo: f64, hi: f64, columns: usize) -> String {
    let mut line = String::new();
    for tick in nice_ticks(lo, hi, (columns / 8).max(2)) {
        let text = format_tick(tick);
        let length = text.chars().count();
        let centre = column_of(tick, lo, hi, columns);
        let start = centre
            .saturating_sub(length / 2)
            .min(columns.saturating_sub(length));
        let used = line.chars().count();
        if start > used || (used == 0 && start == 0) {
            line.push_str(&" ".repeat(start - used));
            line.push_str(&text);
        }
    }
    line
}

/// A bar `fraction` (0 to 1) of `width` cells long, in eighths of a cell.
fn bar(fraction: f64, width: usize) -> Vec<char> {
    let eighths = (fraction * (width * 8) as f64).round();
    // NaN (0/0 for an all-zero histogram) and negatives give an empty bar.
    let eighths = if eighths > 0.0 {
        (eighths as usize).min(width * 8)
    } else {
        0
    };
    let mut cells = vec![EIGHTHS[7]; eighths / 8];
    if eighths % 8 > 0 {
        cells.push(EIGHTHS[eighths % 8 - 1]);
    }
    cells
}

/// The curve's value at `x` by linear interpolation between its points (sorted by x),
/// or `None` outside them.
fn interpolate(points: &[(f64, f64)], x: f64) -> Option<f64> {
    let after = points.partition_point(|p| p.0 < x);
    match (after.checked_sub(1).map(|i| points[i]), points.get(after)) {
        (_, Some(&(x1, y1))) if x1 == x => Some(y1),
        (Some((x0, y0)), Some(&(x1, y1))) => Some(y0 + (y1 - y0) * (x - x0) / (x1 - x0)),
        _ => None,
    }
}

/// Joins the lines, each cut to `width` characters, with a newline after each.
fn finish(lines: Vec<String>, width: usize) -> String {
    lines
        .iter()
        .map(|line| {
            let mut line: String = line.chars().take(width).collect();
            line.push('\n');
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::chart::Series;

    fn powers_of_ten() -> LineChart {
        LineChart {
            title: "powers".into(),
            x_label: "depth".into(),
            y_label: "variance".into(),
            log_y: true,
            series: vec![Series {
                label: "ten to the x".into(),
                points: (0..=10).map(|x| (x as f64, 10f64.powi(x))).collect(),
            }],
        }
    }

    /// The rows of the plot grid (the lines with the y axis), without their labels.
    fn grid_rows(text: &str) -> Vec<String> {
        text.lines()
            .filter_map(|l| l.split_once('│').map(|(_, cells)| cells.to_string()))
            .collect()
    }

    #[test]
    fn line_chart_fits_and_log_rows_rise_steadily() {
        let text = line_chart_text(&powers_of_ten(), 60, 11);
        assert!(text.lines().all(|l| l.chars().count() <= 60), "{text}");
        let rows = grid_rows(&text);
        assert_eq!(rows.len(), 11, "{text}");
        // y = 10^x on a log axis over 1e0..1e10 with 11 rows: one point per row, each
        // further right than the one below it.
        let columns: Vec<usize> = rows
            .iter()
            .map(|cells| {
                assert_eq!(cells.matches('*').count(), 1, "{text}");
                cells.chars().position(|c| c == '*').unwrap()
            })
            .collect();
        assert!(
            columns.windows(2).all(|w| w[0] > w[1]),
            "{columns:?}\n{text}"
        );
        assert_eq!(columns[10], 0, "{text}");
        assert!(text.contains("1e10") && text.contains("1e0"), "{text}");
        assert!(text.lines().any(|l| l == "* ten to the x"), "{text}");
        assert!(
            text.contains("depth") && text.contains("variance") && text.starts_with("powers\n")
        );
        assert!(!text.contains('\x1b'), "no escape codes");
    }

    #[test]
    fn later_series_win_shared_cells_and_markers_differ() {
        let flat = |label: &str| Series {
            label: label.into(),
            points: vec![(0.0, 1.0), (1.0, 1.0)],
        };
        let chart = LineChart {
            series: vec![flat("first"), flat("second")],
            ..LineChart::default()
        };
        let text = line_chart_text(&chart, 30, 5);
        let rows = grid_rows(&text);
        assert!(rows.iter().all(|r| !r.contains('*')), "{text}");
        assert_eq!(
            rows.iter().map(|r| r.matches('o').count()).sum::<usize>(),
            2,
            "{text}"
        );
        assert!(
            text.contains("* first\n") && text.contains("o second\n"),
            "{text}"
        );
    }

    #[test]
    fn gaps_are_left_blank() {
        let chart = LineChart {
            log_y: true,
            series: vec![Series {
                label: "s".into(),
                points: vec![(0.0, 1.0), (1.0, 0.0), (2.0, f64::INFINITY), (3.0, 100.0)],
            }],
            ..LineChart::default()
        };
        let text = line_chart_text(&chart, 40, 6);
        let markers: usize = grid_rows(&text)
            .iter()
            .map(|r| r.matches('*').count())
            .sum();
        assert_eq!(markers, 2, "{text}");
    }

    #[test]
    fn histogram_has_one_row_per_bin_and_marks_the_curve() {
        let hist = Histogram {
            title: "h".into(),
            x_label: "value".into(),
            edges: vec![0.0, 1.0, 2.0, 3.0],
            density: vec![0.1, 0.4, 0.2],
            curve: Some(Series {
                label: "theory".into(),
                points: vec![(0.0, 0.0), (1.5, 0.4), (3.0, 0.0)],
            }),
        };
        let text = histogram_text(&hist, 40);
        assert!(text.lines().all(|l| l.chars().count() <= 40), "{text}");
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with('[')).collect();
        assert_eq!(rows.len(), 3, "{text}");
        // Bin 2 is the densest and the curve's peak: a full bar with the mark at its end.
        let bar_cells = |row: &str| row.chars().filter(|&c| EIGHTHS.contains(&c)).count();
        assert!(bar_cells(rows[1]) > bar_cells(rows[2]) && bar_cells(rows[2]) > bar_cells(rows[0]));
        assert!(rows[1].ends_with("█|"), "{text}");
        // Bin 1's centre 0.5 interpolates to 0.4/3: its mark sits right of its 0.1 bar.
        let mark = rows[0].find('|').unwrap();
        assert!(rows[0][..mark].trim_end().len() < mark, "{text}");
        assert!(text.ends_with("█ empirical density   | theory\n"), "{text}");
    }

    #[test]
    fn degenerate_inputs_render() {
        let single = LineChart {
            series: vec![Series {
                label: "one".into(),
                points: vec![(3.0, 3.0)],
            }],
            ..LineChart::default()
        };
        for (chart, width, height) in [
            (LineChart::default(), 40, 10),
            (single.clone(), 40, 10),
            (single.clone(), 3, 0),
            (single, 0, 1),
            (powers_of_ten(), 1, 1),
        ] {
            let text = line_chart_text(&chart, width, height);
            assert!(text.lines().all(|l| l.chars().count() <= width), "{text}");
        }
        let empty = line_chart_text(&LineChart::default(), 40, 4);
        assert!(empty.contains("(no finite values to plot)"), "{empty}");

        let one_bin = Histogram::from_values("", "", &[2.0, 2.0], 1);
        let text = histogram_text(&one_bin, 30);
        assert_eq!(
            text.lines().filter(|l| l.starts_with('[')).count(),
            1,
            "{text}"
        );
        for hist in [
            Histogram::default(),
            Histogram::from_values("", "", &[], 4),
            Histogram {
                edges: vec![0.0, 0.0],
                density: vec![f64::INFINITY],
                curve: Some(Series::default()),
                ..Histogram::default()
            },
        ] {
            for width in [0, 5, 80] {
                let text = histogram_text(&hist, width);
                assert!(text.lines().all(|l| l.chars().count() <= width), "{text}");
            }
        }
    }

    #[test]
    fn interpolation_stays_inside_the_curve() {
        let points = [(0.0, 0.0), (2.0, 4.0), (4.0, 0.0)];
        assert_eq!(interpolate(&points, 1.0), Some(2.0));
        assert_eq!(interpolate(&points, 2.0), Some(4.0));
        assert_eq!(interpolate(&points, 0.0), Some(0.0));
        assert_eq!(interpolate(&points, -0.1), None);
        assert_eq!(interpolate(&points, 4.1), None);
        assert_eq!(interpolate(&[], 1.0), None);
    }
}
