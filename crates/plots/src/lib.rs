//! SVG charts (plotters) for datasets and evaluation results.
//!
//! Every chart takes plain data and returns a standalone SVG document. The SVG backend
//! writes text as `<text>` elements, so no font files are needed at build or run time.

mod dataset;

pub use dataset::{domain_bar_chart, length_histogram, Bin};

/// Drawing failed inside plotters (it reports backend errors as strings).
#[derive(Debug, thiserror::Error)]
#[error("could not draw chart: {0}")]
pub struct PlotError(String);

impl PlotError {
    fn from_debug(e: impl std::fmt::Debug) -> Self {
        PlotError(format!("{e:?}"))
    }
}

/// Calm palette shared by the charts (matches the UI accent).
const ACCENT: plotters::style::RGBColor = plotters::style::RGBColor(0x3b, 0x6e, 0xa8);
const TEXT: plotters::style::RGBColor = plotters::style::RGBColor(0x33, 0x33, 0x33);
const FONT: &str = "sans-serif";
