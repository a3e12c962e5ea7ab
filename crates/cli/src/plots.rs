//! PNG plots of a finished run: loss, alignment, uniformity and accuracy over steps, and the final
//! embedding. Drawn with plotters' bitmap backend; text uses the DejaVu Sans font shipped in
//! crates/cli/assets, registered once, so plots render the same on a bare machine with no fonts.

use std::path::Path;
use std::sync::Once;

use anyhow::{Result, anyhow};
use nalgebra::{DMatrix, SymmetricEigen};
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::train::RunResult;

const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
pub(crate) const FAMILY: &str = "sans-serif";

/// Tableau's 10 categorical colours: distinguishable, and they print well.
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

pub(crate) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is compiled in; it parses or the build is broken, which the tests catch.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

pub(crate) fn plot_err(path: &Path, e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("{}: cannot draw the plot: {e}", path.display())
}

/// (min, max) of the finite values, padded by 5 % (and widened when flat) so lines never sit on the frame.
pub(crate) fn padded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if hi > lo { 0.05 * (hi - lo) } else { 0.5 * lo.abs().max(1e-3) };
    (lo - pad, hi + pad)
}

/// One curve to draw: its legend label, colour, and (x, y) points.
struct Curve {
    label: String,
    color: RGBColor,
    width: u32,
    points: Vec<(f64, f64)>,
}

