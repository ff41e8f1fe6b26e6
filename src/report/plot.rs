//! Line charts and heat maps, drawn once and written as SVG (for the HTML
//! report and browsers) and PNG (for everything else).
//!
//! Drawing is done by `plotters`; text is laid out with the bundled DejaVu
//! Sans (`assets/`), so a PNG looks the same on every machine, and drawn in
//! PNGs by [`super::glyphs`], which keeps every glyph on the baseline. A
//! logarithmic axis is drawn as a linear axis of log10(value), which keeps
//! one code path for both kinds of axis: the x axis labels its linear ticks
//! with the powers they stand for (`1e-3`); a logarithmic y axis draws its
//! own ticks at 1, 2 and 5 times the powers of ten, so that every label is a
//! round number.

use super::glyphs::OneBaseline;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::sync::OnceLock;

/// The family name charts ask for; the bundled font is registered under it.
const FAMILY: &str = "sans-serif";
pub(crate) static FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

#[derive(Debug, thiserror::Error)]
#[error("cannot draw the chart `{chart}`: {reason}")]
pub struct PlotError {
    pub chart: String,
    pub reason: String,
}

/// Registers the bundled font once; plotters finds it by family name.
pub(crate) fn font_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, FONT_BYTES).is_ok()
    })
}

pub const BLUE: RGBColor = RGBColor(31, 119, 180);
pub const ORANGE: RGBColor = RGBColor(230, 110, 10);
pub const GREY: RGBColor = RGBColor(120, 120, 120);
pub const GREEN: RGBColor = RGBColor(44, 160, 44);

/// One line of a chart.
#[derive(Clone, Debug)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub color: RGBColor,
    pub width: u32,
}

/// A line chart: series, vertical markers and a shaded band of x values.
#[derive(Clone, Debug, Default)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    /// A logarithmic loss axis, for curves that span decades.
    pub log_y: bool,
    pub series: Vec<Series>,
    /// Vertical lines at these x values, labelled (the label beside the
    /// line, on the side with more room, clear of the legend).
    pub markers: Vec<(f64, String)>,
    /// A shaded range of x values.
    pub band: Option<(f64, f64)>,
    /// Values above this are drawn at it (keeps an exploding tail from
    /// flattening the rest of the curve).
    pub y_max: Option<f64>,
    /// Where the legend goes: where the curves are not.
    pub legend: Legend,
}

/// A corner of the plotting area.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Legend {
    #[default]
    UpperRight,
    UpperLeft,
    LowerRight,
}

/// The size of every chart the reports draw.
pub const SIZE: (u32, u32) = (800, 480);

/// Draws with `draw` as SVG text.
pub fn svg(
    name: &str,
    size: (u32, u32),
    draw: impl Fn(&DrawingArea<SVGBackend, Shift>) -> Result<(), String>,
) -> Result<String, PlotError> {
    let fail = |reason: String| PlotError {
        chart: name.to_string(),
        reason,
    };
    if !font_ready() {
        return Err(fail("the bundled font cannot be read".into()));
    }
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        draw(&root).map_err(fail)?;
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    Ok(out)
}

/// The backend PNGs are drawn on: plotters' bitmap, with text on one baseline.
pub type Bitmap<'a> = OneBaseline<BitMapBackend<'a>>;

/// Draws with `draw` as an RGB image, encoded as PNG.
pub fn png(
    name: &str,
    size: (u32, u32),
    draw: impl Fn(&DrawingArea<Bitmap, Shift>) -> Result<(), String>,
) -> Result<Vec<u8>, PlotError> {
    let fail = |reason: String| PlotError {
        chart: name.to_string(),
        reason,
    };
    if !font_ready() {
        return Err(fail("the bundled font cannot be read".into()));
    }
    let mut pixels = vec![255u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = OneBaseline(BitMapBackend::with_buffer(&mut pixels, size)).into_drawing_area();
        draw(&root).map_err(fail)?;
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, size.0, size.1);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| fail(e.to_string()))?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| fail(e.to_string()))?;
    writer.finish().map_err(|e| fail(e.to_string()))?;
    Ok(bytes)
}

pub(crate) fn text(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().into()
}

/// `1e-3` for an exponent that is whole, `3.2e-3` between.
fn power_label(v: f64) -> String {
    let value = 10f64.powf(v);
    crate::syntax::format_number(value)
}

