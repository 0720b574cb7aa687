//! Corrupt stored bytes never make the decoder reserve much more memory than they hold.
//!
//! A count in the encoding is checked only against the bytes left, and a decoded value
//! is many times the size of the byte that encodes it: lists nested to the depth limit,
//! each claiming a million elements, once reserved about 2 GB for a 1 MB input (and
//! aborted the process where memory was limited). This binary counts the bytes its
//! allocator holds, so it has a file of its own.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; only counts are
// kept beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = HELD.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        // SAFETY: the caller's layout, as `GlobalAlloc::alloc` requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD.fetch_sub(layout.size(), Ordering::SeqCst);
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// 65 list headers, each claiming a million elements, then a million bytes of padding:
/// every count passes the check against the bytes left.
fn nested_claims() -> Vec<u8> {
    const LIST: u8 = 7;
    let claim = 1u64 << 20;
    let mut bytes = Vec::new();
    for _ in 0..65 {
        bytes.push(LIST);
        let mut v = claim;
        while v >= 0x80 {
            bytes.push((v as u8) | 0x80);
            v >>= 7;
        }
        bytes.push(v as u8);
    }
    bytes.extend(std::iter::repeat_n(0u8, 1 << 20));
    bytes
}

#[test]
fn corrupt_counts_reserve_little() {
    let input = nested_claims();
    let before = HELD.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let decoded = kvs::codec::decode_value(&input);
    let peak = PEAK.load(Ordering::SeqCst) - before;
    assert!(decoded.is_err(), "corrupt input decoded: {decoded:?}");
    assert!(
        peak < 16 << 20,
        "decoding {} bytes held {peak} bytes at once",
        input.len()
    );
}
