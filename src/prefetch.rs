//! Asks the processor for memory before the evaluator reads it.
//!
//! A case classified long after it was parsed (`rules test`, `rules bench`,
//! a batch of cases) has left the processor's caches, and its fields are a
//! dozen allocations that the rules reach one after another, each miss
//! waiting for the one before. Asking for all of them first makes the
//! misses overlap. A prefetch starts the fetch of a cache line and is done
//! with: the instructions after it retire without waiting for the line.
//! A plain load of a byte of each allocation, which this replaced, starts
//! the same fetches but must itself wait for its line before anything after
//! it retires; measured, the prefetches are faster (see
//! docs/performance.md, "Prefetches, not loads").
//!
//! This module holds the crate's only `unsafe`: the prefetch intrinsic,
//! which is a hint and cannot touch the program's memory.
#![allow(unsafe_code)]

/// The size of a cache line on the processors this runs on.
const CACHE_LINE: usize = 64;

/// Asks for the cache line that holds the start of `items`; nothing for an
/// empty slice, whose pointer points at no allocation.
#[inline(always)]
pub(crate) fn start<T>(items: &[T]) {
    if !items.is_empty() {
        line(items.as_ptr().cast());
    }
}

/// Asks for every cache line of `bytes`.
#[inline(always)]
pub(crate) fn all(bytes: &[u8]) {
    for piece in bytes.chunks(CACHE_LINE) {
        start(piece);
    }
}

/// Asks for every cache line of `value` itself (not of what it points to),
/// so that its fields can be read without waiting when its turn comes.
#[inline(always)]
pub(crate) fn object<T>(value: &T) {
    let at = std::ptr::from_ref(value).cast::<u8>();
    let into_line = at.addr() % CACHE_LINE;
    let first = at.wrapping_sub(into_line);
    for index in 0..lines_spanned(into_line, std::mem::size_of::<T>()) {
        line(first.wrapping_add(index * CACHE_LINE));
    }
}

/// How many cache lines `size` bytes span when they start `into_line`
/// bytes into a line (none for nothing).
fn lines_spanned(into_line: usize, size: usize) -> usize {
    if size == 0 {
        return 0;
    }
    (into_line + size).div_ceil(CACHE_LINE)
}

/// Asks for the cache line that holds `address`.
#[inline(always)]
fn line(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` only moves a cache line closer to the processor.
    // It reads nothing into the program, writes nothing, and never faults,
    // whatever the address; every caller passes an address in or next to
    // a live value. SSE, which the intrinsic needs, is part of every x86_64
    // processor.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(address.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

#[cfg(test)]
mod tests {
    use super::lines_spanned;

    #[test]
    fn an_object_spans_every_line_it_touches_and_no_more() {
        // A case and its partner: 544 bytes.
        assert_eq!(lines_spanned(0, 544), 9);
        assert_eq!(lines_spanned(32, 544), 9);
        assert_eq!(lines_spanned(40, 544), 10);
        assert_eq!(lines_spanned(63, 1), 1);
        assert_eq!(lines_spanned(63, 2), 2);
        assert_eq!(lines_spanned(0, 64), 1);
        assert_eq!(lines_spanned(8, 0), 0);
    }
}
