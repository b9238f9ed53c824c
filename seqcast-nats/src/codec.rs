//! Payload encoding: how a `T` becomes the body of a NATS message and back.
//!
//! The bridge never guesses an encoding: each [`Bridge::forward`](crate::Bridge::forward)
//! and [`Bridge::deliver`](crate::Bridge::deliver) is given a [`Codec`], and both ends of a
//! subject must use the same one. The codec's [`id`](Codec::id) travels with every
//! forwarded message ([`wire`](crate::wire)); a delivering bridge whose codec has another id
//! refuses the message and counts it as a decode error instead of
//! reinterpreting bytes meant for another type.
//!
//! Two codecs come with the crate:
//!
//! * [`RawCodec<T>`]: the bytes of a plain-data value, as they are in memory. No
//!   serialisation cost, no schema, fixed size. `T: bytemuck::Pod` (see below).
//! * [`JsonCodec<T>`] (feature `serde-json`, on by default): any `T: Serialize +
//!   DeserializeOwned`, as JSON. Portable across architectures and languages, and readable
//!   with `nats sub`; costs a serialisation per message.
//!
//! # Why `RawCodec` asks for `bytemuck::Pod`
//! A raw codec copies `size_of::<T>()` bytes out of a value and, at the other end, turns
//! bytes that arrived from the network into a `T`. Both directions are only sound for
//! *plain data*, which is exactly what [`bytemuck::Pod`] promises (and what its derive
//! checks at compile time):
//!
//! * **every bit pattern is a valid `T`**: decoding bytes from another process (or a
//!   corrupted or hostile message) can never produce an invalid `bool`, `char`, enum
//!   discriminant or reference, which would be undefined behaviour;
//! * **no padding**: encoding reads every byte of the value, and padding bytes are
//!   uninitialised (reading them is undefined behaviour, and would leak memory contents);
//! * **no pointers or references**: an address means nothing in another process.
//!
//! A home-made `unsafe trait PlainData` would state the same contract without checking
//! it; `bytemuck` is the crate the ecosystem already uses for it, with a derive that does
//! the checking, so `RawCodec` uses it and needs no `unsafe` of its own.
//!
//! What `Pod` cannot promise is that both ends agree on the *layout*: the bytes are
//! native-endian and `#[repr(C)]`-laid-out. [`RawCodec::id`] therefore contains the size
//! and the byte order, plus a tag you choose ([`RawCodec::with_tag`], e.g. `"reading-v2"`),
//! so that a message of another size, byte order or schema version is refused rather
//! than misread. A message of the right size and tag but a different field order cannot be
//! detected: version your tags.

use core::fmt;
use core::marker::PhantomData;

/// Turns a `T` into the body of a NATS message and back. See the [module docs](self).
///
/// Implementations must be deterministic inverses: `decode(encode(v)) == v`.
pub trait Codec<T>: Send + Sync + 'static {
    /// Names the encoding and, as far as it can, the type and its version. Sent with every
    /// message ([`wire`](crate::wire)); a receiver refuses messages that name another id than
    /// its own codec's.
    fn id(&self) -> &str;

    /// Appends the encoding of `value` to `out` (which the caller clears first).
    fn encode(&self, value: &T, out: &mut Vec<u8>) -> Result<(), CodecError>;

    /// Decodes one message body.
    fn decode(&self, bytes: &[u8]) -> Result<T, CodecError>;

    /// Whether every output of [`encode`](Self::encode) is one JSON value, as the JSON wire
    /// format ([`WireFormat::Json`](crate::wire::WireFormat::Json)) needs. Default: `false`.
    fn is_json(&self) -> bool {
        false
    }
}

/// A value could not be encoded or a message body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecError {
    message: String,
}

impl CodecError {
    /// An error with this description.
    pub fn new(message: impl Into<String>) -> CodecError {
        CodecError {
            message: message.into(),
        }
    }

    /// The description.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CodecError {}

/// The in-memory bytes of a plain-data `T` (`bytemuck::Pod`): zero-cost, fixed-size,
/// same-architecture. See the [module docs](self#why-rawcodec-asks-for-bytemuckpod).
///
/// ```
/// use seqcast_nats::{Codec, RawCodec};
///
/// #[repr(C)]
/// #[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
/// struct Tick { price: f64, qty: u32, venue: u32 }
///
/// let codec = RawCodec::<Tick>::with_tag("tick-v1");
/// let mut body = Vec::new();
/// codec.encode(&Tick { price: 1.5, qty: 3, venue: 7 }, &mut body).unwrap();
/// assert_eq!(body.len(), 16);
/// assert_eq!(codec.decode(&body).unwrap(), Tick { price: 1.5, qty: 3, venue: 7 });
/// assert!(codec.decode(&body[..15]).is_err()); // wrong size: refused, never misread
/// assert_eq!(codec.id(), format!("raw;size=16;{};tag=tick-v1", if cfg!(target_endian = "little") { "le" } else { "be" }));
/// ```
pub struct RawCodec<T> {
    id: String,
    _type: PhantomData<fn() -> T>,
}

impl<T: bytemuck::Pod> RawCodec<T> {
    /// A raw codec whose id names only the size and byte order of `T`.
    pub fn new() -> RawCodec<T> {
        RawCodec::make(None)
    }

