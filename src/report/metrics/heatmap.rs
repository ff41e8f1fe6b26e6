//! The confusion matrix as a small SVG heat map.
//!
//! Written by hand rather than with plotters: a grid of rectangles and
//! labels needs no axes or scales, and plain SVG text stays selectable and
//! searchable in the HTML report. The palette and fonts are the charts'.

use super::{ClassMetrics, name_of};
use crate::report::files::escape;
use std::fmt::Write;

/// The font of the HTML report, which the inline SVG inherits the look of.
const FONT: &str = "'DejaVu Sans', Verdana, sans-serif";
const LABEL_SIZE: f64 = 13.0;
const TITLE_SIZE: f64 = 15.0;
/// The width of an average character of DejaVu Sans, in ems: enough to
/// leave room for the labels without measuring them.
const CHAR_WIDTH: f64 = 0.6;
const MARGIN: f64 = 10.0;
/// The empty share and the full share: the ends of the tuner heat map's blues.
/// The colour scale: its distance from the grid, its bar's width and the
/// room for its labels (`100%`).
const LEGEND_GAP: f64 = 18.0;
const LEGEND_WIDTH: f64 = 12.0;
const LEGEND_LABELS: f64 = 44.0;
const LIGHT: [f64; 3] = [235.0, 240.0, 250.0];
const DARK: [f64; 3] = [20.0, 70.0, 150.0];

/// A coordinate with at most one decimal, so the file stays small.
fn px(x: f64) -> String {
    format!("{}", (x * 10.0).round() / 10.0)
}

/// The colour of a cell holding `share` of its row.
fn fill(share: f64) -> String {
    let [r, g, b] = [0, 1, 2].map(|i| (LIGHT[i] + (DARK[i] - LIGHT[i]) * share).round() as u8);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The confusion matrix as an SVG document: true classes down, predicted
/// classes across, the count written in each cell.
///
/// A cell's colour is its share of its row (of the samples of that true
/// class), not its raw count: a rare class that is always confused shows as
/// clearly as a common one, and the diagonal reads as per-class recall. A
/// row with no samples stays light. Names missing from `class_names` are
/// written as the class index.
pub fn confusion_svg(metrics: &ClassMetrics, class_names: &[String]) -> String {
    let n = metrics.classes();
    let names: Vec<String> = (0..n).map(|c| name_of(class_names, c)).collect();
    let cell = (480.0 / n.max(1) as f64).clamp(20.0, 56.0);
    let count_size = (cell * 0.4).min(LABEL_SIZE);
    let longest = names.iter().map(|s| s.chars().count()).max().unwrap_or(0);
    let label_width = longest as f64 * LABEL_SIZE * CHAR_WIDTH;
    // Column labels wider than a cell are turned by 45 degrees.
    let turned = label_width > cell - 4.0;
    let (turned_width, turned_height) = (label_width * 0.71, label_width * 0.71 + LABEL_SIZE);
    let left = (MARGIN + TITLE_SIZE + 14.0 + label_width + 8.0).max(turned_width + MARGIN);
    let top = MARGIN + LABEL_SIZE + 8.0;
    let grid = cell * n as f64;
    let below = if turned {
        turned_height
    } else {
        LABEL_SIZE + 6.0
    };
    // The colour scale stands right of the grid, as tall as the grid.
    let scale_x = left + grid.max(140.0) + LEGEND_GAP;
    let width = scale_x + LEGEND_WIDTH + LEGEND_LABELS + MARGIN;
    let height = top + grid + 8.0 + below + TITLE_SIZE + 8.0 + MARGIN;

    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" font-family=\"{FONT}\" fill=\"#222\">\n\
         <title>confusion matrix</title>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n",
        w = px(width),
        h = px(height),
    );
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#666\">colour: share of the true class</text>",
        px(left),
        px(MARGIN + 11.0),
    );
    for (r, row) in metrics.confusion.iter().enumerate() {
        let total: u64 = row.iter().sum();
        let y = top + r as f64 * cell;
        for (c, &count) in row.iter().enumerate() {
            let share = if total == 0 {
                0.0
            } else {
                count as f64 / total as f64
            };
            let ink = if share > 0.5 { "#fff" } else { "#222" };
            let x = left + c as f64 * cell;
            let _ = writeln!(
                svg,
                "<g class=\"cell\"><title>true {}, predicted {}: {count} ({:.0}% of the row)</title>\
                 <rect x=\"{}\" y=\"{}\" width=\"{s}\" height=\"{s}\" fill=\"{}\" stroke=\"#fff\"/>\
                 <text class=\"count\" x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{ink}\" \
                 text-anchor=\"middle\" dominant-baseline=\"central\">{count}</text></g>",
                escape(&names[r]),
                escape(&names[c]),
                share * 100.0,
                px(x),
                px(y),
                fill(share),
                px(x + cell / 2.0),
                px(y + cell / 2.0),
                px(count_size),
                s = px(cell),
            );
        }
    }
    svg += &colour_scale(scale_x, top, grid.max(LABEL_SIZE * 3.0));
    let label = |x: f64, y: f64, anchor: &str, extra: &str, name: &str| {
        format!(
            "<text class=\"class\" x=\"{}\" y=\"{}\" font-size=\"{LABEL_SIZE}\" \
             text-anchor=\"{anchor}\" dominant-baseline=\"central\"{extra}>{}</text>\n",
            px(x),
            px(y),
            escape(name)
        )
    };
    for (i, name) in names.iter().enumerate() {
        let middle = i as f64 * cell + cell / 2.0;
        svg += &label(left - 8.0, top + middle, "end", "", name);
        let (x, y) = (left + middle, top + grid + 8.0 + LABEL_SIZE / 2.0);
        if turned {
            let turn = format!(" transform=\"rotate(-45 {} {})\"", px(x), px(y));
            svg += &label(x, y, "end", &turn, name);
        } else {
            svg += &label(x, y, "middle", "", name);
        }
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" font-size=\"{TITLE_SIZE}\" text-anchor=\"middle\">predicted</text>",
        px(left + grid / 2.0),
        px(top + grid + 8.0 + below + TITLE_SIZE),
    );
    let (x, y) = (MARGIN + TITLE_SIZE, top + grid / 2.0);
    let _ = writeln!(
        svg,
        "<text x=\"{x}\" y=\"{y}\" font-size=\"{TITLE_SIZE}\" text-anchor=\"middle\" \
         transform=\"rotate(-90 {x} {y})\">true</text>",
        x = px(x),
        y = px(y),
    );
    svg + "</svg>\n"
}

