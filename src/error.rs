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
    /// The publisher overwrote this many messages before they were read. They are lost to this
    /// subscriber; what happens next depends on its [`LagPolicy`](crate::LagPolicy).
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
    /// The publisher overwrote this many unread messages (see [`TryRecvError::Lagged`]).
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
    /// The publisher overwrote this many unread messages (see [`TryRecvError::Lagged`]).
    Lagged(u64),
    /// Every publisher is gone and everything readable has been read.
    Closed,
    /// Detached after a lag report (`LagPolicy::Disconnect`).
    Detached,
}

fn lagged(f: &mut fmt::Formatter<'_>, n: u64) -> fmt::Result {
    write!(
        f,
        "subscriber lagged: {n} messages were overwritten before they were read"
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
    /// The publisher of `topic` overwrote `missed` messages this subscriber had not read
    /// (see [`TryRecvError::Lagged`]). Other topics are unaffected.
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
        "subscriber lagged on topic {topic:?}: {n} messages were overwritten before they were read"
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
