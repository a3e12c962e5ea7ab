//! A run's configuration: every knob of data, model, loss, selection, optimiser and training, with the
//! defaults a new user starts from. Loaded from TOML or JSON; unknown keys and wrong types are errors that
//! name the key, so a typo in a config file never silently does nothing.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, shown};

pub mod budget;

/// The whole configuration of one run. A run is this plus its seed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    pub seed: u64,
    pub data: DataConfig,
    pub augment: AugmentConfig,
    pub model: ModelConfig,
    pub loss: LossConfig,
    pub selection: SelectionConfig,
    pub optimizer: OptimizerConfig,
    pub train: TrainConfig,
}

/// Which data set to train on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetKind {
    /// Gaussian blobs, `classes` of them, centres on a circle.
    Blobs,
    /// Two interleaving half circles.
    Moons,
    /// Concentric rings, one per class.
    Rings,
    /// Spirals, one arm per class.
    Spirals,
    /// XOR / checkerboard: class = parity of the quadrant.
    Xor,
    /// The 8×8 handwritten digits (1,797 samples, 10 classes), shipped with spherelab.
    Digits,
    /// The user's own CSV file (`csv_path`).
    Csv,
}

impl DatasetKind {
    pub const ALL: [DatasetKind; 7] = [
        DatasetKind::Blobs,
        DatasetKind::Moons,
        DatasetKind::Rings,
        DatasetKind::Spirals,
        DatasetKind::Xor,
        DatasetKind::Digits,
        DatasetKind::Csv,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::Blobs => "blobs",
            DatasetKind::Moons => "moons",
            DatasetKind::Rings => "rings",
            DatasetKind::Spirals => "spirals",
            DatasetKind::Xor => "xor",
            DatasetKind::Digits => "digits",
            DatasetKind::Csv => "csv",
        }
    }

    /// Parses a user-given name; the error lists the valid ones.
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL.iter().copied().find(|k| k.name() == name).ok_or_else(|| {
            Error::invalid(format!(
                "unknown dataset {}: choose one of blobs, moons, rings, spirals, xor, digits, or csv:PATH",
                shown(name)
            ))
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    pub dataset: DatasetKind,
    /// Number of samples to generate (ignored for digits and CSV, which have their own size).
    pub n: usize,
    /// Number of classes for blobs, rings and spirals (moons and xor have 2).
    pub classes: usize,
    /// Standard deviation of the Gaussian noise added by the generator, in input units.
    pub noise: f32,
    /// ω: the fraction of samples replaced by a mix λ·x_a + (1−λ)·x_b of two samples of different classes.
    pub omega: f32,
    /// λ of the mix is drawn uniformly from [mix_lambda_min, mix_lambda_max].
    pub mix_lambda_min: f32,
    pub mix_lambda_max: f32,
    /// Fraction of samples held out for the metrics (probe, kNN, alignment, uniformity).
    pub test_fraction: f32,
    /// Path of the CSV file when `dataset = "csv"`.
    pub csv_path: Option<String>,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            dataset: DatasetKind::Moons,
            n: 1024,
            classes: 3,
            noise: 0.1,
            omega: 0.0,
            mix_lambda_min: 0.3,
            mix_lambda_max: 0.7,
            test_fraction: 0.25,
            csv_path: None,
        }
    }
}

/// Strengths of the augmentations that make the two positive views of a sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AugmentConfig {
    /// Points: std of Gaussian jitter, in units of the data's overall std.
    pub jitter: f32,
    /// Points: maximum rotation about the data's centre, in degrees.
    pub rotation_deg: f32,
    /// Points: maximum relative scaling (0.1 = ×[0.9, 1.1]).
    pub scale: f32,
    /// Digits: probability of a ±1-pixel shift in each direction.
    pub shift_prob: f32,
    /// Digits: std of additive pixel noise (pixels are 0–16, scaled to 0–1).
    pub pixel_noise: f32,
    /// Digits: probability of erasing one random patch.
    pub erase_prob: f32,
    /// Digits: side of the erased square patch, in pixels.
    pub erase_size: usize,
}

