//! `Select`: it names a subscriber whose `try_recv` answers something other than `Empty` (a
//! message, a lag report, `Closed`), over subscribers of different types; a parked select
//! wakes for whichever gets it; nothing stays registered after a wait; and under two
//! publishing threads every message is received or reported missed, exactly once.

use seqcast::error::{ReadyTimeoutError, TryRecvError};
use seqcast::{channel, Publisher, Select};
use std::thread;
use std::time::{Duration, Instant};

/// Waits (bounded) until `tx` counts `n` parked subscribers: proves a select reached its
/// park (it is one waiter on each of its rings while parked).
fn until_parked<T: Copy + Send + 'static>(tx: &Publisher<T>, n: usize) {
    let give_up = Instant::now() + Duration::from_secs(60);
    while tx.waiting_subscribers() < n {
        assert!(Instant::now() < give_up, "the select never parked");
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_parked_select_wakes_on_the_subscriber_that_got_a_message() {
    let (tx_a, rx_a) = channel::<u8>(4);
    let (mut tx_b, rx_b) = channel::<[u64; 4]>(4);
    let (tx_c, rx_c) = channel::<(u32, u16)>(4);
    let selector = thread::spawn(move || {
        let (mut rx_a, mut rx_b, rx_c) = (rx_a, rx_b, rx_c);
        let mut sel = Select::new();
        assert_eq!(sel.recv(&rx_a), 0);
        assert_eq!(sel.recv(&rx_b), 1);
        assert_eq!(sel.recv(&rx_c), 2);
        let i = sel.ready();
        drop(sel);
        assert_eq!(rx_a.try_recv(), Err(TryRecvError::Empty));
        (i, rx_b.try_recv())
    });
    // Parked on all three rings before anything is sent.
    until_parked(&tx_a, 1);
    until_parked(&tx_b, 1);
    until_parked(&tx_c, 1);
    tx_b.send([1, 2, 3, 4]);
    let (i, got) = selector.join().unwrap();
    assert_eq!(i, 1);
    assert_eq!(got, Ok([1, 2, 3, 4]));
    // It returned disarmed: no ring counts it any more.
    assert_eq!(tx_a.waiting_subscribers(), 0);
    assert_eq!(tx_b.waiting_subscribers(), 0);
    assert_eq!(tx_c.waiting_subscribers(), 0);
}

#[test]
fn a_message_sent_before_the_wait_is_seen_at_once() {
    let (_tx_a, rx_a) = channel::<u64>(4);
    let (mut tx_b, mut rx_b) = channel::<i16>(4);
    tx_b.send(-3);
    let mut sel = Select::new();
    sel.recv(&rx_a);
    let b = sel.recv(&rx_b);
    assert_eq!(sel.try_ready(), Some(b));
    assert_eq!(sel.ready(), b);
    // Checked twice, taken nothing.
    assert_eq!(sel.ready_timeout(Duration::from_secs(60)), Ok(b));
    drop(sel);
    assert_eq!(rx_b.try_recv(), Ok(-3));
    assert_eq!(tx_b.waiting_subscribers(), 0);
}

#[test]
fn closing_a_topic_makes_its_subscriber_ready() {
    let (tx_a, rx_a) = channel::<u64>(4);
    let (tx_b, rx_b) = channel::<u32>(4);
    let selector = thread::spawn(move || {
        let (rx_a, mut rx_b) = (rx_a, rx_b);
        let mut sel = Select::new();
        sel.recv(&rx_a);
        let i = sel.recv(&rx_b);
        let got = sel.ready();
        drop(sel);
        (got == i, rx_b.try_recv())
    });
    until_parked(&tx_b, 1);
    drop(tx_b); // the last publisher: closes the topic
    let (named_b, got) = selector.join().unwrap();
    assert!(named_b);
    assert_eq!(got, Err(TryRecvError::Closed));
    assert_eq!(tx_a.waiting_subscribers(), 0);
}

#[test]
fn a_closed_topic_is_ready_before_any_wait() {
    let (_tx_a, rx_a) = channel::<u8>(2);
    let (tx_b, rx_b) = channel::<u8>(2);
    drop(tx_b);
    let mut sel = Select::new();
    sel.recv(&rx_a);
    assert_eq!(sel.recv(&rx_b), 1);
    assert_eq!(sel.ready(), 1);
}

#[test]
fn a_lapped_subscriber_is_ready_and_its_lag_is_reported() {
    let (mut tx, mut rx) = channel::<u32>(4);
    for i in 0..6 {
        tx.send(i);
    }
    let mut sel = Select::new();
    assert_eq!(sel.recv(&rx), 0);
    assert_eq!(sel.ready(), 0);
    drop(sel);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(2)));
}

