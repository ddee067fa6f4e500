//! Dataset overview charts: how samples spread over domains, and how long the traces are.

use crate::canvas::{no_data, svg};
use crate::{PlotError, ACCENT, FONT, TEXT};
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use thinkscope_protocol::FacetCount;

const WIDTH: u32 = 640;
/// Bars beyond this are folded into one "other" bar so the chart stays legible.
const MAX_BARS: usize = 16;
const HIST_BINS: usize = 24;

/// Horizontal bar chart of sample counts per value (domain, subject, ...), largest first.
pub fn domain_bar_chart(counts: &[FacetCount], title: &str) -> Result<String, PlotError> {
    let bars = top_bars(counts);
    let height = 70 + 26 * bars.len().max(1) as u32;
    svg((WIDTH, height), |root| {
        if bars.is_empty() {
            return no_data(root, title);
        }
        let max = bars.iter().map(|(_, c)| *c).max().unwrap_or(1);
        let n = bars.len() as i32;
        let label_width = bars.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(4);
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 16).into_font().color(&TEXT))
            .margin(10)
            .x_label_area_size(24)
            .y_label_area_size((label_width as u32 * 7 + 12).min(260))
            .build_cartesian_2d(0u64..max + max / 8 + 1, (0..n).into_segmented())
            .map_err(PlotError::from_debug)?;
        // Bars are drawn top-down in rank order, plotters counts segments bottom-up.
        let name_of = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) if (0..n).contains(i) => bars[(n - 1 - i) as usize].0.clone(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_labels(6)
            .y_labels(bars.len())
            .y_label_formatter(&name_of)
            .label_style((FONT, 12).into_font().color(&TEXT))
            .light_line_style(RGBColor(0xee, 0xee, 0xee))
            .draw()
            .map_err(PlotError::from_debug)?;
        chart
            .draw_series(bars.iter().enumerate().map(|(rank, (_, count))| {
                let y = n - 1 - rank as i32;
                let mut bar = Rectangle::new(
                    [(0, SegmentValue::Exact(y)), (*count, SegmentValue::Exact(y + 1))],
                    ACCENT.filled(),
                );
                bar.set_margin(4, 4, 0, 0);
                bar
            }))
            .map_err(PlotError::from_debug)?;
        chart
            .draw_series(bars.iter().enumerate().map(|(rank, (_, count))| {
                let y = n - 1 - rank as i32;
                Text::new(
                    format!(" {count}"),
                    (*count, SegmentValue::CenterOf(y)),
                    (FONT, 11).into_font().color(&TEXT).pos(Pos::new(HPos::Left, VPos::Center)),
                )
            }))
            .map_err(PlotError::from_debug)?;
        root.present().map_err(PlotError::from_debug)
    })
}

/// The largest values by count, with the remainder summed into one trailing bar.
fn top_bars(counts: &[FacetCount]) -> Vec<(String, u64)> {
    let mut sorted: Vec<_> = counts.iter().filter(|c| c.count > 0).collect();
    sorted.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    let mut bars: Vec<(String, u64)> =
        sorted.iter().take(MAX_BARS).map(|c| (display_name(&c.value), c.count)).collect();
    let rest = &sorted[sorted.len().min(MAX_BARS)..];
    if !rest.is_empty() {
        let total = rest.iter().map(|c| c.count).sum();
        bars.push((format!("other ({} values)", rest.len()), total));
    }
    bars
}

fn display_name(value: &str) -> String {
    const MAX: usize = 36;
    if value.is_empty() {
        "(none)".into()
    } else if value.chars().count() > MAX {
        let cut: String = value.chars().take(MAX - 1).collect();
        format!("{cut}…")
    } else {
        value.to_string()
    }
}

/// One histogram bin: values in `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bin {
    pub start: u64,
    pub end: u64,
    pub count: u64,
}

/// Bins of a "nice" width (1, 2 or 5 × 10ⁿ) covering all values, at most about `max_bins`.
pub(crate) fn bins(values: &[u64], max_bins: usize) -> Vec<Bin> {
    let (Some(&min), Some(&max)) = (values.iter().min(), values.iter().max()) else {
        return Vec::new();
    };
    let width = nice_width((max - min + 1).div_ceil(max_bins.max(1) as u64));
    let first = min / width * width;
    let n = ((max - first) / width + 1) as usize;
    let mut bins: Vec<Bin> = (0..n as u64)
        .map(|i| Bin { start: first + i * width, end: first + (i + 1) * width, count: 0 })
        .collect();
    for v in values {
        bins[((v - first) / width) as usize].count += 1;
    }
    bins
}

fn nice_width(raw: u64) -> u64 {
    let mut scale = 1u64;
    loop {
        for step in [1, 2, 5] {
            if step * scale >= raw {
                return step * scale;
            }
        }
        scale *= 10;
    }
}

