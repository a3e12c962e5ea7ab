//! The view snapshots: what the views draw, refreshed from the run within the frame budget (the embeddings of
//! every sample, the last batch and the selection's marks, the 2-D projections, the angular density, the model
//! on the heat grid, the hovered sample's augmented views), and the theory tab's numbers.

use spherelab_core::analysis::density::{self, angular_density};
use spherelab_core::analysis::projection::Pca2;
use spherelab_core::data::InputKind;
use spherelab_core::trainer::{BatchInspection, Embeddings};

use super::{Lab, Notice};
use crate::regions::ProbeRegions;
use crate::theory_view::TheoryView;

/// The similarity view shows at most this many samples of the batch (2× as many views), so it stays legible.
pub const SIMILARITY_SAMPLES: usize = 64;

/// Cosine similarities of the views of the batch's first `samples` samples (their view 1, then view 2): what the
/// similarity view colours.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchSimilarity {
    /// Samples shown, and the batch's N.
    pub samples: usize,
    pub n: usize,
    /// 2·samples × 2·samples.
    pub s: spherelab_core::Matrix<f32>,
}

impl BatchSimilarity {
    fn of(batch: &BatchInspection) -> Self {
        let n = batch.indices.len();
        let samples = n.min(SIMILARITY_SAMPLES);
        let views: Vec<usize> = (0..samples).chain(n..n + samples).collect();
        let zn = batch.z.normalized_rows();
        let m = views.len();
        let mut s = spherelab_core::Matrix::zeros(m, m);
        for (r, &a) in views.iter().enumerate() {
            for (c, &b) in views.iter().enumerate() {
                s.data[r * m + c] = zn.row(a).iter().zip(zn.row(b)).map(|(x, y)| x * y).sum();
            }
        }
        Self { samples, n, s }
    }

    /// s between batch views a and b (each one of the shown views: < samples, or in n..n + samples).
    pub fn at(&self, a: usize, b: usize) -> f32 {
        let row = |v: usize| if v < self.n { v } else { self.samples + v - self.n };
        self.s.at(row(a), row(b))
    }
}

/// What the views draw.
pub struct Views {
    /// The last batch's similarities, for the similarity view.
    pub batch_similarity: Option<BatchSimilarity>,
    /// The hardness view's read-out of the anchor (`anchor`, or view 0) at τ and at `hardness_compare`·τ.
    pub hardness: Option<spherelab_core::metrics::AnchorHardness>,
    /// The hardness view's second temperature, as a factor of τ.
    pub hardness_compare: f32,
    pub snapshot: Option<Embeddings>,
    /// The embedding view's 2-D projection of the snapshot's z when it has more than three dimensions, fitted
    /// with each snapshot (inside the frame's budget, not while drawing).
    pub z_projection: Option<Pca2>,
    /// Each class's density of angles around the circle (analysis::density) when the snapshot's z has two
    /// dimensions, computed with each snapshot for the embedding view to draw.
    pub z_density: Option<Vec<Vec<f32>>>,
    /// The input plane's 2-D projection of the data when it has more than two dimensions (the digits),
    /// fitted when the run (re)starts.
    pub data_projection: Option<Pca2>,
    /// The grid the input plane asked for, and the model on it (refreshed with the snapshot, so its cost is
    /// counted in the frame's budget like the snapshot's).
    pub heat_grid: Option<HeatGrid>,
    pub heat: Option<HeatValues>,
    /// The linear probe's regions over the heat grid, refitted a piece a frame while the input plane shows them.
    pub probe_regions: ProbeRegions,
    pub batch: Option<BatchInspection>,
    /// Samples the selection singles out in the last batch: the hardest flagged partner of some anchor.
    pub selection_marked: Vec<usize>,
    pub hovered: Option<usize>,
    pub hover_views: Option<HoverViews>,
    pub anchor: Option<usize>,
    /// The theory tab's numbers, computed when its sliders change.
    pub theory: TheoryView,
}

