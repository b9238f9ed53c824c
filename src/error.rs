//! Error types.

use core::fmt;

/// Why [`try_channel`](crate::try_channel) could not build a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapacityError {
    /// A capacity of 0 was asked for; a ring needs at least one slot.
    Zero,
    /// The capacity, rounded up to a power of two, does not fit in memory.
    TooLarge {
        /// The capacity that was asked for.
        requested: usize,
    },
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CapacityError::Zero => f.write_str("capacity must be at least 1, got 0"),
            CapacityError::TooLarge { requested } => write!(
                f,
                "capacity {requested} is too large: its power-of-two ring cannot be allocated"
            ),
        }
    }
}

impl std::error::Error for CapacityError {}

impl CapacityError {
    /// The one capacity rule of every ring (in-process, bus, shared memory): at least one
    /// slot, rounded up to a power of two that fits in a `usize`. (Whether the ring then fits
    /// in memory or on its file system is the caller's check.)
    pub(crate) fn check(requested: usize) -> Result<usize, CapacityError> {
        if requested == 0 {
            return Err(CapacityError::Zero);
        }
        requested
            .checked_next_power_of_two()
            .ok_or(CapacityError::TooLarge { requested })
    }
}

/// Why a `try_recv` returned no message: [`Subscriber::try_recv`](crate::Subscriber::try_recv),
/// [`ShmSubscriber::try_recv`](crate::shm::ShmSubscriber::try_recv), and, wrapped in a
/// [`TopicError`] that names the topic,
/// [`PatternSubscriber::try_recv`](crate::bus::PatternSubscriber::try_recv).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TryRecvError {
    /// No new message yet.
    Empty,
    /// The publisher lapped this subscriber, which skipped this many unread messages: the
    /// overwritten ones and, under [`LagPolicy::SkipToNewest`](crate::LagPolicy::SkipToNewest),
    /// the backlog it jumped over. They are lost to this subscriber; what happens next depends
    /// on its [`LagPolicy`](crate::LagPolicy). Never 0.
    Lagged(u64),
    /// The topic was closed (its last publisher was dropped, or it was removed from its
    /// `Bus`) and every message still readable has been read.
    Closed,
    /// This subscriber was detached after a lag report: under `LagPolicy::Disconnect`, or
    /// after a gated subscriber's eviction under `OnEvict::Detach`. The topic itself may still
    /// be open.
    Detached,
    /// Shared-memory topics only: the publisher's process died (or stopped its heartbeat)
    /// without closing the topic, and everything it completed has been read. Distinct from
    /// `Closed`: the stream ended abnormally, possibly in the middle of a message that is
    /// never delivered.
    PublisherDied,
}

/// Why a blocking `recv` returned no message (the cases of [`TryRecvError`] but `Empty`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecvError {
    /// The subscriber skipped this many unread messages (see [`TryRecvError::Lagged`]).
    Lagged(u64),
    /// The topic was closed and everything readable has been read (see
    /// [`TryRecvError::Closed`]).
    Closed,
    /// Detached after a lag report (see [`TryRecvError::Detached`]).
    Detached,
    /// The shared-memory publisher died (see [`TryRecvError::PublisherDied`]).
    PublisherDied,
}

/// Why a `recv_timeout` returned no message: `Timeout`, or a case of [`RecvError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecvTimeoutError {
    /// Nothing arrived in time.
    Timeout,
    /// The subscriber skipped this many unread messages (see [`TryRecvError::Lagged`]).
    Lagged(u64),
    /// The topic was closed and everything readable has been read (see
    /// [`TryRecvError::Closed`]).
    Closed,
    /// Detached after a lag report (see [`TryRecvError::Detached`]).
    Detached,
    /// The shared-memory publisher died (see [`TryRecvError::PublisherDied`]).
    PublisherDied,
}

impl From<RecvError> for TryRecvError {
    fn from(e: RecvError) -> TryRecvError {
        match e {
            RecvError::Lagged(n) => TryRecvError::Lagged(n),
            RecvError::Closed => TryRecvError::Closed,
            RecvError::Detached => TryRecvError::Detached,
            RecvError::PublisherDied => TryRecvError::PublisherDied,
        }
    }
}

impl From<RecvError> for RecvTimeoutError {
    fn from(e: RecvError) -> RecvTimeoutError {
        match e {
            RecvError::Lagged(n) => RecvTimeoutError::Lagged(n),
            RecvError::Closed => RecvTimeoutError::Closed,
            RecvError::Detached => RecvTimeoutError::Detached,
            RecvError::PublisherDied => RecvTimeoutError::PublisherDied,
        }
    }
}