/// Histogram of lengths (thinking traces, or whatever the store measured), in `unit`
/// (e.g. a tokenizer name or "characters"), which labels the x axis.
pub fn length_histogram(values: &[u64], unit: &str) -> Result<String, PlotError> {
    let title = "Length distribution";
    let bins = bins(values, HIST_BINS);
    svg((WIDTH, 320), |root| {
        let (Some(first), Some(last)) = (bins.first(), bins.last()) else {
            return no_data(root, title);
        };
        let top = bins.iter().map(|b| b.count).max().unwrap_or(1);
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("{title} ({} samples)", values.len()),
                (FONT, 16).into_font().color(&TEXT),
            )
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(first.start..last.end, 0u64..top + top / 10 + 1)
            .map_err(PlotError::from_debug)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(8)
            .y_labels(6)
            .x_desc(format!("length ({unit})"))
            .y_desc("samples")
            .label_style((FONT, 12).into_font().color(&TEXT))
            .light_line_style(RGBColor(0xee, 0xee, 0xee))
            .draw()
            .map_err(PlotError::from_debug)?;
        chart
            .draw_series(bins.iter().filter(|b| b.count > 0).map(|b| {
                let mut bar = Rectangle::new([(b.start, 0), (b.end, b.count)], ACCENT.filled());
                bar.set_margin(0, 0, 1, 1);
                bar
            }))
            .map_err(PlotError::from_debug)?;
        root.present().map_err(PlotError::from_debug)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facet(value: &str, count: u64) -> FacetCount {
        FacetCount { value: value.into(), count }
    }

    /// Bars are the only shapes filled with the accent colour.
    fn bars(svg: &str) -> usize {
        svg.matches("fill=\"#3B6EA8\"").count()
    }

    #[test]
    fn bar_chart_has_one_bar_and_label_per_value() {
        let svg = domain_bar_chart(
            &[facet("Algebra", 120), facet("Number Theory", 62), facet("Geometry", 41)],
            "Subjects",
        )
        .unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        for label in ["Algebra", "Number Theory", "Geometry", "Subjects", "120", "62", "41"] {
            assert!(svg.contains(label), "missing {label}");
        }
        assert_eq!(bars(&svg), 3);
    }

    #[test]
    fn bar_chart_folds_the_long_tail_into_other() {
        let counts: Vec<_> = (0..20).map(|i| facet(&format!("d{i:02}"), 100 - i)).collect();
        let svg = domain_bar_chart(&counts, "Domains").unwrap();
        assert_eq!(bars(&svg), MAX_BARS + 1);
        assert!(svg.contains("other (4 values)"));
        // 84 + 83 + 82 + 81: the folded counts are summed, not dropped.
        assert!(svg.contains("330"));
        assert!(!svg.contains("d19"));
    }

    #[test]
    fn bar_chart_escapes_markup_in_values() {
        let svg = domain_bar_chart(&[facet("<script>", 3)], "x").unwrap();
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
    }

    #[test]
    fn empty_charts_say_no_data() {
        assert!(domain_bar_chart(&[], "Domains").unwrap().contains("Domains: no data"));
        assert!(length_histogram(&[], "characters").unwrap().contains("no data"));
        assert_eq!(bars(&length_histogram(&[], "x").unwrap()), 0);
    }

    #[test]
    fn bins_have_nice_widths_and_keep_every_value() {
        let values = [0, 5, 99, 100, 250, 1999];
        let bins = bins(&values, 20);
        assert_eq!(bins[0].start, 0);
        assert_eq!(bins[0].end - bins[0].start, 100);
        assert_eq!(bins.iter().map(|b| b.count).sum::<u64>(), values.len() as u64);
        assert_eq!(bins[0].count, 3);
        assert_eq!(bins[1].count, 1);
        assert!(bins.last().unwrap().end > 1999);
        assert_eq!(nice_width(3), 5);
        assert_eq!(nice_width(11), 20);
        assert_eq!(nice_width(1), 1);
    }

    #[test]
    fn single_value_gets_one_bin() {
        assert_eq!(bins(&[7, 7, 7], 24), vec![Bin { start: 7, end: 8, count: 3 }]);
    }

    #[test]
    fn histogram_draws_a_bar_per_nonempty_bin_with_axis_unit() {
        let values: Vec<u64> = (0..1000).map(|i| (i * 37) % 5000).collect();
        let svg = length_histogram(&values, "qwen2.5 tokens").unwrap();
        let nonempty = bins(&values, HIST_BINS).iter().filter(|b| b.count > 0).count();
        assert!(nonempty > 5);
        assert_eq!(bars(&svg), nonempty);
        assert!(svg.contains("length (qwen2.5 tokens)"));
        assert!(svg.contains("1000 samples"));
    }
}
