//! Reports for people: the summary table of a checked model (and, later,
//! curves, the verdict and the HTML report).

mod epochs;
mod summary;

pub use epochs::{done_json, done_text, epoch_json, epoch_line};

pub use summary::{describe_data, describe_layer, describe_train, summary_json, summary_table};
