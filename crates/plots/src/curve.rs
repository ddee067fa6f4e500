//! Accuracy against mean thinking tokens, one line per run, with its numbers as CSV.

use crate::canvas::{self, no_data, Format, Image};
use crate::scale::XScale;
use crate::{PlotError, AXIS, CAPTION, FONT, LABEL, PALETTE, TEXT};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::fmt::Write;
use thinkscope_metrics::RunMetrics;

const SIZE: (u32, u32) = (640, 420);
const TITLE: &str = "Accuracy vs thinking tokens";

/// Accuracy (%) against mean thinking tokens per sweep point: a line and a marker per
/// point for each run, 95% bootstrap CI error bars, legend by run name.
pub fn accuracy_curve(runs: &[RunMetrics], x: XScale, format: Format) -> Result<Image, PlotError> {
    match format {
        Format::Svg => canvas::svg(SIZE, |root| draw(root, runs, x)).map(Image::Svg),
        Format::Png => canvas::png(SIZE, |root| draw(root, runs, x)).map(Image::Png),
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[RunMetrics],
    x: XScale,
) -> Result<(), PlotError> {
    let points = || runs.iter().flat_map(|r| &r.points);
    let xs = || points().map(|p| x.to_axis(p.mean_thinking_tokens));
    let (Some(lo), Some(hi)) = (xs().min_by(f64::total_cmp), xs().max_by(f64::total_cmp)) else {
        return no_data(root, TITLE);
    };
    let (x0, x1) = x.range(lo, hi);
    let low = points().map(|p| p.ci95.low).fold(1.0, f64::min);
    let high = points().map(|p| p.ci95.high).fold(0.0, f64::max);
    // Whole tens of percent around the intervals, at least one step tall.
    let y0 = (low * 10.0).floor().clamp(0.0, 9.0) * 10.0;
    let y1 = ((high * 10.0).ceil() * 10.0).clamp(y0 + 10.0, 100.0);
    let mut chart = ChartBuilder::on(root)
        .caption(TITLE, (FONT, CAPTION).into_font().color(&TEXT))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(PlotError::from_debug)?;
    let log_ticks = ((x1 - x0) as usize + 1).min(9);
    chart
        .configure_mesh()
        .x_labels(if x == XScale::Log2 { log_ticks } else { 7 })
        .y_labels(6)
        .x_label_formatter(&|v| x.label(*v))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .x_desc(x.describe("mean thinking tokens"))
        .y_desc("accuracy (%)")
        .label_style((FONT, LABEL).into_font().color(&TEXT))
        .axis_desc_style((FONT, AXIS).into_font().color(&TEXT))
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .draw()
        .map_err(PlotError::from_debug)?;
    for (run, color) in runs.iter().zip(PALETTE.iter().cycle()) {
        let at = |p: &thinkscope_metrics::PointMetrics| x.to_axis(p.mean_thinking_tokens);
        chart
            .draw_series(run.points.iter().map(|p| {
                ErrorBar::new_vertical(
                    at(p),
                    p.ci95.low * 100.0,
                    p.accuracy * 100.0,
                    p.ci95.high * 100.0,
                    color.mix(0.7),
                    8,
                )
            }))
            .map_err(PlotError::from_debug)?;
        chart
            .draw_series(LineSeries::new(
                run.points.iter().map(|p| (at(p), p.accuracy * 100.0)),
                color.stroke_width(2),
            ))
            .map_err(PlotError::from_debug)?
            .label(&run.run)
            .legend(move |(lx, ly)| {
                PathElement::new(vec![(lx, ly), (lx + 18, ly)], color.stroke_width(2))
            });
        chart
            .draw_series(
                run.points
                    .iter()
                    .map(|p| Circle::new((at(p), p.accuracy * 100.0), 4, color.filled())),
            )
            .map_err(PlotError::from_debug)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font((FONT, LABEL).into_font().color(&TEXT))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(0xcc, 0xcc, 0xcc))
        .draw()
        .map_err(PlotError::from_debug)?;
    root.present().map_err(PlotError::from_debug)
}

/// The plotted numbers, one row per run and point:
/// `run,point,mean_thinking_tokens,accuracy,ci_low,ci_high,n` (accuracy and interval as
/// fractions in [0, 1], `n` = generations at the point).
pub fn accuracy_curve_csv(runs: &[RunMetrics]) -> String {
    let mut csv = String::from("run,point,mean_thinking_tokens,accuracy,ci_low,ci_high,n\n");
    for run in runs {
        for p in &run.points {
            // Writing to a String cannot fail.
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{},{}",
                quote(&run.run),
                p.point,
                p.mean_thinking_tokens,
                p.accuracy,
                p.ci95.low,
                p.ci95.high,
                p.n
            );
        }
    }
    csv
}

