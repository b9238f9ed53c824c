//! One `user.created` event fanned out to email, analytics and notification services, each on
//! its own thread: the "hello world" of Go event buses, on a seqcast `Bus`.
//!
//! Run with `cargo run --example user_signup`.

use seqcast::error::RecvError;
use seqcast::Bus;
use std::fmt;
use std::thread;

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
struct UserCreated {
    id: u32,
    email: Text<40>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bus = Bus::new();

    // Each service subscribes before the first signup, so it sees every one of them.
    let services: [(&str, &str); 3] = [
        ("email", "sending welcome email to"),
        ("analytics", "recording signup of"),
        ("notifications", "alerting the team about new user"),
    ];
    let mut handles = Vec::new();
    for (service, action) in services {
        let mut events = bus.subscribe::<UserCreated>("user.created")?;
        handles.push(thread::spawn(move || {
            let mut handled = 0;
            loop {
                match events.recv() {
                    Ok(user) => {
                        println!("  [{service}] {action} {} (user #{})", user.email, user.id);
                        handled += 1;
                    }
                    Err(RecvError::Lagged(n)) => println!("  [{service}] missed {n} signups"),
                    Err(_) => break, // closed (or detached): the stream ended
                }
            }
            println!("  [{service}] done: {handled} signups handled");
        }));
    }

    // The user service only knows the topic name, not who listens.
    let signups = bus.publisher::<UserCreated>("user.created")?;
    for (id, email) in [
        "alice@example.com",
        "bob@example.com",
        "charlie@example.com",
    ]
    .into_iter()
    .enumerate()
    {
        let seq = signups.send(UserCreated {
            id: id as u32 + 1,
            email: Text::new(email),
        })?;
        println!("published user.created #{seq} for {email}");
    }
    let info = &bus.topics()[0];
    println!(
        "{}: {} published, {} subscribers",
        info.name, info.published, info.subscribers
    );

    // Removing the topic closes it: every service drains what is left, then stops.
    bus.remove("user.created")?;
    for handle in handles {
        handle.join().expect("service thread");
    }
    println!("all events processed");
    Ok(())
}
