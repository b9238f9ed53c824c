//! The ring file's header: word indices, the atomic view, and the validation of a copy.
//!
//! The header is 48 native-endian `u64` words (384 bytes, three 128-byte lines; the module
//! docs of [`crate::shm`] say who writes each). [`validate_header`] checks a *copy* of those
//! bytes, so it is a pure function that can be fed arbitrary input.

use super::plain::Plain;
use crate::error::{PayloadType, ShmError};
use crate::ring::slot::LineSlot;
use crate::sync::{fence, AtomicU64, Ordering};
use core::mem::{align_of, size_of};
use std::time::Duration;

/// First word of every ring file: `"seqcast1"` as a native-endian `u64`.
pub const MAGIC: u64 = u64::from_ne_bytes(*b"seqcast1");
/// Version of the file layout (header words and slot format). Bumped on any change.
///
/// 2: the payload type name in line 0 (words 11..16), and `head` stored with Release (a
/// subscriber checks the head against the slots' stamps).
/// 3: rings with several publisher processes: the number of publisher places (word 19), the
/// ticket counter (line 3) and the publishers' owner records (lines 4..12).
pub const LAYOUT_VERSION: u64 = 3;
/// Bytes of header before the first slot (the slots start at the next multiple of the slot
/// alignment).
pub const HEADER_BYTES: usize = WORDS * 8;

/// Largest slot alignment supported: the mapping is page-aligned, so the slot area is aligned
/// as long as its alignment divides the page size.
const MAX_SLOT_ALIGN: usize = 4096;

/// Longest heartbeat period a header may announce (one minute).
const MAX_HEARTBEAT_NS: u64 = 60_000_000_000;

// Line 0 (words 0..16): written once by the publisher before the file gets its name.
/// `MAGIC`; stored last (Release) by the creator.
pub(crate) const W_MAGIC: usize = 0;
/// `LAYOUT_VERSION`.
pub(crate) const W_VERSION: usize = 1;
/// Byte offset of slot 0: `HEADER_BYTES` rounded up to `slot_align`.
pub(crate) const W_SLOTS_OFFSET: usize = 2;
/// Number of slots, a power of two.
pub(crate) const W_CAPACITY: usize = 3;
/// `size_of::<LineSlot<T>>()` and `align_of::<LineSlot<T>>()` (one slot per cache line).
pub(crate) const W_SLOT_SIZE: usize = 4;
pub(crate) const W_SLOT_ALIGN: usize = 5;
/// `size_of::<T>()` and `align_of::<T>()`.
pub(crate) const W_PAYLOAD_SIZE: usize = 6;
pub(crate) const W_PAYLOAD_ALIGN: usize = 7;
/// [`fingerprint`] of `T` and the type name the publisher gave.
pub(crate) const W_FINGERPRINT: usize = 8;
/// The publisher's process id.
pub(crate) const W_PID: usize = 9;
/// The heartbeat period in nanoseconds (0: the publisher has no heartbeat).
pub(crate) const W_HEARTBEAT_NS: usize = 10;
/// Words 11..16: the first `TYPE_NAME_BYTES` bytes of the publisher's type name, NUL-padded.
/// Only for error messages (the fingerprint is what is checked).
pub(crate) const W_TYPE_NAME: usize = 11;
/// Bytes of type name the header keeps.
pub(crate) const TYPE_NAME_BYTES: usize = 40;
// Line 1 (words 16..32): written rarely by the publisher.
/// Bumped by the publisher's heartbeat thread (Relaxed).
pub(crate) const W_HEARTBEAT: usize = 16;
/// 0 while open; 1 once the publisher closed the topic (Release, after `final_head`).
pub(crate) const W_CLOSED: usize = 17;
/// The number of messages ever sent; meaningful once `closed` is 1.
pub(crate) const W_FINAL_HEAD: usize = 18;
/// Publisher places: 0 for a ring with a single publisher (`ShmPublisher`), else how many
/// publishers may hold it at once (`ShmSharedPublisher`, at most `MAX_PUBLISHERS`). Written
/// once by the creator, before `magic`.
pub(crate) const W_PUBLISHERS: usize = 19;
// Line 2 (words 32..48): written by the publisher after every message.
/// Messages completed. Stored with Release after each message's final stamp, so that a
/// subscriber can check it against the stamps (`h > 0` implies slot `h - 1` holds message
/// `h - 1` or a later one) and never trusts a head the slots contradict.
pub(crate) const W_HEAD: usize = 32;
// Line 3 (words 48..64), rings with several publishers only.
/// The next ticket: claimed by publishers with `fetch_add` (`ring::claim`).
pub(crate) const W_CLAIM: usize = 48;
// Lines 4..12 (words 64..192), rings with several publishers only: one line per publisher
// place, so that a publisher's stores of its owner record move no line another one writes.
/// First word of place 0 (its owner record, `ring::claim`, rule 2); place `i` starts `i * PLACE_WORDS`
/// later.
pub(crate) const W_PLACES: usize = 64;
/// Words per publisher place: the owner record's `ticket`, the holder's pid (for `Debug` and
/// errors), the owner record's `len`.
pub(crate) const PLACE_WORDS: usize = 16;
/// The most publishers a ring takes at once.
pub const MAX_PUBLISHERS: u32 = 8;
/// Number of header words.
const WORDS: usize = W_PLACES + PLACE_WORDS * MAX_PUBLISHERS as usize;

