//! Model: a parking `Select` over two rings (`ring::select`). It registers on both rings,
//! runs one heavy barrier, re-checks, then sleeps; under loom it sleeps in a yield loop on
//! the rings' event generations, so a lost wake-up shows as a thread that loops forever:
//! loom stops it at its branch limit ("Model exceeded maximum number of branches"), and the
//! model fails.
//!
//! Small on purpose: one extra thread, capacity 2, one message or one close.
#![cfg(seqcast_loom)]

use loom::thread;
use loom_tests::{check, encode};
use seqcast::error::TryRecvError;
use seqcast::Select;

/// The select waits on a quiet ring and on the one another thread sends to (its publisher
/// kept alive, so no close can rescue a lost wake-up): it must name the second one.
fn send_while_selecting() {
    let (_quiet, rx_a) = seqcast::channel::<u64>(2);
    let (mut tx_b, mut rx_b) = seqcast::channel::<u64>(2);
    let sender = thread::spawn(move || {
        tx_b.send(encode(1, 0));
        tx_b
    });
    let mut sel = Select::new();
    sel.recv(&rx_a);
    let b = sel.recv(&rx_b);
    assert_eq!(sel.ready(), b);
    drop(sel);
    assert_eq!(rx_b.try_recv(), Ok(encode(1, 0)));
    let tx_b = sender.join().unwrap();
    assert_eq!(tx_b.waiting_subscribers(), 0, "left registered");
}

/// The second ring is closed (its last publisher dropped) while the select waits: `Closed`
/// is an answer, so the select must name it.
#[cfg_attr(seqcast_loom_broken_select, allow(dead_code))]
fn close_while_selecting() {
    let (quiet, rx_a) = seqcast::channel::<u64>(2);
    let (tx_b, mut rx_b) = seqcast::channel::<u64>(2);
    let closer = thread::spawn(move || drop(tx_b));
    let mut sel = Select::new();
    sel.recv(&rx_a);
    let b = sel.recv(&rx_b);
    assert_eq!(sel.ready(), b);
    drop(sel);
    assert_eq!(rx_b.try_recv(), Err(TryRecvError::Closed));
    closer.join().unwrap();
    assert_eq!(quiet.waiting_subscribers(), 0, "left registered");
}

#[cfg(not(seqcast_loom_broken_select))]
#[test]
fn select_wakes_for_a_send_on_either_ring() {
    check(
        "select_wakes_for_a_send_on_either_ring",
        send_while_selecting,
    );
}

#[cfg(not(seqcast_loom_broken_select))]
#[test]
fn select_wakes_for_a_close() {
    check("select_wakes_for_a_close", close_while_selecting);
}

/// Teeth: without the re-check after registering (`--cfg seqcast_loom_broken_select`), a
/// send between the select's last scan and its registration is missed (its publisher saw no
/// waiter): loom must find the select looping forever.
#[cfg(seqcast_loom_broken_select)]
#[test]
#[should_panic(expected = "maximum number of branches")]
fn teeth_missing_select_recheck_is_caught() {
    check("teeth_missing_select_recheck", send_while_selecting);
}