impl Default for AugmentConfig {
    fn default() -> Self {
        Self {
            jitter: 0.05,
            rotation_deg: 10.0,
            scale: 0.1,
            shift_prob: 0.5,
            pixel_noise: 0.05,
            erase_prob: 0.3,
            erase_size: 2,
        }
    }
}

/// Element-wise non-linearity between layers. GELU uses the tanh approximation on every backend
/// (WGSL has no erf), 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Identity,
    Relu,
    Tanh,
    Gelu,
}

impl Activation {
    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Gelu => "gelu",
        }
    }
}

/// The encoder and projector. Each is an MLP: `activation` after every layer except its last.
/// h (the "pre-projector" features) is the encoder's output; z is the projector's output, or h if
/// there is no projector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// Output widths of the encoder's layers; the last is the dimension of h. The input width comes from the data.
    pub encoder: Vec<usize>,
    /// Output widths of the projector's layers; the last is the embedding dimension. Empty = no projector.
    pub projector: Vec<usize>,
    pub activation: Activation,
    /// ℓ2-normalise z (the model's output lies on the unit sphere).
    pub normalize: bool,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self { encoder: vec![64, 64, 32], projector: vec![32, 2], activation: Activation::Relu, normalize: true }
    }
}

impl ModelConfig {
    /// Dimension of the embedding the loss sees.
    pub fn embedding_dim(&self) -> usize {
        self.projector.last().or(self.encoder.last()).copied().unwrap_or(0)
    }

    /// Dimension of h.
    pub fn feature_dim(&self) -> usize {
        self.encoder.last().copied().unwrap_or(0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossKind {
    /// InfoNCE / NT-Xent (SimCLR), docs/math.md §1.1.
    Infonce,
    /// Spectral contrastive loss (HaoChen et al. 2021), §1.2.
    Spectral,
    /// Alignment + uniformity (Wang & Isola 2020), §1.3.
    AlignUniform,
    /// Supervised contrastive (Khosla et al. 2020), §1.4.
    Supcon,
    /// Decoupled contrastive (Yeh et al. 2022), §1.5.
    Dcl,
}

impl LossKind {
    pub const ALL: [LossKind; 5] =
        [LossKind::Infonce, LossKind::Spectral, LossKind::AlignUniform, LossKind::Supcon, LossKind::Dcl];

    pub fn name(self) -> &'static str {
        match self {
            LossKind::Infonce => "infonce",
            LossKind::Spectral => "spectral",
            LossKind::AlignUniform => "align-uniform",
            LossKind::Supcon => "supcon",
            LossKind::Dcl => "dcl",
        }
    }

    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL.iter().copied().find(|k| k.name() == name).ok_or_else(|| {
            Error::invalid(format!(
                "unknown loss {}: choose one of infonce, spectral, align-uniform, supcon, dcl",
                shown(name)
            ))
        })
    }

    /// Whether the difficult-pair modifiers of §2 apply to this loss.
    pub fn supports_selection(self) -> bool {
        matches!(self, LossKind::Infonce | LossKind::Dcl | LossKind::Spectral)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LossConfig {
    pub kind: LossKind,
    /// τ > 0: temperature of InfoNCE, SupCon and DCL.
    pub tau: f32,
    /// μ > 0 of the spectral loss.
    pub mu: f32,
    /// α of the alignment term ‖ẑ1 − ẑ2‖^α.
    pub align_alpha: f32,
    /// t of the uniformity term log mean exp(−t‖x − y‖²).
    pub unif_t: f32,
    pub w_align: f32,
    pub w_unif: f32,
}

impl Default for LossConfig {
    fn default() -> Self {
        Self { kind: LossKind::Infonce, tau: 0.2, mu: 1.0, align_alpha: 2.0, unif_t: 2.0, w_align: 1.0, w_unif: 1.0 }
    }
}

/// What flagged (difficult) pairs do to the loss. `None` turns selection off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PairMode {
    None,
    /// Flagged logits become 0 (InfoNCE/DCL); flagged pairs leave part2's sum (spectral).
    Removal,
    /// A margin on flagged pairs: σ for InfoNCE/DCL, m for spectral.
    Margin,
    /// A smaller temperature ρ·τ on flagged pairs (InfoNCE/DCL only).
    Temperature,
    /// Margin and temperature together.
    Combined,
}

impl PairMode {
    pub const ALL: [PairMode; 5] =
        [PairMode::None, PairMode::Removal, PairMode::Margin, PairMode::Temperature, PairMode::Combined];

    pub fn name(self) -> &'static str {
        match self {
            PairMode::None => "none",
            PairMode::Removal => "removal",
            PairMode::Margin => "margin",
            PairMode::Temperature => "temperature",
            PairMode::Combined => "combined",
        }
    }

    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL.iter().copied().find(|k| k.name() == name).ok_or_else(|| {
            Error::invalid(format!(
                "unknown mode {}: choose one of none, removal, margin, temperature, combined",
                shown(name)
            ))
        })
    }
}

