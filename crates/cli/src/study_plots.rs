//! The study's figures: per data set (and extra-axis values), accuracy against ω per method with 95 %
//! intervals, each method's paired difference to the baseline, and α̂ β̂ γ̂ against ω.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use plotters::prelude::*;
use spherelab_core::stats::{self, Paired};

use crate::plots::{FAMILY, PALETTE, padded_range, plot_err, register_font};
use crate::study_report::{Place, Row};

/// A figure per data set and extra-axis values.
type PanelKey = (String, Vec<(String, String)>);

/// One number of a run.
type RowValue = dyn Fn(&Row) -> Option<f64>;

/// One series of points with intervals: (x, mean, lo, hi).
struct Series {
    label: String,
    color: RGBColor,
    points: Vec<(f64, f64, f64, f64)>,
    dashed: bool,
}

/// Colours for up to 16 series: Tableau's 10, then 6 darker ones (a study can compare a dozen methods).
fn color(k: usize) -> RGBColor {
    const MORE: [RGBColor; 6] = [
        RGBColor(0, 0, 0),
        RGBColor(0, 110, 110),
        RGBColor(128, 0, 0),
        RGBColor(60, 60, 180),
        RGBColor(190, 120, 0),
        RGBColor(90, 150, 60),
    ];
    if k < PALETTE.len() { PALETTE[k] } else { MORE[(k - PALETTE.len()) % MORE.len()] }
}

