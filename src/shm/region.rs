//! The mapped ring file viewed as a header and `[Slot<T>]`: the only `unsafe` casts of `shm`
//! (its other `unsafe` blocks are system calls: `flock`, `kill`, and those of `shm::file`).
//!
//! A [`Region`] is built only by [`Region::open`] and [`Region::create`], which establish the
//! invariants every accessor relies on:
//! 1. the mapping is page-aligned and at least `HEADER_BYTES` long (so `header()` is in
//!    bounds and aligned), and
//! 2. `validate_header::<T>` accepted it for this mapping's length: slot `i < capacity` lies
//!    at `slots_offset + i * size_of::<LineSlot<T>>()`, inside the mapping, aligned for
//!    `LineSlot<T>` (`slots_offset` is a multiple of `align_of::<LineSlot<T>>() <= 4096`).
//!
//! The header is only atomics and a slot is an atomic stamp plus `MaybeUninit` words in an
//! `UnsafeCell`, so any bytes are valid values of both, and shared references to them allow
//! other processes to write the memory behind them. A subscriber's region is mapped
//! `PROT_READ` and only ever loaded from (`Slot::read`, atomic loads); only the publisher's
//! read-write region is written. Both are `memmap2::MmapRaw`, which exposes the mapping only as
//! a raw pointer (`Mmap` would deref to a `&[u8]`, asserting that nobody writes the bytes).

use super::header::{validate_header, Header, HEADER_BYTES};
use super::plain::Plain;
use super::{io_error, RingInfo};
use crate::error::ShmError;
use crate::ring::slot::{LineSlot, Slot};
use crate::sync::Ordering;
use core::marker::PhantomData;
use core::mem::size_of;
use memmap2::{MmapOptions, MmapRaw};
use std::fs::File;
use std::path::Path;

/// A validated ring mapping (module docs: invariants 1 and 2).
pub(crate) struct Region<T> {
    /// The mapping: `PROT_READ` for subscribers, read-write for the publisher. `MmapRaw`
    /// never hands out `&[u8]` of the shared bytes, only its base pointer.
    map: MmapRaw,
    /// `capacity - 1`.
    mask: u64,
    /// Byte offset of slot 0.
    slots_offset: usize,
    info: RingInfo,
    _payload: PhantomData<fn() -> T>,
}

impl<T: Plain> Region<T> {
    /// Maps `file` read-only (`PROT_READ`, `MAP_SHARED`) and validates it as a ring of `T`.
    pub(crate) fn open(path: &Path, file: &File, type_name: &str) -> Result<Self, ShmError> {
        Self::open_as(path, file, type_name, false)
    }

    /// Maps `file` (open for writing) read-write and validates it as a ring of `T`: a
    /// publisher joining a ring that takes several.
    pub(crate) fn open_rw(path: &Path, file: &File, type_name: &str) -> Result<Self, ShmError> {
        Self::open_as(path, file, type_name, true)
    }

    fn open_as(path: &Path, file: &File, type_name: &str, write: bool) -> Result<Self, ShmError> {
        let len = file.metadata().map_err(|e| io_error(path, e))?.len();
        if len < HEADER_BYTES as u64 {
            return Err(ShmError::TooSmall {
                len,
                need: HEADER_BYTES as u64,
            });
        }
        // `MAP_SHARED`, `PROT_READ` unless `write`. (`MmapRaw` rather than `Mmap`: `Mmap`
        // derefs to `&[u8]`, which would assert that nobody writes the bytes; publishers do.)
        let options = MmapOptions::new();
        let map = if write {
            options.map_raw(file)
        } else {
            options.map_raw_read_only(file)
        };
        Region::validated(map.map_err(|e| io_error(path, e))?, type_name)
    }

