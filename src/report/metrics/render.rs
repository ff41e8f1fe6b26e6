//! The metrics as text for a terminal and as JSON for programs.
//!
//! Both take the names of the classes (or output columns) from the caller,
//! since the metrics only know indices; a name that is missing is written as
//! the index, and extra names are ignored.

use super::{ClassMetrics, RegressionMetrics, name_of};
use serde_json::{Value, json};

/// Rows of cells as aligned text: the first column left-aligned, the others
/// right-aligned (numbers line up on their last digit), two spaces between.
/// An empty row is a blank line.
fn aligned(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            let width = |row: &Vec<String>| row.get(c).map_or(0, |s| s.chars().count());
            rows.iter().map(width).max().unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            if c == 0 {
                line += cell;
                line.extend(std::iter::repeat_n(' ', pad));
            } else {
                line.extend(std::iter::repeat_n(' ', pad + 2));
                line += cell;
            }
        }
        out += line.trim_end();
        out.push('\n');
    }
    out
}

fn score(x: f64) -> String {
    format!("{x:.3}")
}

impl ClassMetrics {
    /// The confusion matrix (true classes down, predicted classes across),
    /// then precision, recall, F1 and support per class, then accuracy and
    /// the macro and weighted averages, in the layout of scikit-learn's
    /// `classification_report`.
    pub fn text(&self, class_names: &[String]) -> String {
        let names: Vec<String> = (0..self.classes())
            .map(|c| name_of(class_names, c))
            .collect();
        let mut matrix = vec![[vec!["true".to_string()], names.clone()].concat()];
        for (name, row) in names.iter().zip(&self.confusion) {
            let counts = row.iter().map(u64::to_string);
            matrix.push(std::iter::once(name.clone()).chain(counts).collect());
        }
        let label_width = matrix.iter().map(|r| r[0].chars().count()).max();
        let indent = " ".repeat(label_width.unwrap_or(0) + 2);
        let mut out = format!("{indent}predicted ->\n{}\n", aligned(&matrix));

        let header = ["class", "precision", "recall", "f1", "support"];
        let mut table = vec![header.map(String::from).to_vec()];
        for (name, s) in names.iter().zip(&self.per_class) {
            table.push(vec![
                name.clone(),
                score(s.precision),
                score(s.recall),
                score(s.f1),
                s.support.to_string(),
            ]);
        }
        let samples = self.samples.to_string();
        table.push(vec![]);
        table.push(vec![
            "accuracy".into(),
            String::new(),
            String::new(),
            score(self.accuracy),
            samples.clone(),
        ]);
        for (label, a) in [
            ("macro avg", self.macro_avg),
            ("weighted avg", self.weighted_avg),
        ] {
            let scores = [a.precision, a.recall, a.f1].map(score);
            let row = std::iter::once(label.to_string()).chain(scores);
            table.push(row.chain([samples.clone()]).collect());
        }
        if let Some(auc) = self.roc_auc {
            let blank = String::new();
            table.push(vec!["roc auc".into(), blank.clone(), blank, score(auc)]);
        }
        out += &aligned(&table);
        if self.ignored > 0 {
            let samples = if self.ignored == 1 {
                "sample"
            } else {
                "samples"
            };
            out += &format!(
                "\n{} {samples} left out: a label or prediction is not one of the {} classes\n",
                self.ignored,
                self.classes()
            );
        }
        out
    }

    /// The metrics as JSON: `confusion` (rows of counts, true class first),
    /// `classes` (`name`, `precision`, `recall`, `f1`, `support` each),
    /// `accuracy`, `macro_precision`, `macro_recall`, `macro_f1`,
    /// `weighted_precision`, `weighted_recall`, `weighted_f1`, `samples`,
    /// `ignored`, and `roc_auc`, which is null when it was not measured.
    /// Every key is always present, so a reader need not guess.
    pub fn to_json(&self, class_names: &[String]) -> Value {
        let classes: Vec<Value> = self
            .per_class
            .iter()
            .enumerate()
            .map(|(c, s)| {
                json!({
                    "name": name_of(class_names, c),
                    "precision": s.precision,
                    "recall": s.recall,
                    "f1": s.f1,
                    "support": s.support,
                })
            })
            .collect();
        json!({
            "confusion": self.confusion,
            "classes": classes,
            "accuracy": self.accuracy,
            "macro_precision": self.macro_avg.precision,
            "macro_recall": self.macro_avg.recall,
            "macro_f1": self.macro_avg.f1,
            "weighted_precision": self.weighted_avg.precision,
            "weighted_recall": self.weighted_avg.recall,
            "weighted_f1": self.weighted_avg.f1,
            "samples": self.samples,
            "ignored": self.ignored,
            "roc_auc": self.roc_auc,
        })
    }
}

