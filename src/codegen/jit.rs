//! The code module: turns Cranelift IR into callable machine code for the host CPU, or
//! into an object file to link elsewhere ([`Jit::new_object`], for `dlc build`).
//!
//! This is the last step of the pipeline. Kernel emitters (see [`super::vecmath`] and
//! [`super::gemm`]) write Cranelift IR into a [`FunctionBuilder`] handed out by
//! [`Jit::define_function`] (one function, compiled at once) or [`Jit::build_function`]
//! (compiled later, together with others on several threads, by [`Jit::define_built`]);
//! once every function is defined, [`Jit::finalize`] links them (resolving calls to host
//! functions registered up front, such as the external GEMM) and
//! [`Jit::function_pointer`] hands out their addresses.
//!
//! The target is always the host: its ISA flags are detected at start-up, so the backend
//! uses every vector and FMA extension the CPU offers. The textual IR of each defined
//! function can be kept (as written by the emitters, before optimisation) so a driver can
//! show it on request ([`Jit::keep_text`]).

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self, AbiParam, FuncRef, Signature, Type, UserFuncName};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, print_errors::pretty_error};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{
    DataDescription, DataId, FuncId, Linkage, Module, ModuleError, ModuleReloc,
    default_libcall_names,
};
use cranelift_object::{ObjectBuilder, ObjectModule};

/// Everything that can go wrong while generating or linking machine code.
#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    /// The host CPU is not one Cranelift can generate code for.
    #[error("the code generator does not support this machine: {0}")]
    UnsupportedHost(String),
    /// A Cranelift setting was rejected (a bug in this module's choice of settings).
    #[error("the code generator rejected setting `{name}={value}`: {message}")]
    Setting {
        name: String,
        value: String,
        message: String,
    },
    /// A function could not be declared (duplicate name with another signature, ...).
    #[error("cannot declare function `{name}`: {message}")]
    Declare { name: String, message: String },
    /// Cranelift refused to compile the IR of a function (verifier or backend error).
    #[error("cannot compile function `{name}`: {message}")]
    Compile { name: String, message: String },
    /// Linking the module failed (typically an imported symbol that was never registered).
    #[error("cannot link the generated code: {0}")]
    Link(String),
    /// A function pointer was requested before [`Jit::finalize`] ran.
    #[error("function `{name}` is not ready: call `finalize` after defining all functions")]
    NotFinalized { name: String },
    /// A function was defined after the module was finalized.
    #[error("cannot define `{name}`: the module was already finalized")]
    AlreadyFinalized { name: String },
    /// An emitter was asked to work on a value type it does not handle.
    #[error("{operation} expects a value of type {expected}, found {found}")]
    UnsupportedType {
        operation: &'static str,
        expected: &'static str,
        found: String,
    },
    /// A kernel's sizes or strides are inconsistent or too large to address.
    #[error("invalid kernel shape: {0}")]
    InvalidShape(String),
    /// The kernel planner could not place a graph in memory.
    #[error("cannot plan the kernels of `{entry}`: {source}")]
    Plan {
        entry: String,
        source: super::plan::PlanError,
    },
}

/// The IR text of one defined function, as the emitters produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClifFunction {
    /// The name the function was declared with.
    pub name: String,
    /// The function body in Cranelift's textual IR.
    pub text: String,
}

/// A function whose IR is built but not yet compiled.
pub struct BuiltFunction {
    id: FuncId,
    name: String,
    func: ir::Function,
}

impl BuiltFunction {
    /// The id other functions reference it by.
    pub fn id(&self) -> FuncId {
        self.id
    }
}

/// One function's machine code, before it is placed in the module.
struct MachineCode {
    bytes: Vec<u8>,
    alignment: u64,
    relocs: Vec<ModuleReloc>,
}

/// Handle for importing host functions into the body that is being built.
pub struct Imports<'m> {
    module: &'m mut dyn Module,
}

impl Imports<'_> {
    /// Makes a declared function (usually a registered host symbol) callable from `builder`.
    pub fn reference(&mut self, id: FuncId, builder: &mut FunctionBuilder) -> FuncRef {
        self.module.declare_func_in_func(id, builder.func)
    }

    /// Makes a defined data object addressable from `builder` (`global_value`).
    pub fn data(&mut self, id: DataId, builder: &mut FunctionBuilder) -> ir::GlobalValue {
        self.module.declare_data_in_func(id, builder.func)
    }
}

