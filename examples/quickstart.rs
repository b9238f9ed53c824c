//! One publisher, three subscribers on their own threads, one of them too slow.
//!
//! Run with `cargo run --release --example quickstart`.

use seqcast::error::RecvError;
use std::time::Duration;

fn main() {
    let (mut publisher, fast) = seqcast::channel::<[u64; 2]>(256);
    let subscribers = vec![
        ("fast", fast.clone()),
        ("also fast", fast),
        ("slow", publisher.subscribe()),
    ];

    let handles: Vec<_> = subscribers
        .into_iter()
        .map(|(name, mut rx)| {
            std::thread::spawn(move || {
                let (mut got, mut lost) = (0u64, 0u64);
                loop {
                    match rx.recv() {
                        Ok([seq, square]) => {
                            assert_eq!(square, seq * seq);
                            got += 1;
                            if name == "slow" {
                                std::thread::sleep(Duration::from_micros(50));
                            }
                        }
                        Err(RecvError::Lagged(n)) => lost += n,
                        Err(_) => break, // closed (or detached): the stream ended
                    }
                }
                println!("{name:>10}: received {got}, missed {lost} (reported as Lagged)");
                got + lost
            })
        })
        .collect();

    let total = 100_000u64;
    for i in 0..total {
        publisher.send([i, i * i]);
        if i % 1000 == 0 {
            std::thread::sleep(Duration::from_micros(100));
        }
    }
    drop(publisher); // closes the topic
    for h in handles {
        assert_eq!(h.join().unwrap(), total, "received + missed == published");
    }
    println!("published {total}; every subscriber accounted for all of them");
}
