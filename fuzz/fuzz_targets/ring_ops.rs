//! Differential fuzzing of one topic against a `VecDeque`-plus-cursors reference model. The
//! decoder, model and comparison live in `tests/model/ring.rs`, shared with the seeded
//! `tests/differential.rs` that runs in every `cargo test`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/model/ring.rs"]
mod ring_model;

fuzz_target!(|data: &[u8]| ring_model::run(data));
