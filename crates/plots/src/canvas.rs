//! Canvases shared by the charts: one drawing routine renders to SVG text or PNG bytes.

use crate::{PlotError, FONT, TEXT};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::sync::Once;

/// Open Sans Regular (Apache-2.0, see `fonts/README.md`).
static BUNDLED_FONT: &[u8] = include_bytes!("../fonts/OpenSans-Regular.ttf");

/// Registers the bundled font as [`FONT`] for plotters' ab_glyph backend, which
/// measures text for every canvas (label areas, legends) and rasterises it for PNG.
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let parsed = plotters::style::register_font(FONT, FontStyle::Normal, BUNDLED_FONT).is_ok();
        assert!(parsed, "the bundled font is a valid TrueType file");
    });
}

/// A rendered figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Image {
    Svg(String),
    Png(Vec<u8>),
}

impl Image {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Image::Svg(text) => text.as_bytes(),
            Image::Png(bytes) => bytes,
        }
    }

    pub fn extension(&self) -> &'static str {
        match self {
            Image::Svg(_) => "svg",
            Image::Png(_) => "png",
        }
    }
}

/// Which kind of [`Image`] a figure function renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
}

pub(crate) type SvgArea<'a> = DrawingArea<SVGBackend<'a>, Shift>;
pub(crate) type PngArea<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Draws onto a white SVG canvas of `size` pixels and returns the document.
pub(crate) fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&SvgArea<'_>) -> Result<(), PlotError>,
) -> Result<String, PlotError> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(PlotError::from_debug)?;
        draw(&root)?;
    }
    Ok(svg)
}

/// Draws onto a white RGB canvas of `size` pixels and returns it PNG-encoded.
pub(crate) fn png(
    size: (u32, u32),
    draw: impl FnOnce(&PngArea<'_>) -> Result<(), PlotError>,
) -> Result<Vec<u8>, PlotError> {
    register_font();
    let mut pixels = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area();
        root.fill(&WHITE).map_err(PlotError::from_debug)?;
        draw(&root)?;
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, size.0, size.1);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(PlotError::from_debug)?;
    writer.write_image_data(&pixels).map_err(PlotError::from_debug)?;
    writer.finish().map_err(PlotError::from_debug)?;
    Ok(out)
}

/// A chart that says there is nothing to plot, so the UI layout stays stable.
pub(crate) fn no_data<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<(), PlotError> {
    let (w, h) = root.dim_in_pixel();
    let style = (FONT, 14).into_font().color(&TEXT).pos(Pos::new(HPos::Center, VPos::Center));
    root.draw(&Text::new(format!("{title}: no data"), (w as i32 / 2, h as i32 / 2), style))
        .map_err(PlotError::from_debug)?;
    root.present().map_err(PlotError::from_debug)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn svg_text(image: Image) -> String {
        match image {
            Image::Svg(text) => text,
            Image::Png(_) => panic!("expected SVG"),
        }
    }

    /// The contents of the SVG's `<text>` elements.
    pub(crate) fn texts(svg: &str) -> Vec<&str> {
        svg.split("<text")
            .skip(1)
            .map(|el| el[el.find('>').unwrap() + 1..el.find("</text>").unwrap()].trim())
            .collect()
    }

    /// Width, height and RGB pixels of an 8-bit RGB PNG.
    pub(crate) fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!((info.color_type, info.bit_depth), (png::ColorType::Rgb, png::BitDepth::Eight));
        (info.width, info.height, pixels)
    }

    #[test]
    fn png_text_is_drawn_with_the_bundled_font() {
        let text = |s: &'static str| {
            move |root: &PngArea<'_>| {
                root.draw(&Text::new(s, (10, 10), (FONT, 20).into_font().color(&BLACK)))
                    .map_err(PlotError::from_debug)
            }
        };
        let (w, h, blank) = decode_png(&png((120, 40), |_| Ok(())).unwrap());
        assert_eq!((w, h), (120, 40));
        assert!(blank.iter().all(|&v| v == 255));
        let (_, _, one) = decode_png(&png((120, 40), text("Ag")).unwrap());
        let (_, _, other) = decode_png(&png((120, 40), text("Wq")).unwrap());
        assert!(one.iter().any(|&v| v < 128), "glyphs were rasterised");
        assert_ne!(one, other);
    }
}
