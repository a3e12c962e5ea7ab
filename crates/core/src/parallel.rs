//! Chunk parallelism for the CPU backend's per-row and element-wise loops, deterministic by construction: the
//! work is cut into fixed chunks of rows or elements whatever the thread count, each chunk's result is computed
//! by one thread in a fixed order, and the results come back in chunk order (on rayon's worker pool). So the
//! same input gives the same bits on a machine with 1, 2 or 64 cores (the engine's "same seed, same result"
//! rule). wasm32 runs sequentially. Each chunk runs compiled for the process's SIMD path
//! (`crate::simd::vectorized`): pass an `#[inline(always)]` closure and its loops are vectorised as wide as the
//! machine allows.

/// Below this many elements of work, handing chunks to other threads costs more than it saves: the loops run
/// on the calling thread.
const POOL_MIN_WORK: usize = 65_536;

/// Elements a chunk of an element-wise loop holds (`map_elements`, `map_zip`, and the row chunks of the layers'
/// and normalisation's loops): big enough that handing one to a worker is cheap beside it, small enough that two
/// cores share a 1,024 × 256 activation evenly.
pub const CHUNK_ELEMENTS: usize = 16_384;

/// Calls `f(first_row, rows)` on consecutive chunks of `chunk_rows` rows of `data` (row length `row_len`)
/// and returns the results in chunk order. Chunks run on the worker pool when there is enough work.
pub fn map_row_chunks<T, R, F>(data: &mut [T], row_len: usize, chunk_rows: usize, f: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(usize, &mut [T]) -> R + Sync,
{
    map_row_chunks_weighted(data, row_len, chunk_rows, data.len(), f)
}

/// As `map_row_chunks`, for work not proportional to `data`'s size (e.g. a quantile per row of a matrix that is
/// not `data`): `work` is the number of elements the whole call touches.
pub fn map_row_chunks_weighted<T, R, F>(data: &mut [T], row_len: usize, chunk_rows: usize, work: usize, f: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(usize, &mut [T]) -> R + Sync,
{
    let chunk_len = (row_len * chunk_rows).max(1);
    let chunk = |first: usize, rows: &mut [T]| {
        crate::simd::vectorized(
            #[inline(always)]
            || f(first, rows),
        )
    };
    #[cfg(not(target_arch = "wasm32"))]
    if thread_count() > 1 && work >= POOL_MIN_WORK {
        use rayon::prelude::*;
        // Indexed, so `collect` keeps chunk order whichever thread ran which chunk.
        return data.par_chunks_mut(chunk_len).enumerate().map(|(c, s)| chunk(c * chunk_rows, s)).collect();
    }
    let _ = work; // wasm32: one thread, whatever the work
    data.chunks_mut(chunk_len).enumerate().map(|(c, s)| chunk(c * chunk_rows, s)).collect()
}

/// `out[i] = f(a[i])` into a new vector, in fixed chunks on the worker pool when there is enough work (the same
/// threshold as the row chunks'): element-wise, so the bits do not depend on the thread count.
pub fn map_elements<T, R>(a: &[T], f: impl Fn(T) -> R + Sync) -> Vec<R>
where
    T: Copy + Sync,
    R: Send,
{
    map_zip(a, a, |x, _| f(x))
}

/// `out[i] = f(a[i], b[i])` into a new vector, as `map_elements`. The output is written once, never zeroed first.
pub fn map_zip<T, U, R>(a: &[T], b: &[U], f: impl Fn(T, U) -> R + Sync) -> Vec<R>
where
    T: Copy + Sync,
    U: Copy + Sync,
    R: Send,
{
    assert_eq!(a.len(), b.len(), "map_zip: the slices differ in length");
    let len = a.len();
    let mut out: Vec<R> = Vec::with_capacity(len);
    let chunk = |first: usize, dst: &mut [std::mem::MaybeUninit<R>]| {
        crate::simd::vectorized(
            #[inline(always)]
            || {
                let end = first + dst.len();
                for ((o, &x), &y) in dst.iter_mut().zip(&a[first..end]).zip(&b[first..end]) {
                    o.write(f(x, y));
                }
            },
        )
    };
    let dst = &mut out.spare_capacity_mut()[..len];
    // wasm32 has one thread (and no rayon): never the pool there, so the branch that writes `dst` always runs.
    if cfg!(not(target_arch = "wasm32")) && thread_count() > 1 && len >= POOL_MIN_WORK {
        #[cfg(not(target_arch = "wasm32"))]
        {
            use rayon::prelude::*;
            dst.par_chunks_mut(CHUNK_ELEMENTS).enumerate().for_each(|(c, d)| chunk(c * CHUNK_ELEMENTS, d));
        }
    } else {
        dst.chunks_mut(CHUNK_ELEMENTS).enumerate().for_each(|(c, d)| chunk(c * CHUNK_ELEMENTS, d));
    }
    // SAFETY: the chunks above cover `dst`, the first `len` elements of `out`'s capacity, and every element of
    // each chunk was written (`o.write`) before this line; a panic in `f` unwinds past it with `out` still empty.
    unsafe { out.set_len(len) };
    out
}

/// A raw pointer that may cross into the worker threads of one parallel loop whose iterations write disjoint
/// parts of one allocation (a product's blocks of C, `Matrix::add_transpose_in_place`'s pairs of tiles).
#[derive(Clone, Copy)]
pub(crate) struct SharedPtr<T>(pub(crate) *mut T);
// SAFETY: each user shows that what its iterations write through the pointer is disjoint, and the loop joins
// every worker before the borrow the pointer comes from ends.
unsafe impl<T> Send for SharedPtr<T> {}
unsafe impl<T> Sync for SharedPtr<T> {}

impl<T> SharedPtr<T> {
    /// Through a method, so a closure captures the whole (Send) wrapper, not its raw-pointer field.
    pub(crate) fn get(self) -> *mut T {
        self.0
    }
}

/// Runs `f(i)` for i in 0..n, on the worker pool when there is more than one thread; returns when all are done.
pub fn for_each_index(n: usize, f: impl Fn(usize) + Sync + Send) {
    #[cfg(not(target_arch = "wasm32"))]
    if thread_count() > 1 {
        use rayon::prelude::*;
        (0..n).into_par_iter().for_each(f);
        return;
    }
    (0..n).for_each(f);
}

/// As `for_each_index`, on the calling thread alone when the whole loop touches fewer than `POOL_MIN_WORK`
/// elements (`work`).
pub fn for_each_index_weighted(n: usize, work: usize, f: impl Fn(usize) + Sync + Send) {
    if work >= POOL_MIN_WORK { for_each_index(n, f) } else { (0..n).for_each(f) }
}

/// Builds the worker pool (rayon's global one: `RAYON_NUM_THREADS` threads, or one per core) with the calling
/// thread as one of its workers; call it first thing in `main`. A parallel loop started from a thread outside
/// the pool hands the whole loop to the workers and sleeps until they are done: every loop then wakes a worker
/// and, at its end, the caller — tens of microseconds each on a VM, where a T1 step is under a millisecond
/// (docs/benchmarks.md, 2026-12-04 evening). Started from a worker, a loop's chunks run on this thread and
/// are stolen by the others. Changes nothing when the pool was already built (the loops still run, from
/// outside it).
#[cfg(not(target_arch = "wasm32"))]
pub fn start_pool_on_this_thread() {
    let _ = rayon::ThreadPoolBuilder::new().use_current_thread().build_global();
}

/// Threads the CPU backend may use (the worker pool's size; 1 on wasm32).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn thread_count() -> usize {
    rayon::current_num_threads()
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn thread_count() -> usize {
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_chunk_order_and_every_row_is_visited_once() {
        let rows = 1000;
        let mut data: Vec<u32> = vec![0; rows * 100];
        let sums = map_row_chunks(&mut data, 100, 64, |first, chunk| {
            chunk.iter_mut().for_each(|v| *v += 1);
            first
        });
        assert_eq!(sums, (0..rows).step_by(64).collect::<Vec<_>>());
        assert!(data.iter().all(|&v| v == 1));
    }

    /// Every element is mapped once, into its own place in the output, on one thread or on the pool (sizes
    /// below, at and across the chunk and the pool's threshold).
    #[test]
    fn element_maps_visit_every_element_once_in_place() {
        for len in [0, 1, 5, CHUNK_ELEMENTS - 1, CHUNK_ELEMENTS + 3, POOL_MIN_WORK, 200_003] {
            let a: Vec<u64> = (0..len as u64).collect();
            let b: Vec<u64> = (0..len as u64).map(|i| i * i).collect();
            let want: Vec<u64> = a.iter().zip(&b).map(|(x, y)| 3 * x + y).collect();
            assert_eq!(map_zip(&a, &b, |x, y| 3 * x + y), want, "map_zip, {len} elements");
            assert_eq!(map_elements(&a, |x| x + 7), a.iter().map(|x| x + 7).collect::<Vec<_>>(), "{len} elements");
        }
    }
}
