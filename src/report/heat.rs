//! The tuner's heat map: a coloured grid of scores with a colour scale
//! beside it and the winning cell marked.

use super::plot::{GREY, ORANGE, PlotError, SIZE, png, svg, text};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

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
    /// What the values are, above the colour scale (`loss`).
    pub measure: String,
    /// The cell to mark as the winner, `(row, column)`.
    pub mark: Option<(usize, usize)>,
}

/// The width kept right of the grid for the colour scale.
const SCALE_AREA: u32 = 110;
const DIVERGED: RGBColor = RGBColor(200, 80, 80);
const CENTRE: Pos = Pos {
    h_pos: HPos::Center,
    v_pos: VPos::Center,
};
const EMPTY: RGBColor = RGBColor(225, 225, 225);

/// The colour of `t` in [0, 1] along the scale: 0 (the lowest value) dark.
pub fn shade(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    RGBColor(mix(20.0, 235.0), mix(70.0, 240.0), mix(150.0, 250.0))
}

impl HeatMap {
    /// The lowest and highest finite values, if any.
    fn span(&self) -> Option<(f64, f64)> {
        let finite = self.values.iter().flatten().flatten().copied();
        let (lo, hi) = finite
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
        (lo <= hi).then_some((lo, hi))
    }

    /// Draws the grid: darker blue for lower values, the value in each
    /// cell, the winner outlined; the colour scale to the right.
    pub fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(e)?;
        let (width, _) = root.dim_in_pixel();
        let (grid_area, scale_area) = root.split_horizontally(width as i32 - SCALE_AREA as i32);
        let (nx, ny) = (self.columns.len().max(1), self.rows.len().max(1));
        let span = self.span();
        let mut chart = ChartBuilder::on(&grid_area)
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
                let (fill, ink, shown) = match (v, span) {
                    (Some(v), Some((lo, hi))) if v.is_finite() => {
                        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
                        let ink = if t < 0.5 { WHITE } else { BLACK };
                        (shade(t), ink, format!("{v:.3}"))
                    }
                    (Some(_), _) => (DIVERGED, WHITE, "diverged".to_string()),
                    (None, _) => (EMPTY, GREY, String::new()),
                };
                let cell =
                    Rectangle::new([(x + 0.02, y + 0.02), (x + 0.98, y + 0.98)], fill.filled());
                chart.draw_series(std::iter::once(cell)).map_err(e)?;
                let value = Text::new(shown, (x + 0.5, y + 0.5), text(13).color(&ink).pos(CENTRE));
                chart.draw_series(std::iter::once(value)).map_err(e)?;
                if self.mark == Some((r, c)) {
                    let outline = Rectangle::new(
                        [(x + 0.04, y + 0.04), (x + 0.96, y + 0.96)],
                        ORANGE.stroke_width(4),
                    );
                    let note = Text::new(
                        "winner",
                        (x + 0.5, y + 0.78),
                        text(12).color(&ink).pos(CENTRE),
                    );
                    chart.draw_series(std::iter::once(outline)).map_err(e)?;
                    chart.draw_series(std::iter::once(note)).map_err(e)?;
                }
            }
        }
        // The scale runs beside the plotting area, from its top to its bottom.
        let (_, top) = chart.backend_coord(&(0.0, ny as f64));
        let (_, bottom) = chart.backend_coord(&(0.0, 0.0));
        let (_, area_top) = scale_area.get_base_pixel();
        self.draw_scale(&scale_area, top - area_top, bottom - area_top)
            .map_err(e)
    }

    /// The colour scale: the highest value at the top (light), the lowest at
    /// the bottom (dark), the middle value between; and the key to the red
    /// and grey cells below it.
    fn draw_scale<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        top: i32,
        bottom: i32,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let (x0, x1) = (10, 28);
        let steps = 64;
        let height = (bottom - top).max(1);
        for i in 0..steps {
            let (a, b) = (top + height * i / steps, top + height * (i + 1) / steps);
            // Row i from the top: the share of the way down from the highest value.
            let t = 1.0 - (i as f64 + 0.5) / steps as f64;
            area.draw(&Rectangle::new([(x0, a), (x1, b)], shade(t).filled()))?;
        }
        area.draw(&Rectangle::new(
            [(x0, top), (x1, bottom)],
            GREY.stroke_width(1),
        ))?;
        area.draw(&Text::new(
            self.measure.clone(),
            (4, top - 20),
            text(12).color(&BLACK),
        ))?;
        let left = |size| text(size).pos(Pos::new(HPos::Left, VPos::Center));
        if let Some((lo, hi)) = self.span() {
            let mid = (lo + hi) / 2.0;
            for (v, y) in [(hi, top), (mid, (top + bottom) / 2), (lo, bottom)] {
                area.draw(&PathElement::new(vec![(x1, y), (x1 + 4, y)], BLACK))?;
                area.draw(&Text::new(format!("{v:.3}"), (x1 + 7, y), left(12)))?;
            }
        }
        let mut y = bottom + 22;
        let any = |f: &dyn Fn(&Option<f64>) -> bool| self.values.iter().flatten().any(f);
        for (present, colour, what) in [
            (
                any(&|v| v.is_some_and(|v| !v.is_finite())),
                DIVERGED,
                "diverged",
            ),
            (any(&|v| v.is_none()), EMPTY, "not run"),
        ] {
            if present {
                area.draw(&Rectangle::new([(x0, y - 6), (x1, y + 6)], colour.filled()))?;
                area.draw(&Text::new(what, (x1 + 7, y), left(12)))?;
                y += 20;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn map(mark: Option<(usize, usize)>) -> HeatMap {
        HeatMap {
            title: "grid".into(),
            x_label: "learning rate".into(),
            y_label: "decay".into(),
            columns: vec!["0.01".into(), "0.1".into()],
            rows: vec!["0".into(), "0.001".into()],
            values: vec![vec![Some(0.5), Some(0.25)], vec![Some(0.75), None]],
            measure: "best validation loss".into(),
            mark,
        }
    }

    fn texts(svg: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
        doc.descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text().map(|t| t.trim().to_string()))
            .collect()
    }

    #[test]
    fn the_scale_is_labelled_with_the_lowest_middle_and_highest_values() {
        let t = texts(&map(None).svg().unwrap());
        assert!(t.contains(&"best validation loss".to_string()), "{t:?}");
        // The lowest 0.25, the highest 0.75: each in its cell and on the
        // scale; the middle 0.5 too (also a cell's value).
        for v in ["0.250", "0.750", "0.500"] {
            assert_eq!(t.iter().filter(|s| *s == v).count(), 2, "{v} in {t:?}");
        }
        assert!(t.contains(&"not run".to_string()));
        assert!(!t.contains(&"diverged".to_string()));
    }

    #[test]
    fn the_winner_is_marked_only_when_there_is_one() {
        assert!(texts(&map(Some((0, 1))).svg().unwrap()).contains(&"winner".to_string()));
        assert!(!texts(&map(None).svg().unwrap()).contains(&"winner".to_string()));
    }

    #[test]
    fn the_scale_runs_from_dark_for_the_lowest_to_light_for_the_highest() {
        assert_eq!(shade(0.0), RGBColor(20, 70, 150));
        assert_eq!(shade(1.0), RGBColor(235, 240, 250));
    }
}
