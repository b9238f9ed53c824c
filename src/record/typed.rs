//! Typed messages over records: any `Serialize + DeserializeOwned` type, encoded by a
//! [`Codec`] into a reused buffer and sent as one record.

use super::{RecordPublisher, RecordSubscriber, SharedRecordPublisher};
use crate::error::{CapacityError, RecordError, TryRecvError};
use crate::{GateConfig, LagPolicy, SubscriberStats};
use core::fmt;
use core::marker::PhantomData;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// How typed values become record bytes and back. Errors are the codec's messages; they
/// are reported as [`RecordError::Encode`] / [`RecordError::Decode`], never as panics.
pub trait Codec {
    /// A short name, shown in `Debug`.
    const NAME: &'static str;
    /// Appends the encoding of `value` to `out` (which the caller has cleared).
    fn encode<T: Serialize>(value: &T, out: &mut Vec<u8>) -> Result<(), String>;
    /// Decodes one value from the whole of `bytes`.
    fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String>;
}

/// The default codec: [postcard](https://docs.rs/postcard), a compact binary serde format
/// (varint integers, length-prefixed strings and sequences). Both sides must use the same
/// type: the encoding carries no field names.
#[derive(Debug, Clone, Copy, Default)]
pub struct Postcard;

impl Codec for Postcard {
    const NAME: &'static str = "postcard";

    fn encode<T: Serialize>(value: &T, out: &mut Vec<u8>) -> Result<(), String> {
        // postcard's `extend` flavour appends into the caller's buffer: no allocation once
        // the buffer has grown to the largest encoding.
        postcard::to_extend(value, core::mem::take(out))
            .map(|bytes| *out = bytes)
            .map_err(|e| e.to_string())
    }

    fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
        match postcard::take_from_bytes(bytes) {
            Ok((value, [])) => Ok(value),
            Ok((_, rest)) => Err(format!(
                "{} bytes left over after the value: not a record of this type",
                rest.len()
            )),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// JSON ([serde_json](https://docs.rs/serde_json)): larger and slower than [`Postcard`], but
/// self-describing, so a subscriber in another language (or across the NATS bridge) can read
/// the records as they are.
#[cfg(feature = "json")]
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

#[cfg(feature = "json")]
impl Codec for Json {
    const NAME: &'static str = "json";

    fn encode<T: Serialize>(value: &T, out: &mut Vec<u8>) -> Result<(), String> {
        serde_json::to_writer(out, value).map_err(|e| e.to_string())
    }

    fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }
}

/// A typed topic's publisher and first subscriber.
pub type TypedPair<T, C> = (TypedPublisher<T, C>, TypedSubscriber<T, C>);

/// Creates a typed record topic for `T`, encoded with codec `C`, with room for `capacity`
/// bytes of records (see [`record::channel`](super::channel)).
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use seqcast::record::Postcard;
///
/// #[derive(Serialize, Deserialize, Debug, PartialEq)]
/// struct OrderCreated { order_id: String, items: Vec<(String, u32)>, total: f64 }
///
/// let (mut tx, mut rx) = seqcast::record::typed::<OrderCreated, Postcard>(64 * 1024).unwrap();
/// let order = OrderCreated {
///     order_id: "ord-2024-000017".into(),
///     items: vec![("apple".into(), 3), ("pear".into(), 1)],
///     total: 4.5,
/// };
/// tx.send(&order).unwrap();
/// assert_eq!(rx.try_recv(), Ok(order));
/// ```
pub fn typed<T, C: Codec>(capacity: usize) -> Result<TypedPair<T, C>, CapacityError>
where
    T: Serialize + DeserializeOwned,
{
    let (tx, rx) = super::try_channel(capacity)?;
    Ok((TypedPublisher::new(tx), TypedSubscriber::new(rx)))
}

/// Publishes values of `T` on a record topic, each encoded by `C` into a buffer the
/// publisher keeps, so sending allocates nothing once the buffer has grown.
pub struct TypedPublisher<T, C = Postcard> {
    tx: RecordPublisher,
    buf: Vec<u8>,
    _types: PhantomData<fn(&T, C)>,
}

impl<T: Serialize + DeserializeOwned, C: Codec> TypedPublisher<T, C> {
    /// Wraps a record publisher.
    pub fn new(tx: RecordPublisher) -> Self {
        TypedPublisher {
            tx,
            buf: Vec::new(),
            _types: PhantomData,
        }
    }

