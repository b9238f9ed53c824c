//! The events a Go event bus carries, as they are: an order with a `String` id and a `Vec` of
//! items, and metrics with string names and a map of tags, on typed record topics (serde,
//! postcard). No fixed-size text types: any `Serialize + DeserializeOwned` type works, up to
//! the topic's record limit.
//!
//! Services subscribe as they would to a Go channel: an inventory service that must see every
//! order (a gated subscriber: the publisher waits for it), an analytics service that may fall
//! behind and is told exactly how many orders it missed, and a dashboard reading metrics.
//!
//! Run with `cargo run --example typed_events`.

use seqcast::error::{RecordError, TryRecvError};
use seqcast::record::{self, Postcard};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::thread;
use std::time::Duration;

#[derive(Serialize, Deserialize, Debug, Clone)]
struct Item {
    sku: String,
    quantity: u32,
    price_cents: u64,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct OrderCreated {
    order_id: String,
    customer: String,
    items: Vec<Item>,
    total: f64,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct MetricEvent {
    name: String,
    tags: HashMap<String, String>,
    value: f64,
}

fn order(i: u32) -> OrderCreated {
    let items: Vec<Item> = (0..1 + i % 4)
        .map(|k| Item {
            sku: format!(
                "SKU-{:05}-{}",
                i * 7 + k,
                ["red", "blue", "green"][k as usize % 3]
            ),
            quantity: 1 + k,
            price_cents: 999 + 250 * u64::from(k),
        })
        .collect();
    let total = items
        .iter()
        .map(|it| it.price_cents as f64 * f64::from(it.quantity) / 100.0)
        .sum();
    OrderCreated {
        order_id: format!("ord-2026-12-{i:06}"),
        customer: format!("customer-{}@example.com", i % 17),
        items,
        total,
    }
}

fn main() -> Result<(), RecordError> {
    // 64 KiB of records per topic; the longest record it takes is printed below.
    let (mut orders, mut analytics) =
        record::typed::<OrderCreated, Postcard>(64 * 1024).expect("a valid capacity");
    let (mut metrics, mut dashboard) =
        record::typed::<MetricEvent, Postcard>(64 * 1024).expect("a valid capacity");
    println!(
        "order topic: records up to {} bytes",
        orders.records().max_len()
    );

    // Inventory must see every order: gated, so the publisher waits for it.
    let mut inventory = orders.subscribe_gated();
    let inventory = thread::spawn(move || {
        let (mut reserved, mut units) = (0, 0);
        loop {
            match inventory.recv() {
                Ok(o) => {
                    reserved += 1;
                    units += o.items.iter().map(|it| it.quantity).sum::<u32>();
                }
                Err(RecordError::Recv(TryRecvError::Closed)) => break,
                Err(e) => panic!("inventory: {e}"),
            }
        }
        println!("[inventory] reserved stock for {reserved} orders ({units} units)");
    });

    // Analytics is slow: it loses orders when lapped, and is told how many.
    let analytics = thread::spawn(move || {
        let (mut seen, mut missed, mut revenue) = (0u64, 0u64, 0.0);
        loop {
            match analytics.recv() {
                Ok(o) => {
                    seen += 1;
                    revenue += o.total;
                    if seen == 1 {
                        println!("[analytics] first order {} by {}", o.order_id, o.customer);
                    }
                    thread::sleep(Duration::from_micros(50));
                }
                Err(RecordError::Recv(TryRecvError::Lagged(n))) => missed += n,
                Err(RecordError::Recv(TryRecvError::Closed)) => break,
                Err(e) => panic!("analytics: {e}"),
            }
        }
        println!(
            "[analytics] {seen} orders seen (${revenue:.2}), {missed} missed and reported: \
             {} in all",
            seen + missed
        );
    });

    let dashboard = thread::spawn(move || {
        let mut latest: HashMap<String, f64> = HashMap::new();
        loop {
            match dashboard.recv() {
                Ok(m) => {
                    let host = m.tags.get("host").cloned().unwrap_or_default();
                    latest.insert(format!("{}{{host={host}}}", m.name), m.value);
                }
                Err(RecordError::Recv(TryRecvError::Lagged(n))) => {
                    println!("[dashboard] missed {n} samples")
                }
                Err(RecordError::Recv(TryRecvError::Closed)) => break,
                Err(e) => panic!("dashboard: {e}"),
            }
        }
        let mut shown: Vec<_> = latest.into_iter().collect();
        shown.sort_by(|a, b| a.0.cmp(&b.0));
        for (series, value) in shown {
            println!("[dashboard] {series:<32} {value:>8.1}");
        }
    });

    for i in 0..5_000 {
        orders.send(&order(i))?;
        if i % 50 == 0 {
            for (k, name) in ["cpu.load", "http.requests"].iter().enumerate() {
                let tags = HashMap::from([
                    ("host".to_string(), format!("web-{}", (i / 50) % 3)),
                    ("region".to_string(), "eu-west-1".to_string()),
                ]);
                metrics.send(&MetricEvent {
                    name: name.to_string(),
                    tags,
                    value: f64::from(i % 100 + k as u32),
                })?;
            }
        }
    }
    println!("published {} orders", orders.records().published());
    // An order too large for the topic is refused whole; nothing half-sent.
    let mut huge = order(1);
    huge.items = vec![huge.items[0].clone(); 5_000];
    match orders.send(&huge) {
        Err(e @ RecordError::TooLarge { .. }) => println!("refused: {e}"),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    drop(orders);
    drop(metrics);
    inventory.join().unwrap();
    analytics.join().unwrap();
    dashboard.join().unwrap();
    Ok(())
}
