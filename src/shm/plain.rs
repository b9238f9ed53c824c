//! [`Plain`]: the payload types that may cross a process boundary.

/// Plain data: a type whose value is nothing but its bytes, so that it means the same thing
/// when those bytes are read by another process.
///
/// In-process rings accept any `Copy + Send` type. A shared-memory ring copies the bytes of
/// `T` into a file that other programs read, which asks more of `T`:
///
/// * **No pointers, references or handles** (`&T`, `Box`, `*const T`, `fn` pointers, file
///   descriptors, indices into process-local tables): an address is meaningless in another
///   address space.
/// * **Every byte pattern of `size_of::<T>()` bytes is a valid `T`** (no `bool`, `char`,
///   enums, `NonZero*`, references): the bytes come from another process, and from a file
///   that anything with write access could have scribbled on. Reading a `bool` holding `2`
///   would be undefined behaviour; reading a garbage `u32` is merely a wrong value.
/// * **A layout fixed by its definition**: `#[repr(C)]` or `#[repr(transparent)]` structs
///   (arrays and primitives already are). A `repr(Rust)` struct may be laid out differently by
///   two compilations, and the header's size/alignment/fingerprint check would not notice a
///   reordering of same-sized fields.
///
/// Padding bytes are fine: slots copy payloads as `MaybeUninit` words, never as integers
/// (`ring::slot`), so `bytemuck::Pod`'s no-padding rule is not needed. The closest `bytemuck`
/// trait is `AnyBitPattern`; seqcast defines its own marker to avoid a dependency and to state
/// the "no process-local meaning" rule, which no `bytemuck` trait says. If you already derive
/// `AnyBitPattern` for a `#[repr(C)]` type without pointers, implementing `Plain` for it is
/// sound.
///
/// # Safety
/// Implementing `Plain` promises the three properties above. seqcast then reads values of
/// `T` out of bytes written by another process.
///
/// # Examples
/// ```
/// #[derive(Clone, Copy, Debug)]
/// #[repr(C)]
/// struct Quote {
///     instrument: u32, // 4 bytes of padding follow: fine
///     price: f64,
///     size: [u64; 2],
/// }
/// // SAFETY: `repr(C)`, only integer and float fields (any bit pattern is valid), no
/// // pointers.
/// # #[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
/// unsafe impl seqcast::shm::Plain for Quote {}
/// ```
pub unsafe trait Plain: Copy + Send + 'static {}

macro_rules! plain {
    ($($t:ty),* $(,)?) => {
        $(
            // SAFETY: a primitive integer or float: any bit pattern is a valid value, its
            // layout is fixed, and it holds no pointer.
            unsafe impl Plain for $t {}
        )*
    };
}

plain!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64);

// SAFETY: an array of plain values is plain: its layout is `N` elements back to back, every
// byte pattern of each element is valid, and it holds no pointer.
unsafe impl<T: Plain, const N: usize> Plain for [T; N] {}

// SAFETY: a zero-sized value with a fixed (empty) layout: nothing to read.
unsafe impl Plain for () {}