    /// Encodes `value` and publishes it; returns its sequence number. An encoding error or an
    /// encoding over [`max_len`](RecordPublisher::max_len) sends nothing.
    pub fn send(&mut self, value: &T) -> Result<u64, RecordError> {
        self.encode(value)?;
        self.tx.send(&self.buf)
    }

    /// Like [`send`](Self::send), but never waits for a gated subscriber
    /// ([`RecordError::Full`]).
    pub fn try_send(&mut self, value: &T) -> Result<u64, RecordError> {
        self.encode(value)?;
        self.tx.try_send(&self.buf)
    }

    fn encode(&mut self, value: &T) -> Result<(), RecordError> {
        self.buf.clear();
        C::encode(value, &mut self.buf).map_err(RecordError::Encode)
    }

    /// A new subscriber that starts with the next message sent.
    pub fn subscribe(&self) -> TypedSubscriber<T, C> {
        TypedSubscriber::new(self.tx.subscribe())
    }

    /// A new subscriber that starts with the oldest message still held.
    pub fn subscribe_oldest(&self) -> TypedSubscriber<T, C> {
        TypedSubscriber::new(self.tx.subscribe_oldest())
    }

    /// Turns this publisher into one that many threads can share.
    pub fn into_shared(self) -> SharedTypedPublisher<T, C> {
        SharedTypedPublisher::new(self.tx.into_shared())
    }

    /// A new gated (lossless) subscriber (see [`RecordPublisher::subscribe_gated`]).
    pub fn subscribe_gated(&self) -> TypedSubscriber<T, C> {
        TypedSubscriber::new(self.tx.subscribe_gated())
    }

    /// Like [`subscribe_gated`](Self::subscribe_gated), with options.
    pub fn subscribe_gated_with(&self, config: GateConfig) -> TypedSubscriber<T, C> {
        TypedSubscriber::new(self.tx.subscribe_gated_with(config))
    }

    /// The record publisher underneath.
    pub fn records(&self) -> &RecordPublisher {
        &self.tx
    }
}

impl<T, C: Codec> fmt::Debug for TypedPublisher<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedPublisher")
            .field("type", &core::any::type_name::<T>())
            .field("codec", &C::NAME)
            .field("records", &self.tx)
            .finish()
    }
}

/// Publishes values of `T` on a record topic from many threads: a
/// [`SharedRecordPublisher`] with an encoding buffer of its own. What
/// [`Bus::typed`](crate::Bus::typed) hands out. Each clone has its own buffer, so clones
/// encode in parallel and take turns only to write the record.
pub struct SharedTypedPublisher<T, C = Postcard> {
    tx: SharedRecordPublisher,
    buf: Vec<u8>,
    _types: PhantomData<fn(&T, C)>,
}

impl<T, C> Clone for SharedTypedPublisher<T, C> {
    fn clone(&self) -> Self {
        SharedTypedPublisher {
            tx: self.tx.clone(),
            buf: Vec::new(),
            _types: PhantomData,
        }
    }
}

impl<T: Serialize + DeserializeOwned, C: Codec> SharedTypedPublisher<T, C> {
    /// Wraps a shared record publisher.
    pub fn new(tx: SharedRecordPublisher) -> Self {
        SharedTypedPublisher {
            tx,
            buf: Vec::new(),
            _types: PhantomData,
        }
    }

    /// Encodes `value` and publishes it; returns its sequence number. Errors as
    /// [`TypedPublisher::send`], plus [`RecordError::Closed`] once the topic was removed.
    pub fn send(&mut self, value: &T) -> Result<u64, RecordError> {
        self.buf.clear();
        C::encode(value, &mut self.buf).map_err(RecordError::Encode)?;
        self.tx.send(&self.buf)
    }

    /// Like [`send`](Self::send), but never waits for a gated subscriber.
    pub fn try_send(&mut self, value: &T) -> Result<u64, RecordError> {
        self.buf.clear();
        C::encode(value, &mut self.buf).map_err(RecordError::Encode)?;
        self.tx.try_send(&self.buf)
    }

