//! The numbers people read after training: how a classifier confuses the
//! classes (precision, recall, F1, ROC AUC) and how far a regression model
//! misses (MAE, RMSE, R²), as text, JSON and a heat map.
//!
//! The definitions follow scikit-learn, so the numbers can be checked
//! against it; each type documents its conventions for the cases that
//! divide by zero. Everything here is a pure function of the labels and
//! predictions, and none of it panics on what a data set may hold: out of
//! range labels, NaN predictions, empty or mismatched inputs.
//!
//! ```text
//! classification.rs: the confusion matrix and per-class scores
//! roc.rs:            the area under the ROC curve of a two-class scorer
//! regression.rs:     MAE, RMSE and R² per output column
//! render.rs:         text for the terminal, JSON for programs
//! heatmap.rs:        the confusion matrix as SVG
//! outputs.rs:        a network's outputs on a data set, read as its loss reads them
//! ```

mod classification;
mod heatmap;
mod outputs;
mod regression;
mod render;
mod roc;

pub use classification::{AveragedScores, ClassMetrics, ClassScores};
pub use heatmap::confusion_svg;
pub use outputs::Metrics;
pub use regression::{ColumnErrors, RegressionMetrics};
pub use roc::roc_auc;

/// The name of class (or column) `index`: the caller's, or the index itself.
pub(crate) fn name_of(names: &[String], index: usize) -> String {
    names
        .get(index)
        .cloned()
        .unwrap_or_else(|| index.to_string())
}
