//! The confusion matrix of a classifier and the scores read from it.

/// Precision, recall and F1 of one class, and how many samples truly are of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Samples whose true class this is (the row sum of the confusion matrix).
    pub support: u64,
}

/// An average of the per-class scores.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AveragedScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// What a classifier got right and wrong on a set of samples.
///
/// The conventions are those of scikit-learn's `classification_report` with
/// `zero_division=0`, so the numbers agree with what people check them
/// against:
///
/// - precision of a class = TP / (TP + FP), and 0 for a class never predicted;
/// - recall of a class = TP / (TP + FN), and 0 for a class with no support;
/// - F1 = 2 TP / (2 TP + FP + FN) (the harmonic mean of the two), and 0 when
///   the class is neither present nor predicted;
/// - the macro average is the plain mean over all `classes`, including the
///   classes with no support, so a class the data forgot still drags it down;
/// - the weighted average weighs each class by its support.
///
/// A pair whose label or prediction is not below `classes` belongs to no row
/// or column of the matrix: it is counted nowhere but in [`Self::ignored`],
/// so one stray label cannot make the report fail or shift every score.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassMetrics {
    /// `confusion[true class][predicted class]`: how many samples of each
    /// true class were given each class.
    pub confusion: Vec<Vec<u64>>,
    /// One entry per class, in class order.
    pub per_class: Vec<ClassScores>,
    /// Correct predictions over the samples counted; 0 when none was.
    pub accuracy: f64,
    /// The plain mean over all classes.
    pub macro_avg: AveragedScores,
    /// The mean weighted by support; 0 when no sample was counted.
    pub weighted_avg: AveragedScores,
    /// The pairs in the matrix.
    pub samples: u64,
    /// The pairs left out because their label or prediction is not below
    /// `classes`.
    pub ignored: u64,
    /// The area under the ROC curve, for a two-class problem whose scores
    /// were kept (see [`super::roc_auc`]); set with [`Self::with_roc_auc`].
    pub roc_auc: Option<f64>,
}

/// `numerator / denominator`, or 0 when there is nothing to divide by (the
/// `zero_division=0` convention).
fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

impl ClassMetrics {
    /// Counts `labels[i]` (the true class) against `predicted[i]`.
    ///
    /// When the slices differ in length only the pairs both have are
    /// counted: the tail of the longer one has nothing to be compared with.
    pub fn new(labels: &[u32], predicted: &[u32], classes: usize) -> ClassMetrics {
        let mut confusion = vec![vec![0u64; classes]; classes];
        let mut ignored = 0;
        for (&label, &guess) in labels.iter().zip(predicted) {
            let (label, guess) = (label as usize, guess as usize);
            if label < classes && guess < classes {
                confusion[label][guess] += 1;
            } else {
                ignored += 1;
            }
        }
        Self::from_confusion(confusion, ignored)
    }

    /// The scores of a square confusion matrix.
    fn from_confusion(confusion: Vec<Vec<u64>>, ignored: u64) -> ClassMetrics {
        let classes = confusion.len();
        let support: Vec<u64> = confusion.iter().map(|row| row.iter().sum()).collect();
        let predicted: Vec<u64> = (0..classes)
            .map(|c| confusion.iter().map(|row| row[c]).sum())
            .collect();
        let samples: u64 = support.iter().sum();
        let correct: u64 = (0..classes).map(|c| confusion[c][c]).sum();
        let per_class: Vec<ClassScores> = (0..classes)
            .map(|c| {
                let hits = confusion[c][c];
                // 2TP + FP + FN = (TP + FP) + (TP + FN).
                ClassScores {
                    precision: ratio(hits, predicted[c]),
                    recall: ratio(hits, support[c]),
                    f1: ratio(2 * hits, predicted[c] + support[c]),
                    support: support[c],
                }
            })
            .collect();
        let average = |weight: &dyn Fn(&ClassScores) -> f64| {
            let total: f64 = per_class.iter().map(weight).sum();
            let mean = |score: fn(&ClassScores) -> f64| {
                if total == 0.0 {
                    0.0
                } else {
                    per_class.iter().map(|s| weight(s) * score(s)).sum::<f64>() / total
                }
            };
            AveragedScores {
                precision: mean(|s| s.precision),
                recall: mean(|s| s.recall),
                f1: mean(|s| s.f1),
            }
        };
        ClassMetrics {
            macro_avg: average(&|_| 1.0),
            weighted_avg: average(&|s| s.support as f64),
            accuracy: ratio(correct, samples),
            confusion,
            per_class,
            samples,
            ignored,
            roc_auc: None,
        }
    }

