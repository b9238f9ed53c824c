//! Differential test: the `ring_ops` fuzz target's decode-and-compare logic
//! (`tests/model/ring.rs`), run over a fixed set of seeded pseudo-random inputs so that every
//! `cargo test` exercises it. The fuzzer (`fuzz/run.sh`) explores further from the same code.

mod common;
use common::Rng;

#[path = "model/bus.rs"]
mod bus;
#[path = "model/pattern.rs"]
mod pattern;
#[path = "model/ring.rs"]
mod ring;

/// Number of inputs per test; each is up to 512 bytes (about 250 operations). Far fewer
/// under Miri, which interprets every operation (the fuzzer and normal runs cover the rest).
const INPUTS: u64 = if cfg!(miri) { 20 } else { 4_000 };

/// Under Miri: whether `data`'s header picks the padded payload `(u8, u64, u16)`, which Miri
/// does not check (payload words are plain `AtomicU64`s there, see `src/sync.rs`).
fn padded_under_miri(data: &[u8]) -> bool {
    cfg!(miri) && ring::decode(data).payload == ring::Payload::Padded
}

fn input(rng: &mut Rng) -> Vec<u8> {
    let len = (rng.next() % 512) as usize;
    (0..len).map(|_| rng.next() as u8).collect()
}

#[test]
fn ring_matches_the_reference_model_on_seeded_inputs() {
    for seed in 1..=INPUTS {
        let mut rng = Rng::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let data = input(&mut rng);
        if padded_under_miri(&data) {
            continue;
        }
        // On failure, the seed and bytes reproduce it (also as a fuzz input).
        let result = std::panic::catch_unwind(|| ring::run(&data));
        if let Err(e) = result {
            eprintln!("seed {seed} failed; input bytes: {data:?}");
            std::panic::resume_unwind(e);
        }
    }
}

#[test]
fn ring_model_edge_inputs() {
    // Empty input, header only, every capacity and payload type with a lapping burst.
    ring::run(&[]);
    for header in 0..=255u8 {
        // Under Miri, one header per capacity (payload types in turn), so that this takes
        // seconds, not many minutes.
        if padded_under_miri(&[header]) || (cfg!(miri) && header % 17 != 0) {
            continue;
        }
        // Burst of 39 through the publisher, then a try_recv, an iterator drain, a close and
        // a final drain.
        ring::run(&[header, 5, 0, 39, 8, 0, 12, 0, 23, 18, 0, 8, 0]);
        // Shared publishers: into_shared, clone, publish, drop one, publish, drop the other.
        ring::run(&[
            header, 16, 0, 17, 0, 0, 1, 5, 1, 20, 18, 0, 0, 0, 18, 0, 8, 0, 8, 0,
        ]);
        // Batches: a send_batch of 19 (a lap inside the batch for every capacity), batch
        // receives of 5 (lagged: nothing taken), 23 and 0, a batch of 3, recv_many, the
        // close, a batch receive draining the rest and one that finds the topic closed.
        ring::run(&[
            header, 21, 0, 19, 23, 0, 5, 24, 0, 23, 23, 0, 0, 21, 0, 3, 25, 0, 2, 18, 0, 23, 0, 23,
            24, 0, 1,
        ]);
        // Gated: try_send_batch stops where the gated subscriber has no room, a batch
        // receive makes some, send_batch evicts it (Detach), then a Lossy gated subscriber
        // evicted in turn is drained with try_recv_many.
        ring::run(&[
            header, 20, 0, 0, 22, 19, 23, 1, 3, 22, 19, 21, 0, 19, 23, 1, 8, 23, 1, 8, 20, 0, 1,
            21, 0, 19, 24, 2, 23, 24, 2, 23,
        ]);
        // Shared publishers' batches: into_shared, clone, a batch through each, a publish,
        // batch receives, both dropped, the drain.
        ring::run(&[
            header, 16, 0, 17, 0, 21, 0, 7, 21, 1, 19, 0, 0, 23, 0, 9, 25, 0, 23, 18, 0, 18, 0, 24,
            0, 23, 23, 0, 1,
        ]);
    }
}

/// Pattern inputs: random strings over an alphabet rich in `.`, `*`, `>` and short tokens.
fn pattern_input(rng: &mut Rng) -> Vec<u8> {
    const ALPHABET: &[u8] = b"..**>>ab\nab.c*>. \t";
    let len = (rng.next() % 40) as usize;
    (0..len)
        .map(|_| ALPHABET[(rng.next() % ALPHABET.len() as u64) as usize])
        .collect()
}

#[test]
fn patterns_match_the_reference_on_seeded_inputs() {
    for seed in 1..=INPUTS {
        let mut rng = Rng::new(seed.wrapping_mul(0xD1B5_4A32_D192_ED03) | 1);
        let data = pattern_input(&mut rng);
        let result = std::panic::catch_unwind(|| pattern::run(&data));
        if let Err(e) = result {
            eprintln!(
                "seed {seed} failed; input: {:?}",
                String::from_utf8_lossy(&data)
            );
            std::panic::resume_unwind(e);
        }
    }
    for fixed in [
        "user.*\nuser.created\nuser\nuser.created.eu",
        "*.error\napi.error\nerror\ndb.read.error",
        "order.>\norder.created\norder.eu.paid\norder",
        ">\na\na.b.c",
        "a.>.b\na.x.b",
        "a*\na",
        "",
        "a..b\na.b",
        "a b\na b",
    ] {
        pattern::run(fixed.as_bytes());
    }
}

#[test]
fn bus_matches_the_reference_model_on_seeded_inputs() {
    for seed in 1..=INPUTS / 2 {
        let mut rng = Rng::new(seed.wrapping_mul(0xA076_1D64_78BD_642F) | 1);
        let data = input(&mut rng);
        let result = std::panic::catch_unwind(|| bus::run(&data));
        if let Err(e) = result {
            eprintln!("seed {seed} failed; input bytes: {data:?}");
            std::panic::resume_unwind(e);
        }
    }
}

/// Inputs the fuzzer once failed on (`tests/regressions/<target>/`), replayed on every run.
/// They live under `tests/` so that the published crate carries them too.
#[test]
fn bus_fuzz_regressions_still_pass() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/regressions/bus_ops");
    let mut replayed = 0;
    for entry in std::fs::read_dir(dir).expect("tests/regressions/bus_ops exists") {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let result = std::panic::catch_unwind(|| bus::run(&data));
        if let Err(e) = result {
            eprintln!("regression input {} failed", path.display());
            std::panic::resume_unwind(e);
        }
        replayed += 1;
    }
    assert!(replayed > 0, "no regression inputs found in {dir}");
}
