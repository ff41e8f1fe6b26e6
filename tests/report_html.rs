//! The HTML report renders in a real browser: headless Chromium takes a
//! screenshot of `report.html`, which must show the report, not a blank or
//! broken page. Skipped, with a note, where Chromium is not installed.

use std::path::{Path, PathBuf};
use std::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";

fn screenshot(page: &Path, work: &Path) -> PathBuf {
    let shot = work.join("shot.png");
    let status = Command::new(CHROMIUM)
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
        ))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1200,1600")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        shot.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    shot
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

#[test]
fn run_report_renders_in_chromium() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("note: {CHROMIUM} is not installed; skipping the browser rendering test");
        return;
    }
    let work = std::env::temp_dir().join(format!("dlc-html-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
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