    /// The ticket words of a ring with several publishers (`ring::claim`).
    #[inline]
    pub(crate) fn tickets(&self) -> crate::ring::claim::Tickets<'_> {
        use super::header::{W_CLAIM, W_HEAD};
        crate::ring::claim::Tickets {
            claim: self.header().word(W_CLAIM),
            head: self.header().word(W_HEAD),
            capacity: self.capacity(),
        }
    }

    /// Sizes the new, empty `file` for `capacity` slots (its space reserved: `file::reserve`),
    /// maps it read-write, and writes line 0 of the header (`magic` last). The file's zero
    /// bytes are already valid empty slots (stamp 0: "never written"). `path` is the ring's
    /// name for errors (`file` may still have a temporary name).
    pub(crate) fn create(
        path: &Path,
        file: &File,
        capacity: u64,
        type_name: &str,
        heartbeat_ns: u64,
        publishers: u32,
    ) -> Result<Self, ShmError> {
        use super::header::*;
        let (slot_size, slot_align, slots_offset) = slot_layout::<T>()?;
        let too_large = ShmError::Capacity(crate::error::CapacityError::TooLarge {
            requested: capacity as usize,
        });
        let len = capacity
            .checked_mul(slot_size)
            .and_then(|b| b.checked_add(slots_offset))
            .filter(|&n| n <= isize::MAX as u64)
            .ok_or(too_large)?;
        super::file::reserve(path, file, len)?;
        // Read-write, `MAP_SHARED`.
        let map = MmapOptions::new()
            .map_raw(file)
            .map_err(|e| io_error(path, e))?;
        if (map.len() as u64) < len {
            return Err(ShmError::TooSmall {
                len: map.len() as u64,
                need: len,
            });
        }
        // SAFETY: invariant 1: the mapping is page-aligned and `len >= HEADER_BYTES`.
        let header = unsafe { &*map.as_ptr().cast::<Header>() };
        let fixed = [
            (W_VERSION, LAYOUT_VERSION),
            (W_SLOTS_OFFSET, slots_offset),
            (W_CAPACITY, capacity),
            (W_SLOT_SIZE, slot_size),
            (W_SLOT_ALIGN, slot_align),
            (W_PAYLOAD_SIZE, size_of::<T>() as u64),
            (W_PAYLOAD_ALIGN, core::mem::align_of::<T>() as u64),
            (W_FINGERPRINT, fingerprint::<T>(type_name)),
            (W_PID, u64::from(std::process::id())),
            (W_HEARTBEAT_NS, heartbeat_ns),
            (W_PUBLISHERS, u64::from(publishers)),
        ];
        for (i, v) in fixed {
            // Relaxed: published by the Release store of `magic` below.
            header.word(i).store(v, Ordering::Relaxed);
        }
        header.store_type_name(type_name);
        for i in 0..publishers as usize {
            // Relaxed: published by the Release store of `magic` below.
            header
                .word(W_PLACES + i * PLACE_WORDS)
                .store(crate::ring::claim::IDLE, Ordering::Relaxed);
        }
        // Release: pairs with the Acquire load of `magic` in `Header::snapshot`.
        header.word(W_MAGIC).store(MAGIC, Ordering::Release);
        Region::validated(map, type_name)
    }
}

impl<T: Plain> Region<T> {
    /// Establishes invariants 1 and 2, or says why the mapping is not a ring of `T`.
    fn validated(map: MmapRaw, type_name: &str) -> Result<Self, ShmError> {
        let len = map.len() as u64;
        if len < HEADER_BYTES as u64 {
            return Err(ShmError::TooSmall {
                len,
                need: HEADER_BYTES as u64,
            });
        }
        // mmap returns page-aligned addresses; `Header` needs 128.
        debug_assert_eq!(map.as_ptr() as usize % 4096, 0);
        // SAFETY: invariant 1 was just checked (page alignment is mmap's guarantee); any bytes
        // are a valid `Header` (48 `AtomicU64`s).
        let header = unsafe { &*map.as_ptr().cast::<Header>() };
        let first = header.snapshot();
        let info = validate_header::<T>(&first, type_name, len)?;
        // Line 0 is written once, before the file has its name; if it changed while we read
        // it, someone else writes this file. Only `info` (from the validated copy) is used
        // from here on, so later changes cannot move a slot out of bounds.
        if header.snapshot()[..128] != first[..128] {
            return Err(ShmError::Corrupt(
                "line 0 changed while the ring was being opened (another writer?)",
            ));
        }
        Ok(Region {
            map,
            mask: info.capacity - 1,
            slots_offset: info.slots_offset as usize,
            info,
            _payload: PhantomData,
        })
    }

    #[inline]
    pub(crate) fn header(&self) -> &Header {
        // SAFETY: invariant 1; `Header` is only atomics (module docs); the reference lives no
        // longer than `self`, which owns the mapping.
        unsafe { &*self.map.as_ptr().cast::<Header>() }
    }

    /// The slot of message `seq`.
    #[inline]
    pub(crate) fn slot(&self, seq: u64) -> &Slot<T> {
        let i = (seq & self.mask) as usize;
        debug_assert!((i as u64) < self.info.capacity);
        let offset = self.slots_offset + i * size_of::<LineSlot<T>>();
        debug_assert!(offset + size_of::<LineSlot<T>>() <= self.map.len());
        // SAFETY: invariant 2: slot `i < capacity` is inside the mapping and aligned for
        // `Slot<T>`; any bytes are a valid `Slot<T>`; the reference lives no longer than
        // `self`, which owns the mapping. A read-only region is only read through it.
        unsafe { &(*self.map.as_ptr().add(offset).cast::<LineSlot<T>>()).0 }
    }

    /// The owner record of publisher place `i` (`ring::claim`, rule 2): the place's words 0
    /// (`ticket`) and 2 (`len`).
    #[inline]
    pub(crate) fn place(&self, i: usize) -> crate::ring::claim::Owner<'_> {
        use super::header::{MAX_PUBLISHERS, PLACE_WORDS, W_PLACES};
        debug_assert!(i < MAX_PUBLISHERS as usize);
        let first = W_PLACES + i * PLACE_WORDS;
        crate::ring::claim::Owner {
            ticket: self.header().word(first),
            len: self.header().word(first + 2),
        }
    }

    #[inline]
    pub(crate) fn capacity(&self) -> u64 {
        self.mask + 1
    }

    pub(crate) fn info(&self) -> RingInfo {
        self.info
    }
}
