//! Token axes: linear, or log₂ drawn as a linear axis over log₂(x).

/// How a token-count x axis is scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XScale {
    Linear,
    /// Doubling steps are equally spaced; ticks read as token counts.
    Log2,
}

impl XScale {
    /// Axis coordinate of a token count (log₂ clamps at 1 token).
    pub(crate) fn to_axis(self, tokens: f64) -> f64 {
        match self {
            XScale::Linear => tokens,
            XScale::Log2 => tokens.max(1.0).log2(),
        }
    }

    pub(crate) fn to_tokens(self, axis: f64) -> f64 {
        match self {
            XScale::Linear => axis,
            XScale::Log2 => axis.exp2(),
        }
    }

    /// Axis range covering the coordinates `lo..=hi`, with some room at both ends
    /// (whole doublings for log₂ so ticks land on powers of two, and a point on a power
    /// of two is not drawn on the frame).
    pub(crate) fn range(self, lo: f64, hi: f64) -> (f64, f64) {
        match self {
            XScale::Linear => {
                let pad = ((hi - lo) * 0.05).max(hi.abs() * 0.05).max(1.0);
                ((lo - pad).max(0.0), hi + pad)
            }
            XScale::Log2 => ((lo - 0.25).floor(), (hi + 0.25).ceil()),
        }
    }

    /// Tick label for an axis coordinate: always a token count.
    pub(crate) fn label(self, axis: f64) -> String {
        format!("{:.0}", self.to_tokens(axis))
    }

    pub(crate) fn describe(self, what: &str) -> String {
        match self {
            XScale::Linear => what.to_string(),
            // Plain "2": the bundled font has no subscript digits.
            XScale::Log2 => format!("{what} (log2 scale)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_axis_maps_tokens_and_back() {
        assert_eq!(XScale::Log2.to_axis(1024.0), 10.0);
        assert_eq!(XScale::Log2.to_axis(0.0), 0.0);
        assert_eq!(XScale::Log2.label(12.0), "4096");
        assert_eq!(XScale::Log2.range(9.3, 12.2), (9.0, 13.0));
        assert_eq!(XScale::Log2.range(9.0, 13.0), (8.0, 14.0));
        assert_eq!(XScale::Log2.range(10.0, 10.0), (9.0, 11.0));
        assert_eq!(XScale::Linear.to_axis(300.0), 300.0);
        assert_eq!(XScale::Linear.range(1000.0, 3000.0), (850.0, 3150.0));
    }
}
