//! Differential fuzzing of the topic table (`Bus`): create / look up / remove / publish /
//! subscribe / pattern-subscribe against a reference model. The decoder, model and checks
//! live in `tests/model/bus.rs`, shared with the seeded `tests/differential.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/model/bus.rs"]
mod bus_model;

fuzz_target!(|data: &[u8]| bus_model::run(data));
