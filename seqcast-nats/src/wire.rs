//! The wire format: what a forwarded message's body holds besides the codec's output.
//!
//! Every message a [`Forwarding`](crate::Forwarding) publishes names its *stream* (the
//! forwarding that sent it), its number in that stream, and the codec that encoded it, so
//! that a receiver can count what it missed, drop its own echoes and refuse a payload of
//! another type. These travel in the body itself, ahead of the codec's output, not in NATS
//! headers: a header map per message, built and formatted on one side and parsed on the
//! other, costs more than everything else the bridge does per message. Two formats carry
//! the same fields; a bridge sends one ([`BridgeBuilder::wire_format`]) and its deliveries
//! read both.
//!
//! # Binary (the default, [`WireFormat::Binary`])
//! A fixed prefix of [`PREFIX_LEN`] = 32 bytes, then the codec's output. All integers are
//! little-endian, whatever the machine's byte order.
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 3 | magic: the bytes `SQC` (`0x53 0x51 0x43`) |
//! | 3 | 1 | version: [`VERSION`] (1) |
//! | 4 | 8 | origin bridge: the sending [`Bridge`]'s id ([`Bridge::origin_id`]) |
//! | 12 | 4 | origin forwarding: the forwarding's number in its bridge, from 0 |
//! | 16 | 8 | sequence: the message's number in its stream, from 0, lapped messages included |
//! | 24 | 8 | codec: [`codec_fingerprint`] of the codec's [`id`](crate::Codec::id) |
//! | 32 | … | the codec's output |
//!
//! A stream is one origin (bridge and forwarding) and one subject. A receiver reads the
//! version byte first: a later version may change everything after it, and a receiver that
//! does not know the version counts the message as a decode error rather than misread it.
//! The codec travels as a 64-bit hash of its id rather than the id itself, to keep the
//! prefix fixed-size; two different ids colliding is as unlikely as a random 64-bit match.
//!
//! # JSON ([`WireFormat::Json`])
//! For subscribers in other languages, with a JSON codec ([`JsonCodec`]): the whole body is
//! one JSON object, fields in this order and without whitespace:
//!
//! ```text
//! {"seqcast":1,"origin":"3f9c0a1b2c3d4e5f-0","seq":1041,"codec":"json;tag=tick-v1","data":{"price":1.5,"qty":3}}
//! ```
//!
//! * `seqcast`: the version ([`VERSION`]);
//! * `origin`: the bridge's id as 16 lowercase hex digits ([`Bridge::origin`]), `-`, the
//!   forwarding's number;
//! * `seq`: the message's number in its stream;
//! * `codec`: the codec's id, as a JSON string;
//! * `data`: the codec's output, verbatim (so the codec must produce JSON:
//!   [`Codec::is_json`](crate::Codec::is_json)).
//!
//! Any JSON parser reads it. A delivering bridge reads it without a JSON parser, and so
//! only in exactly this layout: a publisher in another language that wants its messages
//! accounted as a stream must write the fields in this order, without whitespace.
//!
//! # Messages without either
//! A body that starts neither with the binary magic nor with `{"seqcast":` is from another
//! NATS client: its whole body goes to the codec, and it belongs to no stream (its loss
//! cannot be seen). A body that starts like one of the two formats but is cut short or
//! malformed is a decode error.
//!
//! [`Bridge`]: crate::Bridge
//! [`Bridge::origin`]: crate::Bridge::origin
//! [`Bridge::origin_id`]: crate::Bridge::origin_id
//! [`BridgeBuilder::wire_format`]: crate::BridgeBuilder::wire_format
//! [`JsonCodec`]: crate::codec
//! [`Codec::is_json`]: crate::Codec::is_json

/// The first three bytes of a binary prefix.
pub const MAGIC: [u8; 3] = *b"SQC";

/// The version of both formats that this crate writes and reads.
pub const VERSION: u8 = 1;

/// The length of a binary prefix.
pub const PREFIX_LEN: usize = 32;

/// How a JSON-format body starts (before the version digits).
const JSON_START: &[u8] = b"{\"seqcast\":";

/// Which format a bridge's forwardings send (its deliveries read both). See the
/// [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum WireFormat {
    /// A fixed 32-byte binary prefix, then the codec's output.
    #[default]
    Binary,
    /// One JSON object per message, the codec's (JSON) output as its `data`.
    Json,
}