    /// A new subscriber that starts with the next message sent.
    pub fn subscribe(&self) -> TypedSubscriber<T, C> {
        TypedSubscriber::new(self.tx.subscribe())
    }

    /// A new subscriber that starts with the oldest message still held.
    pub fn subscribe_oldest(&self) -> TypedSubscriber<T, C> {
        TypedSubscriber::new(self.tx.subscribe_oldest())
    }

    /// A new gated (lossless) subscriber, with options.
    pub fn subscribe_gated_with(&self, config: GateConfig) -> TypedSubscriber<T, C> {
        TypedSubscriber::new(self.tx.subscribe_gated_with(config))
    }

    /// The shared record publisher underneath.
    pub fn records(&self) -> &SharedRecordPublisher {
        &self.tx
    }
}

impl<T, C: Codec> fmt::Debug for SharedTypedPublisher<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedTypedPublisher")
            .field("type", &core::any::type_name::<T>())
            .field("codec", &C::NAME)
            .field("records", &self.tx)
            .finish()
    }
}

/// Receives values of `T` from a record topic, decoding each record with `C`. Decoding
/// reuses one buffer for the bytes; the values themselves are owned (a `String` field
/// allocates, as it must).
pub struct TypedSubscriber<T, C = Postcard> {
    rx: RecordSubscriber,
    buf: Vec<u8>,
    _types: PhantomData<fn() -> (T, C)>,
}

impl<T, C> Clone for TypedSubscriber<T, C> {
    fn clone(&self) -> Self {
        TypedSubscriber {
            rx: self.rx.clone(),
            buf: Vec::new(),
            _types: PhantomData,
        }
    }
}

impl<T: Serialize + DeserializeOwned, C: Codec> TypedSubscriber<T, C> {
    /// Wraps a record subscriber.
    pub fn new(rx: RecordSubscriber) -> Self {
        TypedSubscriber {
            rx,
            buf: Vec::new(),
            _types: PhantomData,
        }
    }

    fn decode(&self, got: Result<u64, TryRecvError>) -> Result<T, RecordError> {
        let seq = got?;
        C::decode(&self.buf).map_err(|message| RecordError::Decode { seq, message })
    }

    /// Takes and decodes the next message; never blocks. Lag, close and the rest come as
    /// [`RecordError::Recv`]; a record that does not decode as `T` as
    /// [`RecordError::Decode`] (counted as received, the next call goes on).
    pub fn try_recv(&mut self) -> Result<T, RecordError> {
        let got = self.rx.take(&mut self.buf);
        self.decode(got)
    }

    /// Waits for the next message (see [`RecordSubscriber::recv_into`]) and decodes it.
    pub fn recv(&mut self) -> Result<T, RecordError> {
        let got = self.rx.recv_into(&mut self.buf).map_err(TryRecvError::from);
        let seq = self.rx.position().wrapping_sub(1);
        self.decode(got.map(|_| seq))
    }

    /// Waits asynchronously for the next message and decodes it. Cancel-safe.
    #[cfg(seqcast_async)]
    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    pub async fn recv_async(&mut self) -> Result<T, RecordError> {
        let got = self
            .rx
            .recv_into_async(&mut self.buf)
            .await
            .map_err(TryRecvError::from);
        let seq = self.rx.position().wrapping_sub(1);
        self.decode(got.map(|_| seq))
    }

    /// Sets the lag policy (see [`RecordSubscriber::set_lag_policy`]).
    pub fn set_lag_policy(&mut self, policy: LagPolicy) {
        self.rx.set_lag_policy(policy);
    }

    /// This subscriber's counters, in messages.
    pub fn stats(&self) -> SubscriberStats {
        self.rx.stats()
    }

    /// The record subscriber underneath, read-only.
    pub(crate) fn record_reader(&self) -> &RecordSubscriber {
        &self.rx
    }

    /// The record subscriber underneath.
    pub fn records(&mut self) -> &mut RecordSubscriber {
        &mut self.rx
    }
}

impl<T, C: Codec> fmt::Debug for TypedSubscriber<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedSubscriber")
            .field("type", &core::any::type_name::<T>())
            .field("codec", &C::NAME)
            .field("records", &self.rx)
            .finish()
    }
}
