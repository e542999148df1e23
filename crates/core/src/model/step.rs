//! [`Model`]: owns the parameter buffer and, once planned for training, the gradient, AdamW
//! and activation arenas; runs a whole training step (forward, loss, backward, clipping,
//! AdamW) in one call, evaluation, and logits for sampling.
//!
//! Memory is planned once per `(B, T)`: [`Model::plan`] sizes everything, checks it against
//! what the target can address (wasm32: 4 GiB) BEFORE allocating, and reports the bytes.

use super::batch::Batch;
use super::config::{ModelConfig, Positional};
use super::decode::Decoder;
use super::decode_int8::DecodeInt8;
use super::ends::{LossScales, Losses};
use super::params::{init_params, layout, param_count, tensors, Carve, Group, Spec};
use super::plan::{acts_in, acts_len};
use super::positional::{alibi_slopes, sinusoid_table};
use super::probe::{layer_probs, probs_len};
use super::shards::{pass, Fixed, MicroBatch, Rows, Shards};
use crate::error::{Error, Result};
use crate::kernels::int8::Scales;
use crate::optim::adamw::{adamw_update, AdamWConfig, AdamWStep};
use crate::optim::clip::{clip_grad_norm, global_grad_norm};
use crate::par;

/// Bytes of each part of a plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryPlan {
    /// Parameters.
    pub params: u64,
    /// Gradients (training).
    pub grads: u64,
    /// AdamW first and second moments (training).
    pub optimizer: u64,
    /// Activations and scratch for the planned `(B, T)`.
    pub activations: u64,
    /// Everything.
    pub total: u64,
}

/// One optimizer step's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepOptions {
    /// Learning rate for this step.
    pub lr: f32,
    /// Decoupled weight decay on linear weights.
    pub weight_decay: f32,
    /// Also decay embeddings (nanoGPT does; the default here does not).
    pub decay_embeddings: bool,
    /// β1, β2, ε (its `lr`/`weight_decay` are ignored).
    pub adam: AdamWConfig,
    /// Global-norm clipping threshold (`None`: no clipping).
    pub max_grad_norm: Option<f32>,
    /// Seed of this step's dropout masks.
    pub dropout_seed: u64,
}

/// What a step did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepReport {
    /// Mean loss over the micro-batches.
    pub loss: f32,
    /// Global gradient norm before clipping.
    pub grad_norm: f32,
    /// False when the loss or gradient was not finite: the parameters were left untouched.
    pub applied: bool,
}

/// The training state that exists only after planning for training.
struct TrainState {
    grads: Vec<f32>,
    m: Vec<f32>,
    v: Vec<f32>,
    /// AdamW updates applied so far.
    step: u64,
}

/// A transformer with its buffers.
pub struct Model {
    config: ModelConfig,
    specs: Vec<Spec>,
    params: Vec<f32>,
    train: Option<TrainState>,
    arena: Vec<f32>,
    /// `(B, T, training)` the arena was sized for.
    planned: Option<(usize, usize, bool)>,
    /// Data-parallel training buffers (small models on several threads).
    shards: Option<Shards>,
    sinusoid: Option<Vec<f32>>,
    alibi: Option<Vec<f32>>,
    /// The KV cache of incremental decoding, while one is open.
    decoder: Option<Decoder>,
    /// Int8 copies of the decoding path's linear weights ([`Model::quantize_int8`]).
    int8: Option<DecodeInt8>,
}

/// Bytes wasm32 can address; native targets are limited only by the allocator.
const ADDRESSABLE: u64 = if cfg!(target_arch = "wasm32") { 4 << 30 } else { u64::MAX };

fn bytes(elements: usize) -> u64 {
    (elements as u64).saturating_mul(4)
}

fn gib(b: u64) -> String {
    format!("{:.2} GiB", b as f64 / f64::from(1u32 << 30))
}

/// A zeroed `Vec<f32>` of `n`, or [`Error::OutOfMemory`] instead of an abort.
fn zeroed(n: usize, what: &str) -> Result<Vec<f32>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| {
        Error::OutOfMemory(format!("model: could not allocate {} for {what}", gib(bytes(n))))
    })?;
    v.resize(n, 0.0);
    Ok(v)
}

