//! The C allocator under the media plane. GStreamer, libvpx and x264 allocate through glibc's
//! malloc from many short-lived streaming threads; glibc gives each busy thread an arena of
//! its own and keeps what they free for reuse. Left alone, a node that has carried a few
//! dozen calls holds hundreds of megabytes it no longer uses (measured: 127 MB after one
//! call, 320 to 420 MB after each further 13, in `node/tests/gateway_leaks.rs`). So the node
//! caps the arenas at start and hands freed memory back to the system after each call.

/// Caps glibc's malloc arenas at two per core (its default is eight per core). Call once, at
/// start, before the media threads exist.
pub fn cap_arenas(cores: usize) {
    let arenas = i32::try_from(cores.saturating_mul(2).max(2)).unwrap_or(i32::MAX);
    // SAFETY: mallopt only changes glibc's tuning; M_ARENA_MAX takes any positive count.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
}

/// Returns the free memory at the top of every arena to the system: after a call's media
/// plane is gone, when a lot has just been freed. Blocks for a moment (it walks the heaps):
/// call it off the async runtime.
pub fn release_free_memory() {
    // SAFETY: malloc_trim only releases memory malloc holds free; 0 keeps no pad.
    unsafe {
        libc::malloc_trim(0);
    }
}
