//! Runs one WGSL compute kernel (docs/repro/*.wgsl) on the first adapter and compares it with f64 on the host:
//! `out = (Z Zᵀ) Z`, or every row the column sums of Z for a kernel whose first line is
//! `// reference: colsum`. The standalone reproducer of issue 15's driver fault (llvmpipe's loop limit,
//! docs/gpu-large-batch.md), with nothing of spherelab in it (wgpu, pollster, bytemuck only).
//!
//! `cargo run -p spherelab-gpu --release --example wgsl_repro -- docs/repro/loop-limit.wgsl 7168 128
//! [checked|unchecked]` — rows, d, and whether naga bounds every loop (`checked`, wgpu's default) or not.

use wgpu::util::DeviceExt;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: wgsl_repro KERNEL.wgsl ROWS D [checked|unchecked]");
        std::process::exit(2);
    }
    let source = std::fs::read_to_string(&args[1]).unwrap_or_else(|e| {
        eprintln!("error: cannot read {}: {e}", args[1]);
        std::process::exit(2)
    });
    let rows: u32 = args[2].parse().expect("ROWS is a whole number");
    let d: u32 = args[3].parse().expect("D is a whole number");
    let checked = args.get(4).map(|s| s != "unchecked").unwrap_or(true);

    // Inputs: a fixed pseudo-random Z in [−0.5, 0.5) (xorshift, so every run and every machine sees the same).
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let z: Vec<f32> = (0..rows * d)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect();

    let (info, got) = pollster::block_on(run(&source, rows, d, &z, checked));
    // The kernel's first line names what it computes: `// reference: colsum` (every row the column sums of Z)
    // or, by default, (Z Zᵀ) Z.
    let want = if source.starts_with("// reference: colsum") {
        column_sums(&z, rows as usize, d as usize)
    } else {
        reference(&z, rows as usize, d as usize)
    };

    let d = d as usize;
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut zero_rows = Vec::new();
    let mut wrong_rows = 0;
    let mut worst = 0.0f64;
    for r in 0..rows as usize {
        let g = &got[r * d..(r + 1) * d];
        let w = &want[r * d..(r + 1) * d];
        let err = g.iter().zip(w).fold(0.0f64, |m, (&a, &b)| m.max((f64::from(a) - b).abs()));
        worst = worst.max(err);
        if g.iter().all(|&v| v == 0.0) {
            zero_rows.push(r);
        } else if err > 1e-4 * scale {
            wrong_rows += 1;
        }
    }
    println!("adapter: {} ({:?}, {:?})", info.name, info.backend, info.driver_info);
    println!("kernel {} at {rows} × {d}, loop bounding {}", args[1], if checked { "on" } else { "off" });
    println!(
        "rows exactly 0: {} of {rows}{}",
        zero_rows.len(),
        if zero_rows.is_empty() {
            String::new()
        } else {
            format!(" (first: {:?})", &zero_rows[..zero_rows.len().min(12)])
        }
    );
    println!("other rows off by more than 1e-4 of the scale: {wrong_rows}");
    println!("worst abs error {worst:.3e} (scale {scale:.3e})");
    if source.starts_with("// reference: colsum") {
        // Where a wrong row holds a partial sum Σ_{k<K} z_k, say which K: it tells how far the loop ran.
        let wrong = (0..rows as usize).find(|&r| {
            let g = &got[r * d..(r + 1) * d];
            g.iter().any(|&v| v != 0.0)
                && g.iter().zip(&want[r * d..]).any(|(&a, b)| (f64::from(a) - b).abs() > 1e-4 * scale)
        });
        if let Some(r) = wrong {
            let target = f64::from(got[r * d]);
            let mut prefix = 0.0;
            let mut best = (0, target.abs());
            for k in 0..rows as usize {
                prefix += f64::from(z[k * d]);
                if (prefix - target).abs() < best.1 {
                    best = (k + 1, (prefix - target).abs());
                }
            }
            println!(
                "first wrong row {r}: its column 0 is closest to the sum of the first {} rows (off by {:.1e})",
                best.0, best.1
            );
        }
    }
    let ok = zero_rows.is_empty() && wrong_rows == 0;
    println!("{}", if ok { "RIGHT" } else { "WRONG" });
    std::process::exit(if ok { 0 } else { 1 });
}

/// (Z Zᵀ) Z in f64, row by row.
fn reference(z: &[f32], rows: usize, d: usize) -> Vec<f64> {
    let z: Vec<f64> = z.iter().map(|&v| f64::from(v)).collect();
    let mut out = vec![0.0; rows * d];
    for i in 0..rows {
        let zi = &z[i * d..(i + 1) * d];
        for k in 0..rows {
            let zk = &z[k * d..(k + 1) * d];
            let s: f64 = zi.iter().zip(zk).map(|(a, b)| a * b).sum();
            for (o, v) in out[i * d..(i + 1) * d].iter_mut().zip(zk) {
                *o += s * v;
            }
        }
    }
    out
}

/// Every row the column sums Σ_k z_k, in f64.
fn column_sums(z: &[f32], rows: usize, d: usize) -> Vec<f64> {
    let mut sums = vec![0.0; d];
    for row in z.chunks(d) {
        for (s, &v) in sums.iter_mut().zip(row) {
            *s += f64::from(v);
        }
    }
    sums.repeat(rows)
}

async fn run(source: &str, rows: u32, d: u32, z: &[f32], checked: bool) -> (wgpu::AdapterInfo, Vec<f32>) {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
    let adapter = instance.request_adapter(&wgpu::RequestAdapterOptions::default()).await.expect("a GPU adapter");
    let (device, queue) = adapter.request_device(&wgpu::DeviceDescriptor::default()).await.expect("a device");
    let desc = wgpu::ShaderModuleDescriptor { label: Some("repro"), source: wgpu::ShaderSource::Wgsl(source.into()) };
    let module = if checked {
        device.create_shader_module(desc)
    } else {
        // SAFETY: the kernels' loops all have bounds fixed by the uniform sizes; none runs forever.
        unsafe { device.create_shader_module_trusted(desc, wgpu::ShaderRuntimeChecks::unchecked()) }
    };
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("repro"),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let params = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: None,
        contents: bytemuck::cast_slice(&[rows, d, 0, 0]),
        usage: wgpu::BufferUsages::UNIFORM,
    });
    let zbuf = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: None,
        contents: bytemuck::cast_slice(z),
        usage: wgpu::BufferUsages::STORAGE,
    });
    let bytes = u64::from(rows * d) * 4;
    let grad = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: bytes,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let staging = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: bytes,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry { binding: 0, resource: params.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 1, resource: zbuf.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 2, resource: grad.as_entire_binding() },
        ],
    });
    let mut enc = device.create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
    {
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind, &[]);
        // One workgroup per 16 rows (x) and per 128 output dimensions (y).
        pass.dispatch_workgroups(rows.div_ceil(16), d.div_ceil(128), 1);
    }
    enc.copy_buffer_to_buffer(&grad, 0, &staging, 0, bytes);
    queue.submit([enc.finish()]);
    staging.slice(..).map_async(wgpu::MapMode::Read, |r| r.expect("read back"));
    let _ = device.poll(wgpu::PollType::wait_indefinitely());
    let out = bytemuck::cast_slice::<u8, f32>(&staging.slice(..).get_mapped_range().expect("mapped")).to_vec();
    (adapter.get_info(), out)
}
