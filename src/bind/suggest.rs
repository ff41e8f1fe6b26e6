//! "Did you mean ...?": the closest known name to a misspelt one.

/// The candidate closest to `name` by edit distance (with transpositions), if
/// it is close enough to be a plausible typo: at most one edit for short
/// names, about one in three characters for longer ones.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    // Nobody mistypes a name this long; and comparing it would cost time
    // proportional to the square of its length.
    const LONGEST: usize = 64;
    let len = name.chars().count();
    if len > LONGEST {
        return None;
    }
    let limit = (len / 3).max(1);
    let lower = name.to_lowercase();
    let candidates: Vec<&str> = candidates.into_iter().filter(|c| *c != name).collect();
    // Ties are broken by length, then alphabetically, so that the answer does
    // not depend on the order of the candidates (often a hash map's).
    let close = candidates
        .iter()
        .filter(|c| c.chars().count().abs_diff(len) <= limit)
        .map(|&c| (distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|&(d, c)| (d, c.len(), c))
        .map(|(_, c)| c);
    close.or_else(|| {
        // An abbreviation such as `val_acc` for `val_accuracy`: accepted when
        // it is long enough to mean something and only one name starts so.
        let mut starts = candidates
            .iter()
            .filter(|c| lower.chars().count() >= 3 && c.to_lowercase().starts_with(&lower));
        match (starts.next(), starts.next()) {
            (Some(c), None) => Some(*c),
            _ => None,
        }
    })
}

/// Optimal string alignment distance between two strings, in characters.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = best;
        }
    }
    d[a.len() * w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("dense", "dense"), 0);
        assert_eq!(distance("dnese", "dense"), 1);
        assert_eq!(distance("dens", "dense"), 1);
        assert_eq!(distance("relu", "tanh"), 4);
    }

    #[test]
    fn suggests_close_names_only() {
        let known = ["dense", "dropout", "conv", "relu"];
        assert_eq!(did_you_mean("dnese", known), Some("dense"));
        assert_eq!(did_you_mean("Dense", known), Some("dense"));
        assert_eq!(did_you_mean("lstm", known), None);
        assert_eq!(did_you_mean("dropuot", known), Some("dropout"));
        assert_eq!(did_you_mean("drop", known), Some("dropout"));
        assert_eq!(did_you_mean("de", known), None);
    }

    #[test]
    fn ties_do_not_depend_on_order() {
        assert_eq!(did_you_mean("ab", ["ac", "bb"]), Some("ac"));
        assert_eq!(did_you_mean("ab", ["bb", "ac"]), Some("ac"));
    }
}
