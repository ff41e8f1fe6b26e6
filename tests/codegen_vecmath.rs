//! Accuracy of the inline exp/log/tanh/sigmoid emitters, checked through JIT-compiled
//! kernels against f64 reference values, plus an ignored speed comparison with libm.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{F32, F32X4, I64};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;
use dlc::codegen::host_tanh::{dlc_tanh_in_place, tanh_scalar};
use dlc::codegen::jit::{CodegenError, Jit};
use dlc::codegen::vecmath;

type Emitter = fn(&mut FunctionBuilder, Value) -> Result<Value, CodegenError>;
type MapFn = unsafe extern "C" fn(*const f32, *mut f32, i64);
/// A named emitter with the scalar Rust function it is timed against.
type SpeedCase = (&'static str, Emitter, fn(f32) -> f32);

/// A JIT'd `dst[i] = op(src[i])`: f32x4 for whole groups of four, scalar f32 for the tail,
/// so both widths of every emitter are exercised.
struct Mapped {
    _jit: Jit,
    function: MapFn,
}

impl Mapped {
    fn new(op: Emitter) -> Self {
        let mut jit = Jit::new(&[]).expect("host JIT");
        let signature = jit.signature(&[I64, I64, I64], &[]);
        let id = jit
            .define_function("map", signature, |b, _| emit_map(b, op))
            .expect("map kernel compiles");
        jit.finalize().expect("link");
        let pointer = jit.function_pointer(id).expect("pointer");
        // SAFETY: the function was defined with exactly this signature.
        let function = unsafe { std::mem::transmute::<*const u8, MapFn>(pointer) };
        Self {
            _jit: jit,
            function,
        }
    }

    /// Each value through both the f32x4 and the scalar code (a run of five copies: four
    /// in the vector loop, one in the tail), which must agree bit for bit.
    fn apply_each(&self, specials: &[f32]) -> Vec<f32> {
        specials
            .iter()
            .map(|&x| {
                let output = self.apply(&[x; 5]);
                assert_eq!(
                    output[0].to_bits(),
                    output[4].to_bits(),
                    "f32x4 and f32 differ at {x}"
                );
                output[0]
            })
            .collect()
    }

    fn apply(&self, input: &[f32]) -> Vec<f32> {
        let mut output = vec![0.0f32; input.len()];
        // SAFETY: both buffers hold `input.len()` floats.
        unsafe { (self.function)(input.as_ptr(), output.as_mut_ptr(), input.len() as i64) };
        output
    }
}

fn emit_map(b: &mut FunctionBuilder, op: Emitter) -> Result<(), CodegenError> {
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let [src, dst, len] = b.block_params(entry) else {
        unreachable!()
    };
    let (src, dst, len) = (*src, *dst, *len);
    let flags = MemFlagsData::new().with_notrap();
    let zero = b.ins().iconst(I64, 0);
    // Vector loop while i + 4 <= len, then scalar loop while i < len.
    let mut i = zero;
    for (ty, step) in [(F32X4, 4i64), (F32, 1)] {
        let head = b.create_block();
        let body = b.create_block();
        let exit = b.create_block();
        b.append_block_param(head, I64);
        b.append_block_param(exit, I64);
        b.ins().jump(head, &[i.into()]);
        b.switch_to_block(head);
        let index = b.block_params(head)[0];
        let end = b.ins().iadd_imm_s(index, step);
        let fits = b.ins().icmp(IntCC::SignedLessThanOrEqual, end, len);
        b.ins().brif(fits, body, &[], exit, &[index.into()]);
        b.switch_to_block(body);
        let offset = b.ins().imul_imm_s(index, 4);
        let from = b.ins().iadd(src, offset);
        let to = b.ins().iadd(dst, offset);
        let x = b.ins().load(ty, flags, from, 0);
        let y = op(b, x)?;
        b.ins().store(flags, y, to, 0);
        b.ins().jump(head, &[end.into()]);
        b.switch_to_block(exit);
        i = b.block_params(exit)[0];
    }
    b.ins().return_(&[]);
    Ok(())
}

/// A million evenly spaced points over [lo, hi] plus every 97th float bit pattern in it.
fn sweep(lo: f32, hi: f32) -> Vec<f32> {
    let count = 1_000_000;
    let mut points: Vec<f32> = (0..=count)
        .map(|i| lo + (hi - lo) * (i as f32 / count as f32))
        .collect();
    let bits = (0u32..u32::MAX).step_by(97).map(f32::from_bits);
    points.extend(bits.filter(|x| *x >= lo && *x <= hi));
    points
}

#[derive(Default, Debug)]
struct Errors {
    max_rel: f64,
    max_abs: f64,
    /// Largest error in units of the last place of the f32 nearest the reference.
    max_ulp: f64,
    worst: f32,
}

/// The spacing of f32 values around `value` (a normal-range magnitude).
fn ulp_of(value: f64) -> f64 {
    2f64.powi(value.abs().log2().floor() as i32 - 23)
}

/// Largest relative (for normal-range references) and absolute errors; results whose
/// reference is subnormal are checked for absolute error only.
fn measure(input: &[f32], output: &[f32], reference: fn(f64) -> f64) -> Errors {
    let mut errors = Errors::default();
    for (&x, &y) in input.iter().zip(output) {
        let expected = reference(f64::from(x));
        let abs = (f64::from(y) - expected).abs();
        assert!(!abs.is_nan(), "f({x}) = {y}, expected {expected}");
        if expected.abs() >= f64::from(f32::MIN_POSITIVE) && expected.abs() <= f64::from(f32::MAX) {
            let rel = abs / expected.abs();
            errors.max_ulp = errors.max_ulp.max(abs / ulp_of(expected));
            if rel > errors.max_rel {
                errors.max_rel = rel;
                errors.worst = x;
            }
        }
        errors.max_abs = errors.max_abs.max(abs);
    }
    errors
}

fn sigmoid64(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn exp_is_accurate_over_the_normal_range() {
    let kernel = Mapped::new(vecmath::exp);
    let input = sweep(-87.0, 88.0);
    let errors = measure(&input, &kernel.apply(&input), f64::exp);
    eprintln!("exp: {errors:?}");
    assert!(
        errors.max_ulp <= 1.0 && errors.max_rel <= 8e-8,
        "{errors:?}"
    );
}

#[test]
fn exp_underflows_gradually_and_handles_special_values() {
    let kernel = Mapped::new(vecmath::exp);
    let input = sweep(-104.0, -87.0);
    let output = kernel.apply(&input);
    for (&x, &y) in input.iter().zip(&output) {
        let expected = f64::from(x).exp();
        // Within one subnormal step (2^-149) plus the normal-range relative bound.
        let bound = f64::from(f32::from_bits(1)) + 1.2e-7 * expected;
        assert!(
            (f64::from(y) - expected).abs() <= bound,
            "exp({x}) = {y}, expected {expected}"
        );
    }
    let specials = [
        0.0,
        -0.0,
        1e-30,
        -1e-30,
        88.73,
        89.0,
        1e30,
        f32::INFINITY,
        -104.0,
        -1e30,
        f32::NEG_INFINITY,
        f32::NAN,
    ];
    let output = kernel.apply_each(&specials);
    assert_eq!(&output[..4], &[1.0; 4]);
    assert!(
        output[4..8].iter().all(|y| *y == f32::INFINITY),
        "{output:?}"
    );
    assert!(output[8..11].iter().all(|y| *y == 0.0), "{output:?}");
    assert!(output[11].is_nan());
}

#[test]
fn log_is_accurate_for_all_positive_floats() {
    let kernel = Mapped::new(vecmath::log);
    let mut input = sweep(f32::from_bits(1), f32::MAX);
    input.extend(sweep(0.5, 2.0));
    let errors = measure(&input, &kernel.apply(&input), f64::ln);
    eprintln!("log: {errors:?}");
    assert!(
        errors.max_ulp <= 1.0 && errors.max_rel <= 9e-8,
        "{errors:?}"
    );
    let specials = [
        0.0,
        -0.0,
        1.0,
        f32::INFINITY,
        -1.0,
        -1e-30,
        f32::NEG_INFINITY,
        f32::NAN,
    ];
    let output = kernel.apply_each(&specials);
    assert_eq!(
        &output[..4],
        &[f32::NEG_INFINITY, f32::NEG_INFINITY, 0.0, f32::INFINITY]
    );
    assert!(output[4..].iter().all(|y| y.is_nan()), "{output:?}");
}

#[test]
fn tanh_is_accurate_and_saturates() {
    let kernel = Mapped::new(vecmath::tanh);
    let mut input = sweep(-20.0, 20.0);
    input.extend(sweep(-1.0, 1.0));
    let errors = measure(&input, &kernel.apply(&input), f64::tanh);
    eprintln!("tanh: {errors:?}");
    assert!(
        errors.max_abs <= 1e-7 && errors.max_rel <= 1.5e-7,
        "{errors:?}"
    );
    assert!(errors.max_ulp <= 1.5, "{errors:?}");
    let specials = [
        0.0,
        -0.0,
        1e-30,
        -1e-30,
        10.0,
        -10.0,
        1e30,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
    ];
    let output = kernel.apply_each(&specials);
    assert_eq!(output[0].to_bits(), 0.0f32.to_bits());
    assert_eq!(output[1].to_bits(), (-0.0f32).to_bits());
    assert_eq!(&output[2..9], &[1e-30, -1e-30, 1.0, -1.0, 1.0, 1.0, -1.0]);
    assert!(output[9].is_nan());
}

/// The host tanh (`host_tanh`, AVX-512 where the CPU has it, else scalar)
/// gives the inline tanh's bits on every value, in runs of every length
/// modulo 16, so a kernel may use either.
#[test]
fn the_host_tanh_gives_the_inline_tanh_bits() {
    let kernel = Mapped::new(vecmath::tanh);
    let mut input = sweep(-20.0, 20.0);
    input.extend(sweep(-1.0, 1.0));
    input.extend([
        0.0,
        -0.0,
        1e-30,
        -1e-30,
        f32::MIN_POSITIVE,
        1e-45,
        0.625,
        -0.625,
        0.624_999_94,
        9.1,
        44.0,
        45.0,
        1e30,
        f32::MAX,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        -f32::NAN,
    ]);
    let inline = kernel.apply(&input);
    let check = |host: &[f32], offset: usize| {
        for (i, (h, j)) in host.iter().zip(&inline[offset..]).enumerate() {
            let x = input[offset + i];
            let same = h.to_bits() == j.to_bits() || (h.is_nan() && j.is_nan());
            assert!(
                same,
                "tanh({x:e}): host {h:e} ({:#x}), inline {j:e} ({:#x})",
                h.to_bits(),
                j.to_bits()
            );
        }
    };
    let mut host = input.clone();
    // SAFETY: `host` holds `host.len()` floats.
    unsafe { dlc_tanh_in_place(host.as_mut_ptr(), host.len() as u64) };
    check(&host, 0);
    for len in 0..40 {
        let offset = input.len() - 40;
        let mut host = input[offset..offset + len].to_vec();
        // SAFETY: as above.
        unsafe { dlc_tanh_in_place(host.as_mut_ptr(), len as u64) };
        check(&host, offset);
    }
    for (x, h) in input.iter().zip(&inline) {
        let scalar = tanh_scalar(*x);
        assert!(
            scalar.to_bits() == h.to_bits() || (scalar.is_nan() && h.is_nan()),
            "scalar tanh({x:e})"
        );
    }
}

#[test]
fn sigmoid_is_accurate_for_both_signs() {
    let kernel = Mapped::new(vecmath::sigmoid);
    let input = sweep(-100.0, 40.0);
    let errors = measure(&input, &kernel.apply(&input), sigmoid64);
    eprintln!("sigmoid: {errors:?}");
    assert!(
        errors.max_abs <= 1e-7 && errors.max_rel <= 2e-7,
        "{errors:?}"
    );
    assert!(errors.max_ulp <= 3.0, "{errors:?}");
    let specials = [
        0.0,
        -0.0,
        1e30,
        f32::INFINITY,
        -1e30,
        f32::NEG_INFINITY,
        f32::NAN,
    ];
    let output = kernel.apply_each(&specials);
    assert_eq!(&output[..6], &[0.5, 0.5, 1.0, 1.0, 0.0, 0.0]);
    assert!(output[6].is_nan());
}

#[test]
fn emitters_reject_non_float_values() {
    let mut jit = Jit::new(&[]).expect("host JIT");
    let signature = jit.signature(&[I64], &[I64]);
    let result = jit.define_function("bad", signature, |b, _| {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let x = b.block_params(entry)[0];
        let y = vecmath::exp(b, x)?;
        b.ins().return_(&[y]);
        Ok(())
    });
    match result {
        Err(CodegenError::UnsupportedType {
            operation, found, ..
        }) => {
            assert_eq!((operation, found.as_str()), ("exp", "i64"));
        }
        other => panic!("expected a type error, got {other:?}"),
    }
}

/// ns per element of the JIT'd exp/tanh against Rust's libm-backed f32 functions.
#[test]
#[ignore = "measurement; run with --release -- --ignored --nocapture"]
fn measure_speed_against_libm() {
    let input: Vec<f32> = (0..4096)
        .map(|i| (i as f32 / 4096.0 - 0.5) * 20.0)
        .collect();
    let mut output = vec![0.0f32; input.len()];
    // Best of 50 trials, so that other load on the machine does not inflate the figures.
    let rounds = 100;
    let time = |f: &mut dyn FnMut()| {
        let mut best = f64::INFINITY;
        for _ in 0..50 {
            let start = std::time::Instant::now();
            for _ in 0..rounds {
                f();
            }
            let ns = start.elapsed().as_nanos() as f64 / (rounds * input.len()) as f64;
            best = best.min(ns);
        }
        best
    };
    let cases: [SpeedCase; 5] = [
        ("copy", |_b, x| Ok(x), |x| x),
        ("exp", vecmath::exp, f32::exp),
        ("tanh", vecmath::tanh, f32::tanh),
        ("log", vecmath::log, f32::ln),
        ("sigmoid", vecmath::sigmoid, |x| 1.0 / (1.0 + (-x).exp())),
    ];
    for (name, emitter, reference) in cases {
        let kernel = Mapped::new(emitter);
        let jit_ns = time(&mut || {
            // SAFETY: both buffers hold `input.len()` floats.
            unsafe { (kernel.function)(input.as_ptr(), output.as_mut_ptr(), input.len() as i64) }
        });
        let libm_ns = time(&mut || {
            // Opaque input and output, plain loop: the calls themselves are what is timed.
            for (y, x) in output.iter_mut().zip(std::hint::black_box(&input)) {
                *y = reference(*x);
            }
            std::hint::black_box(&mut output);
        });
        eprintln!("{name}: jit {jit_ns:.3} ns/element, libm {libm_ns:.3} ns/element");
    }
}

#[test]
fn erf_is_accurate_near_zero_and_saturates() {
    let kernel = Mapped::new(vecmath::erf);
    let mut input = sweep(-6.0, 6.0);
    input.extend(sweep(-0.75, 0.75));
    let errors = measure(&input, &kernel.apply(&input), dlc::interp::erf);
    eprintln!("erf: {errors:?}");
    assert!(
        errors.max_abs <= 1.5e-7 && errors.max_rel <= 2e-7,
        "{errors:?}"
    );
    let specials = [
        0.0,
        -0.0,
        1e-30,
        -1e-30,
        10.0,
        -10.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
    ];
    let output = kernel.apply_each(&specials);
    assert_eq!(output[0].to_bits(), 0.0f32.to_bits());
    assert_eq!(output[1].to_bits(), (-0.0f32).to_bits());
    assert_eq!(&output[4..8], &[1.0, -1.0, 1.0, -1.0]);
    assert!((output[2] / 1e-30 - std::f32::consts::FRAC_2_SQRT_PI).abs() < 1e-6);
    assert!(output[8].is_nan());
}

#[test]
fn the_reference_erf_matches_known_values_and_is_continuous() {
    // erf at a few points, to 16 digits.
    for (x, want) in [
        (0.1, 0.1124629160182849),
        (0.5, 0.5204998778130465),
        (1.0, 0.8427007929497149),
        (2.0, 0.9953222650189527),
        (3.0, 0.9999779095030014),
        (4.0, 0.9999999845827421),
    ] {
        let got = dlc::interp::erf(x);
        assert!((got - want).abs() <= 4e-16, "erf({x}) = {got}, want {want}");
        assert_eq!(dlc::interp::erf(-x), -got);
    }
    // Where the series hands over to the continued fraction.
    let below = dlc::interp::erf(3.0 - 1e-12);
    let above = dlc::interp::erf(3.0 + 1e-12);
    assert!((above - below).abs() < 1e-15, "{below} {above}");
}
