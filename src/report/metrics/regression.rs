//! The errors of a regression model, per output column and overall.

/// The errors of one output column.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ColumnErrors {
    /// Mean absolute error.
    pub mae: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Coefficient of determination, 1 − SS_res / SS_tot: 1 for a perfect
    /// model, 0 for one that always predicts the mean, negative for worse.
    pub r2: f64,
}

/// The errors of a model with `width` outputs over a set of rows.
///
/// The overall numbers are the uniform average of the columns' numbers, as
/// scikit-learn's metrics with `multioutput='uniform_average'`: every output
/// counts the same whatever its scale. Sums run in f64, so a long validation
/// set of f32 values does not lose the small errors.
///
/// NaN in a target or a prediction makes the numbers of its column (and the
/// averages) NaN: a model that diverged shows it instead of hiding it.
#[derive(Clone, Debug, PartialEq)]
pub struct RegressionMetrics {
    /// One entry per output column, in order.
    pub columns: Vec<ColumnErrors>,
    /// The mean of the columns' MAE.
    pub mae: f64,
    /// The mean of the columns' RMSE (not the RMSE of all values pooled).
    pub rmse: f64,
    /// The mean of the columns' R².
    pub r2: f64,
    /// The rows measured.
    pub rows: usize,
}

impl RegressionMetrics {
    /// Compares `predictions` with `targets`, both row-major with `width`
    /// values a row.
    ///
    /// Only whole rows that both slices have are used: a shorter slice, or a
    /// partial last row, leaves the rest out. With no row every number is
    /// NaN, as it is with no column for the averages.
    ///
    /// R² follows `r2_score(force_finite=True)`: for a column whose targets
    /// are all equal (SS_tot = 0) it is 1 when every prediction is exact and
    /// 0 otherwise, instead of a division by zero; and it is NaN with fewer
    /// than two rows, where it means nothing.
    pub fn new(targets: &[f32], predictions: &[f32], width: usize) -> RegressionMetrics {
        let rows = targets
            .len()
            .min(predictions.len())
            .checked_div(width)
            .unwrap_or(0);
        let column = |c: usize| {
            let pairs = (0..rows).map(move |r| {
                let i = r * width + c;
                (targets[i] as f64, predictions[i] as f64)
            });
            column_errors(pairs, rows)
        };
        let columns: Vec<ColumnErrors> = (0..width).map(column).collect();
        let mean = |value: fn(&ColumnErrors) -> f64| {
            columns.iter().map(value).sum::<f64>() / columns.len() as f64
        };
        RegressionMetrics {
            mae: mean(|c| c.mae),
            rmse: mean(|c| c.rmse),
            r2: mean(|c| c.r2),
            columns,
            rows,
        }
    }

    /// The number of output columns.
    pub fn width(&self) -> usize {
        self.columns.len()
    }
}

