//! The benchmark workloads W1-W5 (see bench/README.md), run from the
//! programs in `examples/bench/`, timed as the reference scripts time them:
//! data in memory and pre-split into batches (last partial batch dropped),
//! 20 warm-up steps, then the median of `--repeats` timed repeats.
//!
//! ```text
//! cargo bench --bench workloads -- --threads 1 --json [--workloads w1,w2] [--repeats 5] [--onnx W5.onnx]
//! ```
//!
//! Prints one JSON line shaped like the reference scripts' output. With
//! `--onnx`, W5's network is also written as ONNX (`dlc export --onnx`), for
//! `bench/bench_onnxruntime.py` to time the same graph in onnxruntime.

use dlc::data::{Batcher, Dataset};
use dlc::rng::Rng;
use dlc::runtime::load::load;
use serde_json::{Value, json};
use std::time::Instant;

#[path = "support/built.rs"]
mod built;

const WARMUP: usize = 20;

struct Args {
    threads: usize,
    workloads: Vec<String>,
    repeats: usize,
    json: bool,
    onnx: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        threads: 1,
        workloads: ["w1", "w2", "w3", "w4", "w5"].map(String::from).to_vec(),
        repeats: 5,
        json: false,
        onnx: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--threads" => a.threads = it.next().and_then(|v| v.parse().ok()).expect("--threads N"),
            "--workloads" => {
                a.workloads = it
                    .next()
                    .expect("--workloads w1,w2")
                    .split(',')
                    .map(String::from)
                    .collect()
            }
            "--repeats" => a.repeats = it.next().and_then(|v| v.parse().ok()).expect("--repeats N"),
            "--json" => a.json = true,
            "--onnx" => a.onnx = Some(it.next().expect("--onnx PATH")),
            _ => {} // cargo bench passes --bench
        }
    }
    a
}

fn program(w: &str) -> &'static str {
    match w {
        "w1" => "examples/bench/w1_tiny.dl",
        "w2" => "examples/bench/w2_mlp.dl",
        "w3" => "examples/bench/w3_mlp_bn_dropout.dl",
        "w4" => "examples/bench/w4_cnn.dl",
        _ => "examples/bench/w5_inference.dl",
    }
}