/// The header as it lies in the mapping: nothing but atomic words, so any bytes are a valid
/// `Header`, and a shared reference to it allows the publisher's process to keep writing.
#[repr(C, align(128))]
pub(crate) struct Header {
    words: [AtomicU64; WORDS],
}

const _: () = assert!(size_of::<Header>() == HEADER_BYTES);

impl Header {
    #[inline]
    pub(crate) fn word(&self, i: usize) -> &AtomicU64 {
        &self.words[i]
    }

    /// Copies the header out, word by word, `magic` first, then a `fence(Acquire)` (with the
    /// magic load, pairs with the creator's Release store of `magic`, after every other
    /// line-0 word). Relaxed loads and a fence rather than an Acquire load: the subscriber's
    /// mapping is read-only, where Rust only documents Relaxed loads.
    pub(crate) fn snapshot(&self) -> [u8; HEADER_BYTES] {
        let mut out = [0u8; HEADER_BYTES];
        // Relaxed: made Acquire by the fence right after it.
        let magic = self.words[W_MAGIC].load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        out[..8].copy_from_slice(&magic.to_ne_bytes());
        for (i, chunk) in out.chunks_exact_mut(8).enumerate().skip(1) {
            // Relaxed: ordered after the magic load by the fence.
            chunk.copy_from_slice(&self.words[i].load(Ordering::Relaxed).to_ne_bytes());
        }
        out
    }

    /// Stores the first `TYPE_NAME_BYTES` bytes of `name` (cut at a character boundary) in
    /// words `W_TYPE_NAME..`, NUL-padded. Creator only, before `magic`.
    pub(crate) fn store_type_name(&self, name: &str) {
        let mut cut = name.len().min(TYPE_NAME_BYTES);
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        let mut bytes = [0u8; TYPE_NAME_BYTES];
        bytes[..cut].copy_from_slice(&name.as_bytes()[..cut]);
        for (i, chunk) in bytes.chunks_exact(8).enumerate() {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            // Relaxed: published by the Release store of `magic`, as the other line-0 words.
            self.words[W_TYPE_NAME + i].store(u64::from_ne_bytes(w), Ordering::Relaxed);
        }
    }
}

/// A type's fingerprint: FNV-1a over `type_name`, then its size and alignment.
///
/// Publisher and subscribers pass the same name (any string naming the payload type and
/// its version, e.g. `"md::Quote/v2"`); a subscriber that names another type, or whose `T`
/// has another size or alignment, is refused with
/// [`ShmError::TypeMismatch`](crate::error::ShmError::TypeMismatch), which names both types
/// (the header keeps the first 40 bytes of the publisher's name for that).
pub fn fingerprint<T>(type_name: &str) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let sizes = [size_of::<T>() as u64, align_of::<T>() as u64];
    let tail = sizes.iter().flat_map(|w| w.to_le_bytes());
    for b in type_name.bytes().chain(tail) {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME);
    }
    h
}

/// What a valid header says about its ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingInfo {
    /// Number of slots (a power of two).
    pub capacity: u64,
    /// Byte offset of slot 0 in the file.
    pub slots_offset: u64,
    /// Bytes per slot.
    pub slot_size: u64,
    /// The file length the ring needs: `slots_offset + capacity * slot_size`.
    pub file_len: u64,
    /// The publisher's process id.
    pub pid: u32,
    /// The publisher's heartbeat period (zero: no heartbeat).
    pub heartbeat: Duration,
    /// How many publishers may hold the ring at once: 0 for a single-publisher ring
    /// ([`ShmPublisher`](super::ShmPublisher)), else at most [`MAX_PUBLISHERS`]
    /// ([`ShmSharedPublisher`](super::ShmSharedPublisher)). `pid` is then the creator's.
    pub publishers: u32,
}

/// The slot layout this build uses for `T`: (slot size, slot alignment, slots offset).
pub(crate) fn slot_layout<T: Plain>() -> Result<(u64, u64, u64), ShmError> {
    let align = align_of::<LineSlot<T>>();
    if align > MAX_SLOT_ALIGN {
        return Err(ShmError::Layout {
            field: "slot_align (at most 4096 is supported)",
            found: align as u64,
            expected: MAX_SLOT_ALIGN as u64,
        });
    }
    let offset = HEADER_BYTES.next_multiple_of(align);
    Ok((size_of::<LineSlot<T>>() as u64, align as u64, offset as u64))
}

