//! The JIT wrapper: defining, linking and calling functions, host symbols, the IR listing,
//! and the typed errors for misuse.

use cranelift_codegen::ir::types::{F32, I64};
use cranelift_codegen::ir::{FuncRef, InstBuilder};
use cranelift_frontend::FunctionBuilder;
use dlc::codegen::jit::{CodegenError, Imports, Jit};

extern "C" fn triple(x: i64) -> i64 {
    3 * x
}

/// Emits `fn(params...) -> result` whose body is `body(builder, params)`.
fn emit_returning(
    b: &mut FunctionBuilder,
    body: impl FnOnce(
        &mut FunctionBuilder,
        &[cranelift_codegen::ir::Value],
    ) -> cranelift_codegen::ir::Value,
) -> Result<(), CodegenError> {
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let params = b.block_params(entry).to_vec();
    let result = body(b, &params);
    b.ins().return_(&[result]);
    Ok(())
}

#[test]
fn defined_functions_run_and_their_ir_is_kept() {
    let mut jit = Jit::new(&[]).expect("host JIT");
    let signature = jit.signature(&[F32, F32, F32], &[F32]);
    let id = jit
        .define_function("fused", signature, |b, _| {
            emit_returning(b, |b, p| b.ins().fma(p[0], p[1], p[2]))
        })
        .expect("compiles");
    assert!(
        matches!(jit.function_pointer(id), Err(CodegenError::NotFinalized { name }) if name == "fused")
    );
    jit.finalize().expect("links");
    let pointer = jit.function_pointer(id).expect("pointer");
    // SAFETY: defined above with this signature.
    let fused =
        unsafe { std::mem::transmute::<*const u8, extern "C" fn(f32, f32, f32) -> f32>(pointer) };
    // 1 + 2^-23 squared needs the unrounded product: a separate multiply would give 0.
    let x = 1.0 + f32::EPSILON;
    assert_eq!(
        fused(x, x, -(1.0 + 2.0 * f32::EPSILON)),
        f32::EPSILON * f32::EPSILON
    );

    let clif = jit.clif();
    assert_eq!(clif.len(), 1);
    assert_eq!(clif[0].name, "fused");
    assert!(clif[0].text.contains("fma"), "{}", clif[0].text);
    assert!(clif[0].text.starts_with("function"), "{}", clif[0].text);
}

#[test]
fn registered_host_functions_can_be_called() {
    let mut jit = Jit::new(&[("triple", triple as *const u8)]).expect("host JIT");
    let callee_signature = jit.signature(&[I64], &[I64]);
    let callee = jit
        .declare_import("triple", &callee_signature)
        .expect("declared");
    let signature = jit.signature(&[I64], &[I64]);
    let id = jit
        .define_function("call_triple_plus_one", signature, |b, imports| {
            let triple_ref: FuncRef = imports.reference(callee, b);
            emit_returning(b, |b, p| {
                let call = b.ins().call(triple_ref, &[p[0]]);
                let tripled = b.inst_results(call)[0];
                b.ins().iadd_imm_s(tripled, 1)
            })
        })
        .expect("compiles");
    jit.finalize().expect("links");
    // SAFETY: defined above with this signature.
    let f = unsafe {
        std::mem::transmute::<*const u8, extern "C" fn(i64) -> i64>(
            jit.function_pointer(id).expect("pointer"),
        )
    };
    assert_eq!(f(14), 43);
}

#[test]
fn unregistered_imports_are_rejected_by_name() {
    let mut jit = Jit::new(&[("triple", triple as *const u8)]).expect("host JIT");
    let signature = jit.signature(&[I64], &[I64]);
    match jit.declare_import("quadruple", &signature) {
        Err(CodegenError::Declare { name, message }) => {
            assert_eq!(name, "quadruple");
            assert!(message.contains("registered: triple"), "{message}");
        }
        other => panic!("expected a declaration error, got {other:?}"),
    }
}

fn identity(b: &mut FunctionBuilder, _: &mut Imports) -> Result<(), CodegenError> {
    emit_returning(b, |_, p| p[0])
}

#[test]
fn definitions_after_finalize_and_duplicate_names_are_errors() {
    let mut jit = Jit::new(&[]).expect("host JIT");
    let signature = jit.signature(&[I64], &[I64]);
    jit.define_function("same", signature.clone(), identity)
        .expect("first definition");
    let other = jit.signature(&[F32], &[F32]);
    let duplicate = jit.define_function("same", other, |b, _| emit_returning(b, |_, p| p[0]));
    assert!(
        matches!(duplicate, Err(CodegenError::Declare { ref name, .. }) if name == "same"),
        "{duplicate:?}"
    );
    jit.finalize().expect("links");
    let late = jit.define_function("late", signature, identity);
    assert!(
        matches!(late, Err(CodegenError::AlreadyFinalized { ref name }) if name == "late"),
        "{late:?}"
    );
}