#[test]
fn a_timeout_leaves_nothing_registered() {
    let (mut tx_a, mut rx_a) = channel::<u64>(4);
    let (tx_b, rx_b) = channel::<[u8; 3]>(4);
    let mut sel = Select::new();
    sel.recv(&rx_a);
    sel.recv(&rx_b);
    // Long enough to get past the polling and park (usually); either way it must time out
    // and leave no waiter behind.
    assert_eq!(
        sel.ready_timeout(Duration::from_millis(50)),
        Err(ReadyTimeoutError)
    );
    assert_eq!(sel.try_ready(), None);
    drop(sel);
    assert_eq!(tx_a.waiting_subscribers(), 0);
    assert_eq!(tx_b.waiting_subscribers(), 0);
    // The subscribers are untouched by the wait.
    tx_a.send(9);
    assert_eq!(rx_a.try_recv(), Ok(9));
    assert_eq!(rx_a.stats().parks, 0);
}

#[test]
fn an_empty_select_times_out() {
    let mut sel = Select::new();
    assert_eq!(sel.try_ready(), None);
    assert_eq!(sel.ready_timeout(Duration::ZERO), Err(ReadyTimeoutError));
}

#[test]
#[should_panic(expected = "no subscriber")]
fn an_empty_select_refuses_to_wait_forever() {
    Select::new().ready();
}

#[test]
fn a_busy_subscriber_does_not_hide_the_others() {
    let (mut tx_a, rx_a) = channel::<u8>(4);
    let (mut tx_b, rx_b) = channel::<u64>(4);
    tx_a.send(1);
    tx_b.send(2);
    let mut named = [0u32; 2];
    for _ in 0..10 {
        let mut sel = Select::new();
        sel.recv(&rx_a);
        sel.recv(&rx_b);
        named[sel.ready()] += 1;
    }
    assert!(named[0] > 0 && named[1] > 0, "{named:?}");
}

/// Two publishing threads on small rings (so laps happen) and one selecting thread that
/// takes whatever the select names: every `try_recv` it is told to make answers something,
/// messages come in order, and received + reported lag == published, per topic.
#[test]
fn two_publishers_one_selecting_thread_account_for_every_message() {
    const N: u64 = if cfg!(miri) { 200 } else { 20_000 };
    let (mut tx_a, mut rx_a) = channel::<u64>(16);
    let (mut tx_b, mut rx_b) = channel::<[u32; 2]>(16);
    let a = thread::spawn(move || {
        for i in 0..N {
            tx_a.send(i);
            if i % 512 == 0 {
                // Now and then let the selecting thread run dry and park.
                thread::sleep(Duration::from_micros(50));
            }
        }
    });
    let b = thread::spawn(move || {
        for i in 0..N {
            tx_b.send([i as u32, !(i as u32)]);
            if i % 700 == 0 {
                thread::sleep(Duration::from_micros(50));
            }
        }
    });
    let (mut next_a, mut next_b) = (0u64, 0u64);
    let (mut closed_a, mut closed_b) = (false, false);
    while !(closed_a && closed_b) {
        let mut sel = Select::new();
        let ia = (!closed_a).then(|| sel.recv(&rx_a));
        let ib = (!closed_b).then(|| sel.recv(&rx_b));
        let i = sel.ready();
        drop(sel);
        if Some(i) == ia {
            match rx_a.try_recv() {
                Ok(v) => {
                    assert!(v >= next_a, "a: {v} after {next_a}");
                    next_a = v + 1;
                }
                Err(TryRecvError::Lagged(n)) => assert!(n > 0),
                Err(TryRecvError::Closed) => closed_a = true,
                Err(e) => panic!("a: named by the select, then {e:?}"),
            }
        } else {
            assert_eq!(Some(i), ib);
            match rx_b.try_recv() {
                Ok([v, w]) => {
                    assert_eq!(w, !v, "torn");
                    assert!(u64::from(v) >= next_b, "b: {v} after {next_b}");
                    next_b = u64::from(v) + 1;
                }
                Err(TryRecvError::Lagged(n)) => assert!(n > 0),
                Err(TryRecvError::Closed) => closed_b = true,
                Err(e) => panic!("b: named by the select, then {e:?}"),
            }
        }
    }
    a.join().unwrap();
    b.join().unwrap();
    for stats in [rx_a.stats(), rx_b.stats()] {
        assert_eq!(stats.received + stats.missed, N, "{stats:?}");
    }
}