/// Checks a copy of a ring file's header for a ring of `T` named `type_name`, in a file (or
/// mapping) of `file_len` bytes.
///
/// Checks, in order: length of `bytes` and of the file, magic, version, payload size,
/// alignment and fingerprint, slot size, alignment and offset, capacity (a non-zero power of
/// two), file length for every slot, heartbeat period (at most a minute), pid. Returns the
/// first problem; never panics, whatever the input.
///
/// # Examples
/// ```
/// # #[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))] {
/// use seqcast::{error::ShmError, shm};
/// let err = shm::validate_header::<u64>(&[0u8; 16], "u64", 16).unwrap_err();
/// assert!(matches!(err, ShmError::TooSmall { .. }));
/// let err = shm::validate_header::<u64>(&[0xAB; 4096], "u64", 4096).unwrap_err();
/// assert!(matches!(err, ShmError::BadMagic { .. }));
/// # }
/// ```
pub fn validate_header<T: Plain>(
    bytes: &[u8],
    type_name: &str,
    file_len: u64,
) -> Result<RingInfo, ShmError> {
    let have = (bytes.len() as u64).min(file_len);
    if have < HEADER_BYTES as u64 {
        return Err(ShmError::TooSmall {
            len: have,
            need: HEADER_BYTES as u64,
        });
    }
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
        u64::from_ne_bytes(w)
    };
    let magic = word(W_MAGIC);
    if magic != MAGIC {
        return Err(ShmError::BadMagic { found: magic });
    }
    let version = word(W_VERSION);
    if version != LAYOUT_VERSION {
        return Err(ShmError::Version {
            found: version,
            expected: LAYOUT_VERSION,
        });
    }
    let expected = PayloadType {
        name: type_name.to_owned(),
        size: size_of::<T>() as u64,
        align: align_of::<T>() as u64,
    };
    let (size, align) = (word(W_PAYLOAD_SIZE), word(W_PAYLOAD_ALIGN));
    let same = size == expected.size
        && align == expected.align
        && word(W_FINGERPRINT) == fingerprint::<T>(type_name);
    if !same {
        let name = &bytes[W_TYPE_NAME * 8..W_TYPE_NAME * 8 + TYPE_NAME_BYTES];
        let len = name.iter().position(|&b| b == 0).unwrap_or(TYPE_NAME_BYTES);
        let mut name = String::from_utf8_lossy(&name[..len]).into_owned();
        if len == TYPE_NAME_BYTES {
            name.push('…');
        }
        return Err(ShmError::TypeMismatch {
            found: PayloadType { name, size, align },
            expected,
        });
    }
    let (slot_size, slot_align, slots_offset) = slot_layout::<T>()?;
    let expect = [
        ("slot_size", W_SLOT_SIZE, slot_size),
        ("slot_align", W_SLOT_ALIGN, slot_align),
        ("slots_offset", W_SLOTS_OFFSET, slots_offset),
    ];
    for (field, i, expected) in expect {
        let found = word(i);
        if found != expected {
            return Err(ShmError::Layout {
                field,
                found,
                expected,
            });
        }
    }
    let capacity = word(W_CAPACITY);
    if !capacity.is_power_of_two() {
        return Err(ShmError::Corrupt("capacity is not a non-zero power of two"));
    }
    let need = capacity
        .checked_mul(slot_size)
        .and_then(|b| b.checked_add(slots_offset))
        .filter(|&n| n <= isize::MAX as u64)
        .ok_or(ShmError::Corrupt("capacity too large for any file"))?;
    if file_len < need {
        return Err(ShmError::TooSmall {
            len: file_len,
            need,
        });
    }
    let heartbeat_ns = word(W_HEARTBEAT_NS);
    if heartbeat_ns > MAX_HEARTBEAT_NS {
        return Err(ShmError::Corrupt("heartbeat period longer than a minute"));
    }
    let pid = word(W_PID);
    if pid == 0 || pid > i32::MAX as u64 {
        return Err(ShmError::Corrupt("publisher pid out of range"));
    }
    let publishers = word(W_PUBLISHERS);
    if publishers > u64::from(MAX_PUBLISHERS) {
        return Err(ShmError::Corrupt(
            "more publisher places than any seqcast ring has",
        ));
    }
    if publishers > 0 && capacity < 2 {
        // The abandoned stamp of a message must not look like the next one's (`ring::slot`).
        return Err(ShmError::Corrupt(
            "a ring with several publishers has one slot",
        ));
    }
    Ok(RingInfo {
        capacity,
        slots_offset,
        slot_size,
        file_len: need,
        pid: pid as u32,
        heartbeat: Duration::from_nanos(heartbeat_ns),
        publishers: publishers as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_constants() {
        assert_eq!(HEADER_BYTES, 1536);
        for w in [W_HEARTBEAT, W_HEAD, W_CLAIM, W_PLACES, PLACE_WORDS] {
            assert_eq!(w * 8 % 128, 0, "word {w} starts a line");
        }
        let (size, align, offset) = slot_layout::<[u64; 8]>().unwrap();
        assert_eq!((size, align, offset), (128, 64, 1536));
    }

    #[test]
    fn fingerprint_depends_on_name_size_and_align() {
        let a = fingerprint::<u64>("x");
        assert_eq!(a, fingerprint::<u64>("x"));
        assert_ne!(a, fingerprint::<u64>("y"));
        assert_ne!(a, fingerprint::<u32>("x"));
        assert_ne!(a, fingerprint::<[u32; 2]>("x"));
    }
}
