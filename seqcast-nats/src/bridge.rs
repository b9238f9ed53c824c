//! [`Bridge`]: one NATS connection, and the forwardings and deliveries made through it.

use crate::deliver::{self, Delivery};
use crate::forward::{self, Forwarding};
use crate::stats::{ConnectionCounters, DeliverCounters, ForwardCounters};
use crate::wire::WireFormat;
use crate::{BridgeStats, Codec, Error, Mapping};
use core::fmt;
use seqcast::Bus;
use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

type EventHook = Arc<dyn Fn(&async_nats::Event) + Send + Sync>;

/// Builds a [`Bridge`]: connection options, an event hook, the reconnect policy and the
/// wire format.
pub struct BridgeBuilder {
    options: async_nats::ConnectOptions,
    on_event: Option<EventHook>,
    max_reconnect_delay: Duration,
    wire: WireFormat,
}

impl fmt::Debug for BridgeBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BridgeBuilder")
            .field("on_event", &self.on_event.is_some())
            .field("max_reconnect_delay", &self.max_reconnect_delay)
            .field("wire", &self.wire)
            .finish_non_exhaustive()
    }
}

impl BridgeBuilder {
    /// Client options to start from (name, credentials, TLS, capacities...). The bridge adds
    /// its own `event_callback` and `reconnect_delay_callback`, replacing any set here: use
    /// [`on_event`](Self::on_event) and [`max_reconnect_delay`](Self::max_reconnect_delay).
    pub fn options(mut self, options: async_nats::ConnectOptions) -> Self {
        self.options = options;
        self
    }

    /// Called with every connection event of the client (connected, disconnected, slow
    /// consumer, errors...) after the bridge has counted it; e.g. to log outages:
    /// `.on_event(|e| eprintln!("nats: {e}"))`. Runs on the client's event task: keep it
    /// short.
    pub fn on_event(mut self, hook: impl Fn(&async_nats::Event) + Send + Sync + 'static) -> Self {
        self.on_event = Some(Arc::new(hook));
        self
    }

    /// Longest wait between two reconnect attempts (they start at once and back off
    /// exponentially from 10 ms). Default: 1 s. The client retries forever.
    pub fn max_reconnect_delay(mut self, delay: Duration) -> Self {
        self.max_reconnect_delay = delay;
        self
    }

    /// Has no effect. It bounded the sleeps of a forwarder that polled its local
    /// subscription; a forwarder now parks on it and is woken by the next message, so there
    /// is no sleep to bound. Kept so that code that sets it still builds.
    pub fn idle_sleep(self, _max: Duration) -> Self {
        self
    }

    /// The format this bridge's forwardings send: [`WireFormat::Binary`] (the default), a
    /// 32-byte prefix, or [`WireFormat::Json`], one JSON object per message for
    /// subscribers in other languages, which needs a JSON codec. Its deliveries read both.
    /// See [`wire`](crate::wire).
    pub fn wire_format(mut self, format: WireFormat) -> Self {
        self.wire = format;
        self
    }

    /// Connects to the NATS server(s) at `url` (e.g. `nats://127.0.0.1:4222`). Must run on
    /// a multi-threaded tokio runtime, which will run the client, the deliveries and the
    /// forwarders. Fails if no server answers.
    pub async fn connect(self, url: &str) -> Result<Bridge, Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let counters = Arc::new(ConnectionCounters::default());
        let hook = self.on_event;
        let recorder = counters.clone();
        let max_delay = self.max_reconnect_delay;
        let options = self
            .options
            .max_reconnects(None)
            .reconnect_delay_callback(move |attempts| reconnect_delay(attempts, max_delay))
            .event_callback(move |event| {
                recorder.record(&event);
                if let Some(hook) = &hook {
                    hook(&event);
                }
                core::future::ready(())
            });
        let client = options.connect(url).await.map_err(Error::Connect)?;
        let origin_id = new_origin();
        Ok(Bridge {
            shared: Arc::new(Shared {
                client,
                runtime,
                origin_id,
                origin: format!("{origin_id:016x}"),
                forwardings_made: AtomicU64::new(0),
                wire: self.wire,
                connection: counters,
                remote: RemoteTopics::default(),
                forwards: Mutex::default(),
                delivers: Mutex::default(),
            }),
        })
    }
}

/// Exponential from 10 ms, capped; the first attempt is immediate.
fn reconnect_delay(attempts: usize, max: Duration) -> Duration {
    if attempts <= 1 {
        return Duration::ZERO;
    }
    let exp = u32::try_from(attempts - 2).unwrap_or(u32::MAX).min(20);
    Duration::from_millis(10u64 << exp).min(max)
}

