//! The pattern parser and matcher (`seqcast::bus::Pattern`, `validate_topic`) against a naive
//! reference; malformed input must give an error, never a panic. The logic lives in
//! `tests/model/pattern.rs`, shared with the seeded `tests/differential.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/model/pattern.rs"]
mod pattern_model;

fuzz_target!(|data: &[u8]| pattern_model::run(data));