impl RecvError {
    /// The blocking form of a `try_recv` error other than `Empty` (a blocking receive does
    /// not end on `Empty`).
    pub(crate) fn from_try(e: TryRecvError) -> RecvError {
        match e {
            TryRecvError::Lagged(n) => RecvError::Lagged(n),
            TryRecvError::Detached => RecvError::Detached,
            TryRecvError::PublisherDied => RecvError::PublisherDied,
            TryRecvError::Closed | TryRecvError::Empty => RecvError::Closed,
        }
    }

    /// What a blocking receive returns for what its wait ended on (a wait without a
    /// deadline always ends with an answer).
    pub(crate) fn after_wait<T>(got: Option<Result<T, TryRecvError>>) -> Result<T, RecvError> {
        got.unwrap_or(Err(TryRecvError::Closed))
            .map_err(RecvError::from_try)
    }
}

impl RecvTimeoutError {
    /// The form with a timeout of a `try_recv` error (`Empty`: the time ran out).
    pub(crate) fn from_try(e: TryRecvError) -> RecvTimeoutError {
        match e {
            TryRecvError::Empty => RecvTimeoutError::Timeout,
            other => RecvError::from_try(other).into(),
        }
    }

    /// What a receive with a timeout returns for what its wait ended on (`None`: the
    /// deadline passed).
    pub(crate) fn after_wait<T>(
        got: Option<Result<T, TryRecvError>>,
    ) -> Result<T, RecvTimeoutError> {
        got.unwrap_or(Err(TryRecvError::Empty))
            .map_err(RecvTimeoutError::from_try)
    }
}

/// A pattern subscriber's error: what happened, and on which topic.
///
/// [`PatternSubscriber`](crate::bus::PatternSubscriber) reads many topics; its `Lagged(n)`
/// and `Closed` concern one of them, named in `topic`, while `Empty` and `Timeout` concern
/// them all (`topic` is `None`). `E` is [`TryRecvError`], [`RecvError`] or
/// [`RecvTimeoutError`], as for a plain subscriber.
///
/// ```
/// use seqcast::error::{TopicError, TryRecvError};
///
/// let bus = seqcast::Bus::builder().capacity(2).build();
/// let mut all = bus.subscribe_pattern::<u32>("jobs.*").unwrap();
/// let tx = bus.publisher::<u32>("jobs.a").unwrap();
/// for i in 0..5 {
///     tx.send(i).unwrap();
/// }
/// let e = all.try_recv().unwrap_err();
/// assert_eq!(e.error, TryRecvError::Lagged(3));
/// assert_eq!(e.topic.unwrap().as_str(), "jobs.a");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicError<E> {
    /// The topic it happened on; `None` for `Empty` and `Timeout`.
    pub topic: Option<crate::bus::Topic>,
    /// What happened.
    pub error: E,
}

impl<E> TopicError<E> {
    pub(crate) fn on(topic: crate::bus::Topic, error: E) -> Self {
        TopicError {
            topic: Some(topic),
            error,
        }
    }

    pub(crate) fn all(error: E) -> Self {
        TopicError { topic: None, error }
    }

    pub(crate) fn map<F>(self, f: impl FnOnce(E) -> F) -> TopicError<F> {
        TopicError {
            topic: self.topic,
            error: f(self.error),
        }
    }
}

impl<E: fmt::Display> fmt::Display for TopicError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.topic {
            Some(topic) => write!(f, "topic {topic:?}: {}", self.error),
            None => self.error.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for TopicError<E> {}

fn lagged(f: &mut fmt::Formatter<'_>, n: u64) -> fmt::Result {
    write!(
        f,
        "subscriber lagged: skipped {n} unread messages (overwritten, or jumped over)"
    )
}

const CLOSED: &str = "topic closed (its last publisher was dropped, or it was removed from its \
     bus) and every message still readable has been read";
const DETACHED: &str = "subscriber detached: it lagged under LagPolicy::Disconnect, or was \
     evicted for stalling its publisher (OnEvict::Detach)";
const DIED: &str = "the shared-memory publisher died (its process is gone or its heartbeat \
     stopped) without closing the topic";

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no new message"),
            TryRecvError::Lagged(n) => lagged(f, *n),
            TryRecvError::Closed => f.write_str(CLOSED),
            TryRecvError::Detached => f.write_str(DETACHED),
            TryRecvError::PublisherDied => f.write_str(DIED),
        }
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        TryRecvError::from(*self).fmt(f)
    }
}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvTimeoutError::Timeout => f.write_str("timed out waiting for a message"),
            RecvTimeoutError::Lagged(n) => lagged(f, *n),
            RecvTimeoutError::Closed => f.write_str(CLOSED),
            RecvTimeoutError::Detached => f.write_str(DETACHED),
            RecvTimeoutError::PublisherDied => f.write_str(DIED),
        }
    }
}

