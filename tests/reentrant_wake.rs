//! A waker may do anything, including publish on or close the very topic it waits on, from its
//! `wake` or its `drop`, on the polling thread or on the publishing thread. None of that may
//! deadlock (a translation of tokio's `send_in_waker_drop` test, and its relatives).
//!
//! Each test polls `recv_async` by hand with hand-made wakers, on a thread the test joins with
//! a deadline: a deadlock fails the test instead of hanging the suite.
#![cfg(feature = "async")]

use seqcast::error::RecvError;
use seqcast::{channel, Bus, SharedPublisher};
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

/// Runs `f` on its own thread; panics (the test fails) if it has not finished in time, which
/// here means it deadlocked. A deadlocked thread is left behind: the test process exits anyway.
fn without_deadlock(f: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = mpsc::channel();
    let t = thread::spawn(move || {
        f();
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(Duration::from_secs(10)) {
        Ok(()) => t.join().unwrap(),
        // The sender was dropped without sending: `f` panicked; report its panic.
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(p) = t.join() {
                std::panic::resume_unwind(p);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("deadlock: the test did not finish within 10 s")
        }
    }
}

/// What a [`Hook`] waker does, and when.
#[derive(Default)]
struct Hook {
    /// Sent when the waker is woken (the first time), if set.
    send_on_wake: Option<u64>,
    /// Sent when the waker is dropped, if set.
    send_on_drop: Option<u64>,
    /// The waker's own publisher handle: used for the sends above, and dropped with the
    /// waker (or taken and dropped by `wake` when `close_on_wake`).
    publisher: Mutex<Option<SharedPublisher<u64>>>,
    /// `wake` drops the publisher (closing the topic if it is the last one).
    close_on_wake: bool,
    /// Times woken.
    wakes: Arc<AtomicUsize>,
}

/// The waker itself: a [`Hook`] that acts when woken and when dropped.
struct HookWaker(Hook);

impl Wake for HookWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        let hook = &self.0;
        let first = hook.wakes.fetch_add(1, Ordering::SeqCst) == 0;
        let mut publisher = hook.publisher.lock().unwrap();
        if let (true, Some(v), Some(tx)) = (first, hook.send_on_wake, publisher.as_ref()) {
            let _ = tx.send(v); // refused once the topic is closed: fine
        }
        if hook.close_on_wake {
            let taken = publisher.take();
            drop(publisher);
            drop(taken);
        }
    }
}

impl Drop for HookWaker {
    fn drop(&mut self) {
        let publisher = self.0.publisher.get_mut().unwrap().take();
        if let (Some(v), Some(tx)) = (self.0.send_on_drop, publisher.as_ref()) {
            let _ = tx.send(v); // refused once the topic is closed: fine
        }
        // `publisher` drops here: closes the topic if it is the last handle.
    }
}

/// A waker that only counts its wakes.
fn counting() -> (Waker, Arc<AtomicUsize>) {
    let wakes = Arc::new(AtomicUsize::new(0));
    let hook = Hook {
        wakes: wakes.clone(),
        ..Hook::default()
    };
    (hook_waker(hook), wakes)
}

fn hook_waker(hook: Hook) -> Waker {
    Waker::from(Arc::new(HookWaker(hook)))
}

#[test]
fn a_replaced_waker_may_send_when_dropped() {
    without_deadlock(|| {
        let (tx, mut rx) = channel::<u64>(8);
        let tx = tx.into_shared();
        let mut fut = pin!(rx.recv_async());
        {
            let a = hook_waker(Hook {
                send_on_drop: Some(7),
                publisher: Mutex::new(Some(tx.clone())),
                ..Hook::default()
            });
            assert!(fut.as_mut().poll(&mut Context::from_waker(&a)).is_pending());
            // Only the registration holds `a` now.
        }
        let (b, b_wakes) = counting();
        // Replaces (and drops) `a`, whose drop sends 7: that send must wake `b` or be seen.
        match fut.as_mut().poll(&mut Context::from_waker(&b)) {
            Poll::Ready(r) => assert_eq!(r, Ok(7)),
            Poll::Pending => {
                assert_eq!(b_wakes.load(Ordering::SeqCst), 1, "the send must wake b");
                let r = fut.as_mut().poll(&mut Context::from_waker(&b));
                assert_eq!(r, Poll::Ready(Ok(7)));
            }
        }
        drop(tx);
    });
}

#[test]
fn a_replaced_waker_may_close_the_topic_when_dropped() {
    without_deadlock(|| {
        let (tx, mut rx) = channel::<u64>(8);
        let tx = tx.into_shared();
        let mut fut = pin!(rx.recv_async());
        {
            // The waker holds the last publisher: dropping it closes the topic.
            let a = hook_waker(Hook {
                publisher: Mutex::new(Some(tx)),
                ..Hook::default()
            });
            assert!(fut.as_mut().poll(&mut Context::from_waker(&a)).is_pending());
        }
        let (b, b_wakes) = counting();
        match fut.as_mut().poll(&mut Context::from_waker(&b)) {
            Poll::Ready(r) => assert_eq!(r, Err(RecvError::Closed)),
            Poll::Pending => {
                assert_eq!(b_wakes.load(Ordering::SeqCst), 1, "the close must wake b");
                let r = fut.as_mut().poll(&mut Context::from_waker(&b));
                assert_eq!(r, Poll::Ready(Err(RecvError::Closed)));
            }
        }
    });
}

