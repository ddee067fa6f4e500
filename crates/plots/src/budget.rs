//! s1-style budget control: the thinking each generation used against its budget.

use crate::canvas::{self, no_data, Format, Image};
use crate::scale::XScale;
use crate::{PlotError, ACCENT, AXIS, CAPTION, FONT, LABEL, TEXT};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use thinkscope_metrics::Generation;

const SIZE: (u32, u32) = (640, 420);
const LIMIT: RGBColor = RGBColor(0xc0, 0x39, 0x2b);

/// Thinking tokens per generation against its budget (`a_max`): per budget a box of the
/// quartiles, a median line and whiskers to the minimum and maximum, with the line
/// y = x. Perfect control keeps every whisker under the line. `scale` applies to both
/// axes. Generations without a budget have no x position and are left out; the
/// caption counts them.
pub fn budget_control(
    run: &str,
    generations: &[Generation],
    scale: XScale,
    format: Format,
) -> Result<Image, PlotError> {
    let groups = by_budget(generations);
    let unbudgeted = generations.iter().filter(|g| g.budget.is_none()).count();
    let mut title = format!("Budget control: {run}");
    if unbudgeted > 0 {
        title.push_str(&format!(" ({unbudgeted} without budget not shown)"));
    }
    match format {
        Format::Svg => canvas::svg(SIZE, |root| draw(root, &title, &groups, scale)).map(Image::Svg),
        Format::Png => canvas::png(SIZE, |root| draw(root, &title, &groups, scale)).map(Image::Png),
    }
}

/// One budget's thinking lengths, summarised.
#[derive(Debug, Clone, PartialEq)]
struct Spread {
    budget: u32,
    /// Minimum, lower quartile, median, upper quartile, maximum.
    five: [f64; 5],
}

fn by_budget(generations: &[Generation]) -> Vec<Spread> {
    let mut pairs: Vec<(u32, u32)> =
        generations.iter().filter_map(|g| Some((g.budget?, g.thinking_tokens))).collect();
    pairs.sort_unstable();
    pairs
        .chunk_by(|a, b| a.0 == b.0)
        .map(|chunk| {
            let sorted: Vec<f64> = chunk.iter().map(|&(_, t)| f64::from(t)).collect();
            let five = [0.0, 0.25, 0.5, 0.75, 1.0].map(|q| quantile(&sorted, q));
            Spread { budget: chunk[0].0, five }
        })
        .collect()
}