impl std::error::Error for TryRecvError {}
impl std::error::Error for RecvError {}
impl std::error::Error for RecvTimeoutError {}

/// Why a [`SharedPublisher::send`](crate::SharedPublisher::send) did not publish: the topic
/// was closed (removed from its `Bus`). Holds the value, as `tokio`'s and `std`'s `SendError`
/// do.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SEND_CLOSED)
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Why a `try_send` did not publish; holds the value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// A gated subscriber is a full ring behind (the send would have to wait).
    Full(T),
    /// The topic was closed (removed from its `Bus`).
    Closed(T),
}

/// Why a `send_timeout` did not publish; holds the value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SendTimeoutError<T> {
    /// A gated subscriber stayed a full ring behind for the whole timeout.
    Timeout(T),
    /// The topic was closed (removed from its `Bus`).
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }
}

impl<T> SendTimeoutError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            SendTimeoutError::Timeout(v) | SendTimeoutError::Closed(v) => v,
        }
    }
}

const FULL: &str = "ring full: a gated subscriber is a whole ring behind";
const SEND_CLOSED: &str = "send on a closed topic (removed from its bus)";

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrySendError::Full(_) => "Full(..)",
            TrySendError::Closed(_) => "Closed(..)",
        })
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrySendError::Full(_) => FULL,
            TrySendError::Closed(_) => SEND_CLOSED,
        })
    }
}

impl<T> fmt::Debug for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SendTimeoutError::Timeout(_) => "Timeout(..)",
            SendTimeoutError::Closed(_) => "Closed(..)",
        })
    }
}

impl<T> fmt::Display for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SendTimeoutError::Timeout(_) => {
                "timed out: a gated subscriber stayed a whole ring behind"
            }
            SendTimeoutError::Closed(_) => SEND_CLOSED,
        })
    }
}

impl<T> std::error::Error for TrySendError<T> {}
impl<T> std::error::Error for SendTimeoutError<T> {}

/// Whether a rejected string was meant as a topic name or as a pattern (see [`BusError`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameKind {
    /// A topic name, as given to `Bus::publisher`, `Bus::subscribe` or `Bus::remove`.
    Topic,
    /// A subscription pattern, as given to `Bus::subscribe_pattern` or `Pattern::parse`.
    Pattern,
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::Topic => "topic name",
            NameKind::Pattern => "pattern",
        })
    }
}

/// Why a [`Bus`](crate::Bus) operation, [`validate_topic`](crate::bus::validate_topic) or
/// [`Pattern::parse`](crate::bus::Pattern::parse) failed.
///
/// Names are checked in this order, and the first problem found is reported: empty input,
/// then the first whitespace or control character, then each dot-separated token from the
/// left (empty token, then wildcard misuse).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BusError {
    /// The name or pattern is the empty string.
    Empty {
        /// What the input was meant to be.
        kind: NameKind,
    },
    /// A token is empty: two dots in a row (`a..b`), or a leading or trailing dot.
    EmptyToken {
        /// What the input was meant to be.
        kind: NameKind,
        /// The rejected input.
        input: String,
        /// Index (from 0) of the empty token among the dot-separated tokens.
        index: usize,
    },
    /// The input contains whitespace or a control character.
    InvalidChar {
        /// What the input was meant to be.
        kind: NameKind,
        /// The rejected input.
        input: String,
        /// The offending character.
        ch: char,
        /// Its byte offset in `input`.
        offset: usize,
    },
    /// A topic name (to publish to, subscribe to or remove) contains `*` or `>`; wildcards
    /// are only allowed in patterns (`Bus::subscribe_pattern`).
    WildcardInName {
        /// The rejected name.
        name: String,
    },
    /// A pattern token mixes a wildcard with other characters (`a*`, `*b`, `>x`): `*` and
    /// `>` must each be a whole token.
    PartialWildcard {
        /// The rejected pattern.
        pattern: String,
        /// The offending token.
        token: String,
    },
    /// `>` appears before the last token (`a.>.b`); it matches the rest of a name, so it
    /// must come last.
    TailNotLast {
        /// The rejected pattern.
        pattern: String,
    },
    /// The topic exists with another payload type.
    TypeMismatch {
        /// The topic name.
        topic: String,
        /// The topic's payload type (fixed by whoever created it).
        expected: &'static str,
        /// The type that was asked for.
        found: &'static str,
    },
    /// The topic's ring could not be allocated with the bus's capacity.
    Capacity {
        /// The topic name.
        topic: String,
        /// Why the ring could not be built.
        error: CapacityError,
    },
}

