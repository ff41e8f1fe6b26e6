//! Compile time and code size follow the program, not its numbers: a
//! pooling window of a million positions or a convolution kernel of 256x256
//! compiles as fast, and into as much code, as a small one. Each kernel
//! whose work grows with a window, kernel or image size loops over it
//! instead of unrolling it past a small size.
//!
//! The programs are only compiled (`dlc::compile` generates no data), for
//! batches of 2, so nothing large is allocated.

use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The longest one compile may take: a few seconds on a slow machine in an
/// optimised build (`cargo test --release`), where these compile in about
/// 50 ms; unoptimised code runs about ten times slower. A window unrolled
/// instead takes minutes and gigabytes.
const LIMIT: Duration = if cfg!(debug_assertions) {
    Duration::from_secs(30)
} else {
    Duration::from_secs(3)
};

/// A classifier of `[c, size, size]` images whose network starts with `layer`.
fn program(c: usize, size: usize, layer: &str) -> String {
    format!(
        "data d = random_images(points: 4, shape: [{c}, {size}, {size}], classes: 2)\n\
         network net(x: [{c}, {size}, {size}]) -> 2 {{ {layer}; flatten; dense 2 }}\n\
         train net on d {{ loss cross_entropy; optimizer sgd(lr: 0.1); batch 2; epochs 1 }}\n"
    )
}

/// Compiles `source` on a thread of its own; fails when it does not
/// compile, or not within [`LIMIT`].
fn compiles_in_time(what: &str, source: String) {
    // One compile at a time, across the tests running in parallel: the time
    // measured is then the compile's own, not that of its neighbours.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let start = Instant::now();
        let outcome = dlc::compile(&source).map(|_| ()).map_err(|e| e.to_string());
        let _ = tx.send((outcome, start.elapsed()));
    });
    match rx.recv_timeout(LIMIT) {
        Ok((Ok(()), elapsed)) => assert!(
            elapsed <= LIMIT,
            "{what}: compiled in {elapsed:?} (limit {LIMIT:?})"
        ),
        Ok((Err(e), _)) => panic!("{what}: {e}"),
        Err(_) => panic!("{what}: not compiled within {LIMIT:?}"),
    }
}

#[test]
fn a_max_pooling_window_of_a_million_positions_compiles_in_seconds() {
    compiles_in_time("maxpool 1000", program(1, 1000, "maxpool 1000"));
}

#[test]
fn average_pooling_over_large_windows_compiles_in_seconds() {
    let layer = "avgpool 500, stride: 250, pad: 250";
    compiles_in_time(layer, program(2, 1000, layer));
}

#[test]
fn a_256x256_convolution_kernel_compiles_in_seconds() {
    compiles_in_time("conv kernel 256", program(1, 256, "conv 2, kernel: 256"));
    let layer = "conv 2, kernel: 250, stride: 3, pad: 6";
    compiles_in_time(layer, program(1, 256, layer));
    // The code im2col unrolls grows with the kernel's width: a kernel as
    // wide as an image line.
    let wide = "data d = random_images(points: 4, shape: [1, 2, 4000], classes: 2)\n\
                network net(x: [1, 2, 4000]) -> 2 { conv 2, kernel: [2, 4000]; flatten; dense 2 }\n\
                train net on d { loss cross_entropy; optimizer sgd(lr: 0.1); batch 2; epochs 1 }\n";
    compiles_in_time("conv kernel 2x4000", wide.to_string());
}

/// Instructions in the Cranelift IR of every entry point of `source`.
fn clif_instructions(source: &str) -> usize {
    let text = dlc::emit(source, dlc::Stage::Clif)
        .unwrap_or_else(|e| panic!("{}", e.render("t.dl", source, false)));
    text.lines()
        .map(str::trim_start)
        .filter(|l| {
            let body = l.split_once(" = ").map_or(*l, |(lhs, rhs)| {
                // `v3 = iadd v1, v2` is an instruction; `ss0 = explicit_slot`,
                // `sig0 = ...` and `fn0 = ...` are declarations.
                if lhs.starts_with('v') { rhs } else { "" }
            });
            body.starts_with(|c: char| c.is_ascii_lowercase())
                && !body.starts_with("block")
                && !body.starts_with("function")
        })
        .count()
}

#[test]
fn code_size_does_not_grow_with_windows_or_kernels() {
    // (what, the program at a small size and at a large one): the same
    // network but for its numbers, past the sizes that are unrolled, and
    // with outputs of the same shape (which the matrix products' code
    // depends on: a partial tile has code of its own).
    let pairs = [
        (
            "conv",
            program(1, 20, "conv 2, kernel: 20"),
            program(1, 256, "conv 2, kernel: 256"),
        ),
        (
            "padded conv",
            program(1, 30, "conv 4, kernel: 20, stride: 3, pad: 5"),
            program(1, 256, "conv 4, kernel: 250, stride: 3, pad: 6"),
        ),
        (
            "maxpool",
            program(1, 20, "maxpool 20"),
            program(1, 1000, "maxpool 1000"),
        ),
        (
            "avgpool",
            program(2, 40, "avgpool 20, stride: 10, pad: 10"),
            program(2, 1000, "avgpool 500, stride: 250, pad: 250"),
        ),
    ];
    for (what, small, large) in pairs {
        let (s, l) = (clif_instructions(&small), clif_instructions(&large));
        assert!(s > 0, "{what}: no instructions counted");
        assert_eq!(s, l, "{what}: {s} instructions when small, {l} when large");
    }
}