/// What identifies a message of a stream: the fields of the [binary prefix](self#binary-the-default-wireformatbinary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    /// The sending bridge's id ([`Bridge::origin_id`](crate::Bridge::origin_id)).
    pub bridge: u64,
    /// The forwarding's number in its bridge.
    pub forwarding: u32,
    /// The message's number in its stream.
    pub seq: u64,
    /// [`codec_fingerprint`] of the codec's id.
    pub codec: u64,
}

impl Prefix {
    /// The 32 bytes of this prefix.
    ///
    /// ```
    /// use seqcast_nats::wire::{codec_fingerprint, Prefix, PREFIX_LEN};
    ///
    /// let p = Prefix { bridge: 7, forwarding: 1, seq: 1041, codec: codec_fingerprint("json") };
    /// let bytes = p.to_bytes();
    /// assert_eq!(&bytes[..4], b"SQC\x01");
    /// assert_eq!(Prefix::parse(&bytes), Some(p));
    /// assert_eq!(Prefix::parse(&bytes[..PREFIX_LEN - 1]), None);
    /// ```
    pub fn to_bytes(&self) -> [u8; PREFIX_LEN] {
        let mut out = [0u8; PREFIX_LEN];
        out[..3].copy_from_slice(&MAGIC);
        out[3] = VERSION;
        out[4..12].copy_from_slice(&self.bridge.to_le_bytes());
        out[12..16].copy_from_slice(&self.forwarding.to_le_bytes());
        out[16..24].copy_from_slice(&self.seq.to_le_bytes());
        out[24..32].copy_from_slice(&self.codec.to_le_bytes());
        out
    }

    /// The prefix at the start of `body`, if it is a complete one of this version.
    pub fn parse(body: &[u8]) -> Option<Prefix> {
        let head: &[u8; PREFIX_LEN] = body.get(..PREFIX_LEN)?.try_into().ok()?;
        if head[..3] != MAGIC || head[3] != VERSION {
            return None;
        }
        let u64_at = |i: usize| u64::from_le_bytes(head[i..i + 8].try_into().expect("8 bytes"));
        Some(Prefix {
            bridge: u64_at(4),
            forwarding: u32::from_le_bytes(head[12..16].try_into().expect("4 bytes")),
            seq: u64_at(16),
            codec: u64_at(24),
        })
    }
}

/// The 64-bit FNV-1a hash of a codec id: what the binary prefix carries for the codec.
///
/// ```
/// assert_eq!(seqcast_nats::wire::codec_fingerprint(""), 0xcbf2_9ce4_8422_2325);
/// ```
pub fn codec_fingerprint(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in id.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Which codec a framed message names: a fingerprint (binary), or the id as the JSON
/// string's raw (still escaped) bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodecTag<'a> {
    Fingerprint(u64),
    JsonString(&'a [u8]),
}

/// A received body, taken apart.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Framed<'a> {
    /// A message of a stream.
    Stream {
        bridge: u64,
        forwarding: u32,
        seq: u64,
        codec: CodecTag<'a>,
        body: &'a [u8],
    },
    /// Not in either format: another client's message, all of it the codec's.
    Foreign(&'a [u8]),
    /// Starts like one of the formats, but is not a valid one (or of another version).
    Malformed,
}

/// Takes a received body apart (see the module docs).
pub(crate) fn unframe(payload: &[u8]) -> Framed<'_> {
    if payload.len() >= 4 && payload[..3] == MAGIC {
        return match Prefix::parse(payload) {
            Some(p) => Framed::Stream {
                bridge: p.bridge,
                forwarding: p.forwarding,
                seq: p.seq,
                codec: CodecTag::Fingerprint(p.codec),
                body: &payload[PREFIX_LEN..],
            },
            None => Framed::Malformed,
        };
    }
    if let Some(rest) = payload.strip_prefix(JSON_START) {
        return unframe_json(rest).unwrap_or(Framed::Malformed);
    }
    Framed::Foreign(payload)
}