impl fmt::Display for BusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BusError::Empty { kind } => write!(f, "invalid {kind}: it is empty"),
            BusError::EmptyToken { kind, input, index } => write!(
                f,
                "invalid {kind} {input:?}: token {index} is empty \
                 (tokens are separated by single dots, with no leading or trailing dot)"
            ),
            BusError::InvalidChar {
                kind,
                input,
                ch,
                offset,
            } => write!(
                f,
                "invalid {kind} {input:?}: {ch:?} at byte {offset} \
                 (whitespace and control characters are not allowed)"
            ),
            BusError::WildcardInName { name } => write!(
                f,
                "invalid topic name {name:?}: `*` and `>` are wildcards, \
                 allowed only in patterns (Bus::subscribe_pattern)"
            ),
            BusError::PartialWildcard { pattern, token } => write!(
                f,
                "invalid pattern {pattern:?}: token {token:?} mixes a wildcard with other \
                 characters (`*` and `>` must each be a whole token)"
            ),
            BusError::TailNotLast { pattern } => write!(
                f,
                "invalid pattern {pattern:?}: `>` matches the rest of a name, \
                 so it must be the last token"
            ),
            BusError::TypeMismatch {
                topic,
                expected,
                found,
            } => write!(
                f,
                "topic {topic:?} carries {expected}, but {found} was asked for"
            ),
            BusError::Capacity { topic, error } => {
                write!(f, "cannot create topic {topic:?}: {error}")
            }
        }
    }
}

impl std::error::Error for BusError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BusError::Capacity { error, .. } => Some(error),
            _ => None,
        }
    }
}

#[cfg(seqcast_shm)]
#[cfg_attr(docsrs, doc(cfg(all(feature = "shm", target_os = "linux"))))]
pub use shm_errors::{PayloadType, ShmError};

/// Errors of shared-memory topics ([`crate::shm`]).
#[cfg(seqcast_shm)]
mod shm_errors {
    use super::CapacityError;
    use core::fmt;
    use std::path::PathBuf;

