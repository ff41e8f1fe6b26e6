//! Reports for people: the summary table of a checked model, progress lines,
//! and the run directory of `dlc run`, `dlc lr-find` and `dlc tune`: metrics
//! as CSV and JSON, curves as SVG and PNG, the verdict, and an HTML report.
//!
//! ```text
//! summary.rs, epochs.rs: text and JSON for the terminal
//! verdict.rs:  under-fitting / over-fitting / good fit, from the curves
//! metrics/:    confusion matrix, precision/recall/F1, ROC AUC, MAE/RMSE/R²
//! measure.rs:  the final model -> its outputs on a data set -> Metrics (one path)
//! plot.rs, heat.rs, charts.rs: charts (plotters; bundled font) -> SVG and PNG
//! glyphs.rs:   PNG text with every glyph on the baseline
//! html.rs:     the self-contained report page
//! final_section.rs: the run report's final-model section (heat map, scores)
//! files.rs, writers.rs: the run directory, written atomically
//! tune_report.rs, confirmation.rs: the tuner's files and its decision
//! ```

pub mod charts;
mod confirmation;
mod epochs;
pub mod files;
mod final_section;
pub mod glyphs;
mod heat;
pub mod html;
mod measure;
mod metrics;
pub mod plot;
mod predictions;
mod summary;
mod tune_report;
pub mod verdict;
mod writers;

pub use confirmation::{Decision, decision};
pub use epochs::{done_json, done_text, epoch_json, epoch_line};
pub use files::{ReportError, default_dir, default_run_dir, seeded_path};
pub use measure::{FinalMeasurement, MeasuredOn, Measurement, measure, measure_final_model};
pub use metrics::{
    AveragedScores, ClassMetrics, ClassScores, ColumnErrors, Metrics, RegressionMetrics,
    confusion_svg, roc_auc,
};
pub use predictions::predictions_csv;
pub use summary::{
    describe_data, describe_init, describe_layer, describe_train, summary_json, summary_table,
};
pub use tune_report::{grid_rows, write_tune};
pub use verdict::{Fit, Verdict, baseline_loss, judge};
pub use writers::{RunRecord, write_lr_find, write_run};
