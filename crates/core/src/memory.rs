//! How the process's allocator treats the engine's per-step buffers.
//!
//! A CPU step allocates and frees the same few dozen matrices every time (a T2 step: the 1,024 × 1,024
//! similarity matrix, activations and gradients of 1,024 rows). glibc's malloc serves blocks above its mmap
//! threshold (128 KiB at first, raised only as such blocks are freed) with fresh mappings, and gives the top of
//! the heap back to the kernel once more than its trim threshold is free there, so every step faults its
//! buffers' pages back in, one by one. On the 2-core VMs we measure on, that was a third of a T2 step's time
//! spent in the kernel (perf: page faults, munmap from brk), and the same T2 bench ran 1.5–2.6× faster with the
//! two thresholds raised (docs/benchmarks.md). The binaries call `keep_freed_memory` first thing; the library
//! never changes the allocator on its own.

/// Blocks up to 32 MiB (glibc's largest mmap threshold) come from the heap, and up to 256 MiB of free heap top
/// is kept for the next step. Blocks above 32 MiB — a 16,384-view similarity matrix — are still mapped and
/// unmapped each time (their page faults are small beside the work on them). Does nothing where the allocator is
/// not glibc's.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const MMAP_THRESHOLD: libc::c_int = 32 << 20;
        const TRIM_THRESHOLD: libc::c_int = 256 << 20;
        // SAFETY: mallopt only sets the allocator's parameters; glibc takes its own lock.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    }
}