/// The bands the colour scale is drawn in: plain rectangles rather than a
/// gradient, which would need an `url(#id)` reference that breaks when two
/// drawings on one page share the id.
const SCALE_BANDS: usize = 20;

/// The legend of the colours: a bar from the full share (top, dark) to
/// none (bottom, light), labelled 100%, 50% and 0%.
fn colour_scale(x: f64, top: f64, height: f64) -> String {
    let mut s = String::from(
        "<g class=\"legend\"><title>colour: the share of the true class's samples</title>\n",
    );
    let band = height / SCALE_BANDS as f64;
    for i in 0..SCALE_BANDS {
        // Band i from the top, coloured by the share at its middle.
        let share = 1.0 - (i as f64 + 0.5) / SCALE_BANDS as f64;
        let _ = write!(
            s,
            "<rect class=\"band\" x=\"{}\" y=\"{}\" width=\"{LEGEND_WIDTH}\" height=\"{}\" fill=\"{}\"/>",
            px(x),
            px(top + i as f64 * band),
            px(band + 0.5),
            fill(share),
        );
    }
    let _ = writeln!(
        s,
        "\n<rect x=\"{}\" y=\"{}\" width=\"{LEGEND_WIDTH}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>",
        px(x),
        px(top),
        px(height),
    );
    for (share, label) in [(1.0, "100%"), (0.5, "50%"), (0.0, "0%")] {
        let y = top + (1.0 - share) * height;
        let _ = writeln!(
            s,
            "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#666\"/>\
             <text class=\"scale\" x=\"{}\" y=\"{y}\" font-size=\"11\" \
             dominant-baseline=\"central\">{label}</text>",
            px(x + LEGEND_WIDTH),
            px(x + LEGEND_WIDTH + 4.0),
            px(x + LEGEND_WIDTH + 6.0),
            y = px(y),
        );
    }
    s + "</g>\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// The cells' `(count text, fill)` in document order.
    fn cells(svg: &str) -> Vec<(String, String)> {
        let doc = roxmltree::Document::parse(svg).expect("the SVG is well-formed XML");
        doc.descendants()
            .filter(|n| n.attribute("class") == Some("cell"))
            .map(|g| {
                let child = |tag: &str| g.children().find(|n| n.has_tag_name(tag)).unwrap();
                let text = child("text").text().unwrap_or_default().to_string();
                (text, child("rect").attribute("fill").unwrap().to_string())
            })
            .collect()
    }

    #[test]
    fn each_cell_has_one_text_with_its_count_in_row_major_order() {
        // Rows (true class): a = 2, 1, 0; b = 0, 3, 1; c = 1, 0, 1: not
        // symmetric, so a transposed matrix would be caught.
        let m = ClassMetrics::new(
            &[0, 0, 0, 1, 1, 1, 1, 2, 2],
            &[0, 0, 1, 1, 1, 1, 2, 0, 2],
            3,
        );
        let svg = confusion_svg(&m, &names(&["a", "b", "c"]));
        let counts: Vec<String> = cells(&svg).into_iter().map(|c| c.0).collect();
        assert_eq!(counts, ["2", "1", "0", "0", "3", "1", "1", "0", "1"]);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let in_cells = doc
            .descendants()
            .filter(|n| n.has_tag_name("text") && n.attribute("class") == Some("count"))
            .count();
        assert_eq!(in_cells, 9);
    }

    #[test]
    fn names_label_both_axes_and_the_axes_have_titles() {
        let m = ClassMetrics::new(&[0, 1], &[0, 1], 2);
        let svg = confusion_svg(&m, &names(&["cat", "dog <3"]));
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let texts: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .collect();
        // Each name once down the side and once across the bottom.
        assert_eq!(texts.iter().filter(|t| **t == "cat").count(), 2);
        assert_eq!(texts.iter().filter(|t| **t == "dog <3").count(), 2);
        assert!(texts.contains(&"predicted") && texts.contains(&"true"));
    }

    #[test]
    fn colour_is_the_share_of_the_row_not_the_count() {
        // Row 0: 1 and 1 (half each); row 1: 10 and 10 (half each); row 2 is
        // empty; the 3 x 3 matrix has 1 + 1 + 10 + 10 = 22 samples.
        let labels: Vec<u32> = [0, 0].into_iter().chain([1; 20]).collect();
        let predicted: Vec<u32> = [0, 1].into_iter().chain([0, 1].repeat(10)).collect();
        let m = ClassMetrics::new(&labels, &predicted, 3);
        let fills: Vec<String> = cells(&confusion_svg(&m, &[]))
            .into_iter()
            .map(|c| c.1)
            .collect();
        // Half of a row: halfway from (235, 240, 250) to (20, 70, 150),
        // (127.5, 155, 200) rounded: #80 9b c8.
        assert_eq!(fills[0], "#809bc8");
        assert_eq!(fills[3], "#809bc8");
        // Nothing: the light end; an empty row stays light.
        assert_eq!(fills[2], "#ebf0fa");
        assert_eq!(fills[6..], ["#ebf0fa"; 3]);
        // A whole row: the dark end.
        let full = ClassMetrics::new(&[0, 0, 0], &[0, 0, 0], 1);
        assert_eq!(cells(&confusion_svg(&full, &[]))[0].1, "#144696");
    }

    #[test]
    fn long_names_are_turned_and_still_parse() {
        let long = names(&["a very long class name", "another long one"]);
        let svg = confusion_svg(&ClassMetrics::new(&[0, 1], &[1, 1], 2), &long);
        assert!(svg.contains("rotate(-45"));
        assert_eq!(cells(&svg).len(), 4);
    }

    #[test]
    fn the_colour_scale_runs_from_the_empty_to_the_full_share() {
        let m = ClassMetrics::new(&[0, 1], &[0, 1], 2);
        let svg = confusion_svg(&m, &[]);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let legend = doc
            .descendants()
            .find(|n| n.attribute("class") == Some("legend"))
            .expect("a colour legend");
        let bands: Vec<&str> = legend
            .descendants()
            .filter(|n| n.attribute("class") == Some("band"))
            .filter_map(|n| n.attribute("fill"))
            .collect();
        // Dark at the top, light at the bottom: the colours of the shares at
        // the middles of the first and last bands.
        let last = (SCALE_BANDS as f64 - 0.5) / SCALE_BANDS as f64;
        assert_eq!(bands.len(), SCALE_BANDS);
        assert_eq!(bands[0], fill(last));
        assert_eq!(bands[SCALE_BANDS - 1], fill(1.0 - last));
        assert!(
            !svg.contains("url("),
            "the scale refers to nothing outside itself"
        );
        let labels: Vec<&str> = legend
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(labels, ["100%", "50%", "0%"]);
        // The bar lies inside the drawing, right of every cell.
        let width: f64 = doc
            .root_element()
            .attribute("width")
            .unwrap()
            .parse()
            .unwrap();
        let bar = legend
            .descendants()
            .find(|n| n.has_tag_name("rect"))
            .unwrap();
        let bar_x: f64 = bar.attribute("x").unwrap().parse().unwrap();
        let cell_right = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("cell"))
            .flat_map(|g| g.children().filter(|n| n.has_tag_name("rect")))
            .map(|r| {
                let x: f64 = r.attribute("x").unwrap().parse().unwrap();
                x + r.attribute("width").unwrap().parse::<f64>().unwrap()
            })
            .fold(0.0, f64::max);
        assert!(bar_x > cell_right && bar_x + LEGEND_WIDTH < width);
    }

    #[test]
    fn no_classes_is_still_a_document() {
        let svg = confusion_svg(&ClassMetrics::new(&[], &[], 0), &[]);
        assert!(cells(&svg).is_empty());
    }
}