fn error(x: f64) -> String {
    format!("{x:.4}")
}

impl RegressionMetrics {
    /// MAE, RMSE and R², one line each; with several outputs, a table of
    /// them with one row per output and one for their average.
    pub fn text(&self, target_names: &[String]) -> String {
        if self.width() == 1 {
            let rows = [("mae", self.mae), ("rmse", self.rmse), ("r2", self.r2)];
            let rows: Vec<Vec<String>> = rows
                .iter()
                .map(|&(label, x)| vec![label.to_string(), error(x)])
                .collect();
            return aligned(&rows);
        }
        let mut rows = vec![["target", "mae", "rmse", "r2"].map(String::from).to_vec()];
        for (c, e) in self.columns.iter().enumerate() {
            let values = [e.mae, e.rmse, e.r2].map(error);
            rows.push(
                std::iter::once(name_of(target_names, c))
                    .chain(values)
                    .collect(),
            );
        }
        let values = [self.mae, self.rmse, self.r2].map(error);
        rows.push(
            std::iter::once("average".to_string())
                .chain(values)
                .collect(),
        );
        aligned(&rows)
    }

    /// The metrics as JSON: `mae`, `rmse`, `r2` (the averages), `rows`, and
    /// `columns` (`name`, `mae`, `rmse`, `r2` each). JSON has no NaN: an
    /// undefined or diverged number is null.
    pub fn to_json(&self, target_names: &[String]) -> Value {
        let columns: Vec<Value> = self
            .columns
            .iter()
            .enumerate()
            .map(|(c, e)| {
                json!({
                    "name": name_of(target_names, c),
                    "mae": e.mae,
                    "rmse": e.rmse,
                    "r2": e.r2,
                })
            })
            .collect();
        json!({
            "mae": self.mae,
            "rmse": self.rmse,
            "r2": self.r2,
            "rows": self.rows,
            "columns": columns,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// Rows: true setosa 2, 1, 0; versicolor 0, 3, 1; virginica 1, 0, 1.
    fn iris_like() -> ClassMetrics {
        let labels = [0, 0, 0, 1, 1, 1, 1, 2, 2];
        let predicted = [0, 0, 1, 1, 1, 1, 2, 0, 2];
        ClassMetrics::new(&labels, &predicted, 3)
    }

    #[test]
    fn class_text_shows_the_matrix_and_the_report() {
        // precision/recall/f1: setosa 2/3, versicolor 3/4, virginica 1/2;
        // accuracy 6/9 = 0.667; macro 23/36 = 0.639; weighted 6/9 = 0.667.
        let text = iris_like().text(&names(&["setosa", "versicolor", "virginica"]));
        insta::assert_snapshot!(text, @r"
                    predicted ->
        true        setosa  versicolor  virginica
        setosa           2           1          0
        versicolor       0           3          1
        virginica        1           0          1

        class         precision  recall     f1  support
        setosa            0.667   0.667  0.667        3
        versicolor        0.750   0.750  0.750        4
        virginica         0.500   0.500  0.500        2

        accuracy                         0.667        9
        macro avg         0.639   0.639  0.639        9
        weighted avg      0.667   0.667  0.667        9
        ");
    }

    #[test]
    fn class_text_names_missing_classes_by_index_and_reports_what_was_left_out() {
        // Two classes, one name; the pair (0, 7) is outside the matrix, which
        // is [[1, 0], [1, 2]]:
        // class 0: TP 1, predicted 2, support 1: P 1/2, R 1, F1 2/3;
        // class 1: TP 2, predicted 2, support 3: P 1, R 2/3, F1 4/5.
        // accuracy 3/4; macro P 3/4, R 5/6, F1 (2/3 + 4/5)/2 = 11/15 = 0.733;
        // weighted (1 and 3 of 4): P 7/8, R 3/4, F1 (2/3 + 12/5)/4 = 23/30 = 0.767.
        let labels = [0, 1, 0, 1, 1];
        let predicted = [0, 1, 7, 1, 0];
        let m = ClassMetrics::new(&labels, &predicted, 2).with_roc_auc(Some(0.75));
        let text = m.text(&names(&["no"]));
        insta::assert_snapshot!(text, @r"
              predicted ->
        true  no  1
        no     1  0
        1      1  2

        class         precision  recall     f1  support
        no                0.500   1.000  0.667        1
        1                 1.000   0.667  0.800        3

        accuracy                         0.750        4
        macro avg         0.750   0.833  0.733        4
        weighted avg      0.875   0.750  0.767        4
        roc auc                          0.750

        1 sample left out: a label or prediction is not one of the 2 classes
        ");
    }

    #[test]
    fn regression_text_for_one_output() {
        // Errors 0, 1, -1, 0: MAE 0.5, RMSE sqrt(0.5) = 0.7071, R² 1 - 2/5 = 0.6.
        let m = RegressionMetrics::new(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0], 1);
        insta::assert_snapshot!(m.text(&names(&["price"])), @r"
        mae   0.5000
        rmse  0.7071
        r2    0.6000
        ");
    }

    #[test]
    fn regression_text_for_two_outputs() {
        // One name for two columns: the second is called by its index.
        // Column a: MAE 2/3, RMSE sqrt(2/3) = 0.8165, R² 0.75;
        // column b: MAE 10/3, RMSE sqrt(100/3) = 5.7735, R² 0.625;
        // average: 2, (0.8165 + 5.7735) / 2 = 3.2950, 0.6875.
        let targets = [0.0, 10.0, 2.0, 10.0, 4.0, 30.0];
        let predictions = [1.0, 10.0, 2.0, 20.0, 3.0, 30.0];
        let m = RegressionMetrics::new(&targets, &predictions, 2);
        insta::assert_snapshot!(m.text(&names(&["a"])), @r"
        target      mae    rmse      r2
        a        0.6667  0.8165  0.7500
        1        3.3333  5.7735  0.6250
        average  2.0000  3.2950  0.6875
        ");
    }

    #[test]
    fn class_json_has_its_keys_and_values() {
        let m = iris_like().with_roc_auc(None);
        let v = m.to_json(&names(&["setosa", "versicolor", "virginica"]));
        assert_eq!(v["confusion"], json!([[2, 1, 0], [0, 3, 1], [1, 0, 1]]));
        assert_eq!(v["classes"][1]["name"], "versicolor");
        assert_eq!(v["classes"][1]["precision"], 0.75);
        assert_eq!(v["classes"][1]["recall"], 0.75);
        assert_eq!(v["classes"][1]["f1"], 0.75);
        assert_eq!(v["classes"][1]["support"], 4);
        assert_eq!(v["classes"][2]["f1"], 0.5);
        // accuracy 6/9, macro F1 23/36, weighted F1 6/9.
        assert_eq!(v["accuracy"].as_f64(), Some(6.0 / 9.0));
        assert!((v["macro_f1"].as_f64().unwrap() - 23.0 / 36.0).abs() < 1e-12);
        assert!((v["weighted_f1"].as_f64().unwrap() - 6.0 / 9.0).abs() < 1e-12);
        assert_eq!(v["samples"], 9);
        assert_eq!(v["ignored"], 0);
        // Present and null when not measured; the number when it was.
        assert_eq!(v.get("roc_auc"), Some(&Value::Null));
        let two = ClassMetrics::new(&[0, 1], &[0, 1], 2).with_roc_auc(Some(0.875));
        assert_eq!(two.to_json(&[])["roc_auc"], 0.875);
        assert_eq!(two.to_json(&[])["classes"][0]["name"], "0");
    }

    #[test]
    fn regression_json_has_its_keys_and_writes_nan_as_null() {
        // Column 0 as in the one-output text test; column 1 has a NaN.
        let targets = [1.0, 0.0, 2.0, 0.0, 3.0, 0.0, 4.0, 0.0];
        let predictions = [1.0, 0.0, 3.0, f32::NAN, 2.0, 0.0, 4.0, 0.0];
        let v = RegressionMetrics::new(&targets, &predictions, 2).to_json(&names(&["y", "z"]));
        assert_eq!(v["rows"], 4);
        assert_eq!(v["columns"][0]["name"], "y");
        assert_eq!(v["columns"][0]["mae"], 0.5);
        assert_eq!(v["columns"][0]["r2"].as_f64(), Some(1.0 - 2.0 / 5.0));
        assert_eq!(v["columns"][1]["name"], "z");
        assert_eq!(v["columns"][1]["rmse"], Value::Null);
        assert_eq!(v["mae"], Value::Null);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["columns", "mae", "r2", "rmse", "rows"]);
    }
}