/// A round number: `m` times ten to the `k`, as the program text writes it,
/// but whole numbers below a million in full (`20000`, not `2e4`).
fn round_label(m: u32, k: i32) -> String {
    if (0..6).contains(&k) {
        return (u64::from(m) * 10u64.pow(k as u32)).to_string();
    }
    // Parsed from its decimal text, `5e-3` is the double nearest 0.005.
    let value: f64 = format!("{m}e{k}").parse().unwrap_or(0.0);
    crate::syntax::format_number(value)
}

/// The ticks of a logarithmic axis over `[lo, hi]` (in log10 units): at 1,
/// 2, 3 and 5 times each power of ten over up to one and a half decades, at
/// 1, 2 and 5 up to three, at the powers alone beyond; as (position, label).
pub fn log_ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
        return Vec::new();
    }
    let (first, last) = (lo.floor() as i32, hi.ceil() as i32);
    // About three to eight labels, whatever the span.
    let mantissas: &[u32] = match hi - lo {
        d if d <= 1.5 => &[1, 2, 3, 5],
        d if d <= 3.0 => &[1, 2, 5],
        _ => &[1],
    };
    (first..=last)
        .flat_map(|k| mantissas.iter().map(move |&m| (m, k)))
        .map(|(m, k)| (f64::from(m).log10() + f64::from(k), round_label(m, k)))
        .filter(|(at, _)| (lo..=hi).contains(at))
        .collect()
}

impl Chart {
    fn x(&self, v: f64) -> f64 {
        if self.log_x { v.max(1e-300).log10() } else { v }
    }

    fn y(&self, v: f64) -> f64 {
        if self.log_y { v.max(1e-300).log10() } else { v }
    }

    /// The ranges of the axes, from every finite point (in log10 units on a
    /// logarithmic axis).
    fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let xs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| self.x(p.0)));
        let ys = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| self.y(p.1)));
        let span = |it: &mut dyn Iterator<Item = f64>| {
            it.filter(|v| v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(v), hi.max(v))
                })
        };
        let (mut x0, mut x1) = span(&mut xs.into_iter());
        let (mut y0, mut y1) = span(&mut ys.into_iter());
        if let Some(m) = self.y_max {
            y1 = y1.min(self.y(m));
        }
        // No finite point: an empty range (both infinite) becomes [0, 1].
        if x0 > x1 {
            (x0, x1) = (0.0, 1.0);
        }
        if y0 > y1 {
            (y0, y1) = (0.0, 1.0);
        }
        if x1 - x0 < 1e-12 {
            (x0, x1) = (x0 - 0.5, x1 + 0.5);
        }
        let pad = ((y1 - y0) * 0.05).max(1e-6);
        // A linear axis of values that are never negative starts at 0 at
        // the lowest; a logarithmic one has no zero.
        let floor = if y0 >= 0.0 && !self.log_y {
            0.0
        } else {
            f64::MIN
        };
        ((x0, x1), ((y0 - pad).max(floor), y1 + pad))
    }

    /// Draws the chart on any plotters backend.
    pub fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(e)?;
        let ((x0, x1), (y0, y1)) = self.ranges();
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, text(20))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(e)?;
        let log_x = self.log_x;
        let x_fmt = move |v: &f64| {
            if log_x {
                power_label(*v)
            } else {
                crate::syntax::format_number(*v)
            }
        };
        let y_fmt = |v: &f64| crate::syntax::format_number(*v);
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .label_style(text(13))
            .axis_desc_style(text(15))
            .light_line_style(RGBColor(235, 235, 235));
        if self.log_y {
            // Its own ticks follow, at round numbers.
            mesh.disable_y_mesh().y_labels(0);
        }
        mesh.draw().map_err(e)?;
        if self.log_y {
            for (at, label) in log_ticks(y0, y1) {
                let line = PathElement::new(vec![(x0, at), (x1, at)], RGBColor(200, 200, 200));
                chart.draw_series(std::iter::once(line)).map_err(e)?;
                let (px, py) = chart.backend_coord(&(x0, at));
                let tick = PathElement::new(vec![(px - 5, py), (px, py)], BLACK);
                root.draw(&tick).map_err(e)?;
                let style = text(13).pos(Pos::new(HPos::Right, VPos::Center));
                root.draw(&Text::new(label, (px - 8, py), style))
                    .map_err(e)?;
            }
        }
        if let Some((a, b)) = self.band {
            let rect = Rectangle::new([(self.x(a), y0), (self.x(b), y1)], GREEN.mix(0.12).filled());
            chart.draw_series(std::iter::once(rect)).map_err(e)?;
        }
        for (at, label) in &self.markers {
            let x = self.x(*at);
            let line = PathElement::new(vec![(x, y0), (x, y1)], GREEN.stroke_width(2));
            chart.draw_series(std::iter::once(line)).map_err(e)?;
            // Right of the line in the left part of the chart, left of it
            // in the right part; at the top unless the legend is there.
            let right_half = x > x0 + (x1 - x0) * 0.6;
            let legend_above = match self.legend {
                Legend::UpperRight => right_half,
                Legend::UpperLeft => !right_half,
                // Where the curves rise: the middle is clearer than the top.
                Legend::LowerRight => true,
            };
            let height = if legend_above { 0.5 } else { 0.97 };
            let (px, py) = chart.backend_coord(&(x, y0 + (y1 - y0) * height));
            let (h, gap) = if right_half {
                (HPos::Right, -6)
            } else {
                (HPos::Left, 6)
            };
            let style = text(13).color(&GREEN).pos(Pos::new(h, VPos::Top));
            root.draw(&Text::new(label.clone(), (px + gap, py), style))
                .map_err(e)?;
        }
        for s in &self.series {
            let points: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter(|p| p.0.is_finite() && p.1.is_finite())
                .map(|&(x, y)| (self.x(x), self.y(y).clamp(y0, y1)))
                .collect();
            let color = s.color;
            let style = color.stroke_width(s.width);
            chart
                .draw_series(LineSeries::new(points, style))
                .map_err(e)?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .label_font(text(14))
            .background_style(WHITE.mix(0.85))
            .border_style(GREY)
            .position(match self.legend {
                Legend::UpperRight => SeriesLabelPosition::UpperRight,
                Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
                Legend::LowerRight => SeriesLabelPosition::LowerRight,
            })
            .draw()
            .map_err(e)?;
        Ok(())
    }

    pub fn svg(&self) -> Result<String, PlotError> {
        svg(&self.title, SIZE, |root| self.draw(root))
    }

    pub fn png(&self) -> Result<Vec<u8>, PlotError> {
        png(&self.title, SIZE, |root| self.draw(root))
    }
}