/// Where the machine code goes.
// One per module, never moved in a hot path: the size difference is moot.
#[allow(clippy::large_enum_variant)]
enum Backing {
    /// Into this process's memory, to be called.
    Memory(JITModule),
    /// Into an object file (position-independent), to be linked elsewhere.
    Object(ObjectModule),
}

impl Backing {
    fn module(&self) -> &dyn Module {
        match self {
            Backing::Memory(m) => m,
            Backing::Object(m) => m,
        }
    }

    fn module_mut(&mut self) -> &mut dyn Module {
        match self {
            Backing::Memory(m) => m,
            Backing::Object(m) => m,
        }
    }
}

/// The processor an object file is built for.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum TargetCpu {
    /// This machine's, with every extension it has (as the JIT uses).
    #[default]
    Host,
    /// A named x86-64 level or microarchitecture (`x86-64-v3`, `skylake`, ...).
    Named(String),
}

/// A JIT module for the host CPU plus the state needed to build functions into it.
///
/// Function pointers handed out by [`Jit::function_pointer`] stay valid as long as this
/// value lives; dropping it frees the machine code.
pub struct Jit {
    module: Option<Backing>,
    builder_context: FunctionBuilderContext,
    defined: Vec<(FuncId, String)>,
    registered: Vec<String>,
    clif: Vec<ClifFunction>,
    /// Whether to keep each function's IR text (printing it costs as much
    /// as a good part of compiling it).
    keep_text: bool,
    finalized: bool,
}

impl Jit {
    /// Creates a module targeting the host with `opt_level=speed`, native ISA flags, and the
    /// IR verifier on in debug builds. `symbols` are host functions that generated code may
    /// call by name (declare them with [`Jit::declare_import`]).
    pub fn new(symbols: &[(&str, *const u8)]) -> Result<Self, CodegenError> {
        let isa = make_isa(&TargetCpu::Host, false)?;
        let mut jit_builder = JITBuilder::with_isa(isa, default_libcall_names());
        for (name, pointer) in symbols {
            jit_builder.symbol(*name, *pointer);
        }
        let module = JITModule::new(jit_builder);
        Ok(Self::around(
            Backing::Memory(module),
            symbols.iter().map(|(name, _)| name.to_string()).collect(),
        ))
    }

    /// Creates a module that writes a position-independent object file
    /// named `name` for `cpu` ([`Jit::finish_object`]). `imports` are the
    /// names generated code may call that the final link resolves (from the
    /// C library, say).
    pub fn new_object(name: &str, cpu: &TargetCpu, imports: &[&str]) -> Result<Self, CodegenError> {
        let isa = make_isa(cpu, true)?;
        let builder = ObjectBuilder::new(isa, name, default_libcall_names())
            .map_err(|err| CodegenError::UnsupportedHost(err.to_string()))?;
        Ok(Self::around(
            Backing::Object(ObjectModule::new(builder)),
            imports.iter().map(|name| name.to_string()).collect(),
        ))
    }

    fn around(backing: Backing, registered: Vec<String>) -> Self {
        Self {
            module: Some(backing),
            builder_context: FunctionBuilderContext::new(),
            defined: Vec::new(),
            registered,
            clif: Vec::new(),
            keep_text: true,
            finalized: false,
        }
    }

    fn module(&self) -> &dyn Module {
        // Only `Drop` and `finish_object` take the module out, so it is
        // always present here.
        self.module
            .as_ref()
            .unwrap_or_else(|| unreachable!())
            .module()
    }

    fn module_mut(&mut self) -> &mut dyn Module {
        self.module
            .as_mut()
            .unwrap_or_else(|| unreachable!())
            .module_mut()
    }

    /// The integer type of a host pointer (I64 on x86-64).
    pub fn pointer_type(&self) -> Type {
        self.module().target_config().pointer_type()
    }

    /// A signature with the host's default calling convention.
    pub fn signature(&self, params: &[Type], returns: &[Type]) -> Signature {
        let mut signature = self.module().make_signature();
        signature
            .params
            .extend(params.iter().map(|ty| AbiParam::new(*ty)));
        signature
            .returns
            .extend(returns.iter().map(|ty| AbiParam::new(*ty)));
        signature
    }

    /// Declares a host function (registered in [`Jit::new`]) so generated code can call it.
    /// Only registered names are accepted: linking an unknown name would otherwise fall
    /// back to whatever the process happens to export, or abort.
    pub fn declare_import(
        &mut self,
        name: &str,
        signature: &Signature,
    ) -> Result<FuncId, CodegenError> {
        if !self.registered.iter().any(|registered| registered == name) {
            return Err(CodegenError::Declare {
                name: name.to_string(),
                message: format!(
                    "no host function is registered under this name (registered: {}); pass it to `Jit::new`",
                    if self.registered.is_empty() {
                        "none".to_string()
                    } else {
                        self.registered.join(", ")
                    }
                ),
            });
        }
        self.module_mut()
            .declare_function(name, Linkage::Import, signature)
            .map_err(|err| declare_error(name, err))
    }

