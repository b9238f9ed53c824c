//! Differential test of record topics: the `record_ops` fuzz target's decode-and-compare
//! logic (`tests/model/record.rs`), run over a fixed set of seeded pseudo-random inputs so
//! that every `cargo test` exercises it. The fuzzer (`fuzz/run.sh`) explores further from the
//! same code.

mod common;
use common::Rng;

#[path = "model/record.rs"]
mod record;

/// Number of inputs; each is up to 512 bytes (about 250 operations). Far fewer under Miri,
/// which interprets every operation (the fuzzer and normal runs cover the rest).
const INPUTS: u64 = if cfg!(miri) { 12 } else { 4_000 };

fn input(rng: &mut Rng) -> Vec<u8> {
    let len = rng.index(512);
    (0..len).map(|_| rng.next() as u8).collect()
}

#[test]
fn records_match_the_reference_model_on_seeded_inputs() {
    for seed in 1..=INPUTS {
        let mut rng = Rng::new(seed.wrapping_mul(0xC2B2_AE3D_27D4_EB4F) | 1);
        let data = input(&mut rng);
        // On failure, the seed and bytes reproduce it (also as a fuzz input).
        let result = std::panic::catch_unwind(|| record::run(&data));
        if let Err(e) = result {
            eprintln!("seed {seed} failed; input bytes: {data:?}");
            std::panic::resume_unwind(e);
        }
    }
}

#[test]
fn record_model_edge_inputs() {
    // Empty input, header only, and for every ring size (and sizes that are not multiples of
    // a chunk): bursts that lap a lossy and evict a gated subscriber of each kind, receives
    // under each policy, a close and a final drain.
    record::run(&[]);
    for header in 0..=255u8 {
        if cfg!(miri) && header % 37 != 0 {
            continue;
        }
        record::run(&[header]);
        // subscribe gated (Detach), subscribe gated (Lossy), burst of 23, receives, close.
        record::run(&[
            header, 9, 0, 9, 1, 5, 23, 3, 11, 0, 11, 1, 11, 2, 16, 0, 16, 1, 16, 2, 19, 0,
        ]);
        // SkipToNewest and Disconnect subscribers lapped by sends of every length kind.
        record::run(&[
            header, 8, 0, 17, 1, 2, 17, 0, 1, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 0, 6, 1, 7, 2, 8, 11,
            0, 11, 1, 11, 0, 11, 1, 5, 9, 4, 11, 0, 11, 1, 19, 0, 16, 0, 16, 1,
        ]);
    }
}

// Two bugs the model found in `src/record/`, kept as regressions: each checks the `OnEvict`
// docs, which record topics keep from the typed ring.

/// Once detached by its eviction (`OnEvict::Detach`), a record subscriber answers `Detached`
/// for good, as a typed one does (it used to report each later record as lost: the
/// end-of-stream account ran again on every receive).
#[test]
fn an_evicted_detached_record_subscriber_stays_detached() {
    use seqcast::error::TryRecvError;
    use seqcast::GateConfig;
    use std::time::Duration;
    let (mut tx, _rx) = seqcast::record::channel(64); // one chunk
    let mut gated = tx.subscribe_gated_with(GateConfig::new().evict_after(Some(Duration::ZERO)));
    tx.send(b"0").unwrap();
    tx.send(b"1").unwrap(); // needs the gated subscriber's slot: evicts it
    assert_eq!(gated.try_recv(), Err(TryRecvError::Lagged(2)));
    assert_eq!(gated.try_recv(), Err(TryRecvError::Detached));
    tx.send(b"2").unwrap();
    assert_eq!(gated.try_recv(), Err(TryRecvError::Detached), "{gated:?}");
    // The model's input for the same steps.
    record::run_strict(&[0, 9, 0, 0, 0, 0, 0, 11, 1, 11, 1, 0, 0, 11, 1]);
}

/// Evicted under `OnEvict::Lossy`, a subscriber whose policy was `Disconnect` carries on
/// under `Skip` (the `OnEvict::Lossy` docs), as a typed one does (a record subscriber used to
/// keep `Disconnect`, and the lag report of its eviction detached it).
#[test]
fn an_evicted_lossy_record_subscriber_carries_on_under_skip() {
    use seqcast::error::TryRecvError;
    use seqcast::{GateConfig, LagPolicy, OnEvict};
    use std::time::Duration;
    let config = GateConfig::new()
        .evict_after(Some(Duration::ZERO))
        .on_evict(OnEvict::Lossy);
    // The typed ring, for reference: this part passes.
    let (mut tx, _rx) = seqcast::channel::<u8>(1);
    let mut gated = tx.subscribe_gated_with(config.clone());
    gated.set_lag_policy(LagPolicy::Disconnect);
    tx.send(0);
    tx.send(1); // evicts
    assert_eq!(gated.try_recv(), Err(TryRecvError::Lagged(1)));
    assert_eq!(gated.lag_policy(), LagPolicy::Skip);
    assert_eq!(gated.try_recv(), Ok(1));
    // The same on a record topic of one chunk.
    let (mut tx, _rx) = seqcast::record::channel(64);
    let mut gated = tx.subscribe_gated_with(config);
    gated.set_lag_policy(LagPolicy::Disconnect);
    tx.send(b"0").unwrap();
    tx.send(b"1").unwrap(); // evicts
    assert_eq!(gated.try_recv(), Err(TryRecvError::Lagged(1)));
    assert!(gated.is_evicted());
    assert_eq!(gated.lag_policy(), LagPolicy::Skip, "{gated:?}");
    assert_eq!(gated.try_recv(), Ok(b"1".to_vec()), "{gated:?}");
    record::run_strict(&[0, 9, 1, 17, 1, 1, 0, 0, 0, 0, 11, 1, 11, 1]);
}
