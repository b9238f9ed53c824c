//! Differential fuzzing of one record topic against a reference model written from the
//! `record` module's specification. The decoder, model and comparison live in
//! `tests/model/record.rs`, shared with the seeded `tests/record_differential.rs` that runs in
//! every `cargo test`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/model/record.rs"]
mod record_model;

fuzz_target!(|data: &[u8]| record_model::run(data));
