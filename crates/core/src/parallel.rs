//! Row-chunk parallelism for the CPU backend's per-row loops, deterministic by construction: the work is cut
//! into fixed chunks of rows whatever the thread count, each chunk's result is computed by one thread in a
//! fixed order, and the results come back in chunk order. So the same input gives the same bits on a
//! machine with 1, 2 or 64 cores (the engine's "same seed, same result" rule). wasm32 runs sequentially.

/// Calls `f(first_row, rows)` on consecutive chunks of `chunk_rows` rows of `data` (row length `row_len`)
/// and returns the results in chunk order. Chunks run on scoped threads when there is enough work.
pub fn map_row_chunks<T, R, F>(data: &mut [T], row_len: usize, chunk_rows: usize, f: F) -> Vec<R>
where
    T: Send,
    R: Send + Default + Clone,
    F: Fn(usize, &mut [T]) -> R + Sync,
{
    let chunk_len = (row_len * chunk_rows).max(1);
    let chunks: Vec<(usize, &mut [T])> =
        data.chunks_mut(chunk_len).enumerate().map(|(c, s)| (c * chunk_rows, s)).collect();
    let threads = thread_count().min(chunks.len());
    // Below ~64k elements the thread start-up costs more than it saves.
    if threads <= 1 || data_len_of(&chunks) < 65_536 {
        return chunks.into_iter().map(|(r, s)| f(r, s)).collect();
    }
    let mut results = vec![R::default(); chunks.len()];
    let per_thread = chunks.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let mut chunks = chunks.into_iter();
        let mut outs = results.chunks_mut(per_thread);
        let f = &f;
        loop {
            let group: Vec<(usize, &mut [T])> = chunks.by_ref().take(per_thread).collect();
            let Some(out) = outs.next() else { break };
            if group.is_empty() {
                break;
            }
            scope.spawn(move || {
                for ((r, s), o) in group.into_iter().zip(out.iter_mut()) {
                    *o = f(r, s);
                }
            });
        }
    });
    results
}

fn data_len_of<T>(chunks: &[(usize, &mut [T])]) -> usize {
    chunks.iter().map(|(_, s)| s.len()).sum()
}

/// Threads the CPU backend may use (at most 8; 1 on wasm32).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn thread_count() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8)
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
}