    /// Why a shared-memory ring could not be created or opened.
    ///
    /// Every check on a foreign file happens before any of it is used as a ring, so a
    /// truncated, corrupted or foreign file, or one written for another payload type, is one of
    /// these errors, never undefined behaviour.
    #[derive(Debug)]
    #[non_exhaustive]
    pub enum ShmError {
        /// The file could not be created, opened, sized, mapped or renamed.
        Io {
            /// The file.
            path: PathBuf,
            /// What the operating system said.
            error: std::io::Error,
        },
        /// The name is not a valid shared-memory name (empty, `.`/`..`, contains `/` or NUL,
        /// or longer than 255 bytes).
        InvalidName(String),
        /// The requested capacity is 0 or too large.
        Capacity(CapacityError),
        /// The file is shorter than its header says it must be (truncated, or too small for
        /// the capacity it claims).
        TooSmall {
            /// The file's length in bytes.
            len: u64,
            /// The length it needs.
            need: u64,
        },
        /// The file does not start with the seqcast ring magic number: not a seqcast ring (or
        /// not completely created).
        BadMagic {
            /// The first 8 bytes of the file, as a native-endian `u64`.
            found: u64,
        },
        /// The ring was written with another layout version of seqcast.
        Version {
            /// The file's version.
            found: u64,
            /// This build's version.
            expected: u64,
        },
        /// A layout field (slot size or alignment, payload size or alignment, slot offset)
        /// differs from what this process computes for its payload type.
        Layout {
            /// The header field.
            field: &'static str,
            /// The file's value.
            found: u64,
            /// This process's value.
            expected: u64,
        },
        /// The ring carries another payload type: its type name, size or alignment (or the
        /// fingerprint of all three) differs from the one this process asked for.
        TypeMismatch {
            /// The payload type the file's header describes.
            found: PayloadType,
            /// The payload type this process asked for.
            expected: PayloadType,
        },
        /// A header field holds a value no seqcast publisher writes (or line 0, written once,
        /// changed while the ring was being opened).
        Corrupt(&'static str),
        /// The path names something other than a regular file (a FIFO, a device, a
        /// directory...): refused before it is read, so that opening cannot block.
        NotRegularFile {
            /// The path.
            path: PathBuf,
            /// What it is instead.
            kind: &'static str,
        },
        /// The file is owned by another user than this process's effective user (and not by
        /// root): whoever owns a ring can feed its subscribers anything, so a ring created by
        /// someone else under an expected name is refused (see
        /// [`ShmSubscriber::open_at_owned_by`](crate::shm::ShmSubscriber::open_at_owned_by)).
        Owner {
            /// The file.
            path: PathBuf,
            /// The file's owner (uid).
            owner: u32,
            /// The owner this process accepts (its effective uid).
            expected: u32,
        },
        /// The file system cannot hold a ring file of this size: refused when the ring is
        /// created, rather than by a `SIGBUS` on the first write past the free space.
        NoSpace {
            /// The ring file.
            path: PathBuf,
            /// The file's size in bytes.
            need: u64,
            /// The bytes free for this process on the file system when it was checked.
            available: u64,
        },
        /// A publisher (process `pid`) still holds this ring: a second publisher would break the
        /// single-writer protocol.
        InUse {
            /// The file.
            path: PathBuf,
            /// The live publisher's process id, as its header says (0 if unreadable).
            pid: u32,
        },
        /// The ring was created for a single publisher
        /// ([`ShmPublisher`](crate::shm::ShmPublisher)): another publisher cannot join it.
        /// Rings that take several publishers are created with
        /// [`ShmSharedPublisher::create`](crate::shm::ShmSharedPublisher::create).
        SinglePublisher {
            /// The file.
            path: PathBuf,
        },
        /// Every publisher place of the ring is held by a live publisher.
        TooManyPublishers {
            /// The file.
            path: PathBuf,
            /// How many publishers the ring takes at once.
            max: u32,
        },
        /// The ring's last publisher closed it: nobody publishes on this file any more.
        Closed {
            /// The file.
            path: PathBuf,
        },
    }

    impl fmt::Display for ShmError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                ShmError::Io { path, error } => write!(f, "shared-memory ring {path:?}: {error}"),
                ShmError::InvalidName(name) => write!(
                    f,
                    "invalid shared-memory name {name:?}: it must be 1 to 255 bytes, \
                     not `.` or `..`, without `/` or NUL"
                ),
                ShmError::Capacity(e) => write!(f, "shared-memory ring: {e}"),
                ShmError::TooSmall { len, need } => write!(
                    f,
                    "shared-memory ring file is {len} bytes, but its header needs {need} \
                     (truncated or corrupted)"
                ),
                ShmError::BadMagic { found } => {
                    write!(f, "not a seqcast shared-memory ring (magic {found:#018x})")
                }
                ShmError::Version { found, expected } => write!(
                    f,
                    "shared-memory ring has layout version {found}, this build reads {expected}"
                ),
                ShmError::Layout {
                    field,
                    found,
                    expected,
                } => write!(
                    f,
                    "shared-memory ring layout mismatch: {field} is {found} in the file, \
                     {expected} for the payload type asked for"
                ),
                ShmError::TypeMismatch { found, expected } => write!(
                    f,
                    "shared-memory ring carries payload type {found}, not {expected} as asked"
                ),
                ShmError::Corrupt(what) => write!(f, "corrupted shared-memory ring header: {what}"),
                ShmError::NotRegularFile { path, kind } => write!(
                    f,
                    "shared-memory ring {path:?} is a {kind}, not a regular file"
                ),
                ShmError::Owner {
                    path,
                    owner,
                    expected,
                } => write!(
                    f,
                    "shared-memory ring {path:?} is owned by uid {owner}, not by uid {expected} \
                     (or root): refused, its owner could feed subscribers anything"
                ),
                ShmError::NoSpace {
                    path,
                    need,
                    available,
                } => write!(
                    f,
                    "shared-memory ring {path:?} needs {need} bytes, but its file system has \
                     only {available} bytes of free space"
                ),
                ShmError::InUse { path, pid } => write!(
                    f,
                    "shared-memory ring {path:?} is held by a live publisher (pid {pid})"
                ),
                ShmError::SinglePublisher { path } => write!(
                    f,
                    "shared-memory ring {path:?} was created for a single publisher: \
                     another cannot join it"
                ),
                ShmError::TooManyPublishers { path, max } => write!(
                    f,
                    "shared-memory ring {path:?} already has {max} live publishers, its most"
                ),
                ShmError::Closed { path } => write!(
                    f,
                    "shared-memory ring {path:?} was closed by its last publisher"
                ),
            }
        }
    }

    impl std::error::Error for ShmError {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            match self {
                ShmError::Io { error, .. } => Some(error),
                ShmError::Capacity(e) => Some(e),
                _ => None,
            }
        }
    }

    /// A payload type as a ring header describes it ([`ShmError::TypeMismatch`]).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct PayloadType {
        /// The type name given to the publisher or subscriber. The header keeps its first
        /// 40 bytes; a name of 40 bytes or more read from a file ends in `…`.
        pub name: String,
        /// `size_of` the payload type.
        pub size: u64,
        /// `align_of` the payload type.
        pub align: u64,
    }

    impl fmt::Display for PayloadType {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(
                f,
                "{:?} ({} bytes, align {})",
                self.name, self.size, self.align
            )
        }
    }
}