/// A random id for one bridge: a random hasher key (std's `RandomState`), the pid, the time
/// and a process-wide counter.
fn new_origin() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    h.finish()
}

/// The local topics a delivery of this bridge publishes into. The forwarders of the same
/// bridge do not forward them (loop prevention, see the crate docs).
///
/// `generation` counts insertions. A delivery inserts a name (and bumps `generation`,
/// `Release`) *before* it first publishes into the topic; a forwarder that reads a message
/// of that topic (the ring's `Acquire`) and then loads `generation` (`Acquire`) therefore
/// sees the bump and re-checks the set. Forwarders cache the answer per topic and load only
/// `generation` per message.
#[derive(Debug, Default)]
pub(crate) struct RemoteTopics {
    names: Mutex<HashSet<String>>,
    generation: AtomicU64,
}

impl RemoteTopics {
    pub(crate) fn insert(&self, name: &str) {
        let mut names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        if !names.contains(name) {
            names.insert(name.to_owned());
            // Release: pairs with the Acquire in `generation`, see above.
            self.generation.fetch_add(1, Ordering::Release);
        }
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        let names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        names.contains(name)
    }

    pub(crate) fn generation(&self) -> u64 {
        // Acquire: pairs with the Release in `insert`.
        self.generation.load(Ordering::Acquire)
    }
}

/// What a bridge's forwardings and deliveries share.
pub(crate) struct Shared {
    pub(crate) client: async_nats::Client,
    pub(crate) runtime: tokio::runtime::Handle,
    /// This bridge's id: the origin bridge field of what its forwardings send.
    pub(crate) origin_id: u64,
    /// `origin_id` in 16 hex digits, as [`Bridge::origin`] returns it.
    origin: String,
    /// How many forwardings this bridge has started: the next one's number in its origin.
    /// Each forwarding is a stream of its own, so that one started after another on the
    /// same topics (which numbers from 0 again) is never taken for the old one going back.
    forwardings_made: AtomicU64,
    pub(crate) wire: WireFormat,
    pub(crate) connection: Arc<ConnectionCounters>,
    pub(crate) remote: RemoteTopics,
    forwards: Mutex<Vec<Arc<ForwardCounters>>>,
    delivers: Mutex<Vec<Arc<DeliverCounters>>>,
}

/// A bridge between local [`Bus`]es and NATS: one NATS connection, through which it
/// [forwards](Self::forward) local topics to subjects and [delivers](Self::deliver)
/// subjects into local topics. See the [crate docs](crate).
///
/// Use one `Bridge` per bus: loop prevention between a bus's forwardings and deliveries
/// is per bridge. `Bridge` is a cheap handle (`Clone`); the connection closes when the
/// last clone, forwarding and delivery are gone.
#[derive(Clone)]
pub struct Bridge {
    shared: Arc<Shared>,
}