impl Model {
    /// A freshly initialised model (GPT-2 init from `seed`).
    pub fn new(config: ModelConfig, seed: u64) -> Result<Self> {
        config.validate()?;
        let (specs, total) = layout(&config);
        let need = bytes(total);
        if need > ADDRESSABLE / 2 {
            return Err(Error::OutOfMemory(format!(
                "model: {} parameters need {} (f32), more than a wasm32 module can hold with \
                 room to run",
                total,
                gib(need)
            )));
        }
        let mut params = zeroed(total, "parameters")?;
        init_params(&config, &specs, &mut params, seed);
        let sinusoid = (config.positional == Positional::Sinusoidal)
            .then(|| sinusoid_table(config.block_size, config.n_embd));
        let alibi = (config.positional == Positional::Alibi).then(|| alibi_slopes(config.n_head));
        Ok(Self {
            config,
            specs,
            params,
            train: None,
            arena: Vec::new(),
            planned: None,
            shards: None,
            sinusoid,
            alibi,
            decoder: None,
            int8: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Every parameter tensor's name, shape, offset and group.
    pub fn specs(&self) -> &[Spec] {
        &self.specs
    }

    /// The flat parameters `[n_params]` (layout: [`Model::specs`]).
    pub fn params(&self) -> &[f32] {
        &self.params
    }

    /// Mutable parameters (loading weights).
    pub fn params_mut(&mut self) -> &mut [f32] {
        &mut self.params
    }

    /// The flat gradients (after a training call), same layout as the parameters.
    pub fn grads(&self) -> Option<&[f32]> {
        self.train.as_ref().map(|s| s.grads.as_slice())
    }

    /// AdamW state `(m, v, step)`, once planned for training.
    pub fn optimizer_state(&self) -> Option<(&[f32], &[f32], u64)> {
        self.train.as_ref().map(|s| (s.m.as_slice(), s.v.as_slice(), s.step))
    }

    /// Restores AdamW state (lengths must match the parameters); plans training buffers if
    /// needed (with the current arena).
    pub fn set_optimizer_state(&mut self, m: &[f32], v: &[f32], step: u64) -> Result<()> {
        let n = self.params.len();
        crate::error::check_len("model: optimizer m", n, m.len())?;
        crate::error::check_len("model: optimizer v", n, v.len())?;
        let state = self.train_state()?;
        state.m.copy_from_slice(m);
        state.v.copy_from_slice(v);
        state.step = step;
        Ok(())
    }

    fn train_state(&mut self) -> Result<&mut TrainState> {
        if self.train.is_none() {
            let n = self.params.len();
            let state = TrainState {
                grads: zeroed(n, "gradients")?,
                m: zeroed(n, "AdamW m")?,
                v: zeroed(n, "AdamW v")?,
                step: 0,
            };
            self.train = Some(state);
        }
        self.train.as_mut().ok_or_else(|| Error::InvalidArgument("model: no training state".into()))
    }

    /// The bytes a plan for `(b, t)` would take on the current thread count, without
    /// allocating. A training plan of a small model on several threads is data-parallel:
    /// one activation arena and one gradient buffer per thread (see `shards.rs`).
    pub fn estimate(
        config: &ModelConfig,
        b: usize,
        t: usize,
        training: bool,
    ) -> Result<MemoryPlan> {
        config.validate()?;
        let n = param_count(config);
        let params = bytes(n);
        let shards =
            if training { Shards::plan(config, n, b, t, par::num_threads()) } else { None };
        let (grads, optimizer) = if training { (params, 2 * params) } else { (0, 0) };
        let (grads, activations) = match shards {
            // the main arena then only serves evaluation and sampling
            Some((n_shards, act_len)) => (
                grads + (n_shards as u64 - 1) * params,
                bytes(acts_len(config, b, t, false)) + n_shards as u64 * bytes(act_len),
            ),
            None => (grads, bytes(acts_len(config, b, t, training))),
        };
        let total =
            params.saturating_add(grads).saturating_add(optimizer).saturating_add(activations);
        Ok(MemoryPlan { params, grads, optimizer, activations, total })
    }

    fn check_dims(&self, b: usize, t: usize) -> Result<()> {
        if b == 0 || t == 0 {
            return Err(Error::InvalidArgument(format!(
                "model: batch {b} × sequence {t} is empty"
            )));
        }
        let fixed_positions =
            matches!(self.config.positional, Positional::Learned | Positional::Sinusoidal);
        if fixed_positions && t > self.config.block_size {
            return Err(Error::InvalidArgument(format!(
                "model: sequence length {t} exceeds block_size {} (absolute positions)",
                self.config.block_size
            )));
        }
        Ok(())
    }

    /// Plans (allocates once) for batches of `b × t` tokens; `training` adds gradients, AdamW
    /// moments and backward scratch. Refuses up front, allocating nothing, when the total
    /// exceeds what the target can address. Returns the bytes of the whole model state.
    pub fn plan(&mut self, b: usize, t: usize, training: bool) -> Result<MemoryPlan> {
        self.check_dims(b, t)?;
        let plan = Self::estimate(&self.config, b, t, training)?;
        let fits = |p: &(usize, usize, bool)| p.0 >= b && p.1 >= t && (p.2 || !training);
        let sharded = training && self.shards.as_ref().is_some_and(|s| s.fits(b, t));
        if !sharded && !self.planned.as_ref().is_some_and(fits) {
            let have = bytes(self.params.len())
                + if self.train.is_some() { 3 * bytes(self.params.len()) } else { 0 };
            let extra = plan.total.saturating_sub(have).saturating_sub(bytes(self.arena.len()));
            let current = bytes(self.arena.len()) + have;
            if current.saturating_add(extra) > ADDRESSABLE.saturating_sub(64 << 20) {
                return Err(Error::OutOfMemory(format!(
                    "model: training plan for batch {b} × {t} tokens needs {} (parameters {}, \
                     gradients {}, AdamW {}, activations {}); a wasm32 module can address 4 GiB. \
                     Use a smaller batch or sequence.",
                    gib(plan.total),
                    gib(plan.params),
                    gib(plan.grads),
                    gib(plan.optimizer),
                    gib(plan.activations)
                )));
            }
            let n_params = self.params.len();
            let shard_plan = if training {
                Shards::plan(&self.config, n_params, b, t, par::num_threads())
            } else {
                None
            };
            let main_training = training && shard_plan.is_none();
            if training {
                self.train_state()?;
            }
            self.shards = None;
            if let Some((n_shards, act_len)) = shard_plan {
                self.shards = Some(Shards::new(n_shards, b, t, act_len, n_params, zeroed)?);
            }
            self.alloc_main_arena(b, t, main_training)?;
        }
        Ok(plan)
    }

    /// The plan in force, if any: `(B, T, training)`.
    pub fn planned(&self) -> Option<(usize, usize, bool)> {
        self.planned
    }

    /// Plans for `(b, t)` if the current plan does not cover it.
    fn ensure(&mut self, b: usize, t: usize, training: bool) -> Result<()> {
        self.check_dims(b, t)?;
        let covered = self.planned.is_some_and(|p| p.0 >= b && p.1 >= t && (p.2 || !training));
        if !covered {
            let (pb, pt, ptrain) = self.planned.unwrap_or((0, 0, false));
            let (b, t, training) = (b.max(pb), t.max(pt), training || ptrain);
            let n = acts_len(&self.config, b, t, training);
            let have = bytes(self.arena.len());
            if bytes(n).saturating_sub(have) > ADDRESSABLE.saturating_sub(64 << 20) {
                return Err(Error::OutOfMemory(format!(
                    "model: activations for batch {b} × {t} tokens need {}; a wasm32 module can address 4 GiB",
                    gib(bytes(n))
                )));
            }
            self.alloc_main_arena(b, t, training)?;
        }
        Ok(())
    }

    /// (Re)allocates the main arena for `(b, t, training)` (with the training state when
    /// `training`) and records the plan. Sizes are checked by the callers.
    fn alloc_main_arena(&mut self, b: usize, t: usize, training: bool) -> Result<()> {
        if training {
            self.train_state()?;
        }
        self.arena = Vec::new();
        self.arena = zeroed(acts_len(&self.config, b, t, training), "activations")?;
        self.planned = Some((b, t, training));
        Ok(())
    }

    /// Runs forward (and, with `backward_scale`, backward adding `scale ·` the gradient of the
    /// losses) on the main arena, kernels split over threads.
    fn run(
        &mut self,
        batch: Batch<'_>,
        b: usize,
        t: usize,
        backward_scale: Option<f32>,
        dropout_seed: Option<u64>,
    ) -> Result<Losses> {
        self.run_rows(batch, b, t, backward_scale, dropout_seed, false)
    }

    fn run_rows(
        &mut self,
        batch: Batch<'_>,
        b: usize,
        t: usize,
        backward_scale: Option<f32>,
        dropout_seed: Option<u64>,
        hidden_only: bool,
    ) -> Result<Losses> {
        let training = backward_scale.is_some();
        self.ensure(b, t, training)?;
        let fixed =
            Fixed { sinusoid: self.sinusoid.as_deref(), alibi: self.alibi.as_deref(), int8: None };
        let rows = Rows { batch, b, t, row_offset: 0, hidden_only };
        let grads = match backward_scale {
            Some(scale) => {
                let state = self
                    .train
                    .as_mut()
                    .ok_or_else(|| Error::InvalidArgument("model: no training state".into()))?;
                Some((state.grads.as_mut_slice(), LossScales::both(scale)))
            }
            None => None,
        };
        pass(&self.config, &self.params, &mut self.arena, grads, fixed, rows, dropout_seed)
    }

    /// Zeroes the gradients, then adds those of the mean loss over `ids, targets: [B, T]`;
    /// returns the loss. (Gradient checks, custom optimizers.)
    pub fn loss_and_grads(
        &mut self,
        ids: &[u32],
        targets: &[i32],
        b: usize,
        t: usize,
    ) -> Result<f32> {
        Ok(self.batch_loss_and_grads(Batch::tokens(ids, Some(targets)), b, t)?.total())
    }

    /// [`Model::loss_and_grads`] for any batch (segments, padding mask, labels): the gradient
    /// of the summed losses.
    pub fn batch_loss_and_grads(&mut self, batch: Batch<'_>, b: usize, t: usize) -> Result<Losses> {
        batch.require_targets()?;
        self.ensure(b, t, true)?;
        self.train_state()?.grads.fill(0.0);
        self.run(batch, b, t, Some(1.0), None)
    }

    /// Mean loss over `ids, targets: [B, T]` without touching gradients.
    pub fn eval_loss(&mut self, ids: &[u32], targets: &[i32], b: usize, t: usize) -> Result<f32> {
        Ok(self.batch_eval(Batch::tokens(ids, Some(targets)), b, t)?.total())
    }

    /// The losses of any batch with targets or labels, without touching gradients.
    pub fn batch_eval(&mut self, batch: Batch<'_>, b: usize, t: usize) -> Result<Losses> {
        batch.require_targets()?;
        self.run(batch, b, t, None, None)
    }

    /// [`Model::batch_eval`] and the class logits `[B, K]` of the same forward (empty without a
    /// classifier): a loss and an accuracy from one pass. The logits are a view into the
    /// arena, valid until the next call.
    pub fn batch_eval_with_class_logits(
        &mut self,
        batch: Batch<'_>,
        b: usize,
        t: usize,
    ) -> Result<(Losses, &[f32])> {
        let losses = self.batch_eval(batch, b, t)?;
        let a = acts_in(&self.config, b, t, false, &self.arena)?;
        Ok((losses, a.classifier.map_or(&[][..], |c| c.logits)))
    }

    /// Logits `[B, T, V]` for `ids: [B, T]` (a view into the arena, valid until the next call).
    pub fn logits(&mut self, ids: &[u32], b: usize, t: usize) -> Result<&[f32]> {
        Ok(self.batch_logits(Batch::tokens(ids, None), b, t)?.0)
    }

    /// The LM logits `[B, T, V]` (empty without an LM head) and the class logits `[B, K]`
    /// (empty without a classifier) of a batch; its targets and labels are not used.
    pub fn batch_logits(
        &mut self,
        batch: Batch<'_>,
        b: usize,
        t: usize,
    ) -> Result<(&[f32], &[f32])> {
        self.run(Batch { targets: None, labels: None, ..batch }, b, t, None, None)?;
        let cfg = &self.config;
        let a = acts_in(cfg, b, t, false, &self.arena)?;
        Ok((a.logits, a.classifier.map_or(&[][..], |c| c.logits)))
    }

    /// The final hidden rows `[B, T, C]` of a batch (after the final norm when pre-norm): what
    /// sentence embeddings pool. No head runs. A view valid until the next call.
    pub fn batch_hidden(&mut self, batch: Batch<'_>, b: usize, t: usize) -> Result<&[f32]> {
        self.run_rows(Batch { targets: None, labels: None, ..batch }, b, t, None, None, true)?;
        let a = acts_in(&self.config, b, t, false, &self.arena)?;
        let last = a.layers.last().map_or(a.emb, |la| la.out);
        Ok(a.norm_f.and_then(|nf| nf.out).unwrap_or(last))
    }

    /// The attention probabilities of every layer and head for ONE sequence, `batch: [1, T]`
    /// (ids, and optionally segment ids and an attention mask; targets and labels unused),
    /// dropout off: `[L, H, T, T]`, see [`super::probe`]. Runs a forward (no head).
    pub fn attention_probs(&mut self, batch: Batch<'_>, t: usize) -> Result<Vec<f32>> {
        let batch = Batch { targets: None, labels: None, ..batch };
        self.check_dims(1, t)?;
        batch.check(1, t)?;
        let mut probs = zeroed(probs_len(&self.config, t)?, "attention probabilities")?;
        self.run_rows(batch, 1, t, None, None, true)?;
        layer_probs(&mut probs, &self.config, &self.arena, t, batch.attention_mask)?;
        Ok(probs)
    }

    /// Runs the batch forward (no targets, labels, dropout or gradients) with every linear
    /// layer of the blocks and heads on its int8 copy ([`Model::quantize_int8`]); embeddings,
    /// norms, attention and biases stay float32. `hidden_only` stops at the final hidden rows.
    /// [`Error::InvalidArgument`] when the model is not quantised.
    fn run_int8(&mut self, batch: Batch<'_>, b: usize, t: usize, hidden_only: bool) -> Result<()> {
        if self.int8.is_none() {
            return Err(Error::InvalidArgument(
                "model: not quantised to int8 (call quantize_int8 first)".into(),
            ));
        }
        let batch = Batch { targets: None, labels: None, ..batch };
        self.ensure(b, t, false)?;
        let fixed = Fixed {
            sinusoid: self.sinusoid.as_deref(),
            alibi: self.alibi.as_deref(),
            int8: self.int8.as_ref(),
        };
        let rows = Rows { batch, b, t, row_offset: 0, hidden_only };
        pass(&self.config, &self.params, &mut self.arena, None, fixed, rows, None)?;
        Ok(())
    }

    /// [`Model::batch_logits`] on the int8 weights (see [`Model::run_int8`]): the LM logits
    /// `[B, T, V]` (empty without an LM head) and the class logits `[B, K]` (empty without a
    /// classifier). A view valid until the next call.
    pub fn batch_logits_int8(
        &mut self,
        batch: Batch<'_>,
        b: usize,
        t: usize,
    ) -> Result<(&[f32], &[f32])> {
        self.run_int8(batch, b, t, false)?;
        let a = acts_in(&self.config, b, t, false, &self.arena)?;
        Ok((a.logits, a.classifier.map_or(&[][..], |c| c.logits)))
    }

    /// [`Model::batch_hidden`] on the int8 weights: the final hidden rows `[B, T, C]`.
    pub fn batch_hidden_int8(&mut self, batch: Batch<'_>, b: usize, t: usize) -> Result<&[f32]> {
        self.run_int8(batch, b, t, true)?;
        let a = acts_in(&self.config, b, t, false, &self.arena)?;
        let last = a.layers.last().map_or(a.emb, |la| la.out);
        Ok(a.norm_f.and_then(|nf| nf.out).unwrap_or(last))
    }

    /// Opens a KV cache for incremental decoding of `slots` sequences of up to `capacity`
    /// tokens each (replacing any open one); returns its bytes. [`Error::OutOfMemory`] if it
    /// cannot be allocated, [`Error::InvalidArgument`] for an encoder or, with learned
    /// positions, a capacity past `block_size`.
    pub fn decode_start(&mut self, slots: usize, capacity: usize) -> Result<u64> {
        self.decoder = None;
        let decoder = Decoder::new(&self.config, slots, capacity, zeroed)?;
        let cache_bytes = 2 * bytes(Decoder::cache_len(&self.config, slots, capacity)?);
        self.decoder = Some(decoder);
        Ok(cache_bytes)
    }

    /// Appends `tokens` to the open cache, `counts[s]` of them to slot `s` (slot by slot), and
    /// returns the logits `[S_fed, V]` of each fed slot's last new token (a view valid until
    /// the next call). See [`Decoder::feed`].
    pub fn decode_feed(&mut self, tokens: &[u32], counts: &[usize]) -> Result<&[f32]> {
        let decoder = self.decoder.as_mut().ok_or_else(|| {
            Error::InvalidArgument("decode: no KV cache is open (call decode_start first)".into())
        })?;
        let p = tensors(&self.config, &mut Carve { rest: &self.params });
        decoder.feed(&self.config, &p, self.alibi.as_deref(), self.int8.as_ref(), tokens, counts)
    }

    /// Quantises every linear weight (the blocks', the LM head's, the masked-LM transform's,
    /// the pooler's and the classifier's) to int8 with `scales` (per output channel, or per
    /// block along K), packed once; [`Model::decode_feed`], [`Model::batch_logits_int8`] and
    /// [`Model::batch_hidden_int8`] then use them. The float32 parameters are kept (and still
    /// used by every other path). Returns the bytes of the int8 copies. See
    /// [`DecodeInt8::quantize`].
    pub fn quantize_int8_with(&mut self, scales: Scales) -> Result<u64> {
        let p = tensors(&self.config, &mut Carve { rest: &self.params });
        let q = DecodeInt8::quantize(&self.config, &p, scales)?;
        let bytes = q.bytes();
        self.int8 = Some(q);
        Ok(bytes)
    }

    /// [`Model::quantize_int8_with`] per output channel ([`Scales::PerChannel`]).
    pub fn quantize_int8(&mut self) -> Result<u64> {
        self.quantize_int8_with(Scales::PerChannel)
    }

    /// Whether [`Model::quantize_int8`] has run.
    pub fn is_int8(&self) -> bool {
        self.int8.is_some()
    }

    /// Tokens held per slot of the open cache.
    pub fn decode_lens(&self) -> Option<&[usize]> {
        self.decoder.as_ref().map(Decoder::lens)
    }

    /// Empties one slot of the open cache.
    pub fn decode_reset(&mut self, slot: usize) -> Result<()> {
        self.decoder
            .as_mut()
            .ok_or_else(|| Error::InvalidArgument("decode: no KV cache is open".into()))?
            .reset(slot)
    }

    /// Frees the KV cache.
    pub fn decode_end(&mut self) {
        self.decoder = None;
    }

    /// One optimizer step over `accum` micro-batches: `ids, targets: [accum, B, T]`. Zeroes the
    /// gradients, accumulates `1/accum ·` each micro-batch's gradient, clips the global norm,
    /// and applies AdamW (decay per parameter group). A non-finite loss or gradient leaves
    /// the parameters and optimizer state untouched and reports `applied: false`.
    pub fn train_step(
        &mut self,
        ids: &[u32],
        targets: &[i32],
        accum: usize,
        b: usize,
        t: usize,
        options: &StepOptions,
    ) -> Result<StepReport> {
        self.train_step_batch(Batch::tokens(ids, Some(targets)), accum, b, t, options)
    }

    /// [`Model::train_step`] for any batch: `accum` micro-batches of `b` sequences back to
    /// back (`[accum·B, T]` buffers, `labels: [accum·B]`); the objective is the sum of the
    /// present losses.
    pub fn train_step_batch(
        &mut self,
        batch: Batch<'_>,
        accum: usize,
        b: usize,
        t: usize,
        options: &StepOptions,
    ) -> Result<StepReport> {
        options.adam.validate()?;
        if accum == 0 {
            return Err(Error::InvalidArgument(
                "model: gradient accumulation steps must be >= 1".into(),
            ));
        }
        batch.check(accum * b, t)?;
        batch.require_targets()?;
        if let Some(max) = options.max_grad_norm {
            if max.is_nan() || max <= 0.0 {
                return Err(Error::InvalidArgument(format!(
                    "model: max_grad_norm must be > 0, got {max}"
                )));
            }
        }
        self.check_dims(b, t)?;
        if !self.shards.as_ref().is_some_and(|s| s.fits(b, t))
            && !self.planned.is_some_and(|p| p.0 >= b && p.1 >= t && p.2)
        {
            self.plan(b, t, true)?;
        }
        // One job for the pool: its threads run the whole step without waiting on the caller.
        par::on_pool(|| self.step_planned(batch, accum, b, t, options))
    }

    /// The body of [`Model::train_step_batch`] once the inputs are checked and the buffers
    /// planned.
    fn step_planned(
        &mut self,
        batch: Batch<'_>,
        accum: usize,
        b: usize,
        t: usize,
        options: &StepOptions,
    ) -> Result<StepReport> {
        par::zero(&mut self.train_state()?.grads);
        let scale = 1.0 / accum as f32;
        let mut loss_sum = 0.0f64;
        let fixed =
            Fixed { sinusoid: self.sinusoid.as_deref(), alibi: self.alibi.as_deref(), int8: None };
        match (self.shards.as_mut().filter(|s| s.fits(b, t)), self.train.as_mut()) {
            (Some(shards), Some(state)) => {
                shards.zero_grads();
                for micro in 0..accum {
                    let part = batch.sequences(micro * b..(micro + 1) * b, t);
                    let seed =
                        options.dropout_seed.wrapping_mul(0x9E37_79B9).wrapping_add(micro as u64);
                    let mb = MicroBatch { batch: part, b, t, scale, dropout_seed: seed };
                    let loss = shards.micro_batch(
                        &self.config,
                        &self.params,
                        &mut state.grads,
                        fixed,
                        mb,
                    )?;
                    loss_sum += f64::from(loss);
                }
                shards.reduce_into(&mut state.grads);
            }
            _ => {
                for micro in 0..accum {
                    let part = batch.sequences(micro * b..(micro + 1) * b, t);
                    let seed =
                        options.dropout_seed.wrapping_mul(0x9E37_79B9).wrapping_add(micro as u64);
                    let loss = self.run(part, b, t, Some(scale), Some(seed))?;
                    loss_sum += f64::from(loss.total());
                }
            }
        }
        let loss = (loss_sum / accum as f64) as f32;
        let specs = &self.specs;
        let state = self
            .train
            .as_mut()
            .ok_or_else(|| Error::InvalidArgument("model: no training state".into()))?;
        let grad_norm = match options.max_grad_norm {
            Some(max) => clip_grad_norm(&mut [state.grads.as_mut_slice()], max)?,
            None => global_grad_norm(&[state.grads.as_slice()]),
        };
        if !loss.is_finite() || !grad_norm.is_finite() {
            return Ok(StepReport { loss, grad_norm, applied: false });
        }
        state.step += 1;
        for spec in specs {
            let wd = match spec.group {
                Group::Matrix => options.weight_decay,
                Group::Embedding if options.decay_embeddings => options.weight_decay,
                _ => 0.0,
            };
            let r = spec.offset..spec.offset + spec.len();
            let call = AdamWStep { lr: options.lr, weight_decay: wd, step: state.step };
            adamw_update(
                &mut self.params[r.clone()],
                &mut state.m[r.clone()],
                &mut state.v[r.clone()],
                &state.grads[r],
                call,
                &options.adam,
            )?;
        }
        Ok(StepReport { loss, grad_norm, applied: true })
    }
}