    /// The same metrics with the area under the ROC curve to report.
    pub fn with_roc_auc(mut self, roc_auc: Option<f64>) -> ClassMetrics {
        self.roc_auc = roc_auc;
        self
    }

    /// The number of classes: the side of the confusion matrix.
    pub fn classes(&self) -> usize {
        self.confusion.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// Three classes, nine samples:
    ///
    /// ```text
    /// true \ predicted  0  1  2
    ///        0          2  1  0    support 3
    ///        1          0  3  1    support 4
    ///        2          1  0  1    support 2
    /// predicted totals  3  4  2
    /// ```
    fn three_classes() -> ClassMetrics {
        let labels = [0, 0, 0, 1, 1, 1, 1, 2, 2];
        let predicted = [0, 0, 1, 1, 1, 1, 2, 0, 2];
        ClassMetrics::new(&labels, &predicted, 3)
    }

    #[test]
    fn confusion_rows_are_true_classes_and_columns_predictions() {
        let m = three_classes();
        assert_eq!(
            m.confusion,
            vec![vec![2, 1, 0], vec![0, 3, 1], vec![1, 0, 1]]
        );
        assert_eq!(m.samples, 9);
        assert_eq!(m.ignored, 0);
        assert_eq!(m.classes(), 3);
    }

    #[test]
    fn per_class_scores_follow_their_definitions() {
        let m = three_classes();
        // class 0: TP 2, predicted 3, support 3: precision 2/3, recall 2/3,
        // F1 = 4 / (3 + 3) = 2/3.
        // class 1: TP 3, predicted 4, support 4: 3/4, 3/4, 6/8.
        // class 2: TP 1, predicted 2, support 2: 1/2, 1/2, 2/4.
        let expected = [
            (2.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0, 3),
            (0.75, 0.75, 0.75, 4),
            (0.5, 0.5, 0.5, 2),
        ];
        for (s, (p, r, f, n)) in m.per_class.iter().zip(expected) {
            assert!(close(s.precision, p), "{s:?}");
            assert!(close(s.recall, r), "{s:?}");
            assert!(close(s.f1, f), "{s:?}");
            assert_eq!(s.support, n);
        }
    }

    #[test]
    fn accuracy_is_the_diagonal_over_all_samples() {
        // (2 + 3 + 1) / 9.
        assert!(close(three_classes().accuracy, 6.0 / 9.0));
    }

    #[test]
    fn macro_and_weighted_averages() {
        let m = three_classes();
        // macro F1 = (2/3 + 3/4 + 1/2) / 3 = (23/12) / 3 = 23/36.
        assert!(close(m.macro_avg.f1, 23.0 / 36.0));
        // weighted F1 = (3 * 2/3 + 4 * 3/4 + 2 * 1/2) / 9 = (2 + 3 + 1) / 9.
        assert!(close(m.weighted_avg.f1, 6.0 / 9.0));
        assert!(close(m.weighted_avg.recall, 6.0 / 9.0));
    }

    #[test]
    fn precision_and_recall_differ_when_errors_are_one_sided() {
        // Every sample of class 1 is called 0: class 0 has TP 2, FP 2, FN 0.
        let m = ClassMetrics::new(&[0, 0, 1, 1], &[0, 0, 0, 0], 2);
        // class 0: precision 2/4, recall 2/2, F1 = 4 / (4 + 2) = 2/3.
        assert!(close(m.per_class[0].precision, 0.5));
        assert!(close(m.per_class[0].recall, 1.0));
        assert!(close(m.per_class[0].f1, 2.0 / 3.0));
    }

    #[test]
    fn a_class_never_predicted_has_precision_zero() {
        let m = ClassMetrics::new(&[0, 1, 1], &[0, 0, 0], 2);
        // class 1: never predicted, support 2, TP 0.
        assert_eq!(m.per_class[1].precision, 0.0);
        assert_eq!(m.per_class[1].recall, 0.0);
        assert_eq!(m.per_class[1].f1, 0.0);
        // class 0: precision 1/3, recall 1, F1 = 2 / (3 + 1) = 1/2.
        assert!(close(m.per_class[0].precision, 1.0 / 3.0));
        assert!(close(m.per_class[0].f1, 0.5));
    }

    #[test]
    fn a_class_without_support_has_recall_zero_and_still_counts_in_the_macro_average() {
        // Class 2 is neither present nor predicted; classes 0 and 1 are perfect.
        let m = ClassMetrics::new(&[0, 1], &[0, 1], 3);
        assert_eq!(m.per_class[2].support, 0);
        assert_eq!(m.per_class[2].recall, 0.0);
        assert_eq!(m.per_class[2].f1, 0.0);
        // macro F1 = (1 + 1 + 0) / 3; weighted F1 = (1 * 1 + 1 * 1) / 2.
        assert!(close(m.macro_avg.f1, 2.0 / 3.0));
        assert!(close(m.weighted_avg.f1, 1.0));
        assert!(close(m.accuracy, 1.0));
    }

    #[test]
    fn a_class_predicted_but_absent_has_precision_zero() {
        let m = ClassMetrics::new(&[0, 0], &[0, 1], 2);
        // class 1: predicted once, support 0: precision 0/1, recall 0 (no
        // support), F1 = 0 / (1 + 0).
        assert_eq!(m.per_class[1].precision, 0.0);
        assert_eq!(m.per_class[1].recall, 0.0);
        assert_eq!(m.per_class[1].f1, 0.0);
        assert!(close(m.accuracy, 0.5));
    }

    #[test]
    fn labels_or_predictions_out_of_range_are_counted_nowhere() {
        // Two good pairs, then a label of 5 and a prediction of 2 with two classes.
        let m = ClassMetrics::new(&[0, 1, 5, 0], &[0, 1, 0, 2], 2);
        assert_eq!(m.confusion, vec![vec![1, 0], vec![0, 1]]);
        assert_eq!(m.ignored, 2);
        assert_eq!(m.samples, 2);
        assert!(close(m.accuracy, 1.0));
    }

    #[test]
    fn mismatched_lengths_count_only_the_pairs() {
        let m = ClassMetrics::new(&[0, 1, 1, 1], &[0, 1], 2);
        assert_eq!(m.confusion, vec![vec![1, 0], vec![0, 1]]);
        assert_eq!(m.ignored, 0);
    }

    #[test]
    fn empty_inputs_give_zeros_without_panicking() {
        let m = ClassMetrics::new(&[], &[], 3);
        assert_eq!(m.samples, 0);
        assert_eq!(m.accuracy, 0.0);
        assert_eq!(m.macro_avg.f1, 0.0);
        assert_eq!(m.weighted_avg.f1, 0.0);
        let none = ClassMetrics::new(&[1], &[0], 0);
        assert!(none.confusion.is_empty());
        assert_eq!(none.ignored, 1);
        assert_eq!(none.macro_avg.precision, 0.0);
    }

    #[test]
    fn roc_auc_is_kept_for_the_report() {
        let m = three_classes();
        assert_eq!(m.roc_auc, None);
        assert_eq!(m.with_roc_auc(Some(0.75)).roc_auc, Some(0.75));
    }
}