pub use super::heat::HeatMap;

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(lo: f64, hi: f64) -> Vec<String> {
        log_ticks(lo, hi).into_iter().map(|t| t.1).collect()
    }

    #[test]
    fn log_ticks_are_round_numbers_inside_the_range() {
        // 0.003 to 0.8: two and a half decades, so 1, 2 and 5 of each.
        let t = labels(0.003f64.log10(), 0.8f64.log10());
        assert_eq!(t, ["0.005", "0.01", "0.02", "0.05", "0.1", "0.2", "0.5"]);
        // Six decades: the powers alone.
        let t = labels(-5.5, 0.5);
        assert_eq!(t, ["1e-5", "1e-4", "0.001", "0.01", "0.1", "1"]);
        // A decade of large losses: whole numbers, with 3 between 2 and 5.
        let t = labels(2400f64.log10(), 28000f64.log10());
        assert_eq!(t, ["3000", "5000", "10000", "20000"]);
        for (at, label) in log_ticks(-5.5, 0.5) {
            let value: f64 = label.parse().unwrap();
            assert!((value.log10() - at).abs() < 1e-9, "{label} drawn at {at}");
        }
    }

    #[test]
    fn a_log_axis_spans_the_curve_and_a_marker_label_is_drawn() {
        let chart = Chart {
            title: "t".into(),
            log_y: true,
            series: vec![Series {
                name: "training".into(),
                points: vec![(1.0, 2.0), (2.0, 0.02), (3.0, 0.01)],
                color: BLUE,
                width: 2,
            }],
            markers: vec![(2.0, "restored: epoch 2".into())],
            ..Chart::default()
        };
        let (_, (y0, y1)) = chart.ranges();
        assert!(y0 < 0.01f64.log10() && y1 > 2f64.log10(), "{y0} {y1}");
        let svg = chart.svg().unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let texts: Vec<String> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text().map(|t| t.trim().to_string()))
            .collect();
        assert!(
            texts.contains(&"restored: epoch 2".to_string()),
            "{texts:?}"
        );
        for label in ["0.01", "0.1", "1", "2"] {
            assert!(texts.contains(&label.to_string()), "{label} in {texts:?}");
        }
    }
}
