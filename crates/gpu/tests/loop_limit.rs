//! Shapes that make one kernel invocation loop long: Mesa's llvmpipe (lavapipe, the GPU of CI) ends every
//! loop of a shader after 65,535 iterations in all (gallivm's LP_MAX_TGSI_LOOP_ITERATIONS, one counter shared
//! by all the shader's loops) and carries on with whatever was accumulated — the cause of issue 15
//! (docs/gpu-large-batch.md). Each case here would pass that count with the kernels' plain launch and is held
//! to the ops' plain f64 references, on random inputs, so a kernel that loops past the limit fails here on lavapipe.

mod common;

use common::{both, check, check_loss, gpu, loss_params, random};
use spherelab_core::backend::{Backend, PairLayout};
use spherelab_core::config::{Activation, LossKind, PairMode};
use spherelab_core::ops::{activation, linear, selection};
use spherelab_core::rng::{rng, stream};
use spherelab_core::tolerance::{GRAD, VALUE};

/// InfoNCE and the spectral loss on 512 views × 2,048 dimensions: 32 column tiles of 128 dimension tiles
/// each, ~70,000 loop iterations per invocation in one 512-column chunk (before the loop budget, lavapipe
/// returned a loss of 4.06 for 6.24).
#[test]
fn pairwise_losses_on_wide_embeddings() {
    let gpu = gpu();
    let mut r = rng(30, stream::TEST);
    for kind in [LossKind::Infonce, LossKind::Spectral] {
        check_loss(&gpu, &mut r, &loss_params(kind, PairMode::None), 512, 2048, common::PairCase::None);
        gpu.end_step();
    }
}

/// A linear layer of 16,384 inputs (the widest a config accepts), forward and backward.
#[test]
fn linear_layer_with_the_widest_input() {
    let gpu = gpu();
    let mut r = rng(31, stream::TEST);
    let (rows, fi, fo) = (20, 16_384, 20);
    let x = both(&gpu, rows, fi, &random(&mut r, rows, fi));
    let w = both(&gpu, fi, fo, &random(&mut r, fi, fo));
    let b = both(&gpu, 1, fo, &random(&mut r, 1, fo));
    let got = gpu.linear_forward(&x.b, &w.b, &b.b, Activation::Relu);
    let pre = linear::reference::forward(&x.r, &w.r, &b.r);
    check(&gpu, "linear_forward 20×16384→20 pre", &got.pre, &pre, VALUE);
    check(
        &gpu,
        "linear_forward 20×16384→20 out",
        &got.out,
        &activation::reference::forward(&pre, Activation::Relu),
        VALUE,
    );
    let d = both(&gpu, rows, fo, &random(&mut r, rows, fo));
    let got = gpu.linear_backward(&x.b, &w.b, &d.b, true);
    let (dx, dw, _) = linear::reference::backward(&x.r, &w.r, &d.r);
    check(&gpu, "linear_backward 20×16384→20 dW", &got.dw, &dw, GRAD);
    check(&gpu, "linear_backward 20×16384→20 dx", got.dx.as_ref().unwrap(), &dx, GRAD);
}

/// Selection thresholds from representations of 2,048 dimensions (the selection kernel's dot products run over
/// all of h for every column, four times: ~26,700 loop iterations per invocation, within llvmpipe's budget),
/// against the reference; and 16,384 dimensions (~131,000), which an adapter with a loop limit refuses before
/// a run starts (before the check, lavapipe computed thresholds off by 0.015) and any other computes right.
#[test]
fn selection_thresholds_from_wide_representations() {
    let gpu = gpu();
    let mut r = rng(32, stream::TEST);
    for dh in [2048, 16_384] {
        let rows = 512;
        if gpu.context().loop_limit.is_some() && dh == 16_384 {
            let e = gpu.check_loss_size(LossKind::Infonce, rows, 2, dh).unwrap_err().to_string();
            assert!(e.contains("selection") && e.contains("65,535"), "{e}");
            continue;
        }
        gpu.check_loss_size(LossKind::Infonce, rows, 2, dh).unwrap();
        let h = both(&gpu, rows, dh, &random(&mut r, rows, dh));
        let got = gpu.select_thresholds(&h.b, PairLayout::AllViews, 0.2, 0.7);
        let want = selection::thresholds(&h.r, PairLayout::AllViews, 0.2, 0.7);
        let (g, w) = (gpu.download_f64(&got), want.data.clone());
        let worst = g.iter().zip(&w).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-5, "selection thresholds {rows} × {dh}: worst difference {worst:.3e}");
    }
}
