//! Charts of what an initializer does: line charts (signal variance against depth, one
//! line per scheme) and histograms (a tensor's values against the theoretical density).
//!
//! [`chart`] owns the chart *data* ([`LineChart`], [`Histogram`]) and the axis
//! arithmetic both renderers share: which points are drawable, the value range an axis
//! spans, and "nice" tick positions. The renderers are separate:
//!
//! - [`image`] draws SVG or PNG with `plotters`, text in an embedded font, so it needs no
//!   system fonts ([`write_line_chart`], [`write_histogram`]);
//! - [`terminal`] draws plain-text charts for a terminal ([`line_chart_text`],
//!   [`histogram_text`]).
//!
//! Renderers never panic on odd data. Non-finite values (an overflow, the log of 0) are
//! gaps in a line, empty series draw nothing, and a range of zero width is widened so the
//! axis still has a scale.

pub mod chart;
pub mod image;
pub mod terminal;

pub use chart::{Histogram, LineChart, Series};

pub use image::{
    ImageFormat, check_image_target, histogram_image, line_chart_image, write_histogram,
    write_line_chart,
};
pub use terminal::{histogram_text, line_chart_text};
