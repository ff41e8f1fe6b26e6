//! Line charts and heat maps, drawn once and written as SVG (for the HTML
//! report and browsers) and PNG (for everything else).
//!
//! Drawing is done by `plotters`; text is laid out with the bundled DejaVu
//! Sans (`assets/`), so a PNG looks the same on every machine. A logarithmic
//! axis is drawn as a linear axis of log10(value) with labels `1e-3`, which
//! keeps one code path for both kinds of axis.

use plotters::coord::Shift;
use plotters::prelude::*;
use std::sync::OnceLock;

/// The family name charts ask for; the bundled font is registered under it.
const FAMILY: &str = "sans-serif";
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

#[derive(Debug, thiserror::Error)]
#[error("cannot draw the chart `{chart}`: {reason}")]
pub struct PlotError {
    pub chart: String,
    pub reason: String,
}

/// Registers the bundled font once; plotters finds it by family name.
fn font_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok())
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
    pub series: Vec<Series>,
    /// Vertical lines at these x values, labelled.
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

/// A coloured grid of values (lower is better: darker), with labelled rows
/// and columns; `None` cells are left grey.
#[derive(Clone, Debug, Default)]
pub struct HeatMap {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub columns: Vec<String>,
    pub rows: Vec<String>,
    /// `values[row][column]`.
    pub values: Vec<Vec<Option<f64>>>,
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

/// Draws with `draw` as an RGB image, encoded as PNG.
pub fn png(
    name: &str,
    size: (u32, u32),
    draw: impl Fn(&DrawingArea<BitMapBackend, Shift>) -> Result<(), String>,
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
        let root = BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area();
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

fn text(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().into()
}

/// `1e-3` for an exponent that is whole, `3.2e-3` between.
fn power_label(v: f64) -> String {
    let value = 10f64.powf(v);
    crate::syntax::format_number(value)
}

impl Chart {
    fn x(&self, v: f64) -> f64 {
        if self.log_x { v.max(1e-300).log10() } else { v }
    }

    /// The ranges of the axes, from every finite point.
    fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let xs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| self.x(p.0)));
        let ys = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1));
        let span = |it: &mut dyn Iterator<Item = f64>| {
            it.filter(|v| v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(v), hi.max(v))
                })
        };
        let (mut x0, mut x1) = span(&mut xs.into_iter());
        let (mut y0, mut y1) = span(&mut ys.into_iter());
        if let Some(m) = self.y_max {
            y1 = y1.min(m);
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
        (
            (x0, x1),
            (
                (y0 - pad).max(if y0 >= 0.0 { 0.0 } else { f64::MIN }),
                y1 + pad,
            ),
        )
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
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .label_style(text(13))
            .axis_desc_style(text(15))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(e)?;
        if let Some((a, b)) = self.band {
            let rect = Rectangle::new([(self.x(a), y0), (self.x(b), y1)], GREEN.mix(0.12).filled());
            chart.draw_series(std::iter::once(rect)).map_err(e)?;
        }
        for (at, label) in &self.markers {
            let x = self.x(*at);
            let line = PathElement::new(vec![(x, y0), (x, y1)], GREEN.stroke_width(2));
            chart.draw_series(std::iter::once(line)).map_err(e)?;
            let note = Text::new(
                label.clone(),
                (x, y1 - (y1 - y0) * 0.03),
                text(13).color(&GREEN),
            );
            chart.draw_series(std::iter::once(note)).map_err(e)?;
        }
        for s in &self.series {
            let points: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter(|p| p.0.is_finite() && p.1.is_finite())
                .map(|&(x, y)| (self.x(x), y.clamp(y0, y1)))
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

impl HeatMap {
    /// Draws the grid: darker blue for lower values, the value in each cell.
    pub fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(e)?;
        let (nx, ny) = (self.columns.len().max(1), self.rows.len().max(1));
        let finite = self
            .values
            .iter()
            .flatten()
            .flatten()
            .copied()
            .filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, text(20))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(80)
            .build_cartesian_2d(0f64..nx as f64, 0f64..ny as f64)
            .map_err(e)?;
        let label = |names: &[String], v: f64| {
            let i = v.floor() as usize;
            if (v - i as f64 - 0.5).abs() < 1e-6 {
                names.get(i).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        let x_fmt = |v: &f64| label(&self.columns, *v);
        let y_fmt = |v: &f64| label(&self.rows, *v);
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nx * 2 + 1)
            .y_labels(ny * 2 + 1)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .label_style(text(13))
            .axis_desc_style(text(15))
            .draw()
            .map_err(e)?;
        for (r, row) in self.values.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let (x, y) = (c as f64, r as f64);
                let (fill, ink, shown) = match v {
                    Some(v) if v.is_finite() => {
                        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
                        let shade = |a: f64, b: f64| (a + (b - a) * t) as u8;
                        let fill =
                            RGBColor(shade(20.0, 235.0), shade(70.0, 240.0), shade(150.0, 250.0));
                        let ink = if t < 0.5 { WHITE } else { BLACK };
                        (fill, ink, format!("{v:.3}"))
                    }
                    Some(_) => (RGBColor(200, 80, 80), WHITE, "diverged".to_string()),
                    None => (RGBColor(225, 225, 225), GREY, String::new()),
                };
                let cell =
                    Rectangle::new([(x + 0.02, y + 0.02), (x + 0.98, y + 0.98)], fill.filled());
                chart.draw_series(std::iter::once(cell)).map_err(e)?;
                let style = text(13)
                    .color(&ink)
                    .pos(plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Center,
                        plotters::style::text_anchor::VPos::Center,
                    ));
                chart
                    .draw_series(std::iter::once(Text::new(shown, (x + 0.5, y + 0.5), style)))
                    .map_err(e)?;
            }
        }
        Ok(())
    }

    pub fn svg(&self) -> Result<String, PlotError> {
        svg(&self.title, SIZE, |root| self.draw(root))
    }

    pub fn png(&self) -> Result<Vec<u8>, PlotError> {
        png(&self.title, SIZE, |root| self.draw(root))
    }
}
