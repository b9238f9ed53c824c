//! An e-commerce order flow: `order.created`, `payment.completed` and `order.shipped` topics,
//! each with its own event type, and four services that subscribe to the topics they need.
//! The events are what a Go service would send: `String` ids and a `Vec` of items, on typed
//! record topics of the bus (serde, postcard), with no fixed-size text types.
//!
//! Run with `cargo run --example order_flow`.

use seqcast::error::{RecordError, TryRecvError};
use seqcast::record::TypedSubscriber;
use seqcast::Bus;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::thread;
use std::time::Duration;

#[derive(Serialize, Deserialize, Debug, Clone)]
struct Item {
    product: String,
    quantity: u16,
    cents: u32,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct OrderCreated {
    order_id: String,
    customer: String,
    items: Vec<Item>,
    total_cents: u64,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct PaymentCompleted {
    order_id: String,
    amount_cents: u64,
    method: String,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct OrderShipped {
    order_id: String,
    carrier: String,
    tracking: String,
}

fn dollars(cents: u64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

/// Takes what `rx` has now, like one arm of a Go `select`. Returns false once the topic is
/// closed and drained.
fn poll<T>(rx: &mut TypedSubscriber<T>, mut handle: impl FnMut(T)) -> bool
where
    T: Serialize + DeserializeOwned,
{
    loop {
        match rx.try_recv() {
            Ok(event) => handle(event),
            Err(RecordError::Recv(TryRecvError::Empty)) => return true,
            Err(RecordError::Recv(TryRecvError::Lagged(n))) => println!("  (missed {n} events)"),
            Err(RecordError::Recv(_)) => return false, // closed: the stream ended
            Err(e) => println!("  (undecodable event: {e})"),
        }
    }
}

/// Runs `step` until it reports that all its topics are closed.
fn service(mut step: impl FnMut() -> bool + Send + 'static) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        while step() {
            thread::sleep(Duration::from_millis(1));
        }
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bus = Bus::new();
    let mut services = Vec::new();

    let mut orders = bus.typed::<OrderCreated>("order.created")?;
    let mut payments = bus.typed::<PaymentCompleted>("payment.completed")?;
    let mut shipments = bus.typed::<OrderShipped>("order.shipped")?;

    // Email: all three topics.
    let mut created = orders.subscribe();
    let mut paid = payments.subscribe();
    let mut shipped = shipments.subscribe();
    services.push(service(move || {
        let a = poll(&mut created, |e| {
            println!("  [email] order confirmation for {}", e.order_id)
        });
        let b = poll(&mut paid, |e| {
            println!("  [email] payment receipt for order {}", e.order_id)
        });
        let c = poll(&mut shipped, |e| {
            println!(
                "  [email] shipping notice for {} (tracking {})",
                e.order_id, e.tracking
            )
        });
        a || b || c
    }));

    // Inventory: new orders only.
    let mut created = orders.subscribe();
    services.push(service(move || {
        poll(&mut created, |e| {
            for item in &e.items {
                println!(
                    "  [inventory] reserving {} x {} for {}",
                    item.quantity, item.product, e.order_id
                );
            }
        })
    }));

    // Analytics: orders and payments.
    let mut created = orders.subscribe();
    let mut paid = payments.subscribe();
    services.push(service(move || {
        let a = poll(&mut created, |e| {
            println!(
                "  [analytics] order {} by {} ({})",
                e.order_id,
                e.customer,
                dollars(e.total_cents)
            )
        });
        let b = poll(&mut paid, |e| {
            println!(
                "  [analytics] payment via {} ({})",
                e.method,
                dollars(e.amount_cents)
            )
        });
        a || b
    }));

    // Push notifications: shipments only.
    let mut shipped = shipments.subscribe();
    services.push(service(move || {
        poll(&mut shipped, |e| {
            println!(
                "  [push] your order {} has shipped with {}",
                e.order_id, e.carrier
            )
        })
    }));

    // A topic's type is fixed: publishing a payment on the order topic is refused.
    if let Err(e) = bus.typed::<PaymentCompleted>("order.created") {
        println!("refused: {e}");
    }

    let order_id = "ord-2026-12-000123456".to_string();
    let item = |product: &str, quantity, cents| Item {
        product: product.to_string(),
        quantity,
        cents,
    };
    let items = vec![
        item("PROD-A mechanical keyboard", 2, 2999),
        item("PROD-B usb-c cable, 2 m", 1, 499),
        item("PROD-C desk mat (large, grey)", 1, 1999),
    ];
    let total_cents = items
        .iter()
        .map(|i| u64::from(i.quantity) * u64::from(i.cents))
        .sum();

    let step = |title: &str, topic: &str| {
        let subscribers = bus
            .topics()
            .into_iter()
            .find(|t| t.name == topic)
            .map_or(0, |t| t.subscribers);
        println!("\n{title}: published to {topic} ({subscribers} subscribers)");
        thread::sleep(Duration::from_millis(100)); // let the services print
    };

    orders.send(&OrderCreated {
        order_id: order_id.clone(),
        customer: "customer-42@example.com".to_string(),
        items,
        total_cents,
    })?;
    step("Step 1, customer places order", "order.created");

    payments.send(&PaymentCompleted {
        order_id: order_id.clone(),
        amount_cents: total_cents,
        method: "credit_card".to_string(),
    })?;
    step("Step 2, customer pays", "payment.completed");

    shipments.send(&OrderShipped {
        order_id,
        carrier: "UPS".to_string(),
        tracking: "1Z999AA10123456784".to_string(),
    })?;
    step("Step 3, warehouse ships", "order.shipped");

    println!();
    for topic in bus.topics() {
        println!(
            "{:<18} {:>2} published, {} subscribers, {}",
            topic.name.as_str(),
            topic.published,
            topic.subscribers,
            topic.type_name
        );
    }

    // Shut down: closing the topics lets every service drain and stop.
    for topic in ["order.created", "payment.completed", "order.shipped"] {
        bus.remove(topic)?;
    }
    for s in services {
        s.join().expect("service thread");
    }
    println!("order flow completed");
    Ok(())
}
