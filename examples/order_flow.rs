//! An e-commerce order flow: `order.created`, `payment.completed` and `order.shipped` topics,
//! each with its own event type, and four services that subscribe to the topics they need.
//!
//! Run with `cargo run --example order_flow`.

use seqcast::error::TryRecvError;
use seqcast::{Bus, Subscriber};
use std::fmt;
use std::thread;
use std::time::Duration;

/// Payloads are copied into the ring, so they are `Copy`: fixed-size text, no heap pointers.
#[derive(Clone, Copy)]
struct Text<const N: usize>([u8; N], u8);

impl<const N: usize> Text<N> {
    fn new(s: &str) -> Self {
        let mut bytes = [0; N];
        let n = s.len().min(N).min(255);
        bytes[..n].copy_from_slice(&s.as_bytes()[..n]);
        Text(bytes, n as u8)
    }
}

impl<const N: usize> fmt::Display for Text<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.0[..self.1 as usize]).unwrap_or("?"))
    }
}

#[derive(Clone, Copy)]
struct Item {
    product: Text<8>,
    quantity: u16,
    cents: u32,
}

#[derive(Clone, Copy)]
struct OrderCreated {
    order: u32,
    customer: u32,
    items: [Option<Item>; 4],
    total_cents: u64,
}

#[derive(Clone, Copy)]
struct PaymentCompleted {
    order: u32,
    amount_cents: u64,
    method: Text<12>,
}

#[derive(Clone, Copy)]
struct OrderShipped {
    order: u32,
    carrier: Text<8>,
    tracking: Text<20>,
}

fn dollars(cents: u64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

/// Takes what `rx` has now, like one arm of a Go `select`. Returns false once the topic is
/// closed and drained.
fn poll<T: Copy + Send + 'static>(rx: &mut Subscriber<T>, mut handle: impl FnMut(T)) -> bool {
    loop {
        match rx.try_recv() {
            Ok(event) => handle(event),
            Err(TryRecvError::Empty) => return true,
            Err(TryRecvError::Lagged(n)) => println!("  (missed {n} events)"),
            Err(_) => return false, // closed (or detached): the stream ended
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

    // Email: all three topics.
    let mut created = bus.subscribe::<OrderCreated>("order.created")?;
    let mut paid = bus.subscribe::<PaymentCompleted>("payment.completed")?;
    let mut shipped = bus.subscribe::<OrderShipped>("order.shipped")?;
    services.push(service(move || {
        let a = poll(&mut created, |e| {
            println!("  [email] order confirmation for #{}", e.order)
        });
        let b = poll(&mut paid, |e| {
            println!("  [email] payment receipt for order #{}", e.order)
        });
        let c = poll(&mut shipped, |e| {
            println!(
                "  [email] shipping notice for #{} (tracking {})",
                e.order, e.tracking
            )
        });
        a || b || c
    }));

    // Inventory: new orders only.
    let mut created = bus.subscribe::<OrderCreated>("order.created")?;
    services.push(service(move || {
        poll(&mut created, |e| {
            for item in e.items.iter().flatten() {
                println!(
                    "  [inventory] reserving {} x {} for #{}",
                    item.quantity, item.product, e.order
                );
            }
        })
    }));

    // Analytics: orders and payments.
    let mut created = bus.subscribe::<OrderCreated>("order.created")?;
    let mut paid = bus.subscribe::<PaymentCompleted>("payment.completed")?;
    services.push(service(move || {
        let a = poll(&mut created, |e| {
            println!(
                "  [analytics] order #{} by customer {} ({})",
                e.order,
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
    let mut shipped = bus.subscribe::<OrderShipped>("order.shipped")?;
    services.push(service(move || {
        poll(&mut shipped, |e| {
            println!(
                "  [push] your order #{} has shipped with {}",
                e.order, e.carrier
            )
        })
    }));

    // A topic's type is fixed: publishing a payment on the order topic is refused.
    if let Err(e) = bus.publisher::<PaymentCompleted>("order.created") {
        println!("refused: {e}");
    }

    let order = 123_456;
    let item = |product, quantity, cents| {
        Some(Item {
            product: Text::new(product),
            quantity,
            cents,
        })
    };
    let items = [item("PROD-A", 2, 2999), item("PROD-B", 1, 4999), None, None];
    let total_cents = items
        .iter()
        .flatten()
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

    let orders = bus.publisher::<OrderCreated>("order.created")?;
    orders.send(OrderCreated {
        order,
        customer: 42,
        items,
        total_cents,
    })?;
    step("Step 1, customer places order", "order.created");

    let payments = bus.publisher::<PaymentCompleted>("payment.completed")?;
    payments.send(PaymentCompleted {
        order,
        amount_cents: total_cents,
        method: Text::new("credit_card"),
    })?;
    step("Step 2, customer pays", "payment.completed");

    let shipments = bus.publisher::<OrderShipped>("order.shipped")?;
    shipments.send(OrderShipped {
        order,
        carrier: Text::new("UPS"),
        tracking: Text::new("1Z999AA10123456784"),
    })?;
    step("Step 3, warehouse ships", "order.shipped");

    println!();
    for topic in bus.topics() {
        println!(
            "{:<18} {:>2} published, {} subscribers, payload {}",
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