fn steps(w: &str) -> usize {
    match w {
        "w1" => 1000,
        "w2" | "w3" => 468,
        _ => 250,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The data set, split into equal batches in one shuffled order.
fn batches(ds: &Dataset, bs: usize) -> Vec<(Vec<f32>, Vec<f32>)> {
    let mut b = Batcher::new(ds, bs, true, Rng::new(0)).expect("batch size fits the data");
    let mut out = Vec::new();
    loop {
        let mut x = vec![0.0; b.features_len()];
        let mut y = vec![0.0; b.targets_len()];
        match b.next_batch(&mut x, &mut y).expect("batches") {
            Some(_) => out.push((x, y)),
            None => return out,
        }
    }
}

fn train(w: &str, repeats: usize) -> Value {
    let source = std::fs::read_to_string(program(w)).expect("benchmark program");
    let t0 = Instant::now();
    let mut model = dlc::compile(&source).expect("benchmark program compiles");
    let compile_s = t0.elapsed().as_secs_f64();
    let plan = model.model().train.clone().expect("a training plan");
    let bs = match plan.batch {
        dlc::check::Batch::Size(b) => b,
        dlc::check::Batch::All => unreachable!("benchmarks use mini-batches"),
    };
    let data = load(
        model.model().data.as_ref().expect("data"),
        &Default::default(),
    )
    .expect("data loads")
    .train;
    let batches = batches(&data, bs);
    let width = model.output_width();
    let mut output = vec![0.0f32; bs * width];
    let mut step = |model: &mut dlc::CompiledModel, i: usize| -> f32 {
        let (x, y) = &batches[i % batches.len()];
        model
            .step_on_batch(x, y, bs, plan.optimizer.lr, plan.seed, &mut output)
            .expect("step runs")
    };
    let t = Instant::now();
    step(&mut model, 0);
    let first = t.elapsed().as_secs_f64();
    for i in 1..WARMUP {
        step(&mut model, i);
    }
    let warm = t.elapsed().as_secs_f64();
    let n = steps(w);
    let mut times = Vec::new();
    for _ in 0..repeats {
        let t = Instant::now();
        for i in 0..n {
            step(&mut model, i);
        }
        times.push(t.elapsed().as_secs_f64());
    }
    let med = median(times.clone());
    let last_loss = step(&mut model, 0);
    json!({
        "samples_per_s": (n * bs) as f64 / med,
        "ms_per_step": med / n as f64 * 1e3,
        "batch": bs,
        "steps_per_repeat": n,
        "compile_s": compile_s,
        "first_step_s": first,
        "compile_overhead_s": compile_s + warm - WARMUP as f64 * med / n as f64,
        "repeat_s": times,
        "last_loss": last_loss,
    })
}

fn infer(repeats: usize, onnx: Option<&str>) -> Value {
    let source = std::fs::read_to_string(program("w5")).expect("benchmark program");
    let t0 = Instant::now();
    let mut model = dlc::compile(&source).expect("benchmark program compiles");
    let compile_s = t0.elapsed().as_secs_f64();
    model
        .ensure_max_batch(1024)
        .expect("compiles for batch 1024");
    let loaded = load(
        model.model().data.as_ref().expect("data"),
        &Default::default(),
    )
    .expect("data loads");
    let (data, preparation) = (loaded.train, loaded.preparation);
    let x1 = data.features()[..data.sample_len()].to_vec();
    let xk = data.features()[..1024 * data.sample_len()].to_vec();
    // The same network through `dlc build`, timed in turns with the JIT so
    // that both see the same phases of a noisy machine.
    let built = built::Built::new(&model, &preparation)
        .map_err(|e| eprintln!("note: the built object was not timed: {e}"))
        .ok();
    let mut out = Vec::new();
    let mut time = |x: &[f32], calls: usize, warm: usize| {
        let mut jit = || std::hint::black_box(model.predict(x).expect("predict"));
        let object = |out: &mut Vec<f32>| {
            if let Some(b) = &built {
                b.predict(x, out).expect("the built predict");
            }
        };
        for _ in 0..warm {
            jit();
            object(&mut out);
        }
        let (mut ts, mut tb) = (Vec::new(), Vec::new());
        for _ in 0..repeats {
            let t = Instant::now();
            for _ in 0..calls {
                jit();
            }
            ts.push(t.elapsed().as_secs_f64() / calls as f64);
            let t = Instant::now();
            for _ in 0..calls {
                object(&mut out);
            }
            tb.push(t.elapsed().as_secs_f64() / calls as f64);
        }
        (median(ts), median(tb))
    };
    let (b1, built_b1) = time(&x1, 2000, 200);
    let (bk, built_bk) = time(&xk, 20, 5);
    let mut result = json!({
        "compile_s": compile_s,
        "b1_latency_us": b1 * 1e6,
        "b1024_samples_per_s": 1024.0 / bk,
    });
    if built.is_some() {
        result["built_b1_latency_us"] = json!(built_b1 * 1e6);
        result["built_b1024_samples_per_s"] = json!(1024.0 / built_bk);
    }
    if let Some(path) = onnx {
        let bytes = dlc::export::onnx::export(&model, &preparation).expect("W5 exports to ONNX");
        std::fs::write(path, bytes).expect("the ONNX file is written");
    }
    result
}

fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

fn main() {
    let a = args();
    dlc::set_threads(a.threads);
    let mut results = serde_json::Map::new();
    let start_load = loadavg();
    for w in &a.workloads {
        let r = if w == "w5" {
            infer(a.repeats, a.onnx.as_deref())
        } else {
            train(w, a.repeats)
        };
        results.insert(w.clone(), r);
    }
    let out = json!({
        "framework": "dlc",
        "threads": a.threads,
        "thread_control": "dlc::set_threads",
        "loadavg_start": start_load,
        "results": results,
        "loadavg_end": loadavg(),
    });
    if a.json {
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
    }
}
