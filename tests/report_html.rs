//! The HTML report renders in a real browser: headless Chromium takes a
//! screenshot of `report.html`, which must show the report, not a blank or
//! broken page, and dumps the page as it parsed it, which must hold the
//! final model's heat map and scores. Skipped, with a note, where Chromium
//! is not installed.

use std::path::{Path, PathBuf};
use std::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";

/// Chromium's arguments for a quiet, private, headless session.
fn chromium(work: &Path) -> Command {
    let mut command = Command::new(CHROMIUM);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!(
            "--user-data-dir={}",
            work.join("profile").display()
        ));
    command
}

fn screenshot(page: &Path, work: &Path) -> PathBuf {
    let shot = work.join("shot.png");
    let status = chromium(work)
        .arg("--enable-logging=stderr")
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1200,1600")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&status.stderr);
    assert!(shot.is_file(), "no screenshot: {log}");
    // The page's own messages (a script error, a resource that failed to
    // load) are logged as CONSOLE lines; the report should cause none.
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    shot
}

/// The page as Chromium parsed it.
fn dom(page: &Path, work: &Path) -> String {
    let out = chromium(work)
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether a pixel of this colour (within 2 of each channel) is on the screenshot.
fn shows_colour(png_path: &Path, rgb: [u8; 3]) -> bool {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    buf[..info.buffer_size()]
        .chunks(step)
        .any(|p| p[..3].iter().zip(rgb).all(|(&a, b)| a.abs_diff(b) <= 2))
}

/// (width, height, distinct colours, share of near-white pixels)
fn look(png_path: &Path) -> (u32, u32, usize, f64) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(step).collect();
    let colours: std::collections::HashSet<&[u8]> = pixels.iter().map(|p| &p[..3]).collect();
    let light = pixels
        .iter()
        .filter(|p| p[..3].iter().all(|&c| c > 240))
        .count();
    (
        info.width,
        info.height,
        colours.len(),
        light as f64 / pixels.len() as f64,
    )
}

/// A fresh directory for a browser test, or `None` (with a note) when
/// Chromium is not installed and the test is skipped.
fn browser_work_dir(name: &str) -> Option<std::path::PathBuf> {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("note: {CHROMIUM} is not installed; skipping the browser rendering test");
        return None;
    }
    let work = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    Some(work)
}

