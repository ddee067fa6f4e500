//! SVG charts (plotters) for datasets and evaluation results.
//!
//! Every chart takes plain data and returns a standalone SVG document (the evaluation
//! figures also PNG bytes or CSV text); the caller writes files. Text is measured, and
//! rasterised for PNG, with a bundled font (`fonts/`), so output does not depend on
//! the fonts installed on the machine.

mod budget;
mod canvas;
mod curve;
mod dataset;
mod scale;

pub use budget::budget_control;
pub use canvas::{Format, Image};
pub use curve::{accuracy_curve, accuracy_curve_csv};
pub use dataset::{domain_bar_chart, length_histogram, Bin};
pub use scale::XScale;

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
/// Text sizes of the evaluation figures. Plotters draws a size-s font s / 1.24 px tall,
/// so these give 16, 12.9 and 12.1 px: readable at 640 px wide.
const CAPTION: f64 = 20.0;
const AXIS: f64 = 16.0;
const LABEL: f64 = 15.0;
/// One colour per run: the accent, then Okabe–Ito colours (distinguishable with
/// colour-vision deficiencies).
const PALETTE: [plotters::style::RGBColor; 6] = [
    ACCENT,
    plotters::style::RGBColor(0xe6, 0x9f, 0x00),
    plotters::style::RGBColor(0x00, 0x9e, 0x73),
    plotters::style::RGBColor(0xd5, 0x5e, 0x00),
    plotters::style::RGBColor(0xcc, 0x79, 0xa7),
    plotters::style::RGBColor(0x56, 0xb4, 0xe9),
];
