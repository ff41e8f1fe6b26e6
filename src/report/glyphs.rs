//! Text for the PNG charts, every glyph on one baseline.
//!
//! plotters' bitmap text (its `ab_glyph` font code) places each glyph on
//! its own: the top of a glyph's pixel box goes at `size / 2 + top`,
//! converted to whole pixels by truncation toward zero. For tall glyphs
//! (digits) that number is negative and moves down; for short ones (`.`,
//! `-`) it is positive and moves up: a decimal point floats above the
//! baseline, `0·001`, and a minus sign sits too high, `1e⁻4`. In a 13 px
//! label the error is a pixel or two, a sixth of the digits' height.
//!
//! [`OneBaseline`] wraps a bitmap backend and draws text itself: the
//! baseline is rounded once per string, and each glyph's whole-pixel box
//! hangs from it, so every glyph keeps the height the font gives it. The
//! text box, anchors and rotation are plotters', so the layout of a chart
//! does not move.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};
use std::sync::OnceLock;

/// The bundled font, parsed once.
fn font() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(super::plot::FONT_BYTES).ok())
        .as_ref()
}

/// One pixel of a glyph: where (from the text's top left, before
/// rotation) and how much of it the glyph covers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coverage {
    pub x: i32,
    pub y: i32,
    pub amount: f32,
}

/// The pixels of `text` at `size` px with the baseline `size / 2` below the
/// top (where plotters puts it), rounded once for the whole string.
pub fn rasterize(text: &str, size: f64) -> Vec<Coverage> {
    let Some(font) = font() else {
        return Vec::new();
    };
    let scaled = font.as_scaled(PxScale::from(size as f32));
    let baseline = (size / 2.0).round() as f32;
    let mut out = Vec::new();
    let mut caret = 0f32;
    let mut previous = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = previous {
            caret += scaled.kern(p, id);
        }
        previous = Some(id);
        // The caret is kept whole too, so that each glyph is drawn as its
        // neighbours are, not blurred by a different sub-pixel offset.
        let glyph = id.with_scale_and_position(scaled.scale(), point(caret.trunc(), baseline));
        if let Some(outline) = font.outline_glyph(glyph) {
            let bounds = outline.px_bounds();
            let (left, top) = (bounds.min.x as i32, bounds.min.y as i32);
            outline.draw(|x, y, amount| {
                out.push(Coverage {
                    x: left + x as i32,
                    y: top + y as i32,
                    amount,
                })
            });
        }
        caret += scaled.h_advance(id);
    }
    out
}

/// A backend that draws text on one baseline and everything else as `B` does.
pub struct OneBaseline<B>(pub B);

