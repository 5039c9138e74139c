//! Helpers shared by the crate's unit tests.

/// xorshift64*: a small deterministic generator of test inputs (no
/// dependency), started from a nonzero `seed`.
pub(crate) fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed;
    move || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}