/// The JSON layout after `{"seqcast":` (module docs), read without a parser.
fn unframe_json(rest: &[u8]) -> Option<Framed<'_>> {
    let (version, rest) = digits(rest)?;
    if version != u64::from(VERSION) {
        return None;
    }
    let rest = rest.strip_prefix(b",\"origin\":\"")?;
    let hex = rest.get(..16)?;
    let bridge = u64::from_str_radix(core::str::from_utf8(hex).ok()?, 16).ok()?;
    let rest = rest[16..].strip_prefix(b"-")?;
    let (forwarding, rest) = digits(rest)?;
    let forwarding = u32::try_from(forwarding).ok()?;
    let rest = rest.strip_prefix(b"\",\"seq\":")?;
    let (seq, rest) = digits(rest)?;
    let rest = rest.strip_prefix(b",\"codec\":\"")?;
    let end = string_end(rest)?;
    let codec = &rest[..end];
    let rest = rest[end..].strip_prefix(b"\",\"data\":")?;
    let body = rest.strip_suffix(b"}")?;
    Some(Framed::Stream {
        bridge,
        forwarding,
        seq,
        codec: CodecTag::JsonString(codec),
        body,
    })
}

/// A decimal number at the start of `s` (at least one digit, no overflow).
fn digits(s: &[u8]) -> Option<(u64, &[u8])> {
    let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    let mut v: u64 = 0;
    for &b in &s[..n] {
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some((v, &s[n..]))
}

/// Where the JSON string whose contents start `s` ends: the first `"` not escaped.
fn string_end(s: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// `s` as the contents of a JSON string (without the quotes).
pub(crate) fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// The decimal digits of `v` into `buf`, returning them (no allocation, no `format!`).
pub(crate) fn decimal(v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return &buf[i..];
        }
    }
}

/// Frames one forwarding's messages: everything but the sequence number and the codec's
/// output is fixed per forwarding, so it is laid out once, here.
#[derive(Debug)]
pub(crate) struct Framer {
    format: WireFormat,
    /// The binary prefix with a zero sequence number.
    template: [u8; PREFIX_LEN],
    /// JSON: everything before the sequence number's digits.
    json_head: Vec<u8>,
    /// JSON: everything between them and the codec's output.
    json_mid: Vec<u8>,
}

/// Below this much room left, a framer's buffer takes a new chunk (so a chunk serves many
/// messages: one allocation per chunk, not per message).
const CHUNK: usize = 64 * 1024;

impl Framer {
    pub(crate) fn new(format: WireFormat, bridge: u64, forwarding: u32, codec_id: &str) -> Framer {
        let template = Prefix {
            bridge,
            forwarding,
            seq: 0,
            codec: codec_fingerprint(codec_id),
        }
        .to_bytes();
        let json_head =
            format!("{{\"seqcast\":{VERSION},\"origin\":\"{bridge:016x}-{forwarding}\",\"seq\":")
                .into_bytes();
        let json_mid = format!(",\"codec\":\"{}\",\"data\":", json_escape(codec_id)).into_bytes();
        Framer {
            format,
            template,
            json_head,
            json_mid,
        }
    }

