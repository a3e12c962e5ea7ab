//! Plot axes whose tick labels stay readable in a narrow or short plot, shared by the panels' plots.
//!
//! egui_plot's default grid steps by powers of ten and paints a tick label only where that step's marks are 60
//! points apart (20 on a y axis). The curves' four plots are ~165 points wide on a 1,600-point window, so over
//! most of a run the step axis read "0" and nothing else: at step 675 the 100-step marks are 24 points apart and
//! the next power, 1,000, is off the range. The alignment-versus-uniformity plot lost its y labels the same way
//! once its x axis had labels to make room for (0.01 apart became under 20 points). Here the labelled step is the
//! smallest 1, 2 or 5 × 10ᵏ whose marks are a label's room apart (55 points across, 26 up) and that cuts the
//! axis into at most eight, so a plot of any size and range gets labels, neither crowded nor sparse.

use egui_plot::{AxisHints, GridInput, GridMark, Plot};

/// The plot's smallest grid spacing in points: egui_plot's `GridInput::base_step_size` is the value this many
/// points span. Set on the plot, not assumed from egui_plot's default.
const GRID_MIN_POINTS: f32 = 8.0;
/// Labelled marks on an x axis are at least this far apart (a step's label, "5000" or "−1.45", is 25–35 points
/// wide); egui_plot paints labels fully from here and not at all 10 points closer.
const X_LABEL_POINTS: f32 = 55.0;
/// The same up a y axis, where a label is one line (~14 points) tall.
const Y_LABEL_POINTS: f32 = 26.0;
/// A long axis is not cut finer than this many labels: a 700-point hardness plot read 0.000 to 0.017 in
/// eighteen labels at the label room alone.
const MOST_LABELS: f64 = 8.0;

/// `plot` with readable x and y axes, named `x_name` and `y_name` (None: no name beside the axis).
pub fn readable<'a>(plot: Plot<'a>, x_name: Option<&str>, y_name: Option<&str>) -> Plot<'a> {
    let axis = |hints: AxisHints<'a>, points: f32, name: Option<&str>| {
        let hints = hints.label_spacing(points - 10.0..=points).formatter(|mark, _| label(mark));
        match name {
            Some(name) => hints.label(name),
            None => hints,
        }
    };
    plot.grid_spacing(GRID_MIN_POINTS..=300.0)
        .custom_x_axes(vec![axis(AxisHints::new_x(), X_LABEL_POINTS, x_name)])
        .custom_y_axes(vec![axis(AxisHints::new_y(), Y_LABEL_POINTS, y_name)])
        .x_grid_spacer(|input| marks(input, X_LABEL_POINTS))
        .y_grid_spacer(|input| marks(input, Y_LABEL_POINTS))
}

/// The labelled step (1, 2 or 5 × 10ᵏ, at least `label_points` apart and at most `MOST_LABELS` to the axis's
/// length) and a finer one for the grid between labels (a fifth, or a quarter of a 2, halved until its marks
/// are too close for egui_plot to label them); each mark carries the coarser step it lies on, which egui_plot
/// uses for its line's weight and for whether it gets a label. No coarser tier: every label then has the
/// labelled step's decimals ("0.0 0.5 1.0", not "0 0.5 1.0").
pub fn marks(input: GridInput, label_points: f32) -> Vec<GridMark> {
    let (lo, hi) = input.bounds;
    let per_point = input.base_step_size / GRID_MIN_POINTS as f64;
    if !(per_point > 0.0 && per_point.is_finite() && lo.is_finite() && hi.is_finite() && hi > lo) {
        return Vec::new();
    }
    let least = (per_point * label_points as f64).max((hi - lo) / MOST_LABELS);
    let decade = 10f64.powf(least.log10().floor());
    let (labelled, mut fine_per_label) = [(1.0, 5), (2.0, 4), (5.0, 5), (10.0, 5)]
        .into_iter()
        .map(|(m, f)| (m * decade, f))
        .find(|&(s, _)| s >= least * (1.0 - 1e-9))
        .unwrap_or((10.0 * decade, 5));
    // egui_plot labels any mark whose step is `label_points - 10` apart or more (faintly below `label_points`).
    // (Bounded: an axis millions of points long gives up below, on its count of marks.)
    while labelled / fine_per_label as f64 >= per_point * (label_points - 10.0) as f64 && fine_per_label < 1 << 16 {
        fine_per_label *= 2;
    }
    let fine = labelled / fine_per_label as f64;
    let first = (lo / fine).ceil() as i64;
    let last = (hi / fine).floor() as i64;
    // A plot a million fine marks wide is not one anyone can read; don't build it.
    if last < first || last - first > 10_000 {
        return Vec::new();
    }
    (first..=last)
        .map(|i| GridMark { value: i as f64 * fine, step_size: if i % fine_per_label == 0 { labelled } else { fine } })
        .collect()
}

