//! Buffers from a pool keyed by (usage, size). A buffer whose last handle is dropped goes to a "released"
//! list; it becomes reusable only when the pending command buffer that may still use it has been submitted
//! (`recycle`). That matters because `Queue::write_buffer` (uploads, kernel parameters) runs before the
//! command buffer it precedes: writing into a buffer the pending commands still read would be a race.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

/// What a pooled buffer is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Usage {
    /// Tensors and kernel scratch: STORAGE | COPY_SRC | COPY_DST.
    Storage,
    /// Kernel parameter structs: UNIFORM | COPY_DST.
    Uniform,
}

impl Usage {
    fn flags(self) -> wgpu::BufferUsages {
        match self {
            Usage::Storage => wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            Usage::Uniform => wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        }
    }
}

#[derive(Default)]
struct Lists {
    free: HashMap<(Usage, u64), Vec<wgpu::Buffer>>,
    released: Vec<(Usage, u64, wgpu::Buffer)>,
    /// Bytes held by the pool's buffers (live and free), for diagnostics.
    allocated: u64,
}

/// The pool. Cheap to clone (a shared handle).
#[derive(Clone, Default)]
pub struct BufferPool {
    lists: Arc<Mutex<Lists>>,
}

/// A pooled buffer: returns itself to the pool when the last handle (an `Arc<PooledBuffer>`) drops.
pub struct PooledBuffer {
    buffer: wgpu::Buffer,
    usage: Usage,
    size: u64,
    pool: Weak<Mutex<Lists>>,
}

impl PooledBuffer {
    pub fn buffer(&self) -> &wgpu::Buffer {
        &self.buffer
    }

    /// Capacity in bytes (at least what was asked for).
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        if let Some(lists) = self.pool.upgrade()
            && let Ok(mut lists) = lists.lock()
        {
            lists.released.push((self.usage, self.size, self.buffer.clone()));
        }
    }
}

/// Sizes are rounded up to 16 bytes (the uniform alignment; also never zero, which wgpu rejects).
fn round_size(bytes: u64) -> u64 {
    bytes.max(16).div_ceil(16) * 16
}

impl BufferPool {
    /// A buffer of at least `bytes` bytes; its contents are undefined.
    pub fn take(&self, device: &wgpu::Device, usage: Usage, bytes: u64) -> Arc<PooledBuffer> {
        let size = round_size(bytes);
        let mut lists = self.lists.lock().expect("buffer pool lock");
        let buffer = match lists.free.get_mut(&(usage, size)).and_then(Vec::pop) {
            Some(b) => b,
            None => {
                lists.allocated += size;
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("spherelab pooled"),
                    size,
                    usage: usage.flags(),
                    mapped_at_creation: false,
                })
            }
        };
        // On wasm32 wgpu's handles are neither Send nor Sync (the browser's GPU objects live on one thread);
        // Arc keeps the tensor shareable across threads on native.
        #[allow(clippy::arc_with_non_send_sync)]
        Arc::new(PooledBuffer { buffer, usage, size, pool: Arc::downgrade(&self.lists) })
    }

    /// Makes the buffers released so far reusable: call right after submitting the commands that used them.
    pub fn recycle(&self) {
        let mut lists = self.lists.lock().expect("buffer pool lock");
        let released = std::mem::take(&mut lists.released);
        for (usage, size, buffer) in released {
            lists.free.entry((usage, size)).or_default().push(buffer);
        }
    }

    /// Bytes allocated by the pool so far.
    pub fn allocated_bytes(&self) -> u64 {
        self.lists.lock().map(|l| l.allocated).unwrap_or(0)
    }
}