    /// Appends message `seq` with codec output `body` to `out`, and returns it as one
    /// `Bytes` split off `out` (whose spare room the next message uses).
    pub(crate) fn frame(&self, seq: u64, body: &[u8], out: &mut bytes::BytesMut) -> bytes::Bytes {
        // Room for the longest frame, taken a chunk at a time. `reserve` reuses the current
        // allocation in place once every `Bytes` split off it has been dropped.
        let longest = self.json_head.len() + 20 + self.json_mid.len() + body.len() + 1;
        if out.capacity() - out.len() < longest {
            out.reserve(longest.max(CHUNK));
        }
        match self.format {
            WireFormat::Binary => {
                let mut prefix = self.template;
                prefix[16..24].copy_from_slice(&seq.to_le_bytes());
                out.extend_from_slice(&prefix);
                out.extend_from_slice(body);
            }
            WireFormat::Json => {
                let mut digits = [0u8; 20];
                out.extend_from_slice(&self.json_head);
                out.extend_from_slice(decimal(seq, &mut digits));
                out.extend_from_slice(&self.json_mid);
                out.extend_from_slice(body);
                out.extend_from_slice(b"}");
            }
        }
        out.split().freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_round_trip_and_refusals() {
        let p = Prefix {
            bridge: 0x0123_4567_89ab_cdef,
            forwarding: 3,
            seq: u64::MAX,
            codec: codec_fingerprint("raw;size=16;le"),
        };
        let mut body = p.to_bytes().to_vec();
        body.extend_from_slice(b"payload");
        assert_eq!(
            unframe(&body),
            Framed::Stream {
                bridge: p.bridge,
                forwarding: 3,
                seq: u64::MAX,
                codec: CodecTag::Fingerprint(p.codec),
                body: b"payload",
            }
        );
        // Little-endian on every machine: the layout is the documented one.
        assert_eq!(body[4], 0xef);
        assert_eq!(body[12..16], [3, 0, 0, 0]);
        // Another version, or a cut prefix: malformed, never misread.
        let mut later = body.clone();
        later[3] = 2;
        assert_eq!(unframe(&later), Framed::Malformed);
        assert_eq!(unframe(&body[..20]), Framed::Malformed);
        // Anything else is another client's message.
        assert_eq!(unframe(b"SQ"), Framed::Foreign(b"SQ"));
        assert_eq!(unframe(b"{\"a\":1}"), Framed::Foreign(b"{\"a\":1}"));
    }

    #[test]
    fn json_layout() {
        let body = br#"{"seqcast":1,"origin":"3f9c0a1b2c3d4e5f-12","seq":1041,"codec":"json;tag=a\"b","data":{"x":[1,2]}}"#;
        assert_eq!(
            unframe(body),
            Framed::Stream {
                bridge: 0x3f9c_0a1b_2c3d_4e5f,
                forwarding: 12,
                seq: 1041,
                codec: CodecTag::JsonString(br#"json;tag=a\"b"#),
                body: br#"{"x":[1,2]}"#,
            }
        );
        for bad in [
            &br#"{"seqcast":2,"origin":"3f9c0a1b2c3d4e5f-0","seq":1,"codec":"j","data":1}"#[..],
            br#"{"seqcast":1,"origin":"3f9c-0","seq":1,"codec":"j","data":1}"#,
            br#"{"seqcast":1,"origin":"3f9c0a1b2c3d4e5f-0","seq":-1,"codec":"j","data":1}"#,
            br#"{"seqcast":1,"origin":"3f9c0a1b2c3d4e5f-0","seq":1,"codec":"j","data":1"#,
            br#"{"seqcast":1,"origin":"3f9c0a1b2c3d4e5f-0","seq":99999999999999999999,"codec":"j","data":1}"#,
            br#"{"seqcast":1, "origin":"3f9c0a1b2c3d4e5f-0","seq":1,"codec":"j","data":1}"#,
        ] {
            assert_eq!(unframe(bad), Framed::Malformed, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn helpers() {
        assert_eq!(json_escape("a\"b\\c\n"), "a\\\"b\\\\c\\u000a");
        let mut buf = [0u8; 20];
        assert_eq!(decimal(0, &mut buf), b"0");
        assert_eq!(decimal(u64::MAX, &mut buf), b"18446744073709551615");
        assert_ne!(codec_fingerprint("json"), codec_fingerprint("json;tag=x"));
    }

    #[test]
    fn framer_writes_what_unframe_reads() {
        let mut out = bytes::BytesMut::new();
        let binary = Framer::new(WireFormat::Binary, 42, 7, "raw;size=2;le");
        let json = Framer::new(WireFormat::Json, 42, 7, "json;tag=\"q\"");
        for seq in [0, 1, 1 << 40] {
            let framed = binary.frame(seq, b"ab", &mut out);
            assert_eq!(
                unframe(&framed),
                Framed::Stream {
                    bridge: 42,
                    forwarding: 7,
                    seq,
                    codec: CodecTag::Fingerprint(codec_fingerprint("raw;size=2;le")),
                    body: b"ab",
                }
            );
            let framed = json.frame(seq, b"[1]", &mut out);
            let text = core::str::from_utf8(&framed).unwrap();
            assert!(
                text.starts_with("{\"seqcast\":1,\"origin\":\"000000000000002a-7\""),
                "{text}"
            );
            assert_eq!(
                unframe(&framed),
                Framed::Stream {
                    bridge: 42,
                    forwarding: 7,
                    seq,
                    codec: CodecTag::JsonString(br#"json;tag=\"q\""#),
                    body: b"[1]",
                }
            );
        }
        assert!(out.is_empty(), "each frame is split off the buffer");
    }
}
