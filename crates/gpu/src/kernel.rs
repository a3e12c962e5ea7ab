//! A kernel: WGSL source + entry point + one ordered binding list, from which the bind-group layout is
//! derived (binding 0 is always the kernel's uniform parameter struct, then the storage buffers in order).

use crate::sizes;

/// How a storage binding is accessed by the shader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    ReadWrite,
}

/// Everything needed to build a kernel's pipeline. Kernels of one family (one .wgsl file) share `source`
/// and `bindings`, and differ by entry point.
#[derive(Clone, Copy, Debug)]
pub struct KernelSpec {
    /// The family's name, e.g. "matmul" (labels and the pipeline cache key).
    pub family: &'static str,
    pub source: &'static str,
    pub entry: &'static str,
    /// Storage bindings 1, 2, … in order; binding 0 is the uniform.
    pub bindings: &'static [Access],
    /// Prepend shaders/common.wgsl.
    pub common: bool,
}

/// A built compute pipeline and its bind-group layout.
pub struct Kernel {
    pub spec: KernelSpec,
    pub pipeline: wgpu::ComputePipeline,
    pub layout: wgpu::BindGroupLayout,
}

const COMMON: &str = include_str!("../../../shaders/common.wgsl");

impl Kernel {
    pub fn build(device: &wgpu::Device, spec: KernelSpec) -> Self {
        let mut source = String::new();
        if spec.common {
            source.push_str(COMMON);
            source.push('\n');
        }
        source.push_str(spec.source);
        let source = sizes::substitute(&source);
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(spec.family),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        let mut entries = vec![wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        }];
        for (i, access) in spec.bindings.iter().enumerate() {
            entries.push(wgpu::BindGroupLayoutEntry {
                binding: i as u32 + 1,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage { read_only: *access == Access::Read },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            });
        }
        let layout = device
            .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some(spec.family), entries: &entries });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(spec.family),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(spec.entry),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some(spec.entry),
            compilation_options: Default::default(),
            cache: None,
        });
        Self { spec, pipeline, layout }
    }
}
