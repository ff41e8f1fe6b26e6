//! A self-contained HTML page: inline CSS and inline SVG, nothing fetched
//! from anywhere, so the report opens the same offline, from any folder.

use super::files::escape;
use super::verdict::{Fit, Verdict};

pub struct Page {
    pub title: String,
    /// A line under the title: what was run, when it finished.
    pub subtitle: String,
    pub sections: Vec<Section>,
}

pub struct Section {
    pub heading: String,
    pub blocks: Vec<Block>,
}

pub enum Block {
    Text(String),
    /// Preformatted text (program text, summary table).
    Pre(String),
    /// An SVG chart, drawn inline as wide as the page allows.
    Svg(String),
    /// An SVG drawing at its own size (the confusion matrix).
    Figure(String),
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
        /// A row to emphasise (the winner).
        highlight: Option<usize>,
    },
    Verdict(Verdict),
    /// A block shown on request, under a one-line summary.
    Folded(String, Box<Block>),
}

const STYLE: &str = "
body { font-family: 'DejaVu Sans', Verdana, sans-serif; margin: 0 auto; max-width: 1100px;
       padding: 24px; color: #222; background: #fafafa; }
h1 { font-size: 26px; margin-bottom: 4px; }
.subtitle { color: #666; margin-top: 0; }
h2 { font-size: 20px; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 32px; }
pre { background: #fff; border: 1px solid #ddd; padding: 12px; overflow-x: auto;
      font-size: 13px; line-height: 1.35; white-space: pre-wrap; overflow-wrap: anywhere; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.chart { background: #fff; border: 1px solid #ddd; flex: 1 1 480px; max-width: 800px; }
.chart svg { display: block; width: 100%; height: auto; }
.figure { display: inline-block; background: #fff; border: 1px solid #ddd; margin: 0 0 12px 0; }
.figure svg { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; background: #fff; font-size: 14px; }
th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: right; }
th { background: #f0f0f0; }
tr.best td { background: #e3f4e3; font-weight: bold; }
summary { cursor: pointer; margin: 8px 0; }
.verdict { border-left: 8px solid; padding: 10px 16px; background: #fff; }
.verdict h3 { margin: 0 0 8px 0; font-size: 20px; }
.good { border-color: #2ca02c; } .over { border-color: #d62728; }
.under { border-color: #e6a000; } .unknown { border-color: #999; }
.help { color: #0b5394; }
";

pub fn render(page: &Page) -> String {
    let mut s = String::new();
    s += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    s += &format!(
        "<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&page.title)
    );
    s += &format!(
        "<h1>{}</h1>\n<p class=\"subtitle\">{}</p>\n",
        escape(&page.title),
        escape(&page.subtitle)
    );
    for section in &page.sections {
        s += &format!("<h2>{}</h2>\n", escape(&section.heading));
        let mut charts = false;
        for block in &section.blocks {
            let is_chart = matches!(block, Block::Svg(_));
            if is_chart && !charts {
                s += "<div class=\"charts\">\n";
            } else if !is_chart && charts {
                s += "</div>\n";
            }
            charts = is_chart;
            s += &render_block(block);
        }
        if charts {
            s += "</div>\n";
        }
    }
    s += "</body>\n</html>\n";
    s
}

/// An SVG document without its XML declaration, which has no place inline.
fn inline(svg: &str) -> &str {
    let body = svg.trim_start();
    match body.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or(body, |(_, r)| r.trim_start()),
        None => body,
    }
}

fn render_block(block: &Block) -> String {
    match block {
        Block::Text(t) => format!("<p>{}</p>\n", escape(t)),
        Block::Pre(t) => format!("<pre>{}</pre>\n", escape(t)),
        Block::Svg(svg) => format!("<div class=\"chart\">{}</div>\n", inline(svg)),
        Block::Figure(svg) => format!("<div class=\"figure\">{}</div>\n", inline(svg)),
        Block::Table {
            header,
            rows,
            highlight,
        } => {
            let mut s = String::from("<table>\n<tr>");
            for h in header {
                s += &format!("<th>{}</th>", escape(h));
            }
            s += "</tr>\n";
            for (i, row) in rows.iter().enumerate() {
                let class = if Some(i) == *highlight {
                    " class=\"best\""
                } else {
                    ""
                };
                s += &format!("<tr{class}>");
                for c in row {
                    s += &format!("<td>{}</td>", escape(c));
                }
                s += "</tr>\n";
            }
            s + "</table>\n"
        }
        Block::Folded(summary, inner) => format!(
            "<details>\n<summary>{}</summary>\n{}</details>\n",
            escape(summary),
            render_block(inner)
        ),
        Block::Verdict(v) => {
            let class = match v.fit {
                Fit::GoodFit => "good",
                Fit::OverFitting => "over",
                Fit::UnderFitting => "under",
                Fit::Unknown => "unknown",
            };
            let mut s = format!(
                "<div class=\"verdict {class}\">\n<h3>Verdict: {}</h3>\n<ul>\n",
                escape(v.fit.name())
            );
            for r in &v.reasons {
                s += &format!("<li>{}</li>\n", escape(r));
            }
            for a in &v.advice {
                s += &format!("<li class=\"help\">{}</li>\n", escape(a));
            }
            s + "</ul>\n</div>\n"
        }
    }
}
