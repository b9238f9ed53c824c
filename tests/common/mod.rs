//! Helpers shared by the integration test files (`mod common;` in each that needs them).
// Each test file is its own crate and uses only some of these.
#![allow(dead_code)]

#[cfg(all(
    feature = "shm",
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
pub mod shm;

/// xorshift64*: a tiny seeded PRNG with no dependencies, so that every failure reproduces
/// from its seed.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed` (any value: xorshift needs a non-zero state).
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// An index in `0..n`.
    pub fn index(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// One of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.index(items.len())]
    }
}
