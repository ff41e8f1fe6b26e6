//! Reports for people: the summary table of a checked model, progress lines,
//! and the run directory of `dlc run`, `dlc lr-find` and `dlc tune`: metrics
//! as CSV and JSON, curves as SVG and PNG, the verdict, and an HTML report.
//!
//! ```text
//! summary.rs, epochs.rs: text and JSON for the terminal
//! verdict.rs:  under-fitting / over-fitting / good fit, from the curves
//! metrics/:    confusion matrix, precision/recall/F1, ROC AUC, MAE/RMSE/R²
//! plot.rs, charts.rs: charts (plotters; bundled font) -> SVG and PNG
//! html.rs:     the self-contained report page
//! files.rs, writers.rs: the run directory, written atomically
//! ```

pub mod charts;
mod epochs;
pub mod files;
pub mod html;
mod metrics;
pub mod plot;
mod predictions;
mod summary;
pub mod verdict;
mod writers;

pub use epochs::{done_json, done_text, epoch_json, epoch_line};
pub use files::{ReportError, default_dir, default_run_dir, seeded_path};
pub use metrics::{
    AveragedScores, ClassMetrics, ClassScores, ColumnErrors, Metrics, RegressionMetrics,
    confusion_svg, roc_auc,
};
pub use predictions::predictions_csv;
pub use summary::{
    describe_data, describe_init, describe_layer, describe_train, summary_json, summary_table,
};
pub use verdict::{Fit, Verdict, baseline_loss, judge};
pub use writers::{RunRecord, grid_rows, write_lr_find, write_run, write_tune};
