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

/// Why [`Subscriber::try_recv`](crate::Subscriber::try_recv) returned no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// No new message yet.
    Empty,
    /// The publisher lapped this subscriber, which skipped this many unread messages: the
    /// overwritten ones and, under [`LagPolicy::SkipToNewest`](crate::LagPolicy::SkipToNewest),
    /// the backlog it jumped over. They are lost to this subscriber; what happens next depends
    /// on its [`LagPolicy`](crate::LagPolicy).
    Lagged(u64),
    /// Every publisher is gone and every message still readable has been read.
    Closed,
    /// This subscriber was detached after a lag report (`LagPolicy::Disconnect`). The topic
    /// itself may still be open.
    Detached,
}

/// Why [`Subscriber::recv`](crate::Subscriber::recv) returned no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// The subscriber skipped this many unread messages (see [`TryRecvError::Lagged`]).
    Lagged(u64),
    /// Every publisher is gone and everything readable has been read.
    Closed,
    /// Detached after a lag report (`LagPolicy::Disconnect`).
    Detached,
}

/// Why [`Subscriber::recv_timeout`](crate::Subscriber::recv_timeout) returned no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvTimeoutError {
    /// Nothing arrived in time.
    Timeout,
    /// The subscriber skipped this many unread messages (see [`TryRecvError::Lagged`]).
    Lagged(u64),
    /// Every publisher is gone and everything readable has been read.
    Closed,
    /// Detached after a lag report (`LagPolicy::Disconnect`).
    Detached,
}

fn lagged(f: &mut fmt::Formatter<'_>, n: u64) -> fmt::Result {
    write!(
        f,
        "subscriber lagged: skipped {n} unread messages (overwritten, or jumped over)"
    )
}

const CLOSED: &str = "topic closed: every publisher is gone and all messages have been read";
const DETACHED: &str = "subscriber detached after lagging (LagPolicy::Disconnect)";

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no new message"),
            TryRecvError::Lagged(n) => lagged(f, *n),
            TryRecvError::Closed => f.write_str(CLOSED),
            TryRecvError::Detached => f.write_str(DETACHED),
        }
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Lagged(n) => lagged(f, *n),
            RecvError::Closed => f.write_str(CLOSED),
            RecvError::Detached => f.write_str(DETACHED),
        }
    }
}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvTimeoutError::Timeout => f.write_str("timed out waiting for a message"),
            RecvTimeoutError::Lagged(n) => lagged(f, *n),
            RecvTimeoutError::Closed => f.write_str(CLOSED),
            RecvTimeoutError::Detached => f.write_str(DETACHED),
        }
    }
}

impl std::error::Error for TryRecvError {}
impl std::error::Error for RecvError {}
impl std::error::Error for RecvTimeoutError {}

/// Why a send on a [`SharedPublisher`](crate::SharedPublisher) did not publish: the topic was
/// closed (removed from its `Bus`). Holds the value.
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

/// Why [`PatternSubscriber::try_recv`](crate::bus::PatternSubscriber::try_recv) returned no
/// message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternTryRecvError {
    /// No matching topic has a new message.
    Empty,
    /// The publisher of `topic` lapped this subscriber, which skipped `missed` unread
    /// messages (see [`TryRecvError::Lagged`]), or the bus removed and forgot `topic` before this
    /// subscriber found it (then `missed` is every message it had; see
    /// [`PatternSubscriber`](crate::bus::PatternSubscriber)). Other topics are unaffected.
    Lagged {
        /// The topic that lapped this subscriber.
        topic: crate::bus::Topic,
        /// How many of its messages were lost.
        missed: u64,
    },
    /// `topic` was removed from the bus and everything it still held has been read. Reported
    /// once; the subscription goes on with the other topics (and with a topic of the same
    /// name, should one be created again).
    Closed {
        /// The removed topic.
        topic: crate::bus::Topic,
    },
}

/// Why [`PatternSubscriber::recv`](crate::bus::PatternSubscriber::recv) returned no message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternRecvError {
    /// `topic` lapped this subscriber (see [`PatternTryRecvError::Lagged`]).
    Lagged {
        /// The topic that lapped this subscriber.
        topic: crate::bus::Topic,
        /// How many of its messages were lost.
        missed: u64,
    },
    /// `topic` was removed and drained (see [`PatternTryRecvError::Closed`]).
    Closed {
        /// The removed topic.
        topic: crate::bus::Topic,
    },
}

/// Why [`PatternSubscriber::recv_timeout`](crate::bus::PatternSubscriber::recv_timeout)
/// returned no message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternRecvTimeoutError {
    /// Nothing arrived in time.
    Timeout,
    /// `topic` lapped this subscriber (see [`PatternTryRecvError::Lagged`]).
    Lagged {
        /// The topic that lapped this subscriber.
        topic: crate::bus::Topic,
        /// How many of its messages were lost.
        missed: u64,
    },
    /// `topic` was removed and drained (see [`PatternTryRecvError::Closed`]).
    Closed {
        /// The removed topic.
        topic: crate::bus::Topic,
    },
}

fn topic_lagged(f: &mut fmt::Formatter<'_>, topic: &crate::bus::Topic, n: u64) -> fmt::Result {
    write!(
        f,
        "subscriber lagged on topic {topic:?}: skipped {n} unread messages (overwritten, or \
         jumped over)"
    )
}

fn topic_closed(f: &mut fmt::Formatter<'_>, topic: &crate::bus::Topic) -> fmt::Result {
    write!(
        f,
        "topic {topic:?} was removed from its bus and all its messages have been read"
    )
}