/// Linear interpolation between order statistics (numpy's default).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    groups: &[Spread],
    scale: XScale,
) -> Result<(), PlotError> {
    let (Some(first), Some(last)) = (groups.first(), groups.last()) else {
        return no_data(root, title);
    };
    // Both axes count tokens on the same scale, so y = x is the diagonal.
    let at = |tokens: f64| scale.to_axis(tokens);
    let centre = |s: &Spread| at(f64::from(s.budget));
    let (x0, x1) = scale.range(centre(first), centre(last));
    let lowest =
        groups.iter().map(|s| s.five[0].min(f64::from(s.budget))).fold(f64::INFINITY, f64::min);
    let highest = groups.iter().map(|s| s.five[4].max(f64::from(s.budget))).fold(1.0, f64::max);
    let (y0, y1) = match scale {
        XScale::Linear => (0.0, highest * 1.08),
        XScale::Log2 => scale.range(at(lowest), at(highest)),
    };
    // Boxes take half the narrowest gap between neighbouring budgets.
    let gap = groups.windows(2).map(|w| centre(&w[1]) - centre(&w[0])).fold(x1 - x0, f64::min);
    let half = (gap * 0.25).min((x1 - x0) * 0.04);
    let ticks =
        |lo: f64, hi: f64| if scale == XScale::Log2 { ((hi - lo) as usize + 1).min(9) } else { 7 };
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, CAPTION).into_font().color(&TEXT))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(PlotError::from_debug)?;
    chart
        .configure_mesh()
        .x_labels(ticks(x0, x1))
        .y_labels(ticks(y0, y1))
        .x_label_formatter(&|v| scale.label(*v))
        .y_label_formatter(&|v| scale.label(*v))
        .x_desc(scale.describe("thinking budget (tokens)"))
        .y_desc(scale.describe("thinking tokens per generation"))
        .label_style((FONT, LABEL).into_font().color(&TEXT))
        .axis_desc_style((FONT, AXIS).into_font().color(&TEXT))
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .draw()
        .map_err(PlotError::from_debug)?;
    let diagonal = vec![(x0.max(y0), x0.max(y0)), (x1.min(y1), x1.min(y1))];
    chart
        .draw_series(std::iter::once(DashedPathElement::new(diagonal, 6, 4, LIMIT.stroke_width(2))))
        .map_err(PlotError::from_debug)?
        .label("y = x (budget)")
        .legend(|(lx, ly)| PathElement::new(vec![(lx, ly), (lx + 18, ly)], LIMIT.stroke_width(2)));
    chart
        .draw_series(groups.iter().map(|s| {
            let c = centre(s);
            PathElement::new(vec![(c, at(s.five[0])), (c, at(s.five[4]))], ACCENT.stroke_width(1))
        }))
        .map_err(PlotError::from_debug)?;
    chart
        .draw_series(groups.iter().map(|s| {
            let c = centre(s);
            Rectangle::new([(c - half, at(s.five[1])), (c + half, at(s.five[3]))], ACCENT.filled())
        }))
        .map_err(PlotError::from_debug)?
        .label("thinking: quartiles, whiskers min–max")
        .legend(|(lx, ly)| Rectangle::new([(lx, ly - 5), (lx + 18, ly + 5)], ACCENT.filled()));
    chart
        .draw_series(groups.iter().map(|s| {
            let (c, m) = (centre(s), at(s.five[2]));
            PathElement::new(vec![(c - half, m), (c + half, m)], WHITE.stroke_width(2))
        }))
        .map_err(PlotError::from_debug)?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FONT, LABEL).into_font().color(&TEXT))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(0xcc, 0xcc, 0xcc))
        .draw()
        .map_err(PlotError::from_debug)?;
    root.present().map_err(PlotError::from_debug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_per_budget_by_hand() {
        let g = |budget: Option<u32>, thinking: u32| Generation {
            problem: "p".into(),
            point: 0.0,
            point_label: String::new(),
            sample_index: 0,
            thinking_tokens: thinking,
            answer_tokens: 0,
            correct: false,
            answer: None,
            budget,
        };
        let gens = [
            g(Some(512), 100),
            g(Some(256), 250),
            g(Some(512), 500),
            g(None, 9),
            g(Some(512), 300),
            g(Some(512), 200),
        ];
        let spreads = by_budget(&gens);
        assert_eq!(spreads.len(), 2);
        assert_eq!(spreads[0], Spread { budget: 256, five: [250.0; 5] });
        // 100, 200, 300, 500: quartiles at positions 0.75, 1.5 and 2.25.
        assert_eq!(spreads[1], Spread { budget: 512, five: [100.0, 175.0, 250.0, 350.0, 500.0] });
    }
}

#[cfg(test)]
mod figure_tests {
    use super::*;
    use crate::canvas::tests::{decode_png, svg_text};
    use thinkscope_metrics::synthetic_sweep;

    #[test]
    fn svg_has_a_box_per_budget_and_the_diagonal() {
        let mut gens = synthetic_sweep(&[512, 1024, 2048, 4096], 30, 2, 4);
        gens[0].budget = None;
        for x in [XScale::Linear, XScale::Log2] {
            let svg = svg_text(budget_control("bf <run>", &gens, x, Format::Svg).unwrap());
            // Four boxes and the legend swatch are the accent-filled shapes.
            assert_eq!(svg.matches("fill=\"#3B6EA8\"").count(), 5, "{x:?}");
            for text in [
                "Budget control: bf &lt;run&gt;",
                "1 without budget not shown",
                "y = x (budget)",
                "thinking budget (tokens)",
            ] {
                assert!(svg.contains(text), "missing {text}");
            }
        }
    }

    #[test]
    fn png_decodes_at_the_figure_size() {
        let gens = synthetic_sweep(&[1024, 4096], 10, 1, 1);
        let (w, h, _) =
            decode_png(budget_control("r", &gens, XScale::Log2, Format::Png).unwrap().bytes());
        assert_eq!((w, h), SIZE);
    }

    #[test]
    fn no_budgets_say_no_data() {
        let mut gens = synthetic_sweep(&[1024], 3, 1, 1);
        gens.iter_mut().for_each(|g| g.budget = None);
        let svg = svg_text(budget_control("r", &gens, XScale::Linear, Format::Svg).unwrap());
        assert!(svg.contains("no data"));
    }
}
