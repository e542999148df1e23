//! One forward(+backward) pass over planned buffers, and data parallelism inside a training
//! step: the batch's rows are split into one shard per thread, each shard runs the whole
//! forward and backward on its own activation arena and gradient buffer, and the gradients
//! are summed at the end. The threads stay busy for the whole micro-batch instead of being
//! woken once per kernel (in WebAssembly a wake-up costs tens of microseconds, and a small
//! model's kernels are short). The kernels inside a shard still split their work into tasks:
//! when one shard finishes first (on VMs whose cores run at different speeds for stretches),
//! its thread takes tasks of the other shard's kernels instead of waiting: 0.964–0.981 of the
//! time of shards whose kernels ran serially (Shakespeare GPT step, threads-relaxed build, 2
//! threads, paired runs on a 2-vCPU AMD EPYC VM, 2026-11-28).
//!
//! Used for models whose extra gradient copies are small (see [`Shards::plan`]); large models
//! keep kernel-level parallelism, where each kernel is long enough to amortise the wake-ups.
//! Results are deterministic for a given thread count; dropout masks do not depend on it.

use std::sync::{Mutex, PoisonError};

use super::batch::{Batch, IGNORE_INDEX};
use super::config::{ModelConfig, Positional};
use super::decode_int8::DecodeInt8;
use super::ends::{LossScales, Losses};
use super::params::{tensors, Carve, CarveMut};
use super::plan::{acts_in_mut, acts_len};
use super::transformer::{backward, forward, Ctx};
use crate::error::{Error, Result};
use crate::kernels::rope::RopeTable;
use crate::par;

/// Tables a pass reads besides the parameters.
#[derive(Clone, Copy)]
pub(crate) struct Fixed<'a> {
    /// `[block_size, C]`.
    pub sinusoid: Option<&'a [f32]>,
    /// `[H]`.
    pub alibi: Option<&'a [f32]>,
    /// Int8 copies of the linear weights (inference passes only; see [`Ctx::int8`]).
    pub int8: Option<&'a DecodeInt8>,
}

/// One call's rows.
#[derive(Clone, Copy)]
pub(crate) struct Rows<'a> {
    /// The inputs, `[B, T]` each (`labels: [B]`).
    pub batch: Batch<'a>,
    /// `B`.
    pub b: usize,
    /// `T`.
    pub t: usize,
    /// First row's index in the whole batch.
    pub row_offset: usize,
    /// Stop at the final hidden rows.
    pub hidden_only: bool,
}

/// The inputs of a pass as a [`Ctx`].
pub(crate) fn make_ctx<'a>(
    config: &ModelConfig,
    fixed: Fixed<'a>,
    rows: Rows<'a>,
) -> Result<Ctx<'a>> {
    let Rows { batch, b, t, row_offset, hidden_only } = rows;
    batch.check(b, t)?;
    let rope = match config.positional {
        Positional::Rope => Some(RopeTable::new(t, config.head_dim(), &config.rope_config(0))?),
        _ => None,
    };
    Ok(Ctx {
        b,
        t,
        ids: batch.ids,
        targets: batch.targets,
        ignore_index: Some(IGNORE_INDEX),
        key_padding: batch.attention_mask,
        type_ids: batch.type_ids,
        labels: batch.labels,
        hidden_only,
        dropout_seed: None,
        training: false,
        row_offset,
        sinusoid: fixed.sinusoid,
        alibi_slopes: fixed.alibi,
        rope,
        int8: fixed.int8,
    })
}

/// Forward over `arena` (planned for at least `(rows.b, rows.t, training)`), and with `grads`
/// the backward adding the gradients of the losses times their scales. Returns the losses of
/// the given targets and labels.
pub(crate) fn pass(
    cfg: &ModelConfig,
    params: &[f32],
    arena: &mut [f32],
    grads: Option<(&mut [f32], LossScales)>,
    fixed: Fixed<'_>,
    rows: Rows<'_>,
    dropout_seed: Option<u64>,
) -> Result<Losses> {
    let training = grads.is_some();
    let mut ctx = make_ctx(cfg, fixed, rows)?;
    ctx.dropout_seed = dropout_seed.filter(|_| cfg.dropout > 0.0 && training);
    ctx.training = training;
    let p = tensors(cfg, &mut Carve { rest: params });
    let mut a = acts_in_mut(cfg, rows.b, rows.t, training, arena)?;
    let losses = forward(cfg, &p, &mut a, &ctx)?;
    if let Some((grads, scales)) = grads {
        let mut g = tensors(cfg, &mut CarveMut { rest: grads });
        backward(cfg, &p, &mut g, &mut a, &ctx, scales)?;
    }
    Ok(losses)
}

/// Per-shard arenas and gradient buffers (shard 0 accumulates into the model's gradients).
pub(crate) struct Shards {
    /// Rows per shard (the last may have fewer).
    rows: usize,
    /// `T` the arenas were planned for.
    t: usize,
    /// One activation arena per shard.
    arenas: Vec<Vec<f32>>,
    /// Gradients of shards `1..`.
    grads: Vec<Vec<f32>>,
}

/// One micro-batch of a training step: `b` sequences of `t` tokens, the scale of its loss's
/// gradient, and its dropout stream.
#[derive(Clone, Copy)]
pub(crate) struct MicroBatch<'a> {
    /// The inputs, `[B, T]` each (`labels: [B]`).
    pub batch: Batch<'a>,
    /// `B`.
    pub b: usize,
    /// `T`.
    pub t: usize,
    /// The gradient added is `scale ·` the gradient of the micro-batch's loss.
    pub scale: f32,
    /// Seeds the dropout masks.
    pub dropout_seed: u64,
}

