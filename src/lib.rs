//! dlc: a compiler for a small language that describes neural networks and
//! how to train them.
//!
//! A `.dl` program names the data, the network, the loss, the optimizer and
//! the training plan. dlc checks all of it before anything runs, compiles the
//! training step to native code with Cranelift, and trains.
//!
//! # The pipeline
//!
//! ```text
//! model.dl --syntax (pest)--> AST with spans
//!          --check----------> check::Model: every name resolved, every shape known,
//!                             parameters counted; or diagnostics (diag)
//!          --lower----------> graph IR: primitive tensor ops, forward (train or eval mode)
//!          --autodiff-------> + backward pass (one rule per primitive) + optimizer update
//!          --codegen::plan--> kernels: fused elementwise loops, reductions, matrix
//!                             products, convolutions; memory planned by liveness
//!          --codegen--------> Cranelift IR --> native functions (JIT)
//!                      \----> interp: the reference interpreter (f64/f32), the tests' oracle
//! runtime: buffers, the training loop, data loading (data), checkpoints
//! report: summaries, epoch lines and JSON
//!
//! definitions, each kind in one file and listed once in its registry, which
//! check, lower, autodiff, the runtime and the reports ask:
//!   layers      arguments, shape rule, lowering, initialisation, summary, parity
//!   optimizers  arguments, update as IR, per-step scalars, weight decay, tuner grid
//!   sources     arguments, sample shape and targets, loader, summary
//! bind: the argument binder and diagnostics context that the checker and
//! every definition share (below both, so neither depends on the other)
//! ```
//!
//! Each arrow is a module, and each intermediate form has a text form that
//! `dlc check --emit ast|ir|grad|kernels|clif` prints.
//!
//! # As a library
//!
//! Compile a program from source, train it as it says, and predict:
//!
//! ```
//! let source = r#"
//!     data corners = xor()
//!     network net(x: [2]) -> 2 {
//!         dense 8
//!         tanh
//!         dense 2
//!     }
//!     train net on corners {
//!         loss      cross_entropy
//!         optimizer sgd(lr: 0.5, momentum: 0.9)
//!         batch     all
//!         epochs    200
//!     }
//! "#;
//! let mut model = dlc::compile(source)?;
//! let report = model.train(&dlc::TrainOptions::default(), &mut |_epoch| {})?;
//! assert_eq!(report.epochs.last().unwrap().train_acc, Some(1.0));
//!
//! // Logits for the four corners, one row of two per sample.
//! let logits = model.predict(&[0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0])?;
//! let class = |row: &[f32]| if row[1] > row[0] { 1 } else { 0 };
//! let classes: Vec<_> = logits.chunks(2).map(class).collect();
//! assert_eq!(classes, [0, 1, 1, 0]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Train on data of your own, and read or write parameters by name:
//!
//! ```
//! use dlc::data::{Dataset, Targets};
//!
//! let mut model = dlc::compile(r#"
//!     data unused = blobs(points: 10, classes: 2, features: 3)
//!     network net(x: [3]) -> 2 { dense 2 }
//!     train net on unused { loss cross_entropy; optimizer sgd(lr: 0.1); batch 4; epochs 5 }
//! "#)?;
//! let data = Dataset::new(
//!     vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.1, 0.0, 0.0, 0.9, 0.0],
//!     vec![3],
//!     Targets::Classes { labels: vec![0, 1, 0, 1], classes: 2 },
//! )?;
//! let report = model.train_on(&data, None, &dlc::TrainOptions::default(), &mut |_| {})?;
//! assert_eq!(report.epochs.len(), 5);
//! assert_eq!(model.parameter("dense1.weight").unwrap().len(), 6);
//! model.set_parameter("dense1.bias", &[0.5, -0.5])?;
//! assert_eq!(model.parameter("dense1.bias"), Some(&[0.5f32, -0.5][..]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Save the trained model and open it again from the file alone: it holds
//! the program, the weights and the data's preparation.
//!
//! ```
//! let mut model = dlc::compile(r#"
//!     data corners = xor()
//!     network net(x: [2]) -> 2 { dense 8; tanh; dense 2 }
//!     train net on corners { loss cross_entropy; optimizer adam(lr: 0.05); epochs 5 }
//! "#)?;
//! model.train(&dlc::TrainOptions::default(), &mut |_| {})?;
//! let path = std::env::temp_dir().join(format!("dlc-doc-model-{}.safetensors", std::process::id()));
//! model.save_model(&path)?;
//! let mut opened = dlc::open_model(&path, &dlc::Options::default())?;
//! let corner = [1.0, 0.0];
//! assert_eq!(opened.predict(&corner)?, model.predict(&corner)?);
//! assert_eq!(opened.preparation(), model.preparation());
//! # std::fs::remove_file(&path)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Programs from elsewhere
//!
//! A service that compiles its users' programs gives them [`Limits`]: the
//! memory they may plan to use, the time compiling may take, and which files
//! their data and checkpoint paths may name. [`Limits::untrusted`] allows
//! regular files inside one directory only (after `..` and symbolic links are
//! resolved); any other path is a diagnostic before anything is compiled, and
//! no message quotes more than a short, escaped excerpt of a file:
//!
//! ```
//! let root = std::env::temp_dir().join(format!("dlc-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&root)?;
//! let source = r#"
//!     data d = csv("/etc/passwd", label: "x")
//!     network net(x: [4]) -> 2 { dense 2 }
//!     train net on d { loss cross_entropy; optimizer sgd(lr: 0.1) }
//! "#;
//! let options = dlc::Options {
//!     limits: dlc::Limits::untrusted(&root),
//!     ..Default::default()
//! };
//! let err = dlc::compile_with_options(source, &options).unwrap_err();
//! let text = err.render("user.dl", source, false);
//! assert!(text.contains("error[E0703]: this program may not use `/etc/passwd`"), "{text}");
//! assert!(!text.contains("root:"), "nothing of the file is shown: {text}");
//! # std::fs::remove_dir_all(&root)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A program with mistakes gives every diagnostic, rendered as `dlc check`
//! prints them:
//!
//! ```
//! let source = "network net(x: [2]) -> 3 {\n    dense 4\n    dense 5\n}\n";
//! let err = dlc::compile(source).unwrap_err();
//! let text = err.render("net.dl", source, false);
//! assert!(text.contains("error[E0405]: network `net` should give [3] but gives [5]"));
//! ```

