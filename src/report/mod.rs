//! Reports for people: the summary table of a checked model (and, later,
//! curves, the verdict and the HTML report).

mod summary;

pub use summary::{describe_data, describe_layer, describe_train, summary_json, summary_table};