/// RFC 4180 field: quoted (with doubled quotes) only when it needs to be.
fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canvas::tests::{decode_png, svg_text, texts};
    use thinkscope_metrics::{run_metrics, synthetic_sweep, CurveOptions};

    fn run(name: &str, budgets: &[u32], seed: u64) -> RunMetrics {
        run_metrics(name, &synthetic_sweep(budgets, 40, 2, seed), &CurveOptions::default())
    }

    /// Filled circles; error bars draw hollow ones at their centre.
    fn markers(svg: &str) -> usize {
        svg.split("<circle")
            .skip(1)
            .filter(|el| !el[..el.find('>').unwrap()].contains("fill=\"none\""))
            .count()
    }

    fn runs() -> Vec<RunMetrics> {
        vec![
            run("budget forcing", &[512, 1024, 2048, 4096], 1),
            run("Z1 <window>", &[1024, 4096, 8192], 2),
        ]
    }

    #[test]
    fn svg_has_a_marker_per_point_and_a_legend_entry_per_run() {
        for x in [XScale::Linear, XScale::Log2] {
            let svg = svg_text(accuracy_curve(&runs(), x, Format::Svg).unwrap());
            assert!(svg.starts_with("<svg"));
            assert_eq!(markers(&svg), 7, "{x:?}");
            for text in [
                "budget forcing",
                "Z1 &lt;window&gt;",
                TITLE,
                "accuracy (%)",
                "mean thinking tokens",
            ] {
                assert!(svg.contains(text), "missing {text}");
            }
            assert!(!svg.contains("<window>"));
        }
    }

    #[test]
    fn text_is_at_least_12_px() {
        let svg = svg_text(accuracy_curve(&runs(), XScale::Linear, Format::Svg).unwrap());
        let sizes: Vec<f64> = svg
            .split("font-size=\"")
            .skip(1)
            .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
            .collect();
        assert!(sizes.len() > 10);
        assert!(sizes.iter().all(|&px| px >= 12.0), "{sizes:?}");
    }

    #[test]
    fn log2_ticks_read_as_token_counts() {
        let svg = svg_text(accuracy_curve(&runs(), XScale::Log2, Format::Svg).unwrap());
        assert!(svg.contains("(log2 scale)"));
        // Mean thinking spans 2⁹..2¹³ tokens: whole doublings label the axis.
        let labels = texts(&svg);
        assert!(
            ["512", "1024", "2048", "4096", "8192"].iter().all(|t| labels.contains(t)),
            "{labels:?}"
        );
    }

    #[test]
    fn png_decodes_at_the_figure_size_and_is_deterministic() {
        let png = accuracy_curve(&runs(), XScale::Log2, Format::Png).unwrap();
        assert_eq!(png.extension(), "png");
        let (w, h, pixels) = decode_png(png.bytes());
        assert_eq!((w, h), SIZE);
        // Lines, markers and text leave many non-white pixels; the rest is background.
        let inked = pixels.chunks(3).filter(|p| p != &[255, 255, 255]).count();
        assert!(inked > 2000 && inked < pixels.len() / 3 / 2, "{inked}");
        assert_eq!(accuracy_curve(&runs(), XScale::Log2, Format::Png).unwrap(), png);
    }

    #[test]
    fn no_points_say_no_data() {
        let svg = svg_text(accuracy_curve(&[], XScale::Linear, Format::Svg).unwrap());
        assert!(svg.contains("no data"));
        assert_eq!(markers(&svg), 0);
    }

    #[test]
    fn csv_has_a_row_per_plotted_point() {
        let mut runs = runs();
        runs[1].run = "Z1, \"wide\"".into();
        let csv = accuracy_curve_csv(&runs);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "run,point,mean_thinking_tokens,accuracy,ci_low,ci_high,n");
        assert_eq!(lines.len(), 1 + 7);
        let p = &runs[0].points[0];
        let row = format!(
            "budget forcing,512,{},{},{},{},80",
            p.mean_thinking_tokens, p.accuracy, p.ci95.low, p.ci95.high
        );
        assert_eq!(lines[1], row);
        assert!(lines[5].starts_with("\"Z1, \"\"wide\"\"\",1024,"), "{}", lines[5]);
    }
}