/// A chart of series with error bars against ω, the legend beside it.
fn interval_chart(
    path: &Path,
    title: &str,
    y_desc: &str,
    series: &[Series],
    zero_line: bool,
    y_max: f64,
) -> Result<()> {
    register_font();
    let root = BitMapBackend::new(path, (1100, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let (plot_area, legend_area) = root.split_horizontally(850);
    let (x0, x1) = padded_range(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
    let (x0, x1) = (x0.min(-0.02), x1.max(0.05));
    let ys = series.iter().flat_map(|s| s.points.iter().flat_map(|p| [p.2, p.3]));
    let (mut y0, mut y1) = padded_range(ys);
    if zero_line {
        y0 = y0.min(-0.005);
        y1 = y1.max(0.005);
    }
    y1 = y1.min(y_max);
    let clip = |v: f64| v.clamp(y0, y1);
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(title, (FAMILY, 18))
        .margin(14)
        .x_label_area_size(42)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| plot_err(path, e))?;
    chart
        .configure_mesh()
        .x_desc("ω (fraction of training samples mixed)")
        .y_desc(y_desc)
        .label_style((FAMILY, 14))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(|e| plot_err(path, e))?;
    if zero_line {
        chart
            .draw_series(LineSeries::new([(x0, 0.0), (x1, 0.0)], RGBColor(90, 90, 90).stroke_width(1)))
            .map_err(|e| plot_err(path, e))?;
    }
    for s in series {
        let style = s.color.stroke_width(2);
        let line: Vec<(f64, f64)> = s.points.iter().map(|p| (p.0, p.1)).collect();
        if s.dashed {
            chart.draw_series(DashedLineSeries::new(line, 6, 4, style)).map_err(|e| plot_err(path, e))?;
        } else {
            chart.draw_series(LineSeries::new(line, style)).map_err(|e| plot_err(path, e))?;
        }
        chart
            .draw_series(
                s.points.iter().map(|&(x, _, lo, hi)| PathElement::new(vec![(x, clip(lo)), (x, clip(hi))], style)),
            )
            .map_err(|e| plot_err(path, e))?;
        chart
            .draw_series(s.points.iter().map(|&(x, m, _, _)| Circle::new((x, clip(m)), 4, s.color.filled())))
            .map_err(|e| plot_err(path, e))?;
    }
    // The legend, beside the chart.
    for (k, s) in series.iter().enumerate() {
        let y = 60 + 24 * k as i32;
        legend_area
            .draw(&PathElement::new(vec![(8, y), (34, y)], s.color.stroke_width(3)))
            .map_err(|e| plot_err(path, e))?;
        legend_area.draw(&Text::new(s.label.clone(), (42, y - 8), (FAMILY, 14))).map_err(|e| plot_err(path, e))?;
    }
    root.present().map_err(|e| plot_err(path, e))?;
    Ok(())
}

/// A small x offset per method so that intervals at the same ω do not hide each other.
fn offset(k: usize, count: usize, span: f64) -> f64 {
    if count <= 1 { 0.0 } else { span * (k as f64 / (count - 1) as f64 - 0.5) }
}

fn slug(place_dataset: &str, axes: &[(String, String)]) -> String {
    let mut s = place_dataset.to_string();
    for (k, v) in axes {
        s += &format!("_{k}={v}");
    }
    s.chars().map(|c| if c.is_ascii_alphanumeric() || "._=-".contains(c) { c } else { '-' }).collect()
}

/// Draws every figure into `dir`; returns (title, path relative to the study directory) for report.md.
pub fn write_all(dir: &Path, rows: &[Row], diffs: &[(Place, String, Paired)]) -> Result<Vec<(String, String)>> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let mut panels: BTreeMap<PanelKey, Vec<&Row>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.error.is_none()) {
        panels.entry((r.dataset.clone(), r.axes.clone())).or_default().push(r);
    }
    let mut figures = Vec::new();
    for ((dataset, axes), rows) in &panels {
        let name = slug(dataset, axes);
        let mut title = dataset.clone();
        for (k, v) in axes {
            title += &format!(", {k} = {v}");
        }
        let mut methods: Vec<String> = Vec::new();
        for r in rows {
            if !methods.contains(&r.method) {
                methods.push(r.method.clone());
            }
        }
        let omegas: Vec<f64> = {
            let mut w: Vec<f64> = rows.iter().filter(|r| r.method != "clean").map(|r| r.omega).collect();
            w.sort_by(f64::total_cmp);
            w.dedup();
            w
        };
        let span = omegas.windows(2).map(|w| w[1] - w[0]).fold(f64::INFINITY, f64::min).min(0.1) * 0.4;
        let span = if span.is_finite() { span } else { 0.04 };
        let describe_at = |method: &str, w: f64, f: &dyn Fn(&Row) -> Option<f64>| {
            let v: Vec<f64> =
                rows.iter().filter(|r| r.method == method && (r.omega - w).abs() < 1e-9).filter_map(|r| f(r)).collect();
            stats::describe(&v)
        };
        // 1. Accuracy against ω.
        let mut series = Vec::new();
        for (k, m) in methods.iter().enumerate() {
            let dx = offset(k, methods.len(), span);
            let points: Vec<(f64, f64, f64, f64)> = if m == "clean" {
                // Clean is the run at ω = 0: its point there, and a dashed line across for reference.
                let Some(d) = describe_at(m, 0.0, &|r| Some(r.accuracy[0])) else { continue };
                let hi = omegas.last().copied().unwrap_or(0.0);
                vec![(0.0, d.mean, d.ci95[0], d.ci95[1]), (hi + span, d.mean, d.mean, d.mean)]
            } else {
                omegas
                    .iter()
                    .filter_map(|&w| {
                        describe_at(m, w, &|r| Some(r.accuracy[0])).map(|d| (w + dx, d.mean, d.ci95[0], d.ci95[1]))
                    })
                    .collect()
            };
            series.push(Series { label: m.clone(), color: color(k), points, dashed: m == "clean" });
        }
        let file = format!("figures/{name}_accuracy.png");
        interval_chart(
            &dir.join(format!("{name}_accuracy.png")),
            &format!("{title}: linear-probe accuracy on h, clean test split (mean, 95 % CI)"),
            "probe accuracy",
            &series,
            false,
            1.005,
        )?;
        figures.push((format!("{title}: accuracy against ω"), file));

        // 2. Paired differences to the baseline.
        let mine: Vec<&(Place, String, Paired)> =
            diffs.iter().filter(|(p, _, _)| &p.dataset == dataset && &p.axes == axes).collect();
        if !mine.is_empty() {
            let mut series = Vec::new();
            for (k, m) in methods.iter().enumerate().filter(|(_, m)| *m != "baseline") {
                let dx = offset(k, methods.len(), span);
                let points: Vec<(f64, f64, f64, f64)> = mine
                    .iter()
                    .filter(|(_, mm, _)| mm == m)
                    .filter_map(|(p, _, d)| {
                        let w: f64 = p.omega.parse().ok()?;
                        Some((w + dx, d.mean_diff, d.ci95[0], d.ci95[1]))
                    })
                    .collect();
                if !points.is_empty() {
                    series.push(Series { label: m.clone(), color: color(k), points, dashed: false });
                }
            }
            let file = format!("figures/{name}_differences.png");
            interval_chart(
                &dir.join(format!("{name}_differences.png")),
                &format!("{title}: method − baseline, paired by seed (probe accuracy on h, 95 % CI)"),
                "difference in probe accuracy",
                &series,
                true,
                f64::INFINITY,
            )?;
            figures.push((format!("{title}: differences to the baseline"), file));
        }

        // 3. α̂ β̂ γ̂ of the baseline against ω.
        if methods.iter().any(|m| m == "baseline") {
            let getters: [(&str, &RowValue); 3] = [
                // Plain letters: the bundled font draws the combining hat of "α̂" beside the letter.
                ("α, same class", &|r| r.alpha_hat),
                ("β, easy cross-class", &|r| r.beta_hat),
                ("γ, difficult cross-class", &|r| r.gamma_hat),
            ];
            let series: Vec<Series> =
                getters
                    .iter()
                    .enumerate()
                    .map(|(k, (label, f))| Series {
                        label: label.to_string(),
                        color: color(k),
                        // The clean runs give ω = 0 (no γ there: nothing is mixed).
                        points: describe_at("clean", 0.0, *f)
                            .map(|d| (0.0, d.mean, d.ci95[0], d.ci95[1]))
                            .into_iter()
                            .chain(omegas.iter().filter_map(|&w| {
                                describe_at("baseline", w, *f).map(|d| (w, d.mean, d.ci95[0], d.ci95[1]))
                            }))
                            .collect(),
                        dashed: false,
                    })
                    .collect();
            let file = format!("figures/{name}_similarities.png");
            interval_chart(
                &dir.join(format!("{name}_similarities.png")),
                &format!("{title}: estimated mean cosines on h, baseline (clean at ω = 0): the paper's Table 10"),
                "mean cosine similarity",
                &series,
                false,
                1.0,
            )?;
            figures.push((format!("{title}: α̂, β̂, γ̂ against ω"), file));
        }
    }
    Ok(figures)
}
