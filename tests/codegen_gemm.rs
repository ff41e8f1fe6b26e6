//! Matrix products through both code paths (inline Cranelift kernel and the external GEMM
//! call), checked against an f64 reference on awkward sizes, plus an ignored measurement.

use cranelift_codegen::ir::InstBuilder;
use cranelift_codegen::ir::types::I64;
use dlc::codegen::gemm::{self, GemmSpec};
use dlc::codegen::jit::{CodegenError, Jit};

type GemmFn = unsafe extern "C" fn(*const f32, *const f32, *mut f32);

#[derive(Clone, Copy, Debug, PartialEq)]
enum Path {
    Inline,
    External,
    /// The dot-product kernel for few rows of A and B transposed.
    RowDots,
    /// The same with B read-only for the call (a prediction's weights):
    /// two accumulators per column and freely scheduled loads of B.
    ConstantRowDots,
    /// The compact kernel for small batches (B as stored).
    Small,
}

/// A JIT'd `fn(a, b, c)` computing `spec` through `path`.
struct Compiled {
    _jit: Jit,
    function: GemmFn,
}

fn compile(spec: GemmSpec, path: Path) -> Result<Compiled, CodegenError> {
    let mut jit = Jit::new(&gemm::gemm_symbols())?;
    let call_conv = jit.signature(&[], &[]).call_conv;
    let external = jit.declare_import(
        gemm::EXTERNAL_GEMM_SYMBOL,
        &gemm::external_gemm_signature(call_conv),
    )?;
    let signature = jit.signature(&[I64, I64, I64], &[]);
    let id = jit.define_function("product", signature, |b, imports| {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let params = b.block_params(entry).to_vec();
        match path {
            Path::Inline => gemm::emit_gemm(b, &spec, params[0], params[1], params[2])?,
            Path::Small => gemm::emit_small_gemm(
                b,
                &spec,
                gemm::RuntimeSizes::default(),
                [params[0], params[1], params[2]],
            )?,
            Path::RowDots | Path::ConstantRowDots => {
                let weights = if path == Path::RowDots {
                    gemm::Weights::Mutable
                } else {
                    gemm::Weights::Constant
                };
                let abc = [params[0], params[1], params[2]];
                gemm::emit_row_dots(b, &spec, None, abc, weights)?
            }
            Path::External => {
                let callee = imports.reference(external, b);
                gemm::emit_external_gemm_call(b, callee, &spec, params[0], params[1], params[2])?
            }
        }
        b.ins().return_(&[]);
        Ok(())
    })?;
    jit.finalize()?;
    let pointer = jit.function_pointer(id)?;
    // SAFETY: defined above with three pointer parameters and no result.
    let function = unsafe { std::mem::transmute::<*const u8, GemmFn>(pointer) };
    Ok(Compiled {
        _jit: jit,
        function,
    })
}