/// A line chart of `curves` over steps, saved to `path`.
fn line_chart(
    path: &Path,
    title: &str,
    y_desc: &str,
    y_range: Option<(f64, f64)>,
    legend_at: SeriesLabelPosition,
    curves: &[Curve],
) -> Result<()> {
    register_font();
    let root = BitMapBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let (x0, x1) = padded_range(curves.iter().flat_map(|c| c.points.iter().map(|p| p.0)));
    let (y0, y1) = y_range.unwrap_or_else(|| padded_range(curves.iter().flat_map(|c| c.points.iter().map(|p| p.1))));
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FAMILY, 22))
        .margin(14)
        .x_label_area_size(42)
        .y_label_area_size(64)
        .build_cartesian_2d(x0.max(0.0)..x1, y0..y1)
        .map_err(|e| plot_err(path, e))?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc(y_desc)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .label_style((FAMILY, 14))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(|e| plot_err(path, e))?;
    for c in curves {
        let pts: Vec<(f64, f64)> = c.points.iter().copied().filter(|p| p.1.is_finite()).collect();
        let color = c.color;
        let style = color.stroke_width(c.width);
        chart
            .draw_series(LineSeries::new(pts, style))
            .map_err(|e| plot_err(path, e))?
            .label(c.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    if curves.len() > 1 {
        chart
            .configure_series_labels()
            .label_font((FAMILY, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(legend_at)
            .draw()
            .map_err(|e| plot_err(path, e))?;
    }
    root.present().map_err(|e| plot_err(path, e))?;
    Ok(())
}

fn metric_curve(
    r: &RunResult,
    label: &str,
    color: RGBColor,
    f: impl Fn(&spherelab_core::trainer::MetricRecord) -> f64,
) -> Curve {
    Curve {
        label: label.into(),
        color,
        width: 2,
        points: r.history.metrics.iter().map(|m| (m.step as f64, f(m))).collect(),
    }
}

pub fn write_all(dir: &Path, r: &RunResult) -> Result<()> {
    let name = &r.data.name;
    let loss = r.config.loss.kind.name();
    let per_step = Curve {
        label: "every step".into(),
        color: RGBColor(150, 180, 220),
        width: 1,
        points: r.history.steps.iter().map(|s| (s.step as f64, s.loss as f64)).collect(),
    };
    let mean = metric_curve(r, "mean since last evaluation", PALETTE[0], |m| m.loss as f64);
    line_chart(
        &dir.join("loss.png"),
        &format!("{loss} loss on {name}"),
        "training loss",
        None,
        SeriesLabelPosition::UpperRight,
        &[per_step, mean],
    )?;
    line_chart(
        &dir.join("alignment.png"),
        "alignment on held-out views: mean ‖z1 − z2‖² (lower = positives closer)",
        "alignment",
        None,
        SeriesLabelPosition::UpperRight,
        &[metric_curve(r, "alignment", PALETTE[1], |m| m.alignment)],
    )?;
    line_chart(
        &dir.join("uniformity.png"),
        "uniformity on held-out views, t = 2 (lower = more spread out)",
        "uniformity",
        None,
        SeriesLabelPosition::UpperRight,
        &[metric_curve(r, "uniformity", PALETTE[2], |m| m.uniformity)],
    )?;
    let chance = 1.0 / r.data.classes.max(1) as f64;
    let steps: Vec<f64> = r.history.metrics.iter().map(|m| m.step as f64).collect();
    let chance_line = Curve {
        label: format!("chance (1/{})", r.data.classes.max(1)),
        color: RGBColor(160, 160, 160),
        width: 1,
        points: [steps.first(), steps.last()].into_iter().flatten().map(|&s| (s, chance)).collect(),
    };
    line_chart(
        &dir.join("accuracy.png"),
        &format!("held-out accuracy on {name}"),
        "accuracy",
        Some((0.0, 1.02)),
        SeriesLabelPosition::LowerRight,
        &[
            metric_curve(r, "kNN (k = 5, cosine, on h)", PALETTE[3], |m| m.knn_accuracy),
            metric_curve(r, "linear probe (on h)", PALETTE[4], |m| m.probe_accuracy),
            chance_line,
        ],
    )?;
    embedding_plot(&dir.join("embedding.png"), r)
}

/// 2-D coordinates of the final embedding and a description of how they were made.
/// d = 2: z itself. d ≥ 3: z projected (not centred, so the unit sphere maps into the unit disc) onto the
/// first two principal axes of the centred embedding. d = 1: z against 0.
fn project(r: &RunResult) -> (Vec<(f64, f64)>, String) {
    let z = &r.embeddings.z;
    let d = z.cols;
    match d {
        1 => ((0..z.rows).map(|i| (z.at(i, 0) as f64, 0.0)).collect(), "d = 1".into()),
        2 => ((0..z.rows).map(|i| (z.at(i, 0) as f64, z.at(i, 1) as f64)).collect(), "d = 2".into()),
        _ => {
            let n = z.rows.max(1) as f64;
            let mean: Vec<f64> = (0..d).map(|c| (0..z.rows).map(|i| z.at(i, c) as f64).sum::<f64>() / n).collect();
            let mut cov = DMatrix::<f64>::zeros(d, d);
            for i in 0..z.rows {
                for a in 0..d {
                    let da = z.at(i, a) as f64 - mean[a];
                    for b in 0..d {
                        cov[(a, b)] += da * (z.at(i, b) as f64 - mean[b]) / n;
                    }
                }
            }
            let eig = SymmetricEigen::new(cov);
            let mut order: Vec<usize> = (0..d).collect();
            order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
            let total: f64 = eig.eigenvalues.iter().map(|v| v.max(0.0)).sum();
            let axis = |k: usize| eig.eigenvectors.column(order[k]).iter().copied().collect::<Vec<f64>>();
            let (u, v) = (axis(0), axis(1));
            let dot = |i: usize, w: &[f64]| (0..d).map(|c| z.at(i, c) as f64 * w[c]).sum::<f64>();
            let pts = (0..z.rows).map(|i| (dot(i, &u), dot(i, &v))).collect();
            let explained = if total > 0.0 {
                100.0 * (eig.eigenvalues[order[0]].max(0.0) + eig.eigenvalues[order[1]].max(0.0)) / total
            } else {
                0.0
            };
            (pts, format!("d = {d}, first two principal components ({explained:.0}% of variance)"))
        }
    }
}

fn embedding_plot(path: &Path, r: &RunResult) -> Result<()> {
    register_font();
    let (pts, how) = project(r);
    let on_sphere = r.config.model.normalize;
    let (lo, hi) = if on_sphere {
        (-1.15, 1.15)
    } else {
        let (a0, a1) = padded_range(pts.iter().map(|p| p.0));
        let (b0, b1) = padded_range(pts.iter().map(|p| p.1));
        (a0.min(b0), a1.max(b1))
    };
    let root = BitMapBackend::new(path, (760, 760)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let title = format!("final embedding, step {}: {how}", r.embeddings.step);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FAMILY, 18))
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(lo..hi, lo..hi)
        .map_err(|e| plot_err(path, e))?;
    chart
        .configure_mesh()
        .label_style((FAMILY, 13))
        // Round first so the origin reads "0.0", not "-0.0".
        .x_label_formatter(&|x| format!("{:.1}", (x * 10.0).round() / 10.0 + 0.0))
        .y_label_formatter(&|y| format!("{:.1}", (y * 10.0).round() / 10.0 + 0.0))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(|e| plot_err(path, e))?;
    if on_sphere {
        let circle = (0..=360).map(|k| {
            let t = (k as f64).to_radians();
            (t.cos(), t.sin())
        });
        chart.draw_series(LineSeries::new(circle, RGBColor(120, 120, 120))).map_err(|e| plot_err(path, e))?;
    }
    let classes = r.data.classes.max(1);
    for c in 0..classes {
        let color = PALETTE[c % PALETTE.len()];
        let mine = pts.iter().enumerate().filter(|(i, _)| r.data.labels[*i] == c);
        chart
            .draw_series(mine.map(|(_, &p)| Circle::new(p, 3, color.mix(0.8).filled())))
            .map_err(|e| plot_err(path, e))?
            .label(if r.data.has_labels { format!("class {c}") } else { "sample".into() })
            .legend(move |(x, y)| Circle::new((x + 8, y), 4, color.filled()));
    }
    let difficult: Vec<(f64, f64)> =
        pts.iter().enumerate().filter(|(i, _)| r.data.difficult(*i)).map(|(_, &p)| p).collect();
    if !difficult.is_empty() {
        chart
            .draw_series(difficult.iter().map(|&p| Circle::new(p, 6, BLACK.stroke_width(1))))
            .map_err(|e| plot_err(path, e))?
            .label("difficult (ringed)")
            .legend(|(x, y)| Circle::new((x + 8, y), 6, BLACK.stroke_width(1)));
    }
    chart
        .configure_series_labels()
        .label_font((FAMILY, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| plot_err(path, e))?;
    root.present().map_err(|e| plot_err(path, e))?;
    Ok(())
}