/// The augmented views of the hovered sample, in input space and embedded.
#[derive(Clone, Debug, PartialEq)]
pub struct HoverViews {
    pub sample: usize,
    /// Input rows of the views (views × dim).
    pub x: Vec<Vec<f32>>,
    /// The model's output for each view.
    pub z: Vec<Vec<f32>>,
}

/// A regular grid over (part of) the input plane: `res` × `res` cell centres between `min` and `max`,
/// row 0 at the top (largest y), as an image is stored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeatGrid {
    pub min: [f32; 2],
    pub max: [f32; 2],
    pub res: usize,
}

impl HeatGrid {
    /// The cell centres, row by row (res² × 2, row-major).
    pub fn points(&self) -> Vec<f32> {
        let g = self.res;
        let mut grid = Vec::with_capacity(g * g * 2);
        for row in 0..g {
            for col in 0..g {
                let x = self.min[0] + (col as f32 + 0.5) / g as f32 * (self.max[0] - self.min[0]);
                let y = self.max[1] - (row as f32 + 0.5) / g as f32 * (self.max[1] - self.min[1]);
                grid.extend_from_slice(&[x, y]);
            }
        }
        grid
    }
}

/// The model on a `HeatGrid`, at the snapshot's step.
#[derive(Clone, Debug, PartialEq)]
pub struct HeatValues {
    pub step: usize,
    pub grid: HeatGrid,
    /// Features h and outputs z of every cell centre (res² rows).
    pub h: spherelab_core::Matrix<f32>,
    pub z: spherelab_core::Matrix<f32>,
}

/// Samples the selection singles out in a batch. For each anchor, the partner of its most similar flagged
/// pair is the hardest negative the selection found for it; a sample that is that hardest partner for
/// several anchors sits where the classes meet. Returns those samples (at most about a sixth of the batch).
pub fn selection_marks(batch: &BatchInspection) -> Vec<usize> {
    let Some(flags) = &batch.flags else { return Vec::new() };
    let n = batch.indices.len();
    let hn = batch.h.normalized_rows();
    let mut count = vec![0usize; n];
    for i in 0..flags.rows {
        let mut best: Option<(f32, usize)> = None;
        for k in 0..flags.cols {
            if !flags.get(i, k) {
                continue;
            }
            // Rows of h are views; the cross-view layout (spectral) pairs view-1 row i with view-2 row k.
            let (ri, rk) = if flags.cols == n { (i, k + n) } else { (i, k) };
            if ri >= hn.rows || rk >= hn.rows {
                continue;
            }
            let s: f32 = hn.row(ri).iter().zip(hn.row(rk)).map(|(a, b)| a * b).sum();
            if best.is_none_or(|(b, _)| s > b) {
                best = Some((s, rk % n));
            }
        }
        if let Some((_, k)) = best {
            count[k] += 1;
        }
    }
    let mut order: Vec<usize> = (0..n).filter(|&k| count[k] >= 2).collect();
    order.sort_by_key(|&k| std::cmp::Reverse(count[k]));
    order.truncate((n / 6).max(1));
    order.into_iter().map(|k| batch.indices[k]).collect()
}

impl Lab {
    /// Re-reads the embeddings of every sample, the last batch and the selection's marks from the run.
    pub fn refresh_snapshot(&mut self) {
        self.schedule.steps_since_snapshot = 0;
        let Some(session) = self.session.as_deref() else { return };
        if self.diverged.is_some() {
            return;
        }
        let emb = session.embeddings();
        if emb.z.data.iter().any(|v| !v.is_finite()) {
            self.schedule.playing = false;
            self.diverged = Some(
                "The embeddings contain NaN or infinite values: training diverged. The learning rate is probably \
                 too high (or the temperature too low); lower it and press Reset."
                    .into(),
            );
            return;
        }
        self.views.z_projection = (emb.z.cols > 3).then(|| Pca2::fit(&emb.z.data, emb.z.cols));
        self.views.z_density = (emb.z.cols == 2).then(|| {
            let data = session.data();
            angular_density(&emb.z, &data.labels, data.classes, density::DEFAULT_BANDWIDTH)
        });
        self.views.snapshot = Some(emb);
        self.views.batch = session.inspect_batch();
        self.views.selection_marked = self.views.batch.as_ref().map(selection_marks).unwrap_or_default();
        self.views.batch_similarity = self.views.batch.as_ref().map(BatchSimilarity::of);
        self.refresh_hardness();
        self.refresh_hover_views();
        self.refresh_heat();
    }