impl fmt::Display for PatternTryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternTryRecvError::Empty => f.write_str("no new message on any matching topic"),
            PatternTryRecvError::Lagged { topic, missed } => topic_lagged(f, topic, *missed),
            PatternTryRecvError::Closed { topic } => topic_closed(f, topic),
        }
    }
}

impl fmt::Display for PatternRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternRecvError::Lagged { topic, missed } => topic_lagged(f, topic, *missed),
            PatternRecvError::Closed { topic } => topic_closed(f, topic),
        }
    }
}

impl fmt::Display for PatternRecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternRecvTimeoutError::Timeout => f.write_str("timed out waiting for a message"),
            PatternRecvTimeoutError::Lagged { topic, missed } => topic_lagged(f, topic, *missed),
            PatternRecvTimeoutError::Closed { topic } => topic_closed(f, topic),
        }
    }
}

impl std::error::Error for PatternTryRecvError {}
impl std::error::Error for PatternRecvError {}
impl std::error::Error for PatternRecvTimeoutError {}

#[cfg(all(feature = "shm", not(seqcast_loom)))]
pub use shm_errors::{ShmError, ShmRecvError, ShmRecvTimeoutError, ShmTryRecvError};

/// Errors of shared-memory topics ([`crate::shm`]).
#[cfg(all(feature = "shm", not(seqcast_loom)))]
mod shm_errors {
    use super::{lagged, CapacityError, CLOSED};
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
        /// The type fingerprint (payload type name, size and alignment) differs: the ring
        /// carries another type.
        Fingerprint {
            /// The file's fingerprint.
            found: u64,
            /// The fingerprint of the type this process asked for.
            expected: u64,
        },
        /// A header field holds a value no seqcast publisher writes.
        Corrupt(&'static str),
        /// A publisher (process `pid`) still holds this ring: a second publisher would break the
        /// single-writer protocol.
        InUse {
            /// The file.
            path: PathBuf,
            /// The live publisher's process id, as its header says (0 if unreadable).
            pid: u32,
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
                ShmError::Fingerprint { found, expected } => write!(
                    f,
                    "shared-memory ring carries another payload type \
                     (fingerprint {found:#018x}, expected {expected:#018x})"
                ),
                ShmError::Corrupt(what) => write!(f, "corrupted shared-memory ring header: {what}"),
                ShmError::InUse { path, pid } => write!(
                    f,
                    "shared-memory ring {path:?} is held by a live publisher (pid {pid})"
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

    const DIED: &str = "the shared-memory publisher died (its process is gone or its \
                        heartbeat stopped) without closing the topic";

    /// Why [`ShmSubscriber::try_recv`](crate::shm::ShmSubscriber::try_recv) returned no
    /// message: [`TryRecvError`](super::TryRecvError)'s cases, and `PublisherDied`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ShmTryRecvError {
        /// No new message yet.
        Empty,
        /// The publisher overwrote this many unread messages (as
        /// [`TryRecvError::Lagged`](super::TryRecvError::Lagged)).
        Lagged(u64),
        /// The publisher closed the topic (dropped its handle) and everything has been read.
        Closed,
        /// The publisher's process died (or stopped its heartbeat) without closing the topic,
        /// and everything it completed has been read. Distinct from `Closed`: the stream
        /// ended abnormally, possibly in the middle of a message that is never delivered.
        PublisherDied,
    }

    /// Why [`ShmSubscriber::recv`](crate::shm::ShmSubscriber::recv) returned no message.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ShmRecvError {
        /// The publisher overwrote this many unread messages.
        Lagged(u64),
        /// The publisher closed the topic and everything has been read.
        Closed,
        /// The publisher died without closing the topic (see [`ShmTryRecvError`]).
        PublisherDied,
    }

    /// Why [`ShmSubscriber::recv_timeout`](crate::shm::ShmSubscriber::recv_timeout) returned
    /// no message.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ShmRecvTimeoutError {
        /// Nothing arrived in time.
        Timeout,
        /// The publisher overwrote this many unread messages.
        Lagged(u64),
        /// The publisher closed the topic and everything has been read.
        Closed,
        /// The publisher died without closing the topic (see [`ShmTryRecvError`]).
        PublisherDied,
    }

    impl fmt::Display for ShmTryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                ShmTryRecvError::Empty => f.write_str("no new message"),
                ShmTryRecvError::Lagged(n) => lagged(f, *n),
                ShmTryRecvError::Closed => f.write_str(CLOSED),
                ShmTryRecvError::PublisherDied => f.write_str(DIED),
            }
        }
    }

    impl fmt::Display for ShmRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                ShmRecvError::Lagged(n) => lagged(f, *n),
                ShmRecvError::Closed => f.write_str(CLOSED),
                ShmRecvError::PublisherDied => f.write_str(DIED),
            }
        }
    }

    impl fmt::Display for ShmRecvTimeoutError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                ShmRecvTimeoutError::Timeout => f.write_str("timed out waiting for a message"),
                ShmRecvTimeoutError::Lagged(n) => lagged(f, *n),
                ShmRecvTimeoutError::Closed => f.write_str(CLOSED),
                ShmRecvTimeoutError::PublisherDied => f.write_str(DIED),
            }
        }
    }

    impl std::error::Error for ShmTryRecvError {}
    impl std::error::Error for ShmRecvError {}
    impl std::error::Error for ShmRecvTimeoutError {}
}