/// Selection of difficult pairs (docs/math.md §2) and what the loss does with them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelectionConfig {
    pub mode: PairMode,
    /// posHigh: candidates above the ⌈posHigh·M⌉-th largest similarity are taken as same-class.
    pub pos_high: f32,
    /// posLow: candidates below the ⌈posLow·M⌉-th largest are easy negatives.
    pub pos_low: f32,
    /// σ: margin added to flagged logits (InfoNCE/DCL).
    pub sigma: f32,
    /// ρ: flagged pairs use temperature ρ·τ (InfoNCE/DCL).
    pub rho: f32,
    /// m: margin on flagged pairs of the spectral loss.
    pub margin: f32,
    /// The paper's ablation: flag every pair except self and positive.
    pub all_pairs: bool,
}

impl Default for SelectionConfig {
    fn default() -> Self {
        Self { mode: PairMode::None, pos_high: 0.25, pos_low: 1.0, sigma: 0.1, rho: 0.7, margin: 0.1, all_pairs: false }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    Sgd,
    Adam,
    Adamw,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    Constant,
    Cosine,
    WarmupCosine,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimizerConfig {
    pub kind: OptimizerKind,
    pub lr: f32,
    /// SGD momentum (0 = plain SGD).
    pub momentum: f32,
    pub nesterov: bool,
    /// L2 penalty added to the gradient (SGD, Adam) or decoupled decay (AdamW).
    pub weight_decay: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub schedule: Schedule,
    /// Steps of linear warm-up for `warmup-cosine`.
    pub warmup_steps: usize,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self {
            kind: OptimizerKind::Adam,
            lr: 1e-3,
            momentum: 0.9,
            nesterov: false,
            weight_decay: 0.0,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            schedule: Schedule::Constant,
            warmup_steps: 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    pub steps: usize,
    /// N: samples per batch (2N views).
    pub batch_size: usize,
    /// Metrics are computed every this many steps (and at the last step).
    pub eval_every: usize,
    /// At most this many held-out samples enter the metrics.
    pub eval_max_points: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self { steps: 500, batch_size: 256, eval_every: 50, eval_max_points: 2048 }
    }
}

/// What changing a run's config from one to another rebuilds. One rule, used by the trainer that applies a
/// change and by the front ends that decide when to apply one (the app waits for a slider's release before a
/// rebuild): the seed belongs to the data (it draws them), so a new seed is new data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rebuilt {
    /// Only hyper-parameters changed: training goes on.
    Nothing,
    /// The model's shape changed: new initialisation, step 0.
    Model,
    /// The data (or the seed) changed: new data, new split, new model, step 0.
    Data,
}

impl RunConfig {
    /// What going from `self` to `new` rebuilds.
    pub fn rebuild_for(&self, new: &RunConfig) -> Rebuilt {
        if self.data != new.data || self.seed != new.seed {
            Rebuilt::Data
        } else if self.model != new.model {
            Rebuilt::Model
        } else {
            Rebuilt::Nothing
        }
    }