/// Deterministic values in [-1, 1) (xorshift).
fn random_matrix(len: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

const GUARD: usize = 16;
const SENTINEL: f32 = 1234.5;

/// Runs `spec` through `path` on random data and compares every element of C with an f64
/// reference, within the worst-case f32 summation bound. C is surrounded by sentinel
/// values that must survive (no writes outside C).
fn check(spec: GemmSpec, path: Path) {
    let GemmSpec { m, n, k, .. } = spec;
    let a = random_matrix(m * k, 1 + m as u64);
    let b = random_matrix(k * n, 2 + n as u64);
    let initial = random_matrix(m * n, 3 + k as u64);
    let mut c = vec![SENTINEL; m * n + 2 * GUARD];
    if spec.accumulate {
        c[GUARD..GUARD + m * n].copy_from_slice(&initial);
    } else {
        c[GUARD..GUARD + m * n].fill(f32::NAN); // must be overwritten, never read
    }
    let compiled = compile(spec, path).expect("product compiles");
    // SAFETY: the buffers have exactly the sizes `spec` describes.
    unsafe { (compiled.function)(a.as_ptr(), b.as_ptr(), c[GUARD..].as_mut_ptr()) };

    let a_at = |i: usize, p: usize| {
        if spec.a_transposed {
            a[p * m + i]
        } else {
            a[i * k + p]
        }
    };
    let b_at = |p: usize, j: usize| {
        if spec.b_transposed {
            b[j * k + p]
        } else {
            b[p * n + j]
        }
    };
    let gamma = (k as f64 + 2.0) * f64::from(f32::EPSILON) / 2.0;
    for i in 0..m {
        for j in 0..n {
            let mut exact = 0.0f64;
            let mut magnitude = 0.0f64;
            if spec.accumulate {
                exact = f64::from(initial[i * n + j]);
                magnitude = exact.abs();
            }
            for p in 0..k {
                let product = f64::from(a_at(i, p)) * f64::from(b_at(p, j));
                exact += product;
                magnitude += product.abs();
            }
            let got = f64::from(c[GUARD + i * n + j]);
            assert!(
                (got - exact).abs() <= gamma * magnitude + 1e-30,
                "{path:?} {spec:?}: C[{i}][{j}] = {got}, expected {exact}"
            );
        }
    }
    let outside = c[..GUARD].iter().chain(&c[GUARD + m * n..]);
    assert!(
        outside.into_iter().all(|x| *x == SENTINEL),
        "{path:?} {spec:?} wrote outside C"
    );
}

fn spec(m: usize, k: usize, n: usize, a_t: bool, b_t: bool, accumulate: bool) -> GemmSpec {
    GemmSpec {
        m,
        n,
        k,
        a_transposed: a_t,
        b_transposed: b_t,
        accumulate,
    }
}

/// Sizes written m x k x n.
const AWKWARD: [(usize, usize, usize); 7] = [
    (1, 1, 1),
    (3, 5, 7),
    (6, 8, 8),
    (17, 33, 65),
    (7, 300, 20),
    (13, 600, 9),
    (5, 0, 3),
];

fn check_all_layouts(path: Path) {
    for (m, k, n) in AWKWARD {
        for layout in 0..8 {
            let (a_t, b_t, acc) = (layout & 1 != 0, layout & 2 != 0, layout & 4 != 0);
            check(spec(m, k, n, a_t, b_t, acc), path);
        }
    }
}

#[test]
fn inline_kernel_matches_reference_on_awkward_sizes() {
    check_all_layouts(Path::Inline);
}

#[test]
fn row_dot_kernel_matches_reference_on_awkward_sizes() {
    // Its one layout: A as stored, B transposed; with and without accumulation.
    for (m, k, n) in AWKWARD
        .into_iter()
        .chain([(1, 784, 256), (2, 7, 13), (4, 4, 4), (71, 29, 10)])
    {
        for acc in [false, true] {
            check(spec(m, k, n, false, true, acc), Path::RowDots);
            check(spec(m, k, n, false, true, acc), Path::ConstantRowDots);
        }
    }
    for path in [Path::RowDots, Path::ConstantRowDots] {
        assert!(compile(spec(2, 3, 4, false, false, false), path).is_err());
    }
}

#[test]
fn small_kernel_matches_reference_on_awkward_sizes() {
    // Its layouts: B as stored, A as stored or transposed; with and without accumulation.
    for (m, k, n) in AWKWARD
        .into_iter()
        .chain([(3, 10, 128), (2, 7, 21), (5, 16, 16)])
    {
        for (a_t, acc) in [(false, false), (true, false), (false, true), (true, true)] {
            check(spec(m, k, n, a_t, false, acc), Path::Small);
        }
    }
    assert!(compile(spec(2, 3, 4, false, true, false), Path::Small).is_err());
}

#[test]
fn external_call_matches_reference_on_awkward_sizes() {
    check_all_layouts(Path::External);
}

#[test]
fn both_paths_match_reference_on_a_layer_sized_product() {
    for path in [Path::Inline, Path::External] {
        for (a_t, b_t) in [(false, false), (true, false), (false, true), (true, true)] {
            check(spec(128, 784, 256, a_t, b_t, false), path);
        }
    }
}

#[test]
fn policy_sends_only_large_products_out() {
    assert!(!gemm::use_external_gemm(1, 1, 1));
    assert!(!gemm::use_external_gemm(3, 5, 7));
    assert!(!gemm::use_external_gemm(1, 784, 256));
    assert!(gemm::use_external_gemm(128, 784, 256));
    assert!(gemm::use_external_gemm(usize::MAX, usize::MAX, usize::MAX));
}

#[test]
fn oversized_products_are_rejected_with_a_message() {
    let huge = spec(1 << 20, 1 << 20, 4, false, false, false);
    let mut jit = Jit::new(&[]).expect("host JIT");
    let signature = jit.signature(&[I64, I64, I64], &[]);
    let result = jit.define_function("huge", signature, |b, _| {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let p = b.block_params(entry).to_vec();
        gemm::emit_gemm(b, &huge, p[0], p[1], p[2])?;
        b.ins().return_(&[]);
        Ok(())
    });
    match result {
        Err(CodegenError::InvalidShape(message)) => {
            assert!(
                message.contains("matrix A of 1048576 x 1048576"),
                "{message}"
            )
        }
        other => panic!("expected a shape error, got {:?}", other.map(|_| ())),
    }
}

/// Best-of-many GFLOP/s of one path on one product.
fn gflops(spec: GemmSpec, path: Path) -> f64 {
    let GemmSpec { m, n, k, .. } = spec;
    let a = random_matrix(m * k, 1);
    let b = random_matrix(k * n, 2);
    let mut c = vec![0.0f32; m * n];
    let flops = 2.0 * (m * n * k) as f64;
    // Short trials, many of them: the best one ran without interference.
    let rounds = (1e7 / flops).ceil() as usize;
    let compiled = compile(spec, path).expect("product compiles");
    let mut best = f64::INFINITY;
    for _ in 0..200 {
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            // SAFETY: buffers sized as `spec` describes.
            unsafe { (compiled.function)(a.as_ptr(), b.as_ptr(), c.as_mut_ptr()) };
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    flops * rounds as f64 / best / 1e9
}

/// GFLOP/s of both paths on layer-sized products and on a grid around the crossover.
#[test]
#[ignore = "measurement; run with --release -- --ignored --nocapture"]
fn measure_gflops() {
    let sizes = [
        (32, 64, 64),
        (128, 256, 128),
        (128, 784, 256),
        (256, 256, 256),
    ];
    for (m, k, n) in sizes {
        for (a_t, b_t) in [(false, false), (true, false), (false, true)] {
            let spec = spec(m, k, n, a_t, b_t, false);
            let (inline, external) = (gflops(spec, Path::Inline), gflops(spec, Path::External));
            eprintln!(
                "{m}x{k}x{n} a_t={a_t} b_t={b_t}: inline {inline:.1} GFLOP/s, external {external:.1} GFLOP/s"
            );
        }
    }
    eprintln!("dense layers on few samples (m x k x n, B transposed: dots / external GFLOP/s)");
    for m in [1, 4] {
        for (k, n) in [
            (16, 16),
            (32, 32),
            (64, 64),
            (128, 64),
            (256, 128),
            (784, 256),
        ] {
            let spec = spec(m, k, n, false, true, false);
            let (dots, external) = (gflops(spec, Path::RowDots), gflops(spec, Path::External));
            let choice = if gemm::use_external_dots(n, k) {
                "external"
            } else {
                "dots"
            };
            eprintln!("{m}x{k}x{n}: {dots:.1} / {external:.1} -> {choice}");
        }
    }
    eprintln!("crossover grid (m x k x n: inline / external GFLOP/s, policy choice)");
    for m in [1, 2, 4, 8, 16, 32] {
        for kn in [8, 16, 32, 64, 128, 256] {
            let spec = spec(m, kn, kn, false, false, false);
            let (inline, external) = (gflops(spec, Path::Inline), gflops(spec, Path::External));
            let choice = if gemm::use_external_gemm(m, kn, kn) {
                "external"
            } else {
                "inline"
            };
            eprintln!("{m}x{kn}x{kn}: {inline:.1} / {external:.1} -> {choice}");
        }
    }
}