#[test]
fn a_cancelled_wait_may_drop_a_waker_that_sends() {
    without_deadlock(|| {
        let (tx, mut rx) = channel::<u64>(8);
        let tx = tx.into_shared();
        let mut other = tx.subscribe();
        {
            let mut fut = pin!(rx.recv_async());
            let a = hook_waker(Hook {
                send_on_drop: Some(3),
                publisher: Mutex::new(Some(tx.clone())),
                ..Hook::default()
            });
            assert!(fut.as_mut().poll(&mut Context::from_waker(&a)).is_pending());
            drop(a);
            // Dropping the future deregisters, dropping `a`, which sends.
        }
        assert_eq!(tx.waiting_subscribers(), 0);
        assert_eq!(other.try_recv(), Ok(3));
        assert_eq!(rx.try_recv(), Ok(3));
    });
}

/// The publisher's notify wakes a waker that sends (re-entering the notify) and then, being
/// consumed by the wake, drops and sends again. `publish_elsewhere` sends from a second thread
/// rather than the polling one.
fn woken_waker_sends(publish_elsewhere: bool) {
    without_deadlock(move || {
        let (tx, mut rx) = channel::<u64>(8);
        let tx = tx.into_shared();
        let wakes = Arc::new(AtomicUsize::new(0));
        {
            let mut fut = pin!(rx.recv_async());
            {
                let a = hook_waker(Hook {
                    send_on_wake: Some(2),
                    send_on_drop: Some(3),
                    publisher: Mutex::new(Some(tx.clone())),
                    wakes: wakes.clone(),
                    ..Hook::default()
                });
                assert!(fut.as_mut().poll(&mut Context::from_waker(&a)).is_pending());
            }
            if publish_elsewhere {
                let tx = tx.clone();
                thread::spawn(move || tx.send(1)).join().unwrap().unwrap();
            } else {
                tx.send(1).unwrap();
            }
            assert_eq!(wakes.load(Ordering::SeqCst), 1);
            let (b, _) = counting();
            let mut cx = Context::from_waker(&b);
            assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(Ok(1)));
        }
        let mut rest = Vec::new();
        while let Ok(v) = rx.try_recv() {
            rest.push(v);
        }
        assert_eq!(rest, [2, 3]);
    });
}

#[test]
fn a_woken_waker_may_send_on_the_polling_thread() {
    woken_waker_sends(false);
}

#[test]
fn a_woken_waker_may_send_on_a_publishing_thread() {
    woken_waker_sends(true);
}

#[test]
fn a_waker_woken_by_a_close_may_send_and_drop_its_publisher() {
    without_deadlock(|| {
        let bus = Bus::new();
        let tx = bus.publisher::<u64>("t").unwrap();
        let mut rx = tx.subscribe();
        let wakes = Arc::new(AtomicUsize::new(0));
        let mut fut = pin!(rx.recv_async());
        {
            let a = hook_waker(Hook {
                // Refused: the topic is closed by then.
                send_on_wake: Some(5),
                publisher: Mutex::new(Some(tx)),
                close_on_wake: true,
                wakes: wakes.clone(),
                ..Hook::default()
            });
            assert!(fut.as_mut().poll(&mut Context::from_waker(&a)).is_pending());
        }
        assert!(bus.remove("t").unwrap());
        assert_eq!(wakes.load(Ordering::SeqCst), 1);
        let (b, _) = counting();
        let r = fut.as_mut().poll(&mut Context::from_waker(&b));
        assert_eq!(r, Poll::Ready(Err(RecvError::Closed)));
    });
}

/// A waker that wakes by re-sending every time, with several tasks waiting: each wake
/// re-enters the notify while other wakers are still to be woken.
#[test]
fn many_waiting_wakers_that_send_when_woken() {
    without_deadlock(|| {
        let (tx, rx) = channel::<u64>(64);
        let tx = tx.into_shared();
        let mut rxs: Vec<_> = (0..4).map(|_| rx.clone()).collect();
        drop(rx);
        let mut wakes = Vec::new();
        {
            let mut futs: Vec<_> = rxs.iter_mut().map(|r| Box::pin(r.recv_async())).collect();
            for (i, fut) in futs.iter_mut().enumerate() {
                let w = Arc::new(AtomicUsize::new(0));
                let a = hook_waker(Hook {
                    send_on_wake: Some(100 + i as u64),
                    send_on_drop: Some(200 + i as u64),
                    publisher: Mutex::new(Some(tx.clone())),
                    wakes: w.clone(),
                    ..Hook::default()
                });
                assert!(fut.as_mut().poll(&mut Context::from_waker(&a)).is_pending());
                wakes.push(w);
            }
            tx.send(1).unwrap();
            for w in &wakes {
                assert_eq!(w.load(Ordering::SeqCst), 1);
            }
        }
        // 1, then one wake send and one drop send per waker.
        for mut r in rxs {
            let mut got = Vec::new();
            while let Ok(v) = r.try_recv() {
                got.push(v);
            }
            assert_eq!(got.len(), 9, "{got:?}");
            assert_eq!(got[0], 1);
        }
    });
}