    /// Parses TOML; errors name the offending key.
    pub fn from_toml(text: &str) -> Result<Self> {
        let cfg: Self = toml::from_str(text).map_err(|e| Error::invalid(format!("config: {}", e.message())))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Parses JSON; errors name the offending key and position.
    pub fn from_json(text: &str) -> Result<Self> {
        let cfg: Self = serde_json::from_str(text).map_err(|e| Error::invalid(format!("config: {e}")))?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("RunConfig always serialises")
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("RunConfig always serialises")
    }

    /// Checks every value a user can set; the error says which one and what range is allowed.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::invalid(msg));
        let d = &self.data;
        if !(0.0..=1.0).contains(&d.omega) {
            return bad(format!("data.omega = {} must lie in [0, 1]", d.omega));
        }
        if !(d.noise >= 0.0 && d.noise.is_finite()) {
            return bad(format!("data.noise = {} must be ≥ 0", d.noise));
        }
        if !(0.0..=1.0).contains(&d.mix_lambda_min)
            || !(0.0..=1.0).contains(&d.mix_lambda_max)
            || d.mix_lambda_min > d.mix_lambda_max
        {
            return bad(format!(
                "data.mix_lambda_min = {}, mix_lambda_max = {}: need 0 ≤ min ≤ max ≤ 1",
                d.mix_lambda_min, d.mix_lambda_max
            ));
        }
        if !(d.test_fraction > 0.0 && d.test_fraction < 1.0) {
            return bad(format!("data.test_fraction = {} must lie strictly between 0 and 1", d.test_fraction));
        }
        if matches!(d.dataset, DatasetKind::Blobs | DatasetKind::Rings | DatasetKind::Spirals) && d.classes < 2 {
            return bad(format!("data.classes = {} must be at least 2", d.classes));
        }
        if d.dataset != DatasetKind::Digits && d.dataset != DatasetKind::Csv && d.n < 8 {
            return bad(format!("data.n = {} is too small: use at least 8 samples", d.n));
        }
        if d.dataset == DatasetKind::Csv && d.csv_path.is_none() {
            return bad("data.dataset = \"csv\" needs data.csv_path".into());
        }
        let m = &self.model;
        if m.encoder.is_empty() || m.encoder.contains(&0) || m.projector.contains(&0) {
            return bad("model.encoder needs at least one layer and every width must be ≥ 1".into());
        }
        let l = &self.loss;
        if !(l.tau > 0.0 && l.tau.is_finite()) {
            return bad(format!("loss.tau = {} must be > 0", l.tau));
        }
        if !(l.mu > 0.0 && l.mu.is_finite()) {
            return bad(format!("loss.mu = {} must be > 0", l.mu));
        }
        if l.align_alpha.is_nan() || l.align_alpha <= 0.0 || l.unif_t.is_nan() || l.unif_t <= 0.0 {
            return bad(format!("loss.align_alpha = {} and loss.unif_t = {} must be > 0", l.align_alpha, l.unif_t));
        }
        let s = &self.selection;
        if !(s.pos_high > 0.0 && s.pos_high <= 1.0 && s.pos_low > 0.0 && s.pos_low <= 1.0 && s.pos_high <= s.pos_low) {
            return bad(format!(
                "selection.pos_high = {} and pos_low = {}: need 0 < pos_high ≤ pos_low ≤ 1",
                s.pos_high, s.pos_low
            ));
        }
        if !(s.rho > 0.0 && s.rho.is_finite()) {
            return bad(format!("selection.rho = {} must be > 0", s.rho));
        }
        if s.mode != PairMode::None && !l.kind.supports_selection() {
            return bad(format!(
                "selection.mode = {} does not apply to loss {}: difficult-pair selection works with infonce, dcl and spectral",
                s.mode.name(),
                l.kind.name()
            ));
        }
        if l.kind == LossKind::Spectral && matches!(s.mode, PairMode::Temperature) {
            return bad("selection.mode = temperature does not apply to the spectral loss (it has no temperature): use removal or margin".into());
        }
        let o = &self.optimizer;
        if !(o.lr > 0.0 && o.lr.is_finite()) {
            return bad(format!("optimizer.lr = {} must be > 0", o.lr));
        }
        if !(0.0..1.0).contains(&o.beta1) || !(0.0..1.0).contains(&o.beta2) || !(0.0..1.0).contains(&o.momentum) {
            return bad("optimizer.beta1, beta2 and momentum must lie in [0, 1)".into());
        }
        if o.eps.is_nan() || o.eps <= 0.0 || o.weight_decay.is_nan() || o.weight_decay < 0.0 {
            return bad("optimizer.eps must be > 0 and weight_decay ≥ 0".into());
        }
        let t = &self.train;
        if t.batch_size < 2 {
            return bad(format!("train.batch_size = {} must be at least 2", t.batch_size));
        }
        if t.eval_every == 0 {
            return bad("train.eval_every must be ≥ 1".into());
        }
        // Last: sizes that are each valid can together be more than the platform holds (docs/limits.md).
        let (limit, limit_is) = budget::platform_budget();
        budget::check(self, limit, &limit_is)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one restart rule: data or seed → new data; the model's shape → a new model; anything else goes on.
    #[test]
    fn what_a_change_rebuilds() {
        let a = RunConfig::default();
        let with = |f: &dyn Fn(&mut RunConfig)| {
            let mut b = a.clone();
            f(&mut b);
            a.rebuild_for(&b)
        };
        assert_eq!(with(&|_| {}), Rebuilt::Nothing);
        assert_eq!(with(&|c| c.loss.tau = 0.7), Rebuilt::Nothing);
        assert_eq!(with(&|c| c.optimizer.lr = 0.1), Rebuilt::Nothing);
        assert_eq!(with(&|c| c.augment.jitter = 0.3), Rebuilt::Nothing);
        assert_eq!(with(&|c| c.model.encoder = vec![7]), Rebuilt::Model);
        assert_eq!(with(&|c| c.model.normalize = !c.model.normalize), Rebuilt::Model);
        assert_eq!(with(&|c| c.seed += 1), Rebuilt::Data);
        assert_eq!(with(&|c| c.data.omega = 0.2), Rebuilt::Data);
        assert_eq!(
            with(&|c| {
                c.data.n += 1;
                c.model.encoder = vec![7]
            }),
            Rebuilt::Data
        );
    }

    #[test]
    fn default_config_round_trips_through_toml_and_json() {
        let cfg = RunConfig::default();
        assert_eq!(RunConfig::from_toml(&cfg.to_toml()).unwrap(), cfg);
        assert_eq!(RunConfig::from_json(&cfg.to_json()).unwrap(), cfg);
    }

    #[test]
    fn unknown_key_and_wrong_type_are_named() {
        let e = RunConfig::from_toml("[loss]\ntemperature = 0.5\n").unwrap_err().to_string();
        assert!(e.contains("temperature"), "{e}");
        let e = RunConfig::from_toml("[loss]\ntau = \"hot\"\n").unwrap_err().to_string();
        assert!(e.contains("tau") || e.contains("string"), "{e}");
        let e = RunConfig::from_json(r#"{"optimizer": {"lr": -1}}"#).unwrap_err().to_string();
        assert!(e.contains("optimizer.lr"), "{e}");
    }

    #[test]
    fn partial_config_keeps_defaults() {
        let cfg = RunConfig::from_toml("seed = 7\n[loss]\ntau = 0.5\n").unwrap();
        assert_eq!(cfg.seed, 7);
        assert_eq!(cfg.loss.tau, 0.5);
        assert_eq!(cfg.optimizer, OptimizerConfig::default());
    }
}
