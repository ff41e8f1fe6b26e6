//! Data source definitions: one file per source, listed once in the `definitions!` list below.
//!
//! ```text
//! data item `data d = spirals(points: 500)`
//!   --Definition::bind-->  Spirals { points: 500, classes: 3, noise: 0.2 }  its arguments
//!   --Rule::sample_shape / classes / target_width-->  what the checker knows now
//!   --Rule::load-------->  the raw samples, generated or read under the file policy
//!   --Rule::describe---->  the summary's text
//! ```
//!
//! A definition owns everything about its source; the checker, the loader,
//! the memory estimate, the summary and `predict` ask it through [`Rule`].

mod registry;

pub use csv::CsvTarget;
pub use registry::{Entry, entry, find, keywords};

definitions! {
    /// The source of a checked data item: which, and its arguments.
    enum DataSource: dyn Rule, derive(Clone, Debug, PartialEq);
    /// Every source, in the order of the documentation.
    table SOURCES: [Entry] = entry;
    xor::Xor,
    spirals::Spirals,
    moons::Moons,
    blobs::Blobs,
    random_images::RandomImages,
    shapes::Shapes,
    sine::Sine,
    csv::Csv,
    idx::Idx,
    npy::Npy,
}

use crate::bind::Cx;
use crate::bind::args::Args;
use crate::data::{DataError, Dataset, FilePolicy};
use crate::syntax::Span;

/// A data source written as `name(arguments)` in a data item.
pub trait Definition: Sized + Into<DataSource> {
    /// The name that writes it.
    const KEYWORD: &'static str;
    /// Parameters that may be given by position, in order.
    const POSITIONAL: &'static [&'static str] = &[];

    /// Reads its arguments, each with its type, range and default; `None`
    /// after reporting a wrong one. `span` is the whole source call.
    fn bind(cx: &mut Cx, args: &mut Args, span: Span) -> Option<Self>;
}

/// Everything the compiler asks of a data source once it is bound.
pub trait Rule {
    fn keyword(&self) -> &'static str;

    /// The shape of one sample, when known without reading files.
    fn sample_shape(&self) -> Option<Vec<usize>> {
        None
    }

    /// The classes of a classification set, when known without reading
    /// files (built in, or declared); `None` for regression.
    fn classes(&self) -> Option<usize>;

    /// The real values per sample of a regression set (`Some(0)` when only
    /// a file can tell); `None` for classification.
    fn target_width(&self) -> Option<usize> {
        None
    }

    /// The samples a built-in set generates (saturating); `None` for files.
    fn generated_samples(&self) -> Option<u64> {
        None
    }

    /// The files it reads.
    fn files(&self) -> Vec<&str> {
        Vec::new()
    }

    /// The columns of a file that hold targets, not features (`predict` skips them).
    fn target_columns(&self) -> Vec<&str> {
        Vec::new()
    }

    /// Reads the file `path` in its place, for another file of the same kind
    /// (a test set); `Err` with what the source is when no file can.
    fn read_instead(&mut self, path: &str) -> Result<(), String> {
        let _ = path;
        Err(format!("is the built-in `{}` set", self.keyword()))
    }

    /// Reads its file as a trained model's data was read: these feature
    /// columns by name, and labels as these class names (when the training
    /// file wrote names). Sources without named columns ignore it.
    fn read_like(&mut self, features: &[String], class_names: Option<&[String]>) {
        let _ = (features, class_names);
    }

    /// Reads a missing feature value as NaN, for `impute` to fill, instead
    /// of refusing it. Sources that cannot hold one (generated sets, integer
    /// images) ignore it.
    fn keep_missing(&mut self) {}

    /// Why a set of this source can have no sample, for the error that says it does.
    fn empty_detail(&self) -> &'static str {
        ""
    }

    /// Generates or reads the raw samples (before reshape, scale and split).
    fn load(&self, seed: u64, policy: &FilePolicy) -> Result<Dataset, DataError>;

    /// How the source is written, in short, for the summary.
    fn describe(&self) -> String;
}

/// `points`, at least 1.
fn points(cx: &mut Cx, a: &mut Args, default: i64) -> Option<usize> {
    a.size(cx, "points", 1, Some(default)).map(|p| p.0)
}

/// `noise`, at least 0.
fn noise(cx: &mut Cx, a: &mut Args, default: f64) -> Option<f64> {
    a.real(
        cx,
        "noise",
        Some(default),
        |n| n >= 0.0,
        "must be at least 0",
    )
    .map(|n| n.0)
}

/// `classes`, at least 2.
fn classes(cx: &mut Cx, a: &mut Args, default: i64) -> Option<usize> {
    a.size(cx, "classes", 2, Some(default)).map(|c| c.0)
}

/// `classes` of a file, at least 2; 0 (the default): count them from the labels.
fn declared_classes(cx: &mut Cx, a: &mut Args) -> Option<Option<usize>> {
    let c = a.size(cx, "classes", 2, Some(0))?.0;
    Some((c > 0).then_some(c))
}
