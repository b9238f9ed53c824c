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

/// A send refused because the topic was closed (removed from its `Bus`); holds the value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("send on a closed topic (removed from its bus)")
    }
}

impl<T> std::error::Error for SendError<T> {}
