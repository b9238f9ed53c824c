//! [`Error`]: why a bridge, forwarding or delivery could not be set up.

use core::fmt;

/// Why [`Bridge::connect`](crate::Bridge::connect), [`forward`](crate::Bridge::forward) or
/// [`deliver`](crate::Bridge::deliver) failed. (Failures while running are counted in the
/// [stats](crate::BridgeStats), not returned.)
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// No NATS server could be reached.
    Connect(async_nats::ConnectError),
    /// The server refused the subscription (or the subject is invalid).
    Subscribe(async_nats::SubscribeError),
    /// The flush confirming a subscription failed (connection lost meanwhile).
    Flush(async_nats::client::FlushError),
    /// The bus refused the name or pattern.
    Bus(seqcast::error::BusError),
    /// A prefix is not a valid name, or a subject is outside the mapping's prefix.
    Mapping(String),
    /// [`Bridge::connect`](crate::Bridge::connect) was not called on a tokio runtime.
    NoRuntime,
    /// The codec cannot be used with the bridge's wire format (e.g. the JSON format with a
    /// codec whose output is not JSON).
    Codec(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Connect(e) => write!(f, "cannot connect to NATS: {e}"),
            Error::Subscribe(e) => write!(f, "cannot subscribe: {e}"),
            Error::Flush(e) => write!(f, "cannot confirm the subscription: {e}"),
            Error::Bus(e) => write!(f, "{e}"),
            Error::Mapping(e) => write!(f, "bad mapping: {e}"),
            Error::NoRuntime => f.write_str("Bridge::connect must be called on a tokio runtime"),
            Error::Codec(e) => write!(f, "bad codec: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Connect(e) => Some(e),
            Error::Subscribe(e) => Some(e),
            Error::Flush(e) => Some(e),
            Error::Bus(e) => Some(e),
            Error::Mapping(_) | Error::Codec(_) | Error::NoRuntime => None,
        }
    }
}
