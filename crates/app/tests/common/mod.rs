//! What the app's test files share.

use spherelab_app::lab::Lab;

/// A small, fast run: fewer points, a small batch, frequent evaluation.
pub fn small_config() -> spherelab_core::RunConfig {
    let mut cfg = Lab::default_config();
    cfg.data.n = 256;
    cfg.train.batch_size = 32;
    cfg.train.eval_every = 5;
    cfg.train.eval_max_points = 128;
    cfg
}