    /// Runs the model on the heat map's grid (2-D data only).
    pub(super) fn refresh_heat(&mut self) {
        self.views.heat = None;
        let (Some(grid), Some(session)) = (self.views.heat_grid, self.session.as_deref()) else { return };
        let data = session.data();
        if data.kind != InputKind::Points || data.dim != 2 || grid.res == 0 {
            return;
        }
        let (h, z) = session.forward(&grid.points());
        self.views.heat = Some(HeatValues { step: self.views.snapshot.as_ref().map_or(0, |s| s.step), grid, h, z });
    }

    /// Recomputes the augmented views of the hovered sample and where the model puts them.
    pub(super) fn refresh_hover_views(&mut self) {
        self.views.hover_views = None;
        let (Some(i), Some(session)) = (self.views.hovered, self.session.as_deref()) else { return };
        let data = session.data();
        if i >= data.len() {
            return;
        }
        let cfg = session.config();
        // A fixed stream per sample, so the views of a hovered point do not flicker between frames.
        let mut rng = spherelab_core::rng::rng(cfg.seed ^ ((i as u64) << 20), spherelab_core::rng::stream::TEST + 1);
        let mut x_rows = Vec::new();
        let mut flat = Vec::new();
        for _ in 0..4 {
            let v = spherelab_core::data::make_views(data, &[i], &cfg.augment, &mut rng);
            for row in v.chunks(data.dim) {
                x_rows.push(row.to_vec());
                flat.extend_from_slice(row);
            }
        }
        let (_, z) = session.forward(&flat);
        let z_rows = (0..z.rows).map(|r| z.row(r).to_vec()).collect();
        self.views.hover_views = Some(HoverViews { sample: i, x: x_rows, z: z_rows });
    }

    /// Fills the theory's α, β, γ estimate from the snapshot and says what could not be estimated.
    pub(super) fn estimate_theory(&mut self) {
        let (Some(session), Some(snap)) = (self.session.as_deref(), self.views.snapshot.as_ref()) else { return };
        let e = self.views.theory.estimate_from(session, snap);
        let missing: Vec<&str> = [
            (e.alpha.is_none(), "α"),
            (e.beta.is_none(), "β"),
            (e.gamma.is_none(), "γ (no difficult training samples: raise ω)"),
        ]
        .into_iter()
        .filter_map(|(m, name)| m.then_some(name))
        .collect();
        self.notify(if missing.is_empty() {
            Notice::info("Filled in α, β, γ from the run's training features h.")
        } else {
            Notice::warning(format!("Could not estimate {}.", missing.join(", ")))
        });
    }

    /// The hardness view's anchor read-out from the last batch (the picked anchor, or view 0).
    pub(super) fn refresh_hardness(&mut self) {
        self.views.hardness = None;
        let (Some(batch), Some(session)) = (self.views.batch.as_ref(), self.session.as_deref()) else { return };
        let n = batch.indices.len();
        if n == 0 {
            return;
        }
        let anchor = self.views.anchor.filter(|&a| a < 2 * n).unwrap_or(0);
        let labels = &session.data().labels;
        let class = |v: usize| labels[batch.indices[v % n]];
        let tau = session.config().loss.tau;
        self.views.hardness = Some(spherelab_core::metrics::anchor_hardness(
            &batch.z,
            anchor,
            tau,
            tau * self.views.hardness_compare,
            |k| class(k) == class(anchor),
        ));
    }
}
