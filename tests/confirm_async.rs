//! Async delivery-confirmed publish: it confirms once every reporting subscriber has read
//! the message, including a subscriber task on the same current-thread executor (so the
//! wait yields instead of blocking its thread); a timeout names who had not read it; a
//! lossy subscriber that reports nothing is not waited for; a dropped future leaves the
//! message published; a closed shared topic hands the value back.
#![cfg(feature = "async")]

use seqcast::error::ConfirmError;
use seqcast::{channel, Bus, GateConfig};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Long enough that only a wait that can never succeed reaches it.
const PATIENT: Duration = Duration::from_secs(30);

#[test]
fn confirms_a_gated_reader_running_on_the_same_thread() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let (mut tx, _lossy) = channel::<u64>(4);
        let mut audit = tx.subscribe_gated_with(GateConfig::new().evict_after(None));
        // The reader is a task on this very thread: it runs only while the sender yields.
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..3 {
                got.push(audit.recv_async().await.unwrap());
            }
            got
        });
        for i in 0..3 {
            assert_eq!(tx.send_confirmed_async(10 + i, PATIENT).await, Ok(i));
        }
        assert_eq!(reader.await.unwrap(), [10, 11, 12]);
    });
}

#[test]
fn a_timeout_names_the_reporting_subscriber_that_did_not_read() {
    futures::executor::block_on(async {
        let (mut tx, mut dash) = channel::<u32>(8);
        dash.report_position(Some("dashboard"), 1);
        match tx.send_confirmed_async(1, Duration::from_millis(20)).await {
            Err(ConfirmError::Timeout { seq: 0, pending }) => {
                assert_eq!(pending.len(), 1);
                assert_eq!(pending[0].name.as_deref(), Some("dashboard"));
            }
            other => panic!("{other:?}"),
        }
        // The message stayed published; once read, the next one confirms.
        assert_eq!(dash.try_recv(), Ok(1));
        let t = std::thread::spawn(move || dash.recv().unwrap());
        assert_eq!(tx.send_confirmed_async(2, PATIENT).await, Ok(1));
        assert_eq!(t.join().unwrap(), 2);
    });
}

#[test]
fn a_lossy_subscriber_that_reports_nothing_is_not_waited_for() {
    futures::executor::block_on(async {
        let (mut tx, mut rx) = channel::<u8>(4);
        // Confirmed at once: nothing tells whether `rx` read it, so nothing is waited for.
        assert_eq!(tx.send_confirmed_async(5, Duration::ZERO).await, Ok(0));
        assert_eq!(rx.try_recv(), Ok(5));
    });
}

#[test]
fn the_future_is_send_and_runs_on_a_multi_thread_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let (mut tx, _lossy) = channel::<u64>(4);
        let mut audit = tx.subscribe_gated_with(GateConfig::new().evict_after(None));
        let reader = tokio::spawn(async move { audit.recv_async().await.unwrap() });
        let sender = tokio::spawn(async move { tx.send_confirmed_async(9, PATIENT).await });
        assert_eq!(sender.await.unwrap(), Ok(0));
        assert_eq!(reader.await.unwrap(), 9);
    });
}

#[test]
fn dropped_while_confirming_the_message_stays_published() {
    let (mut tx, mut dash) = channel::<u32>(4);
    dash.report_position(Some("dashboard"), 1);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    {
        let mut confirming = pin!(tx.send_confirmed_async(3, PATIENT));
        assert!(matches!(confirming.as_mut().poll(&mut cx), Poll::Pending));
    }
    assert_eq!(tx.published(), 1);
    assert_eq!(dash.try_recv(), Ok(3));
    // The publisher is free again, and nothing of the dropped wait is left in its way.
    assert_eq!(tx.send(4), 1);
}

#[test]
fn a_shared_publisher_confirms_and_a_closed_topic_hands_the_value_back() {
    futures::executor::block_on(async {
        let bus = Bus::new();
        let tx = bus.publisher::<u64>("orders").unwrap();
        let mut audit = tx.subscribe_gated_with(GateConfig::new().evict_after(None));
        let t = std::thread::spawn(move || audit.recv().unwrap());
        assert_eq!(tx.send_confirmed_async(1, PATIENT).await, Ok(0));
        assert_eq!(t.join().unwrap(), 1);
        bus.remove("orders").unwrap();
        assert_eq!(
            tx.send_confirmed_async(2, PATIENT).await,
            Err(ConfirmError::Closed(2))
        );
    });
}
