//! The example programs the whole-program tests run on.

/// Every `.dl` file of `examples/`, `examples/bench/` and `parity/programs/`, sorted.
pub fn programs() -> Vec<String> {
    let mut files = Vec::new();
    for dir in ["examples", "examples/bench", "parity/programs"] {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "dl") {
                files.push(p.display().to_string());
            }
        }
    }
    files.sort();
    assert!(files.len() >= 14, "examples missing: {files:?}");
    files
}
