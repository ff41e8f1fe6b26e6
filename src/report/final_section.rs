//! The run report's section on the final model: what it was measured on,
//! the confusion matrix as a heat map and the per-class scores, or the
//! regression errors beside the loss.

use super::html::{Block, Section};
use super::measure::{FinalMeasurement, MeasuredOn, error};
use super::metrics::name_of;
use super::{ClassMetrics, Metrics, RegressionMetrics, confusion_svg};

/// Which weights the final model holds: `restored` is the epoch early
/// stopping restored (or the best epoch), `last` the last one trained.
pub fn final_section(f: &FinalMeasurement, restored: Option<usize>, last: usize) -> Section {
    let m = &f.measurement;
    let weights = match restored {
        Some(e) if e != last => format!("the weights of epoch {e}, restored by early stopping"),
        _ => format!("the weights of the last epoch ({last})"),
    };
    let mut blocks = vec![Block::Text(format!(
        "Measured in evaluation mode on the {} ({} samples), with {weights}.",
        f.on.described(),
        m.samples
    ))];
    if f.on == MeasuredOn::Training {
        blocks.push(Block::Text(
            "These are numbers on the data the model was trained on: they say how well it \
             learned, not how well it does on new data."
                .into(),
        ));
    }
    match &m.metrics {
        Metrics::Classes(c) => {
            blocks.push(Block::Figure(confusion_svg(c, &m.names)));
            blocks.push(class_table(c, &m.names, m.loss));
            if c.ignored > 0 {
                blocks.push(Block::Text(format!(
                    "{} samples are left out: their label or prediction is not one of the {} classes.",
                    c.ignored,
                    c.classes()
                )));
            }
        }
        Metrics::Values(r) => {
            blocks.push(regression_table(r, &m.names, m.loss));
            if m.loss_of_standardized_targets {
                blocks.push(Block::Text(
                    "The loss is of the standardized targets, as the network minimised it; \
                     MAE, RMSE and R² are in the targets' own units."
                        .into(),
                ));
            }
        }
    }
    Section {
        heading: "Final model".into(),
        blocks,
    }
}

fn score(x: f64) -> String {
    format!("{x:.3}")
}

/// One row per class, then accuracy, the macro and weighted averages, the
/// loss and (two classes) the ROC AUC.
fn class_table(c: &ClassMetrics, names: &[String], loss: f64) -> Block {
    let header = ["class", "precision", "recall", "F1", "support"];
    let mut rows: Vec<Vec<String>> = c
        .per_class
        .iter()
        .enumerate()
        .map(|(i, s)| {
            vec![
                name_of(names, i),
                score(s.precision),
                score(s.recall),
                score(s.f1),
                s.support.to_string(),
            ]
        })
        .collect();
    let samples = c.samples.to_string();
    let blank = String::new;
    rows.push(vec![
        "accuracy".into(),
        blank(),
        blank(),
        score(c.accuracy),
        samples.clone(),
    ]);
    for (label, a) in [("macro avg", c.macro_avg), ("weighted avg", c.weighted_avg)] {
        rows.push(vec![
            label.into(),
            score(a.precision),
            score(a.recall),
            score(a.f1),
            samples.clone(),
        ]);
    }
    if let Some(auc) = c.roc_auc {
        rows.push(vec![
            "ROC AUC".into(),
            blank(),
            blank(),
            score(auc),
            blank(),
        ]);
    }
    rows.push(vec!["loss".into(), blank(), blank(), error(loss), blank()]);
    Block::Table {
        header: header.map(String::from).to_vec(),
        rows,
        highlight: None,
    }
}

/// The loss and the averages first; with several targets, a row for each.
fn regression_table(r: &RegressionMetrics, names: &[String], loss: f64) -> Block {
    let header = ["target", "loss", "MAE", "RMSE", "R²"];
    let r2 = |x: f64| {
        if x.is_finite() {
            format!("{x:.3}")
        } else {
            "-".into()
        }
    };
    let first = if r.width() == 1 {
        name_of(names, 0)
    } else {
        "all (mean of the targets)".into()
    };
    let mut rows = vec![vec![
        first,
        error(loss),
        error(r.mae),
        error(r.rmse),
        r2(r.r2),
    ]];
    if r.width() > 1 {
        for (i, c) in r.columns.iter().enumerate() {
            rows.push(vec![
                name_of(names, i),
                String::new(),
                error(c.mae),
                error(c.rmse),
                r2(c.r2),
            ]);
        }
    }
    Block::Table {
        header: header.map(String::from).to_vec(),
        rows,
        highlight: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::html::{Page, render};
    use crate::report::measure::Measurement;

    fn page(metrics: Metrics, on: MeasuredOn, restored: Option<usize>) -> String {
        let f = FinalMeasurement {
            on,
            measurement: Measurement {
                samples: 4,
                loss: 0.25,
                accuracy: None,
                loss_of_standardized_targets: false,
                metrics,
                names: vec!["cat".into(), "dog".into()],
            },
        };
        render(&Page {
            title: "t".into(),
            subtitle: String::new(),
            sections: vec![final_section(&f, restored, 10)],
        })
    }

    #[test]
    fn a_classifier_gets_its_heat_map_and_scores_by_name() {
        let c = ClassMetrics::new(&[0, 0, 1, 1], &[0, 1, 1, 1], 2).with_roc_auc(Some(0.75));
        let html = page(Metrics::Classes(c), MeasuredOn::Validation, Some(7));
        assert!(html.contains("<div class=\"figure\"><svg"), "{html}");
        assert!(html.contains("<title>confusion matrix</title>"));
        // Class 0: precision 1, recall 1/2, F1 2/3; class 1: 2/3, 1, 4/5.
        assert!(html.contains("<td>cat</td><td>1.000</td><td>0.500</td><td>0.667</td><td>2</td>"));
        assert!(html.contains("<td>dog</td><td>0.667</td><td>1.000</td><td>0.800</td><td>2</td>"));
        assert!(html.contains("<td>ROC AUC</td><td></td><td></td><td>0.750</td>"));
        assert!(html.contains("validation set (4 samples)"));
        assert!(html.contains("epoch 7, restored by early stopping"));
    }

    #[test]
    fn a_regression_model_gets_its_errors_beside_the_loss_and_says_when_on_training_data() {
        // Errors 0, 1, -1, 0: MAE 0.5, RMSE 0.7071, R² 0.6.
        let r = RegressionMetrics::new(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0], 1);
        let html = page(Metrics::Values(r), MeasuredOn::Training, Some(10));
        assert!(
            html.contains(
                "<td>cat</td><td>0.2500</td><td>0.5000</td><td>0.7071</td><td>0.600</td>"
            )
        );
        assert!(html.contains("training set (there is no validation data)"));
        assert!(html.contains("the weights of the last epoch (10)"));
        assert!(!html.contains("confusion matrix"));
    }
}
