//! Frame pacing: how much of a frame training may take.
//!
//! A frame is smooth when all its work — training, the panels' layout, egui's tessellation, the paint
//! calls — fits in the display's 16.7 ms. Training is the only part that can give way, so it gets what the
//! rest of the frame leaves of a target: budget = target − rest, where rest is the previous frames' work
//! besides training (eframe measures the whole frame; `Lab::tick` measures training). The rest differs a
//! lot between machines (software WebGL in a test browser, a laptop's GPU), so it is measured, not assumed.

/// Whole-frame work aimed for, in ms: under the 16.7 ms of a 60 Hz frame, with room for the browser's or
/// the window system's own work (compositing, input, garbage collection) and for the odd slow frame.
pub const TARGET_FRAME_MS: f64 = 12.0;
/// Training's budget never goes below this (training keeps moving on a slow machine) nor above the max
/// (the views refresh often even on a fast one).
pub const MIN_TRAIN_MS: f64 = 2.0;
pub const MAX_TRAIN_MS: f64 = 12.0;

#[derive(Clone, Debug)]
pub struct FramePacer {
    pub target_ms: f64,
    /// The smoothed work per frame besides training, in ms (`None` before the first measured frame).
    rest_ms: Option<f64>,
}

impl Default for FramePacer {
    fn default() -> Self {
        Self { target_ms: TARGET_FRAME_MS, rest_ms: None }
    }
}

impl FramePacer {
    /// Takes the previous frame's whole work (`frame_ms`, as eframe measured it; `None` when it did not) and
    /// its training part (`train_ms`), and returns the training budget for the next frame.
    ///
    /// The rest rises fast and falls slowly (half of a rise is taken at once, a twentieth of a fall): one
    /// expensive frame (a texture upload, a new text) shrinks training at once, and a lucky cheap one does
    /// not let it overshoot the next frame.
    pub fn budget(&mut self, frame_ms: Option<f64>, train_ms: f64) -> f64 {
        if let Some(frame) = frame_ms.filter(|f| f.is_finite()) {
            let rest = (frame - train_ms).max(0.0);
            self.rest_ms = Some(match self.rest_ms {
                None => rest,
                Some(r) if rest > r => 0.5 * r + 0.5 * rest,
                Some(r) => 0.95 * r + 0.05 * rest,
            });
        }
        let rest = self.rest_ms.unwrap_or(self.target_ms / 2.0);
        (self.target_ms - rest).clamp(MIN_TRAIN_MS, MAX_TRAIN_MS)
    }

    /// The smoothed work per frame besides training, in ms.
    pub fn rest_ms(&self) -> Option<f64> {
        self.rest_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_gets_what_the_rest_of_the_frame_leaves() {
        let mut p = FramePacer::default();
        assert_eq!(p.budget(None, 0.0), TARGET_FRAME_MS / 2.0, "before any measurement: half the frame");
        // 13 ms frames of which 5 ms training: the rest is 8 ms, so training gets 4.
        assert_eq!(p.budget(Some(13.0), 5.0), 4.0);
        // A cheap rest lets training take more, slowly, up to the cap.
        let mut b = 0.0;
        for _ in 0..200 {
            b = p.budget(Some(4.5), 4.0);
        }
        assert!((b - 11.5).abs() < 1e-3, "budget {b} for a 0.5 ms rest");
        for _ in 0..400 {
            b = p.budget(Some(3.0), 4.0);
        }
        assert!(b <= MAX_TRAIN_MS && b > MAX_TRAIN_MS - 1e-3, "budget {b} for a free rest");
        // One expensive frame (20 ms of layout) halves the way to it at once.
        let after = p.budget(Some(25.0), 5.0);
        assert!(after < 3.0, "budget {after} after a 20 ms rest");
        // A rest beyond the target leaves training its minimum.
        for _ in 0..20 {
            b = p.budget(Some(40.0), 2.0);
        }
        assert_eq!(b, MIN_TRAIN_MS);
        // A frame eframe did not measure changes nothing.
        assert_eq!(p.budget(None, 0.0), b);
        assert_eq!(p.budget(Some(f64::NAN), 0.0), b);
    }
}