/// Extra gradient copies above this many bytes are not worth it: use kernel-level threads.
const MAX_EXTRA_GRAD_BYTES: usize = 256 << 20;

impl Shards {
    /// Shards for training batches of `b × t` on `n_threads`, or `None` when there is one
    /// thread or one row, or when the extra gradient copies would exceed 256 MiB.
    pub fn plan(
        cfg: &ModelConfig,
        n_params: usize,
        b: usize,
        t: usize,
        n_threads: usize,
    ) -> Option<(usize, usize)> {
        let n = n_threads.min(b);
        let extra = (n.saturating_sub(1)).saturating_mul(n_params).saturating_mul(4);
        (n > 1 && extra <= MAX_EXTRA_GRAD_BYTES).then(|| (n, acts_len(cfg, b.div_ceil(n), t, true)))
    }

    /// Allocates `n` shards of `b.div_ceil(n)` rows, `act_len` floats each.
    pub fn new(
        n: usize,
        b: usize,
        t: usize,
        act_len: usize,
        n_params: usize,
        zeroed: impl Fn(usize, &str) -> Result<Vec<f32>>,
    ) -> Result<Self> {
        let arenas = (0..n).map(|_| zeroed(act_len, "shard activations")).collect::<Result<_>>()?;
        let grads = (1..n).map(|_| zeroed(n_params, "shard gradients")).collect::<Result<_>>()?;
        Ok(Self { rows: b.div_ceil(n), t, arenas, grads })
    }

    /// True if these shards serve batches of `b × t`.
    pub fn fits(&self, b: usize, t: usize) -> bool {
        t <= self.t && b <= self.rows * self.arenas.len() && b > self.rows * (self.arenas.len() - 1)
    }

    /// Zeroes the shards' own gradients (the model zeroes shard 0's).
    pub fn zero_grads(&mut self) {
        self.grads.iter_mut().for_each(|g| par::zero(g));
    }

    /// Forward + backward of one micro-batch, shards in parallel, adding `mb.scale ·` the
    /// gradient of the micro-batch's loss into `grads0: [n_params]` (shard 0) and the shards'
    /// own buffers; returns that loss (the token mean plus the class mean, each over the whole
    /// micro-batch's counted targets).
    pub fn micro_batch(
        &mut self,
        cfg: &ModelConfig,
        params: &[f32],
        grads0: &mut [f32],
        fixed: Fixed<'_>,
        mb: MicroBatch<'_>,
    ) -> Result<f32> {
        let MicroBatch { batch, b, t, scale, dropout_seed } = mb;
        let (tokens, sequences) = batch.counted();
        let share =
            |part: usize, whole: usize| if whole == 0 { 0.0 } else { part as f32 / whole as f32 };
        let mut jobs: Vec<Mutex<(&mut [f32], &mut [f32])>> = Vec::with_capacity(self.arenas.len());
        let mut grads = std::iter::once(grads0).chain(self.grads.iter_mut().map(Vec::as_mut_slice));
        for arena in &mut self.arenas {
            let g = grads
                .next()
                .ok_or_else(|| Error::InvalidArgument("model: shard gradients missing".into()))?;
            jobs.push(Mutex::new((arena.as_mut_slice(), g)));
        }
        // Each shard's loss, keyed by its index: summed in shard order, not in the order the
        // shards finish, so the loss does not depend on scheduling with more than two shards.
        let results: Mutex<Vec<(usize, Result<f32>)>> = Mutex::new(Vec::new());
        let rows = self.rows;
        par::for_each_range(jobs.len(), 1, |shards| {
            for s in shards {
                let start = s * rows;
                let end = b.min(start + rows);
                if start >= end {
                    continue;
                }
                let mut job = jobs[s].lock().unwrap_or_else(PoisonError::into_inner);
                let (arena, g) = &mut *job;
                let part = batch.sequences(start..end, t);
                // Each shard's mean losses, weighted by its share of the counted targets.
                let (shard_tokens, shard_sequences) = part.counted();
                let weights = LossScales {
                    token: share(shard_tokens, tokens),
                    class: share(shard_sequences, sequences),
                };
                let scales =
                    LossScales { token: scale * weights.token, class: scale * weights.class };
                let shard_rows =
                    Rows { batch: part, b: end - start, t, row_offset: start, hidden_only: false };
                let result = pass(
                    cfg,
                    params,
                    arena,
                    Some((g, scales)),
                    fixed,
                    shard_rows,
                    Some(dropout_seed),
                )
                .map(|l| {
                    l.token.unwrap_or(0.0) * weights.token + l.class.unwrap_or(0.0) * weights.class
                });
                results.lock().unwrap_or_else(PoisonError::into_inner).push((s, result));
            }
        });
        let mut loss = 0.0f32;
        let mut results = results.into_inner().unwrap_or_else(PoisonError::into_inner);
        results.sort_by_key(|&(s, _)| s);
        for (_, r) in results {
            loss += r?;
        }
        Ok(loss)
    }

    /// `grads0 += Σ` the other shards' gradients.
    pub fn reduce_into(&self, grads0: &mut [f32]) {
        let others = &self.grads;
        par::for_each_row_block(grads0, 1, 1 << 15, |range, block| {
            for g in others {
                for (acc, &x) in block.iter_mut().zip(&g[range.clone()]) {
                    *acc += x;
                }
            }
        });
    }
}
