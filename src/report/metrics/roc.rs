//! The area under the ROC curve of a two-class scorer.

/// The probability that a random positive sample (label 1) scores higher than
/// a random negative one (label 0), a tie counting one half.
///
/// This is the Mann–Whitney U statistic over `positives × negatives`, the
/// same number as the average-rank formula `(R₊ − n₊(n₊+1)/2) / (n₊ n₋)`
/// and as the trapezoidal area under the ROC curve. It is computed by
/// sorting once (O(n log n)) and, for each run of equal scores, counting the
/// negatives strictly below it and half of those within it; the counts are
/// whole numbers (doubled to keep the halves), so the result is exact up to
/// the final division.
///
/// `None` when there is no positive or no negative sample (the area is then
/// undefined), when a score is NaN (it has no rank), or when a label is
/// neither 0 nor 1 (the data is not a two-class problem). Only the pairs both
/// slices have are used when their lengths differ.
pub fn roc_auc(labels: &[u32], scores: &[f32]) -> Option<f64> {
    let mut pairs: Vec<(f32, bool)> = Vec::with_capacity(labels.len().min(scores.len()));
    for (&label, &score) in labels.iter().zip(scores) {
        if score.is_nan() || label > 1 {
            return None;
        }
        pairs.push((score, label == 1));
    }
    // No NaN is left, so the total order agrees with `<` except that it puts
    // -0 just before +0; the runs below are cut with `==`, which joins them.
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut negatives_below, mut twice_u) = (0u128, 0u128);
    let mut start = 0;
    while start < pairs.len() {
        let score = pairs[start].0;
        let end = start + pairs[start..].iter().take_while(|p| p.0 == score).count();
        let positives = pairs[start..end].iter().filter(|p| p.1).count() as u128;
        let negatives = (end - start) as u128 - positives;
        // Each positive beats the negatives below (1 each) and ties those in
        // its run (1/2 each).
        twice_u += positives * (2 * negatives_below + negatives);
        negatives_below += negatives;
        start = end;
    }
    let positives = (pairs.len() as u128) - negatives_below;
    if positives == 0 || negatives_below == 0 {
        return None;
    }
    Some(twice_u as f64 / (2 * positives * negatives_below) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every (positive, negative) pair compared directly: O(n²).
    fn pairwise(labels: &[u32], scores: &[f32]) -> Option<f64> {
        let (mut wins, mut pairs) = (0.0, 0.0);
        for (&lp, &sp) in labels.iter().zip(scores) {
            for (&ln, &sn) in labels.iter().zip(scores) {
                if lp == 1 && ln == 0 {
                    pairs += 1.0;
                    wins += if sp > sn {
                        1.0
                    } else if sp == sn {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        (pairs > 0.0).then(|| wins / pairs)
    }

    #[test]
    fn hand_computed_case_with_a_tie() {
        // Positives score 0.8, 0.4, 0.35; negatives 0.1, 0.4, 0.7.
        // 0.8 beats all three negatives: 3.
        // 0.4 beats 0.1, ties 0.4, loses to 0.7: 1.5.
        // 0.35 beats 0.1 only: 1.
        // (3 + 1.5 + 1) / (3 * 3) = 5.5 / 9.
        let labels = [1, 0, 1, 0, 1, 0];
        let scores = [0.8, 0.1, 0.4, 0.4, 0.35, 0.7];
        assert_eq!(roc_auc(&labels, &scores), Some(5.5 / 9.0));
    }

    #[test]
    fn perfect_reversed_and_constant_scorers() {
        let labels = [0, 0, 1, 1];
        assert_eq!(roc_auc(&labels, &[0.1, 0.2, 0.8, 0.9]), Some(1.0));
        assert_eq!(roc_auc(&labels, &[0.9, 0.8, 0.2, 0.1]), Some(0.0));
        // Every pair ties: 4 halves over 4 pairs.
        assert_eq!(roc_auc(&labels, &[0.5; 4]), Some(0.5));
    }

    #[test]
    fn negative_and_positive_zero_tie() {
        // One positive at +0, one negative at -0: equal scores, half a win.
        assert_eq!(roc_auc(&[1, 0], &[0.0, -0.0]), Some(0.5));
        assert_eq!(roc_auc(&[0, 1], &[0.0, -0.0]), Some(0.5));
    }

    #[test]
    fn infinite_scores_are_ranked() {
        assert_eq!(
            roc_auc(&[0, 1, 0], &[f32::NEG_INFINITY, f32::INFINITY, 3.0]),
            Some(1.0)
        );
    }

    #[test]
    fn undefined_without_both_classes_or_with_nan() {
        assert_eq!(roc_auc(&[], &[]), None);
        assert_eq!(roc_auc(&[1, 1], &[0.2, 0.3]), None);
        assert_eq!(roc_auc(&[0, 0], &[0.2, 0.3]), None);
        assert_eq!(roc_auc(&[0, 1], &[f32::NAN, 0.3]), None);
        assert_eq!(roc_auc(&[0, 1, 2], &[0.1, 0.3, 0.5]), None);
    }

    #[test]
    fn mismatched_lengths_use_the_pairs() {
        // The third label has no score: the area is that of the first two.
        assert_eq!(roc_auc(&[0, 1, 1], &[0.1, 0.9]), Some(1.0));
        assert_eq!(roc_auc(&[0, 1], &[0.9, 0.1, 0.5]), Some(0.0));
    }

    proptest! {
        #[test]
        fn agrees_with_the_pairwise_count(
            samples in proptest::collection::vec((0u32..2, -4i8..4), 0..60)
        ) {
            // Scores from a handful of values (and both zeros) make ties common.
            let labels: Vec<u32> = samples.iter().map(|s| s.0).collect();
            let scores: Vec<f32> = samples
                .iter()
                .map(|s| if s.1 == -4 { -0.0 } else { s.1 as f32 * 0.25 })
                .collect();
            let fast = roc_auc(&labels, &scores);
            let slow = pairwise(&labels, &scores);
            match (fast, slow) {
                (Some(a), Some(b)) => prop_assert!((a - b).abs() < 1e-12, "{a} vs {b}"),
                (a, b) => prop_assert_eq!(a, b),
            }
        }

        #[test]
        fn agrees_with_the_pairwise_count_on_continuous_scores(
            samples in proptest::collection::vec((0u32..2, -1e3f32..1e3), 0..60)
        ) {
            let labels: Vec<u32> = samples.iter().map(|s| s.0).collect();
            let scores: Vec<f32> = samples.iter().map(|s| s.1).collect();
            let fast = roc_auc(&labels, &scores);
            let slow = pairwise(&labels, &scores);
            match (fast, slow) {
                (Some(a), Some(b)) => prop_assert!((a - b).abs() < 1e-12, "{a} vs {b}"),
                (a, b) => prop_assert_eq!(a, b),
            }
        }
    }
}
