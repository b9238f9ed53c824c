//! loom models of seqcast live in `tests/`; they compile only with `--cfg seqcast_loom`.