    /// Declares and defines a function whose body `emit_body` writes. The builder comes
    /// with nothing in it: the body creates its entry block, appends the parameters, and
    /// must end every block with a terminator. The builder is sealed and finished here.
    pub fn define_function<F>(
        &mut self,
        name: &str,
        signature: Signature,
        emit_body: F,
    ) -> Result<FuncId, CodegenError>
    where
        F: FnOnce(&mut FunctionBuilder, &mut Imports) -> Result<(), CodegenError>,
    {
        let built = self.build_function(name, signature, emit_body)?;
        let ids = self.define_built(vec![built], 1)?;
        Ok(ids[0])
    }

    /// Declares a function and builds its IR with `emit_body` (as
    /// [`Jit::define_function`] does), without compiling it: compile a batch
    /// of built functions at once, on several threads, with
    /// [`Jit::define_built`].
    pub fn build_function<F>(
        &mut self,
        name: &str,
        signature: Signature,
        emit_body: F,
    ) -> Result<BuiltFunction, CodegenError>
    where
        F: FnOnce(&mut FunctionBuilder, &mut Imports) -> Result<(), CodegenError>,
    {
        self.build_linked_function(name, Linkage::Export, signature, emit_body)
    }

    /// [`Jit::build_function`] with the symbol's linkage given: an object
    /// file exports only its interface and keeps the rest `Local`.
    pub fn build_linked_function<F>(
        &mut self,
        name: &str,
        linkage: Linkage,
        signature: Signature,
        emit_body: F,
    ) -> Result<BuiltFunction, CodegenError>
    where
        F: FnOnce(&mut FunctionBuilder, &mut Imports) -> Result<(), CodegenError>,
    {
        if self.finalized {
            return Err(CodegenError::AlreadyFinalized {
                name: name.to_string(),
            });
        }
        let module = self
            .module
            .as_mut()
            .unwrap_or_else(|| unreachable!())
            .module_mut();
        let frontend_config = module.target_config();
        let id = module
            .declare_function(name, linkage, &signature)
            .map_err(|err| declare_error(name, err))?;
        let mut func =
            ir::Function::with_name_signature(UserFuncName::user(0, id.as_u32()), signature);
        {
            let mut builder = FunctionBuilder::new(&mut func, &mut self.builder_context);
            let mut imports = Imports { module };
            emit_body(&mut builder, &mut imports)?;
            builder.seal_all_blocks();
            builder.finalize(frontend_config);
        }
        if self.keep_text {
            self.clif.push(ClifFunction {
                name: name.to_string(),
                text: func.display().to_string(),
            });
        }
        Ok(BuiltFunction {
            id,
            name: name.to_string(),
            func,
        })
    }