impl fmt::Debug for Bridge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bridge")
            .field("origin", &self.shared.origin)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Bridge {
    /// Connects with default options ([`Bridge::builder`]).
    pub async fn connect(url: &str) -> Result<Bridge, Error> {
        Bridge::builder().connect(url).await
    }

    /// A builder for the connection options, event hook, reconnect policy and wire format.
    pub fn builder() -> BridgeBuilder {
        BridgeBuilder {
            options: async_nats::ConnectOptions::new(),
            on_event: None,
            max_reconnect_delay: Duration::from_secs(1),
            wire: WireFormat::default(),
        }
    }

    /// Forwards every topic of `bus` matching `local` (a name or a pattern, of payload type
    /// `T`) to the NATS subject `mapping` gives it, encoded by `codec` and framed in the
    /// bridge's [wire format](crate::wire).
    ///
    /// A [`PatternSubscriber`](seqcast::PatternSubscriber) read by a task of the runtime,
    /// parked while there is nothing to forward: topics that exist now are forwarded from their next message, topics created later
    /// from their first. It never slows the local publishers: if NATS is slower than them
    /// (or disconnected, once the client's buffer is full), the bridge lags like any
    /// subscriber and counts what it missed ([`ForwardStats::lagged`](crate::ForwardStats::lagged)).
    /// Topics fed by a [`deliver`](Self::deliver) of this bridge are not forwarded.
    ///
    /// Stops when the returned [`Forwarding`] is dropped or [stopped](Forwarding::stop).
    ///
    /// Fails if the bus refuses the pattern, or if the bridge sends [`WireFormat::Json`] and
    /// the codec's output is not JSON ([`Codec::is_json`]).
    pub fn forward<T, C>(
        &self,
        bus: &Bus,
        local: &str,
        mapping: Mapping,
        codec: C,
    ) -> Result<Forwarding, Error>
    where
        T: Copy + Send + 'static,
        C: Codec<T>,
    {
        if self.shared.wire == WireFormat::Json && !codec.is_json() {
            return Err(Error::Codec(format!(
                "the JSON wire format needs a codec whose output is JSON, not {:?}",
                codec.id()
            )));
        }
        let subscriber = bus.subscribe_pattern::<T>(local).map_err(Error::Bus)?;
        // Relaxed: a unique number is all that is needed. Truncated to the wire's 32 bits:
        // numbers repeat only after 2^32 forwardings of one bridge.
        let number = self.shared.forwardings_made.fetch_add(1, Ordering::Relaxed) as u32;
        let counters = Arc::new(ForwardCounters::default());
        self.shared
            .forwards
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(counters.clone());
        Ok(forward::start(
            self.shared.clone(),
            number,
            subscriber,
            mapping,
            codec,
            counters,
        ))
    }

    /// Delivers every NATS message on `subject` (a subject or a wildcard) into the local
    /// topic of `bus` that `mapping` maps its subject to, decoded by `codec`, creating
    /// topics as needed ([`Bus::publisher`]).
    ///
    /// Returns once the server has registered the subscription, so that messages published
    /// after this returns are delivered: it publishes an empty message to a fresh inbox
    /// subject of its own (`_INBOX.…`) and waits for it to come back, since the client's
    /// `flush` does not wait for the server. (A subscriber of `>` elsewhere sees that
    /// message; this delivery drops it.) Drops this bridge's own messages coming
    /// back ([`DeliverStats::echoes`](crate::DeliverStats::echoes)), and counts gaps in each
    /// stream's sequence numbers as [`lost`](crate::DeliverStats::lost).
    ///
    /// Stops (and unsubscribes) when the returned [`Delivery`] is dropped or
    /// [stopped](Delivery::stop).
    pub async fn deliver<T, C>(
        &self,
        subject: &str,
        bus: &Bus,
        mapping: Mapping,
        codec: C,
    ) -> Result<Delivery, Error>
    where
        T: Copy + Send + 'static,
        C: Codec<T>,
    {
        let local = mapping.to_local(subject).ok_or_else(|| {
            Error::Mapping(format!(
                "subject {subject:?} is outside mapping {mapping:?}"
            ))
        })?;
        seqcast::bus::Pattern::parse(local).map_err(Error::Bus)?;
        let counters = Arc::new(DeliverCounters::default());
        self.shared
            .delivers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(counters.clone());
        deliver::start(
            self.shared.clone(),
            subject,
            bus.clone(),
            mapping,
            codec,
            counters,
        )
        .await
    }

    /// A snapshot of the connection's counters and of each direction's, summed over this
    /// bridge's forwardings and deliveries (stopped ones included).
    pub fn stats(&self) -> BridgeStats {
        let mut stats = BridgeStats {
            connection: self.shared.connection.snapshot(self.is_connected()),
            ..BridgeStats::default()
        };
        for f in self
            .shared
            .forwards
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            stats.forward.add(&f.snapshot());
        }
        for d in self
            .shared
            .delivers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            stats.deliver.add(&d.snapshot());
        }
        stats
    }

    /// Whether the client is connected now.
    pub fn is_connected(&self) -> bool {
        self.shared.client.connection_state() == async_nats::connection::State::Connected
    }

    /// This bridge's id in 16 hex digits, as the JSON wire format writes it
    /// ([`origin_id`](Self::origin_id)).
    pub fn origin(&self) -> &str {
        &self.shared.origin
    }

    /// This bridge's id: random; the origin bridge that its forwardings send
    /// ([`wire`](crate::wire)), by which its deliveries recognise their echoes.
    pub fn origin_id(&self) -> u64 {
        self.shared.origin_id
    }

    /// The underlying NATS client (e.g. to publish or subscribe directly).
    pub fn client(&self) -> &async_nats::Client {
        &self.shared.client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_delay_backs_off_to_the_cap() {
        let max = Duration::from_millis(300);
        let delays: Vec<_> = (1..8).map(|a| reconnect_delay(a, max)).collect();
        let ms = |n| Duration::from_millis(n);
        assert_eq!(
            delays,
            [ms(0), ms(10), ms(20), ms(40), ms(80), ms(160), ms(300)]
        );
        assert_eq!(reconnect_delay(usize::MAX, max), max);
    }

    #[test]
    fn origins_differ() {
        assert_ne!(new_origin(), new_origin());
    }

    #[test]
    fn remote_topics_bump_generation_once_per_name() {
        let r = RemoteTopics::default();
        assert_eq!(r.generation(), 0);
        r.insert("a.b");
        r.insert("a.b");
        assert_eq!(r.generation(), 1);
        assert!(r.contains("a.b") && !r.contains("a.c"));
    }
}
