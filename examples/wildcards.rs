//! Wildcard subscriptions: `user.*`, `*.error` and `>` subscribers, and what each one sees.
//!
//! `*` matches exactly one token, `>` one or more trailing tokens (NATS conventions).
//!
//! Run with `cargo run --example wildcards`.

use seqcast::bus::Pattern;
use seqcast::error::TryRecvError;
use seqcast::{Bus, PatternSubscriber};
use std::fmt;

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

type Event = Text<40>;

fn show(label: &str, sub: &mut PatternSubscriber<Event>) {
    println!("{label} ({}):", sub.pattern());
    loop {
        match sub.try_recv() {
            Ok((topic, event)) => println!("    {topic:<22} {event}"),
            Err(e) if e.error == TryRecvError::Empty => break,
            Err(e) => println!("    {e}"),
        }
    }
    for (topic, type_name) in sub.skipped_topics() {
        println!("    (skipped {topic}: it carries {type_name})");
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bus = Bus::new();

    // Subscribe first: the topics do not exist yet. Each pattern subscriber picks them up
    // as they are created and reads them from their first event.
    let mut users = bus.subscribe_pattern::<Event>("user.*")?;
    let mut errors = bus.subscribe_pattern::<Event>("*.error")?;
    let mut logger = bus.subscribe_pattern::<Event>(">")?;

    let events = [
        ("user.created", "id=123 name=Alice"),
        ("user.updated", "id=123 name=Alice Smith"),
        ("api.error", "connection timeout"),
        ("db.error", "query failed"),
        ("system.startup", "server started"),
        ("user.profile.updated", "id=123 avatar"), // 3 tokens: not `user.*`
    ];
    println!("publishing:");
    for (topic, text) in events {
        bus.publisher::<Event>(topic)?.send(Event::new(text))?;
        println!("    {topic:<22} {text}");
    }
    // Same name shape, another payload type: `*.error` subscribers of `Event` skip it.
    bus.publisher::<f64>("disk.error")?.send(0.93)?;

    println!();
    show("user handler", &mut users);
    show("error handler", &mut errors);
    show("logger", &mut logger);

    // Removing a topic closes it; its pattern subscribers are told once.
    bus.remove("api.error")?;
    println!("\nafter removing api.error:");
    show("error handler", &mut errors);

    println!("\npattern rules:");
    for (pattern, name) in [
        ("user.*", "user.created"),
        ("user.*", "user.profile.updated"),
        ("user.>", "user.profile.updated"),
        ("*.error", "error"),
        (">", "anything.at.all"),
    ] {
        let matched = Pattern::parse(pattern)?.matches(name);
        println!(
            "    {pattern:<8} {name:<22} {}",
            if matched { "match" } else { "no match" }
        );
    }
    for bad in ["user.>.created", "user*", "order..created", "user created"] {
        println!("    {}", Pattern::parse(bad).unwrap_err());
    }
    if let Err(e) = bus.publisher::<Event>("user.*") {
        println!("    {e}");
    }
    Ok(())
}