    /// Compiles built functions to machine code on up to `threads` threads
    /// (Cranelift compiles each function independently) and defines them in
    /// the module, in order. Compiling dominates the time from source to
    /// ready code, so two cores nearly halve it.
    pub fn define_built(
        &mut self,
        built: Vec<BuiltFunction>,
        threads: usize,
    ) -> Result<Vec<FuncId>, CodegenError> {
        if let Some(f) = built.first().filter(|_| self.finalized) {
            return Err(CodegenError::AlreadyFinalized {
                name: f.name.clone(),
            });
        }
        let disasm = std::env::var_os("DLC_DISASM").is_some();
        let isa = self.module().isa();
        // Largest first, each to the least loaded thread: the biggest
        // function bounds the wall time anyway.
        let mut order: Vec<usize> = (0..built.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(built[i].func.dfg.num_insts()));
        let threads = threads.clamp(1, built.len().max(1));
        let mut buckets: Vec<(usize, Vec<usize>)> = vec![(0, Vec::new()); threads];
        for i in order {
            let lightest = buckets
                .iter_mut()
                .min_by_key(|(load, _)| *load)
                .unwrap_or_else(|| unreachable!("at least one thread"));
            lightest.0 += built[i].func.dfg.num_insts();
            lightest.1.push(i);
        }
        let compile_one = |f: &BuiltFunction| -> Result<MachineCode, CodegenError> {
            let mut ctx = Context::for_function(f.func.clone());
            ctx.set_disasm(disasm);
            ctx.compile(isa, &mut ControlPlane::default())
                .map_err(|err| CodegenError::Compile {
                    name: f.name.clone(),
                    message: pretty_error(err.func, err.inner),
                })?;
            let code = ctx
                .compiled_code()
                .unwrap_or_else(|| unreachable!("compiled just above"));
            if disasm && let Some(vcode) = code.vcode.as_ref() {
                eprintln!("{vcode}");
            }
            let relocs = code
                .buffer
                .relocs()
                .iter()
                .map(|r| ModuleReloc::from_mach_reloc(r, &ctx.func, f.id))
                .collect();
            Ok(MachineCode {
                bytes: code.code_buffer().to_vec(),
                alignment: code.buffer.alignment as u64,
                relocs,
            })
        };
        let mut results: Vec<Option<Result<MachineCode, CodegenError>>> =
            (0..built.len()).map(|_| None).collect();
        if threads == 1 {
            for (slot, f) in results.iter_mut().zip(&built) {
                *slot = Some(compile_one(f));
            }
        } else {
            let done = std::thread::scope(|scope| {
                let handles: Vec<_> = buckets
                    .iter()
                    .map(|(_, items)| {
                        let built = &built;
                        let compile_one = &compile_one;
                        scope.spawn(move || {
                            items
                                .iter()
                                .map(|&i| (i, compile_one(&built[i])))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join()).collect::<Vec<_>>()
            });
            for batch in done {
                let batch = batch.map_err(|_| CodegenError::Compile {
                    name: "a compiler thread".into(),
                    message: "the code generator panicked".into(),
                })?;
                for (i, r) in batch {
                    results[i] = Some(r);
                }
            }
        }
        let mut ids = Vec::with_capacity(built.len());
        for (f, r) in built.iter().zip(results) {
            let code = r.unwrap_or_else(|| unreachable!("every function was compiled"))?;
            self.module_mut()
                .define_function_bytes(f.id, code.alignment, &code.bytes, &code.relocs)
                .map_err(|err| compile_error(&f.name, &f.func, err))?;
            self.defined.push((f.id, f.name.clone()));
            ids.push(f.id);
        }
        Ok(ids)
    }

    /// Links every defined function; afterwards their pointers can be fetched.
    pub fn finalize(&mut self) -> Result<(), CodegenError> {
        if !self.finalized {
            match self.module.as_mut() {
                Some(Backing::Memory(m)) => m
                    .finalize_definitions()
                    .map_err(|err| CodegenError::Link(err.to_string()))?,
                _ => {
                    return Err(CodegenError::Link(
                        "an object module is written with `finish_object`, not finalized".into(),
                    ));
                }
            }
            self.finalized = true;
        }
        Ok(())
    }

    /// Defines a data object of `bytes`, aligned to `align` bytes.
    pub fn define_data(
        &mut self,
        name: &str,
        linkage: Linkage,
        writable: bool,
        bytes: Vec<u8>,
        align: u64,
    ) -> Result<DataId, CodegenError> {
        let module = self.module_mut();
        let id = module
            .declare_data(name, linkage, writable, false)
            .map_err(|err| declare_error(name, err))?;
        let mut data = DataDescription::new();
        data.define(bytes.into_boxed_slice());
        data.set_align(align);
        module
            .define_data(id, &data)
            .map_err(|err| declare_error(name, err))?;
        Ok(id)
    }

    /// The object file's bytes (ELF on Linux), once every function is defined,
    /// and the symbols it leaves for the final link to resolve (the imports
    /// it was created with and the libcalls the code generator emitted, such
    /// as `fmaf` on a processor without FMA), in name order.
    pub fn finish_object(mut self) -> Result<(Vec<u8>, Vec<String>), CodegenError> {
        let module = match self.module.take() {
            Some(Backing::Object(m)) => m,
            other => {
                self.module = other;
                return Err(CodegenError::Link(
                    "only an object module writes an object file".into(),
                ));
            }
        };
        let product = module.finish();
        let mut undefined: Vec<String> = self
            .registered
            .iter()
            .cloned()
            .chain(LIBCALL_NAMES.iter().map(|n| n.to_string()))
            .filter(|name| {
                product
                    .object
                    .symbol_id(name.as_bytes())
                    .is_some_and(|id| {
                        product.object.symbol(id).section
                            == cranelift_object::object::write::SymbolSection::Undefined
                    })
            })
            .collect();
        undefined.sort();
        undefined.dedup();
        let bytes = product
            .emit()
            .map_err(|err| CodegenError::Link(err.to_string()))?;
        Ok((bytes, undefined))
    }

    /// The entry address of a defined function. Casting it to the right `extern "C" fn`
    /// type (matching the signature it was defined with) is the caller's responsibility.
    pub fn function_pointer(&self, id: FuncId) -> Result<*const u8, CodegenError> {
        let name = self
            .defined
            .iter()
            .find(|(defined, _)| *defined == id)
            .map(|(_, name)| name.clone());
        match (self.finalized, name) {
            (true, Some(_)) => match self.module.as_ref() {
                Some(Backing::Memory(m)) => Ok(m.get_finalized_function(id)),
                _ => Err(CodegenError::NotFinalized {
                    name: "a function of an object module".into(),
                }),
            },
            (false, Some(name)) => Err(CodegenError::NotFinalized { name }),
            (_, None) => Err(CodegenError::NotFinalized {
                name: format!("#{} (not defined in this module)", id.as_u32()),
            }),
        }
    }

    /// Whether [`Jit::clif`] keeps the IR text of the functions defined
    /// from now on (the default).
    pub fn keep_text(&mut self, keep: bool) {
        self.keep_text = keep;
    }

    /// The IR of every function defined so far (while text was kept), in
    /// definition order.
    pub fn clif(&self) -> &[ClifFunction] {
        &self.clif
    }
}

impl Drop for Jit {
    fn drop(&mut self) {
        if let Some(Backing::Memory(module)) = self.module.take() {
            // SAFETY: the pointers handed out are documented to live only as long as `self`.
            unsafe { module.free_memory() };
        }
    }
}

/// The names `default_libcall_names` gives the libcalls x86-64 code can
/// need: the C library's and libm's, and two of Cranelift's own.
pub const LIBCALL_NAMES: [&str; 16] = [
    "ceilf", "ceil", "floorf", "floor", "truncf", "trunc", "nearbyintf", "nearbyint", "fmaf",
    "fma", "memcpy", "memset", "memmove", "memcmp", "__cranelift_probestack",
    "__cranelift_x86_pshufb",
];

/// An ISA for `cpu` with `opt_level=speed` and the IR verifier on in debug
/// builds; position-independent code for object files.
fn make_isa(
    cpu: &TargetCpu,
    pic: bool,
) -> Result<cranelift_codegen::isa::OwnedTargetIsa, CodegenError> {
    let mut flags = settings::builder();
    let verifier = if cfg!(debug_assertions) {
        "true"
    } else {
        "false"
    };
    for (name, value) in [
        ("opt_level", "speed"),
        ("enable_verifier", verifier),
        // Calls into the host can be anywhere in the address space.
        ("use_colocated_libcalls", "false"),
        ("is_pic", if pic { "true" } else { "false" }),
    ] {
        flags
            .set(name, value)
            .map_err(|err| CodegenError::Setting {
                name: name.to_string(),
                value: value.to_string(),
                message: err.to_string(),
            })?;
    }
    let isa_builder = match cpu {
        TargetCpu::Host => cranelift_native::builder()
            .map_err(|msg| CodegenError::UnsupportedHost(msg.to_string()))?,
        TargetCpu::Named(name) => {
            // The host's triple, none of its extensions: only the named ones.
            let host = cranelift_native::builder()
                .map_err(|msg| CodegenError::UnsupportedHost(msg.to_string()))?;
            let mut b = cranelift_codegen::isa::lookup(host.triple().clone())
                .map_err(|err| CodegenError::UnsupportedHost(err.to_string()))?;
            let setting = |err: cranelift_codegen::settings::SetError| CodegenError::Setting {
                name: "cpu".into(),
                value: name.clone(),
                message: err.to_string(),
            };
            b.enable(name).map_err(setting)?;
            // Cranelift's generic levels name AVX2 but not the AVX it implies,
            // without which FMA and the VEX encodings stay off.
            if matches!(name.as_str(), "x86-64-v3" | "x86-64-v4") {
                b.enable("has_avx").map_err(setting)?;
            }
            b
        }
    };
    isa_builder
        .finish(settings::Flags::new(flags))
        .map_err(|err| CodegenError::UnsupportedHost(err.to_string()))
}

fn declare_error(name: &str, err: ModuleError) -> CodegenError {
    CodegenError::Declare {
        name: name.to_string(),
        message: err.to_string(),
    }
}

fn compile_error(name: &str, func: &ir::Function, err: ModuleError) -> CodegenError {
    let message = match err {
        // The pretty form points at the offending instruction in the IR listing.
        ModuleError::Compilation(inner) => pretty_error(func, inner),
        other => other.to_string(),
    };
    CodegenError::Compile {
        name: name.to_string(),
        message,
    }
}