impl<B: DrawingBackend> DrawingBackend for OneBaseline<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.fill_polygon(vert, style)
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        self.0.estimate_text_size(text, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.blit_bitmap(pos, size, src)
    }

    /// plotters' own text placement (the text box, its anchor, rotation),
    /// with the glyphs of [`rasterize`].
    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let ((min_x, min_y), (max_x, max_y)) = style
            .layout_box(text)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let turn = style.transform();
        let (w, h) = self.get_size();
        for p in rasterize(text, style.size()) {
            let (x, y) = turn.transform(p.x + dx - min_x, p.y + dy - min_y);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                let ink = BackendColor {
                    alpha: color.alpha * f64::from(p.amount.min(1.0)),
                    rgb: color.rgb,
                };
                self.0.draw_pixel((x, y), ink)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows a glyph inks at least half, as (top, bottom).
    fn inked_rows(pixels: &[Coverage]) -> (i32, i32) {
        let rows = pixels.iter().filter(|p| p.amount >= 0.5).map(|p| p.y);
        let (top, bottom) = rows.fold((i32::MAX, i32::MIN), |(t, b), y| (t.min(y), b.max(y)));
        assert!(top <= bottom, "nothing inked");
        (top, bottom)
    }

    /// The pixels `extra` adds to `base` (both drawn from the same origin).
    fn added(base: &str, extra: &str, size: f64) -> Vec<Coverage> {
        let before = rasterize(base, size);
        let width = before.iter().map(|p| p.x).max().unwrap_or(0);
        rasterize(&format!("{base}{extra}"), size)
            .into_iter()
            .filter(|p| p.x > width)
            .collect()
    }

    #[test]
    fn the_decimal_point_sits_on_the_digits_baseline() {
        // `1` stands flat on the baseline in DejaVu Sans, as `.` does.
        for size in [11.0, 13.0, 14.0, 15.0, 20.0] {
            let one = inked_rows(&rasterize("1", size));
            let point = inked_rows(&added("1", ".", size));
            assert_eq!(
                point.1, one.1,
                "at {size} px the point's bottom row is not the digit's"
            );
        }
    }

    #[test]
    fn the_minus_sign_sits_between_the_baseline_and_the_top_of_the_digits() {
        for size in [11.0, 13.0, 14.0, 15.0, 20.0] {
            let (top, bottom) = inked_rows(&rasterize("1", size));
            let (minus_top, minus_bottom) = inked_rows(&added("1e", "-", size));
            // A hyphen's middle is at about 0.37 of the digit height above
            // the baseline in the font; a row or so of rounding either way.
            let height = (bottom - top + 1) as f64;
            let middle = (minus_top + minus_bottom) as f64 / 2.0;
            let above_baseline = (bottom as f64 + 0.5 - middle) / height;
            assert!(
                (0.25..0.5).contains(&above_baseline),
                "at {size} px the minus is {above_baseline:.2} of the digit height up"
            );
        }
    }

    /// The dark pixels of `text` drawn at `size` px as the PNG charts draw it.
    fn drawn(text: &str, size: f64) -> Vec<(i32, i32)> {
        use plotters::prelude::*;
        assert!(crate::report::plot::font_ready());
        let (w, h) = (160u32, 60u32);
        let mut pixels = vec![255u8; (w * h * 3) as usize];
        {
            let root =
                OneBaseline(BitMapBackend::with_buffer(&mut pixels, (w, h))).into_drawing_area();
            let style = ("sans-serif", size).into_font().color(&BLACK);
            root.draw(&Text::new(text, (10, 10), style)).unwrap();
            root.present().unwrap();
        }
        let dark = pixels.chunks(3).enumerate().filter(|(_, p)| p[0] < 128);
        dark.map(|(i, _)| ((i as u32 % w) as i32, (i as u32 / w) as i32))
            .collect()
    }

    #[test]
    fn in_a_drawn_label_the_point_and_the_minus_sit_where_the_font_puts_them() {
        for size in [13.0, 15.0] {
            let one = drawn("1", size);
            let right = one.iter().map(|p| p.0).max().unwrap();
            let bottom = one.iter().map(|p| p.1).max().unwrap();
            let top = one.iter().map(|p| p.1).min().unwrap();
            let point: Vec<i32> = drawn("1.", size)
                .into_iter()
                .filter(|p| p.0 > right)
                .map(|p| p.1)
                .collect();
            assert_eq!(
                point.iter().max(),
                Some(&bottom),
                "{size} px: `.` off the baseline"
            );
            let minus: Vec<i32> = drawn("1-", size)
                .into_iter()
                .filter(|p| p.0 > right)
                .map(|p| p.1)
                .collect();
            let middle = (minus.iter().min().unwrap() + minus.iter().max().unwrap()) as f64 / 2.0;
            let up = (bottom as f64 + 0.5 - middle) / (bottom - top + 1) as f64;
            assert!(
                (0.25..0.5).contains(&up),
                "{size} px: `-` at {up:.2} of the digit height"
            );
        }
    }

    #[test]
    fn glyphs_follow_each_other_left_to_right() {
        let ones = rasterize("11", 13.0);
        let one = rasterize("1", 13.0);
        let right = one.iter().map(|p| p.x).max().unwrap();
        assert!(
            ones.iter().any(|p| p.x > right + 2),
            "the second 1 overlaps the first"
        );
    }
}
