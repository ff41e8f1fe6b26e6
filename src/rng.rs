//! A small, seeded, reproducible random number generator.