/// A mark's value with as many decimals as its step needs: 0.05 needs two ("−1.45"), where egui_plot's default
/// rounds the decimals from log₁₀ of the step and prints one.
pub fn label(mark: GridMark) -> String {
    let decimals = (-mark.step_size.log10() - 1e-9).ceil().max(0.0) as usize;
    format!("{:.*}", decimals, mark.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The marks of a plot `points` wide over `bounds`, as egui_plot asks for them.
    fn marks_for(bounds: (f64, f64), points: f64, label_points: f32) -> Vec<GridMark> {
        let base_step_size = (bounds.1 - bounds.0) / points * GRID_MIN_POINTS as f64;
        marks(GridInput { bounds, base_step_size }, label_points)
    }

    fn labelled(marks: &[GridMark], points_per_value: f64, label_points: f32) -> Vec<f64> {
        // egui_plot's rule: a mark is labelled (faintly at first) when its step is more than `label_points - 10` apart.
        let painted = |m: &&GridMark| m.step_size * points_per_value > label_points as f64 - 10.0;
        marks.iter().filter(painted).map(|m| m.value).collect()
    }

    #[test]
    fn every_axis_gets_labels_a_readable_distance_apart_whatever_its_size_and_range() {
        // Plot sizes from a phone's to a wide window's (the curves are ~165 points wide and ~110 tall on a
        // 1,600 × 1,000 window); ranges from a fresh run to a long one, the uniformity axis (negative,
        // fractional) and the alignment axis (small).
        for label_points in [X_LABEL_POINTS, Y_LABEL_POINTS] {
            for points in [60.0, 110.0, 165.0, 340.0, 900.0] {
                for bounds in
                    [(0.0, 30.0), (0.0, 675.0), (-20.0, 5210.0), (0.0, 99_000.0), (-1.562, -1.431), (0.013, 0.072)]
                {
                    let m = marks_for(bounds, points, label_points);
                    let per_value = points / (bounds.1 - bounds.0);
                    let labels = labelled(&m, per_value, label_points);
                    let least_apart = (label_points as f64).max(points / MOST_LABELS);
                    let most_apart = 2.5 * least_apart;
                    // Labelled steps are at most 2.5 times their least apart: an axis k times that long holds k
                    // labels.
                    let least = (points / most_apart).floor() as usize;
                    let at = format!("{bounds:?} over {points} points, labels {label_points} apart: {labels:?}");
                    assert!(labels.len() >= least, "{at}");
                    assert!(labels.len() as f64 <= (points / least_apart + 1.0).min(MOST_LABELS + 1.0), "{at}");
                    for pair in labels.windows(2) {
                        let apart = (pair[1] - pair[0]) * per_value;
                        assert!((least_apart - 1e-6..=most_apart + 1e-6).contains(&apart), "{at}: {apart} apart");
                    }
                    let slack = 1e-9 * (bounds.1 - bounds.0);
                    for mark in &m {
                        assert!((bounds.0 - slack..=bounds.1 + slack).contains(&mark.value), "{at}: {mark:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn where_the_default_power_of_ten_grid_labels_only_zero_ours_labels_more() {
        // Seen under Xvfb: step 675 in a 165-point plot, and the alignment axis once the x labels took room.
        let theirs = |bounds: (f64, f64), points: f64, room: f64| {
            let base_step_size = (bounds.1 - bounds.0) / points * GRID_MIN_POINTS as f64;
            let per_value = points / (bounds.1 - bounds.0);
            let marks = (egui_plot::log_grid_spacer(10))(GridInput { bounds, base_step_size });
            marks.iter().filter(|m| m.step_size * per_value > room).map(|m| m.value).collect::<Vec<f64>>()
        };
        let ours = |bounds: (f64, f64), points: f64, label_points: f32| {
            labelled(&marks_for(bounds, points, label_points), points / (bounds.1 - bounds.0), label_points)
        };
        assert_eq!(theirs((0.0, 675.0), 165.0, 60.0), vec![0.0]);
        assert_eq!(ours((0.0, 675.0), 165.0, X_LABEL_POINTS), vec![0.0, 500.0]);
        assert!(theirs((0.035, 0.091), 95.0, 20.0).is_empty());
        let up = ours((0.035, 0.091), 95.0, Y_LABEL_POINTS);
        assert_eq!(up.len(), 3, "{up:?}");
    }

    #[test]
    fn labels_carry_the_decimals_their_step_needs() {
        let at = |value, step_size| label(GridMark { value, step_size });
        assert_eq!(at(-1.45, 0.05), "-1.45");
        assert_eq!(at(0.2, 0.2), "0.2");
        assert_eq!(at(0.1, 0.1), "0.1");
        assert_eq!(at(500.0, 500.0), "500");
        assert_eq!(at(2000.0, 2000.0), "2000");
        assert_eq!(at(0.0, 0.5), "0.0");
        assert_eq!(at(0.0, 1.0), "0");
    }

    #[test]
    fn degenerate_input_gives_no_marks_rather_than_a_hang() {
        let none = |bounds, base_step_size| marks(GridInput { bounds, base_step_size }, X_LABEL_POINTS).is_empty();
        assert!(none((0.0, 1.0), 0.0));
        assert!(none((f64::NAN, 1.0), 0.1));
        assert!(none((1.0, 1.0), 0.1));
        assert!(none((0.0, 1e12), 1e-9));
    }
}