// Parts of the stages exist for the tests, which reach them through the
// `internals` feature: the IR's text parser, the interpreter's helpers, the
// plan verifier in release builds. Unused code is judged in the build with
// that feature (`cargo clippy --all-targets`).
#![cfg_attr(not(feature = "internals"), allow(dead_code, unused_imports))]

#[macro_use]
mod definitions;

/// The pipeline's stages. The front door is what the crate root exports and
/// the modules that are always public: the checked program (`check`), data
/// sets (`data`), diagnostics (`diag`), the recipe, reports and run
/// directories, checkpoints and data loading; these are its insides.
/// They are public only with the `internals` feature, which the project's own
/// tests and benchmarks turn on to check each stage by itself: nothing in
/// them is a stable interface.
macro_rules! internal_modules {
    ($($name:ident),* $(,)?) => {$(
        #[cfg(feature = "internals")]
        pub mod $name;
        #[cfg(not(feature = "internals"))]
        pub(crate) mod $name;
    )*};
}

internal_modules! {
    autodiff, bind, codegen, emit, interp, ir, layers, limits, lower,
    optimizers, rng, runtime, sources, syntax,
}

mod api;
pub mod check;
pub mod data;
pub mod deploy;
pub mod diag;
pub mod distributed;
pub mod export;
pub mod outputs;
pub mod recipe;
pub mod report;

pub use api::{
    Error, Options, check_with, compile, compile_file, compile_with, compile_with_options,
    open_model,
};
pub use codegen::profile::summary as kernel_profile;
pub use codegen::workers::{set_threads, threads};
pub use emit::{Stage, emit};
pub use limits::Limits;
pub use runtime::{
    BackendKind, CHECKPOINT_INTERVAL, CompiledModel, EpochMetrics, Evaluation, RunError, StepHook,
    StepProgress, StopReason, TrainOptions, TrainReport,
};
pub use runtime::{checkpoint, load, parity};