/// The errors of one column's `(target, prediction)` pairs, `rows` of them.
fn column_errors(pairs: impl Iterator<Item = (f64, f64)> + Clone, rows: usize) -> ColumnErrors {
    let n = rows as f64;
    let (mut absolute, mut squared, mut sum) = (0.0, 0.0, 0.0);
    for (target, prediction) in pairs.clone() {
        let error = prediction - target;
        absolute += error.abs();
        squared += error * error;
        sum += target;
    }
    // f32 values summed in f64 lose nothing (below 2^29 rows), so the mean
    // of equal targets is exactly their value and SS_tot exactly 0.
    let mean = sum / n;
    let total: f64 = pairs.map(|(t, _)| (t - mean) * (t - mean)).sum();
    let r2 = if rows < 2 || squared.is_nan() || total.is_nan() {
        f64::NAN
    } else if total == 0.0 {
        if squared == 0.0 { 1.0 } else { 0.0 }
    } else {
        1.0 - squared / total
    };
    ColumnErrors {
        mae: absolute / n,
        rmse: (squared / n).sqrt(),
        r2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn one_column_by_hand() {
        // targets 1, 2, 3, 4; predictions 1, 3, 2, 4: errors 0, 1, -1, 0.
        // MAE = 2/4, MSE = 2/4, RMSE = sqrt(0.5).
        // mean 2.5, SS_tot = 2.25 + 0.25 + 0.25 + 2.25 = 5, SS_res = 2:
        // R² = 1 - 2/5 = 0.6.
        let m = RegressionMetrics::new(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0], 1);
        assert_eq!(m.rows, 4);
        assert!(close(m.mae, 0.5));
        assert!(close(m.rmse, 0.5f64.sqrt()));
        assert!(close(m.r2, 0.6));
        assert_eq!(m.columns.len(), 1);
        assert!(close(m.columns[0].r2, 0.6));
    }

    #[test]
    fn a_model_predicting_the_mean_has_r2_zero_and_a_worse_one_negative() {
        let targets = [1.0, 2.0, 3.0];
        let mean = RegressionMetrics::new(&targets, &[2.0; 3], 1);
        assert!(close(mean.r2, 0.0));
        // Reversed: errors 2, 0, -2: SS_res 8, SS_tot 2: R² = 1 - 4 = -3.
        let reversed = RegressionMetrics::new(&targets, &[3.0, 2.0, 1.0], 1);
        assert!(close(reversed.r2, -3.0));
    }

    #[test]
    fn two_columns_average_uniformly() {
        // Rows (target a, target b) = (0, 10), (2, 10), (4, 30);
        // predictions              = (1, 10), (2, 20), (3, 30).
        // column a: errors 1, 0, -1: MAE 2/3, RMSE sqrt(2/3);
        //   mean 2, SS_tot 4 + 0 + 4 = 8: R² = 1 - 2/8 = 0.75.
        // column b: errors 0, 10, 0: MAE 10/3, RMSE sqrt(100/3);
        //   mean 50/3, SS_tot = (400 + 400 + 1600) / 9 = 2400/9: R² = 1 - 100 * 9/2400 = 0.625.
        let targets = [0.0, 10.0, 2.0, 10.0, 4.0, 30.0];
        let predictions = [1.0, 10.0, 2.0, 20.0, 3.0, 30.0];
        let m = RegressionMetrics::new(&targets, &predictions, 2);
        assert_eq!((m.rows, m.width()), (3, 2));
        let [a, b] = [m.columns[0], m.columns[1]];
        assert!(close(a.mae, 2.0 / 3.0) && close(b.mae, 10.0 / 3.0));
        assert!(close(a.rmse, (2.0f64 / 3.0).sqrt()) && close(b.rmse, (100.0f64 / 3.0).sqrt()));
        assert!(close(a.r2, 0.75) && close(b.r2, 0.625));
        // Overall: the plain means of the two columns.
        assert!(close(m.mae, 2.0));
        assert!(close(
            m.rmse,
            ((2.0f64 / 3.0).sqrt() + (100.0f64 / 3.0).sqrt()) / 2.0
        ));
        assert!(close(m.r2, 0.6875));
    }

    #[test]
    fn constant_targets_give_r2_one_when_exact_and_zero_otherwise() {
        // SS_tot = 0: R² is decided by whether SS_res is 0 too.
        let exact = RegressionMetrics::new(&[0.1; 3], &[0.1; 3], 1);
        assert_eq!(exact.r2, 1.0);
        let off = RegressionMetrics::new(&[0.1; 3], &[0.1, 0.2, 0.1], 1);
        assert_eq!(off.r2, 0.0);
    }

    #[test]
    fn nan_propagates_to_its_column_and_the_averages() {
        // Column 0 has a NaN prediction; column 1 is perfect.
        let targets = [1.0, 5.0, 2.0, 6.0, 3.0, 7.0];
        let predictions = [f32::NAN, 5.0, 2.0, 6.0, 3.0, 7.0];
        let m = RegressionMetrics::new(&targets, &predictions, 2);
        let c = m.columns[0];
        assert!(c.mae.is_nan() && c.rmse.is_nan() && c.r2.is_nan());
        assert_eq!(m.columns[1].r2, 1.0);
        assert!(m.mae.is_nan() && m.rmse.is_nan() && m.r2.is_nan());
        // A constant column is not rescued into 0 or 1 by a NaN.
        let constant = RegressionMetrics::new(&[2.0, 2.0], &[2.0, f32::NAN], 1);
        assert!(constant.r2.is_nan());
        let nan_target = RegressionMetrics::new(&[f32::NAN, 2.0], &[1.0, 2.0], 1);
        assert!(nan_target.r2.is_nan());
    }

    #[test]
    fn r2_needs_two_rows() {
        // One row: MAE and RMSE are its error (|3 - 1| = 2), R² is undefined.
        let m = RegressionMetrics::new(&[1.0], &[3.0], 1);
        assert_eq!((m.mae, m.rmse), (2.0, 2.0));
        assert!(m.r2.is_nan());
    }

    #[test]
    fn only_whole_rows_both_slices_have_are_used() {
        // Width 2: targets have 2.5 rows, predictions 2; rows used: 2.
        // Column 0: targets 1, 3, predictions 1, 4: errors 0, 1: MAE 0.5.
        let m = RegressionMetrics::new(&[1.0, 0.0, 3.0, 0.0, 9.0], &[1.0, 0.0, 4.0, 0.0], 2);
        assert_eq!(m.rows, 2);
        assert!(close(m.columns[0].mae, 0.5));
        assert_eq!(m.columns[1].mae, 0.0);
    }

    #[test]
    fn empty_inputs_and_zero_width_give_nan_without_panicking() {
        let empty = RegressionMetrics::new(&[], &[], 1);
        assert_eq!(empty.rows, 0);
        assert!(empty.mae.is_nan() && empty.rmse.is_nan() && empty.r2.is_nan());
        let no_columns = RegressionMetrics::new(&[1.0, 2.0], &[1.0, 2.0], 0);
        assert_eq!((no_columns.rows, no_columns.width()), (0, 0));
        assert!(no_columns.mae.is_nan());
    }
}
