//! The GPU backend's tensor: a row-major f32 matrix in a pooled storage buffer. Clones share the buffer.

use std::sync::Arc;

use crate::pool::PooledBuffer;

#[derive(Clone)]
pub struct GpuTensor {
    pub rows: usize,
    pub cols: usize,
    pub(crate) buf: Arc<PooledBuffer>,
}

impl GpuTensor {
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn buffer(&self) -> &wgpu::Buffer {
        self.buf.buffer()
    }

    /// Bytes of data (rows·cols·4), which may be less than the buffer's capacity.
    pub fn bytes(&self) -> u64 {
        self.len() as u64 * 4
    }
}

impl std::fmt::Debug for GpuTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GpuTensor({}×{})", self.rows, self.cols)
    }
}
