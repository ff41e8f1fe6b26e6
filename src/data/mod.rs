//! Data sources: built-in synthetic sets, CSV, IDX and NPY files, splits and batches.
