//! Static shapes with a symbolic batch dimension.
//!
//! Every size is known when the program is compiled except the batch, which
//! the runtime sets per call; `Dim::N` stands for it. Only the first axis of a
//! tensor can be `N`.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dim {
    /// The batch size, known only at run time.
    N,
    K(usize),
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::N => f.write_str("N"),
            Dim::K(k) => write!(f, "{k}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Shape(pub Vec<Dim>);

impl Shape {
    pub fn scalar() -> Shape {
        Shape(vec![])
    }

    /// `[N, dims...]`
    pub fn batched(dims: &[usize]) -> Shape {
        let mut v = vec![Dim::N];
        v.extend(dims.iter().map(|&d| Dim::K(d)));
        Shape(v)
    }

    pub fn fixed(dims: &[usize]) -> Shape {
        Shape(dims.iter().map(|&d| Dim::K(d)).collect())
    }

    pub fn rank(&self) -> usize {
        self.0.len()
    }

    pub fn is_batched(&self) -> bool {
        self.0.first() == Some(&Dim::N)
    }

    /// Elements per sample of a batched shape; 0 for an unbatched one
    /// (one value for the whole batch).
    pub fn per_sample(&self) -> usize {
        if self.is_batched() { self.numel(1) } else { 0 }
    }

    /// Elements for a batch of `n`.
    pub fn numel(&self, n: usize) -> usize {
        self.0
            .iter()
            .map(|d| match d {
                Dim::N => n,
                Dim::K(k) => *k,
            })
            .product()
    }

    /// Sizes for a batch of `n`.
    pub fn dims(&self, n: usize) -> Vec<usize> {
        self.0
            .iter()
            .map(|d| match d {
                Dim::N => n,
                Dim::K(k) => *k,
            })
            .collect()
    }

    /// The same shape with the listed axes reduced to 1.
    pub fn reduced(&self, axes: &[usize]) -> Shape {
        Shape(
            self.0
                .iter()
                .enumerate()
                .map(|(i, d)| if axes.contains(&i) { Dim::K(1) } else { *d })
                .collect(),
        )
    }

    /// NumPy-style broadcasting of two shapes of equal rank; `None` if they
    /// do not broadcast. Ranks must match: lowering writes broadcasts
    /// explicitly as size-1 axes, which keeps every index map obvious.
    pub fn broadcast(&self, other: &Shape) -> Option<Shape> {
        // A rank-0 scalar broadcasts to anything.
        if self.rank() == 0 {
            return Some(other.clone());
        }
        if other.rank() == 0 {
            return Some(self.clone());
        }
        if self.rank() != other.rank() {
            return None;
        }
        let dims = self
            .0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| match (a, b) {
                _ if a == b => Some(*a),
                (Dim::K(1), d) | (d, Dim::K(1)) => Some(*d),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Shape(dims))
    }

    /// Whether `self` can be broadcast to `to` (each axis equal or 1).
    pub fn broadcasts_to(&self, to: &Shape) -> bool {
        self.rank() == 0
            || self.rank() == to.rank()
                && self
                    .0
                    .iter()
                    .zip(&to.0)
                    .all(|(a, b)| a == b || *a == Dim::K(1))
    }

    /// The axes along which `self` was broadcast to reach `to`.
    pub fn broadcast_axes(&self, to: &Shape) -> Vec<usize> {
        if self.rank() == 0 {
            return (0..to.rank()).collect();
        }
        self.0
            .iter()
            .zip(&to.0)
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .map(|(i, _)| i)
            .collect()
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|d| d.to_string()).collect();
        write!(f, "[{}]", parts.join(", "))
    }
}