/// Why a record topic ([`record`](crate::record)) could not take or hand over a message.
/// Nothing is ever half sent: a record that is refused was not published at all.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordError {
    /// The record (or the encoded value) is longer than the topic's limit
    /// ([`RecordPublisher::max_len`](crate::record::RecordPublisher::max_len)); nothing was
    /// sent.
    TooLarge {
        /// The record's length in bytes.
        len: usize,
        /// The topic's limit in bytes.
        max: usize,
    },
    /// `try_send` only: a gated subscriber is too far behind to leave room for the whole
    /// record; nothing was sent.
    Full,
    /// The topic was removed from its [`Bus`](crate::Bus); nothing was sent.
    Closed,
    /// The value could not be encoded (the codec's message); nothing was sent.
    Encode(String),
    /// Message `seq` arrived whole but could not be decoded as the subscriber's type (the
    /// codec's message). It counts as received; the next receive goes on with the next
    /// message.
    Decode {
        /// The message's sequence number.
        seq: u64,
        /// What the codec said.
        message: String,
    },
    /// Receiving failed as it does for every subscriber: `Empty`, `Lagged(n)`, `Closed`,
    /// `Detached`.
    Recv(TryRecvError),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::TooLarge { len, max } => write!(
                f,
                "record of {len} bytes is over the topic's limit of {max} bytes; nothing was sent"
            ),
            RecordError::Full => f.write_str(
                "a gated subscriber leaves no room for the whole record; nothing was sent",
            ),
            RecordError::Closed => {
                f.write_str("the topic was removed from its bus; nothing was sent")
            }
            RecordError::Encode(m) => write!(f, "could not encode the value: {m}"),
            RecordError::Decode { seq, message } => {
                write!(f, "could not decode message {seq}: {message}")
            }
            RecordError::Recv(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RecordError {}

impl From<TryRecvError> for RecordError {
    fn from(e: TryRecvError) -> RecordError {
        RecordError::Recv(e)
    }
}

impl From<RecvError> for RecordError {
    fn from(e: RecvError) -> RecordError {
        RecordError::Recv(e.into())
    }
}

/// Why a delivery-confirmed send ([`Publisher::send_confirmed`](crate::Publisher::send_confirmed))
/// did not confirm.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfirmError<T> {
    /// The message was published (sequence number `seq`), but these subscribers had not
    /// read it when the timeout passed (slowest first).
    Timeout {
        /// The message's sequence number.
        seq: u64,
        /// The subscribers that had not read it.
        pending: Vec<crate::SubscriberPosition>,
    },
    /// The topic was closed (removed from its `Bus`); nothing was sent.
    Closed(T),
}

impl<T> fmt::Display for ConfirmError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfirmError::Timeout { seq, pending } => {
                write!(
                    f,
                    "message {seq} not confirmed in time by {} subscriber(s):",
                    pending.len()
                )?;
                for p in pending {
                    match &p.name {
                        Some(name) => write!(f, " {name} at {}", p.position)?,
                        None => write!(f, " (unnamed) at {}", p.position)?,
                    }
                }
                Ok(())
            }
            ConfirmError::Closed(_) => f.write_str(CLOSED),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for ConfirmError<T> {}

/// Why a [`Select::ready_timeout`](crate::Select::ready_timeout) returned no index: no
/// subscriber had anything to answer before the timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReadyTimeoutError;

impl fmt::Display for ReadyTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timed out waiting for a selected subscriber")
    }
}

impl std::error::Error for ReadyTimeoutError {}
