//! # seqcast
//!
//! A lock-free broadcast ring for low-latency in-process fan-out: one publisher (or many),
//! any number of subscribers, each with its own cursor.
//!
//! * **Publishing is wait-free** and costs the same with 1 or 100 subscribers: subscribers
//!   never write shared memory.
//! * **Lag is reported, never silent**: a subscriber the publisher has lapped gets
//!   [`Lagged(n)`](error::TryRecvError::Lagged) with the exact number it missed, then resyncs
//!   to the oldest message still held ([`LagPolicy::Skip`]) or to the newest
//!   ([`LagPolicy::SkipToNewest`]), or is detached ([`LagPolicy::Disconnect`]).
//! * **No torn reads**: each slot is a seqlock whose payload is copied with atomic word
//!   accesses, sound in the Rust memory model even for payloads with padding.
//!
//! ```
//! use seqcast::error::TryRecvError;
//!
//! let (mut publisher, mut subscriber) = seqcast::channel::<[u64; 2]>(1024);
//! let mut audit = publisher.subscribe();
//!
//! publisher.send([1, 2]);
//! publisher.send([3, 4]);
//!
//! assert_eq!(subscriber.try_recv(), Ok([1, 2]));
//! assert_eq!(subscriber.try_recv(), Ok([3, 4]));
//! assert_eq!(subscriber.try_recv(), Err(TryRecvError::Empty));
//! assert_eq!(audit.recv(), Ok([1, 2]));
//!
//! drop(publisher); // closes the topic
//! assert_eq!(audit.recv(), Ok([3, 4]));
//! assert_eq!(audit.try_recv(), Err(TryRecvError::Closed));
//! ```
//!
//! Payloads are `T: Copy + Send + 'static`, copied into and out of the ring. A slot is
//! `8 + size_of::<T>()` bytes rounded up to 64: one cache line for payloads up to 56 bytes.
//!
//! # Map of the crate
//! Who may touch what: `unsafe` lives only in the storage core (`ring::slot`, `shm::region`)
//! and in the syscalls of `sync` and `shm` (`file`, `publisher`, `subscriber`); every atomic
//! comes from the loom shim `sync`.
//!
//! | module | what it is |
//! |---|---|
//! | `ring` | one in-process topic: the ring (`mod.rs`: who writes which field, invariants), its slots (`slot`: the seqlock and the memory-model argument), publishers, subscribers, gated subscribers (`gate`), waiting (`wait`, `send_async`, `select`) |
//! | `cursor` | the receive engine: the one state machine (ready, not yet, lapped, closed, detached) every subscriber runs over its storage (a `Source`) |
//! | [`bus`] | topics by name: the copy-on-write table, patterns, pattern subscribers |
//! | [`shm`] | a topic in a shared file: its layout, the publisher, a read-only subscriber that trusts nothing in the file |
//! | [`error`] | one error family for every receiver and sender |
//! | `sync` | the loom shim (atomics, fences, `Arc`), the asymmetric barriers, the parking eventcount, backoff |
//! | `timer` | one thread for the deadlines of async sends |
#![cfg_attr(docsrs, feature(doc_cfg))]
// The crate's own cfgs (`build.rs`) say nothing to a reader; items that depend on them name
// the feature they need.
#![cfg_attr(docsrs, doc(auto_cfg(hide(seqcast_loom, seqcast_async, seqcast_shm))))]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, missing_debug_implementations)]

pub mod bus;
mod cursor;
pub mod error;
pub mod record;
mod ring;
#[cfg(seqcast_shm)]
#[cfg_attr(docsrs, doc(cfg(all(feature = "shm", target_os = "linux"))))]
pub mod shm;
mod sync;
#[cfg(seqcast_async)]
mod timer;

pub use bus::{Bus, BusBuilder, PatternSubscriber, Topic, TopicInfo};
pub use ring::Select;
pub use ring::{
    channel, try_channel, try_channel_with, Iter, LagPolicy, Publisher, SharedPublisher,
    SlotLayout, Subscriber, SubscriberStats, TryIter, WaitStrategy,
};
pub use ring::{GateConfig, OnEvict, SubscriberPosition};
#[cfg(seqcast_async)]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub use ring::{RecvFuture, SendFuture, SendTimeoutFuture, SharedSendFuture};

// The README's Rust examples run as doctests (`cargo test --doc`), so they cannot drift from
// the API. (The NATS one is `ignore`d: `seqcast-nats` is another crate.)
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