    /// A raw codec whose id also carries `tag`: give each payload type (and each change of
    /// its layout) its own tag, so that a receiver expecting another type refuses it.
    pub fn with_tag(tag: &str) -> RawCodec<T> {
        RawCodec::make(Some(tag))
    }

    fn make(tag: Option<&str>) -> RawCodec<T> {
        let endian = if cfg!(target_endian = "little") {
            "le"
        } else {
            "be"
        };
        let mut id = format!("raw;size={};{endian}", core::mem::size_of::<T>());
        if let Some(tag) = tag {
            id.push_str(";tag=");
            id.push_str(tag);
        }
        RawCodec {
            id,
            _type: PhantomData,
        }
    }
}

impl<T: bytemuck::Pod> Default for RawCodec<T> {
    fn default() -> Self {
        RawCodec::new()
    }
}

impl<T> fmt::Debug for RawCodec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawCodec").field("id", &self.id).finish()
    }
}

impl<T: bytemuck::Pod> Codec<T> for RawCodec<T> {
    fn id(&self) -> &str {
        &self.id
    }

    fn encode(&self, value: &T, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(bytemuck::bytes_of(value));
        Ok(())
    }

    fn decode(&self, bytes: &[u8]) -> Result<T, CodecError> {
        // Copies into an aligned `T`: the body of a NATS message has no alignment guarantee.
        bytemuck::try_pod_read_unaligned(bytes).map_err(|_| {
            CodecError::new(format!(
                "raw payload of {} bytes, expected {}",
                bytes.len(),
                core::mem::size_of::<T>()
            ))
        })
    }
}

/// JSON via `serde_json`, for any `T: Serialize + DeserializeOwned` (feature `serde-json`).
///
/// ```
/// use seqcast_nats::{Codec, JsonCodec};
///
/// #[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
/// struct Tick { price: f64, qty: u32 }
///
/// let codec = JsonCodec::<Tick>::new();
/// let mut body = Vec::new();
/// codec.encode(&Tick { price: 1.5, qty: 3 }, &mut body).unwrap();
/// assert_eq!(body, br#"{"price":1.5,"qty":3}"#);
/// assert_eq!(codec.decode(&body).unwrap(), Tick { price: 1.5, qty: 3 });
/// assert!(codec.decode(b"{}").is_err());
/// ```
#[cfg(feature = "serde-json")]
pub struct JsonCodec<T> {
    id: String,
    _type: PhantomData<fn() -> T>,
}

#[cfg(feature = "serde-json")]
impl<T> JsonCodec<T> {
    /// A JSON codec with id `json`.
    pub fn new() -> JsonCodec<T> {
        JsonCodec {
            id: "json".to_owned(),
            _type: PhantomData,
        }
    }

    /// A JSON codec with id `json;tag=<tag>`, to tell payload types apart.
    pub fn with_tag(tag: &str) -> JsonCodec<T> {
        JsonCodec {
            id: format!("json;tag={tag}"),
            _type: PhantomData,
        }
    }
}

#[cfg(feature = "serde-json")]
impl<T> Default for JsonCodec<T> {
    fn default() -> Self {
        JsonCodec::new()
    }
}

#[cfg(feature = "serde-json")]
impl<T> fmt::Debug for JsonCodec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonCodec").field("id", &self.id).finish()
    }
}

#[cfg(feature = "serde-json")]
impl<T> Codec<T> for JsonCodec<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned + 'static,
{
    fn id(&self) -> &str {
        &self.id
    }

    fn encode(&self, value: &T, out: &mut Vec<u8>) -> Result<(), CodecError> {
        serde_json::to_writer(out, value).map_err(|e| CodecError::new(e.to_string()))
    }

    fn decode(&self, bytes: &[u8]) -> Result<T, CodecError> {
        serde_json::from_slice(bytes).map_err(|e| CodecError::new(e.to_string()))
    }

    fn is_json(&self) -> bool {
        true
    }
}