#[test]
fn run_report_renders_in_chromium() {
    let Some(work) = browser_work_dir("dlc-html") else {
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_dlc"))
        .args([
            "run",
            "tests/programs/overfit.dl",
            "--epochs",
            "60",
            "-q",
            "--out",
        ])
        .arg(work.join("run"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::canonicalize(work.join("run/report.html")).unwrap();
    let shot = screenshot(&page, &work);
    let (w, h, colours, light) = look(&shot);
    assert_eq!((w, h), (1200, 1600));
    // A page with text, coloured curves and a verdict box has many colours
    // and is far from all white.
    assert!(colours > 200, "{colours} colours: the page looks blank");
    assert!(
        light < 0.97,
        "{:.1}% near-white: the page looks blank",
        light * 100.0
    );
    let _ = std::fs::remove_dir_all(&work);
}

/// A two-class run on a real data file, with dropout and early stopping:
/// the report must show the final model's confusion matrix as a heat map
/// (its cells' colours on the screen, the class names, the counts and a
/// colour scale), the scores table with the ROC AUC, the marked kept epoch
/// and the note on training and evaluation modes.
#[test]
fn final_model_section_renders_in_chromium() {
    let Some(work) = browser_work_dir("dlc-html-final") else {
        return;
    };
    std::fs::copy("examples/data/breast_cancer.csv", work.join("cells.csv")).unwrap();
    std::fs::write(
        work.join("cells.dl"),
        r#"data cells = csv("cells.csv", label: "diagnosis") {
    standardize
    validation 0.25
    seed 3
}
network net(x: [30]) -> 2 {
    dense 16
    relu
    dropout 0.3
    dense 2
}
train net on cells {
    loss       cross_entropy
    optimizer  adam(lr: 0.01)
    batch      32
    epochs     40
    early_stop val_loss, patience: 3
    seed       3
}
"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dlc"))
        .current_dir(&work)
        .args(["run", "cells.dl", "-q", "--out", "run"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("validation: accuracy "), "{stdout}");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.join("run/metrics.json")).unwrap())
            .unwrap();
    let confusion = &metrics["final_metrics"]["metrics"]["confusion"];
    let counted: u64 = confusion
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap().iter().map(|c| c.as_u64().unwrap()))
        .sum();
    assert_eq!(metrics["final_metrics"]["set"], "validation");
    assert_eq!(
        counted,
        metrics["final_metrics"]["samples"].as_u64().unwrap()
    );

    let page = std::fs::canonicalize(work.join("run/report.html")).unwrap();
    let parsed = dom(&page, &work);
    let section = section(&parsed, "Final model");
    // The heat map: one cell per pair of classes, each with its count.
    assert_eq!(section.matches("class=\"cell\"").count(), 4, "{section}");
    for row in confusion.as_array().unwrap() {
        for count in row.as_array().unwrap() {
            assert!(
                section.contains(&format!(">{count}</text>")),
                "count {count}"
            );
        }
    }
    for name in ["benign", "malignant"] {
        assert!(section.matches(&format!(">{name}<")).count() >= 3, "{name}");
    }
    assert!(section.contains("class=\"legend\""), "no colour scale");
    for header in ["precision", "recall", "F1", "support"] {
        assert!(section.contains(&format!("<th>{header}</th>")), "{header}");
    }
    assert!(section.contains("<td>ROC AUC</td>"));
    assert!(section.contains("validation set"));
    assert!(parsed.contains("weights: epoch"), "no kept-epoch mark");
    assert!(parsed.contains("measured in training mode"));

    let shot = screenshot(&page, &work);
    let (_, _, colours, light) = look(&shot);
    assert!(colours > 200 && light < 0.97, "the page looks blank");
    // The cells are drawn: the first class's correct cell has the colour
    // of its share of the row, from the light end of the scale to the dark.
    let row: Vec<f64> = confusion[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_f64().unwrap())
        .collect();
    let share = row[0] / row.iter().sum::<f64>();
    let fill = [(235.0, 20.0), (240.0, 70.0), (250.0, 150.0)]
        .map(|(light, dark)| (light + (dark - light) * share).round() as u8);
    assert!(
        shows_colour(&shot, fill),
        "the heat map's cell colour {fill:?} is not on the screen"
    );
    let _ = std::fs::remove_dir_all(&work);
}

/// The part of the page from the heading `title` to the next heading.
fn section(page: &str, title: &str) -> String {
    let heading = format!("<h2>{title}</h2>");
    let Some(start) = page.find(&heading) else {
        return String::new();
    };
    let rest = &page[start + heading.len()..];
    rest[..rest.find("<h2>").unwrap_or(rest.len())].to_string()
}

/// The tune report in Chromium: both heat maps with their colour scale, the
/// winner outlined in one of them, and the confirmation with its decision.
#[test]
fn tune_report_renders_in_chromium() {
    let Some(work) = browser_work_dir("dlc-html-tune") else {
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_dlc"))
        .args([
            "tune",
            "tests/programs/tune_small.dl",
            "--epochs",
            "1",
            "--fine-epochs",
            "1",
            "--top",
            "1",
            "--finder-steps",
            "60",
            "-q",
            "--out",
        ])
        .arg(work.join("tune"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::canonicalize(work.join("tune/report.html")).unwrap();
    let parsed = dom(&page, &work);
    // plotters writes each text on lines of its own.
    let grid = section(&parsed, "Grid").replace('\n', "");
    assert_eq!(grid.matches("<svg").count(), 2, "two heat maps");
    // Each map's scale is headed by what its colours measure.
    assert_eq!(grid.matches(">validation loss</text>").count(), 2, "{grid}");
    assert_eq!(
        grid.matches(">winner</text>").count(),
        1,
        "one winner marked"
    );
    let confirmation = section(&parsed, "Confirmation");
    assert!(confirmation.contains("Kept: "), "{confirmation}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.join("tune/tune.json")).unwrap())
            .unwrap();
    if let Some(seeds) = json["confirmation"]["seeds"].as_array() {
        // One row per seed and the means.
        assert_eq!(
            confirmation.matches("<tr").count(),
            seeds.len() + 2,
            "{confirmation}"
        );
    }
    let shot = screenshot(&page, &work);
    let (_, _, colours, light) = look(&shot);
    assert!(colours > 200 && light < 0.97, "the page looks blank");
    let _ = std::fs::remove_dir_all(&work);
}
