//! The activation plan: every buffer the forward saves for the backward, and the scratch both
//! passes share, for one `(B, T)`, carved from one arena (see `params` for the carving).
//! Buffers sized for `(B, T)` also fit any `(B' ≤ B, T' ≤ T)`, so one arena serves the
//! training batch and smaller evaluation or sampling calls.

use super::config::{Ffn, LmHead, ModelConfig, NormKind, NormPlacement, Positional};
use super::params::{Alloc, Carve, CarveMut, Counter, Group};
use crate::error::{Error, Result};

/// A norm's output and saved statistics.
pub struct NormActs<S> {
    /// `[B·T, C]`; `None` when the output lands in another named buffer.
    pub out: Option<S>,
    /// `[B·T]` (LayerNorm only).
    pub mean: Option<S>,
    /// `[B·T]`.
    pub rstd: S,
}

/// What one block saves.
pub struct LayerActs<S> {
    /// Pre: `N1(x)`, the attention input. Post: `N1(x + attn)`, the block's middle.
    pub norm1: NormActs<S>,
    /// Post only: `x + attn` (`N1`'s input), `[B·T, C]`.
    pub sum1: Option<S>,
    /// `[B, H, T, D]` queries, keys, values (after RoPE).
    pub q: S,
    /// `[B, H, T, D]`.
    pub k: S,
    /// `[B, H, T, D]`.
    pub v: S,
    /// `[B, H, T]` attention log-sum-exp.
    pub lse: S,
    /// `[B, H, T, T]` attention probabilities (training plans with
    /// [`ModelConfig::saves_attention_probs`]).
    pub att_probs: Option<S>,
    /// `[B, H, T, D]` attention output.
    pub att: S,
    /// Pre only: `x + attn`, `[B·T, C]`.
    pub mid: Option<S>,
    /// Pre: `N2(mid)`, the MLP input (`out` set). Post: statistics of `N2(sum2)`, whose output
    /// is the block output `out`.
    pub norm2: NormActs<S>,
    /// Post only: `mid + mlp` (`N2`'s input), `[B·T, C]`.
    pub sum2: Option<S>,
    /// `[B·T, F]` the MLP's first-layer output (pre-activation) or the GLU gate. A training
    /// forward of the GELU MLP leaves `gelu'(pre-activation)` here instead (for the backward).
    pub fc: S,
    /// `[B·T, F]` the GLU up projection.
    pub up: Option<S>,
    /// `[B·T, F]` the activation (GELU output or GLU product).
    pub act: S,
    /// `[B·T, C]` dropout masks on the attention and MLP outputs (`dropout > 0`).
    pub attn_mask: Option<S>,
    /// `[B·T, C]`.
    pub mlp_mask: Option<S>,
    /// `[B·T, C]` the block's output.
    pub out: S,
}

/// Backward-only scratch, shared by the blocks.
pub struct GradScratch<S> {
    /// `[B·T, C]` ×3: the running residual gradient and two temporaries.
    pub dres: S,
    /// `[B·T, C]`.
    pub dmid: S,
    /// `[B·T, C]`.
    pub dtmp: S,
    /// `[B, H, T, D]` ×4: attention gradients and the head-layout temporary.
    pub dq: S,
    /// `[B, H, T, D]`.
    pub dk: S,
    /// `[B, H, T, D]`.
    pub dv: S,
    /// `[B, H, T, D]`.
    pub datt: S,
    /// `[B·T, 3C]`.
    pub dqkv: S,
    /// `[B·T, C]`.
    pub dmerged: S,
    /// `[B·T, F]` ×2 (+1 for GLU).
    pub dfc: S,
    /// `[B·T, F]`.
    pub dup: Option<S>,
    /// `[B·T, F]`.
    pub dact: S,
    /// `[H, T, T]` score-bias gradient (relative positions, KERPLE).
    pub dbias: Option<S>,
    /// `[B, C]` ×2: gradients of the pooled and first-token rows (classifier only).
    pub dpooled: Option<S>,
    /// `[B, C]`.
    pub dfirst: Option<S>,
}

/// What BERT's masked-LM head saves.
pub struct MlmActs<S> {
    /// `[B·T, C]` transform output before the activation.
    pub fc: S,
    /// `[B·T, C]` after the activation.
    pub act: S,
    /// Its norm, `out: [B·T, C]` (the decoder's input).
    pub norm: NormActs<S>,
}

/// What the sequence classifier saves.
pub struct ClassifierActs<S> {
    /// `[B, C]` the first token's final hidden row.
    pub first: S,
    /// `[B, C]` `tanh(first · W_poolᵀ + b)`.
    pub pooled: S,
    /// `[B, K]` class logits (and, in the backward, their gradient).
    pub logits: S,
    /// `[B, K]` softmax.
    pub probs: S,
    /// `[B]` per-sequence losses.
    pub losses: S,
}

/// Everything for one `(B, T)`.
pub struct Acts<S> {
    /// `[B·T, C]` embedding output (after the embedding norm and dropout): block 0's input.
    pub emb: S,
    /// `[B·T, C]` the summed embeddings when they are normed (the norm's input).
    pub emb_sum: Option<S>,
    /// Statistics of the embedding norm (its output is `emb`).
    pub emb_norm: Option<NormActs<S>>,
    /// `[B·T, C]` embedding dropout mask.
    pub emb_mask: Option<S>,
    /// `L` blocks.
    pub layers: Vec<LayerActs<S>>,
    /// Pre-norm only: the final norm, `out: [B·T, C]`.
    pub norm_f: Option<NormActs<S>>,
    /// Masked-LM head activations.
    pub mlm: Option<MlmActs<S>>,
    /// Classifier activations.
    pub classifier: Option<ClassifierActs<S>>,
    /// `[B·T, V]` logits (and, in the backward, their gradient); empty without an LM head.
    pub logits: S,
    /// `[B·T, V]` softmax probabilities.
    pub probs: S,
    /// `[B·T]` per-token losses.
    pub losses: S,
    /// `[H, T, T]` score bias (ALiBi, relative, KERPLE).
    pub bias: Option<S>,
    /// Forward scratch: `[B·T, 3C]` q/k/v projections.
    pub qkv: S,
    /// `[B, H, T, D]` pre-RoPE head temporary.
    pub heads_tmp: S,
    /// `[B·T, C]` merged heads (input of the attention projection).
    pub merged: S,
    /// `[B·T, C]` output of a block's projection before the residual add.
    pub proj: S,
    /// Backward scratch (training plans only).
    pub grad: Option<GradScratch<S>>,
}

fn norm_acts<A: Alloc>(
    cfg: &ModelConfig,
    a: &mut A,
    rows: usize,
    with_out: bool,
) -> NormActs<A::Slot> {
    let c = cfg.n_embd;
    NormActs {
        out: with_out.then(|| a.take(format_args!("norm.out"), &[rows, c], Group::Activation)),
        mean: (cfg.norm == NormKind::LayerNorm)
            .then(|| a.take(format_args!("norm.mean"), &[rows], Group::Activation)),
        rstd: a.take(format_args!("norm.rstd"), &[rows], Group::Activation),
    }
}

/// The plan for `b × t` tokens (`training` adds the backward scratch).
pub fn acts<A: Alloc>(
    cfg: &ModelConfig,
    b: usize,
    t: usize,
    training: bool,
    a: &mut A,
) -> Acts<A::Slot> {
    let (c, f, h, v) = (cfg.n_embd, cfg.ffn_hidden, cfg.n_head, cfg.vocab_size);
    let rows = b * t;
    let pre = cfg.norm_placement == NormPlacement::Pre;
    let glu = matches!(cfg.ffn, Ffn::Glu(_));
    let dropout = cfg.dropout > 0.0 && training;
    let has_bias = matches!(
        cfg.positional,
        Positional::Alibi | Positional::Relative { .. } | Positional::Kerple
    );
    let save_probs = training && cfg.saves_attention_probs();
    let act = Group::Activation;
    let buf = |a: &mut A, what: &str, shape: &[usize]| a.take(format_args!("{what}"), shape, act);
    let emb = buf(a, "emb", &[rows, c]);
    let emb_sum = cfg.embedding_norm.then(|| buf(a, "emb_sum", &[rows, c]));
    let emb_norm = cfg.embedding_norm.then(|| norm_acts(cfg, a, rows, false));
    let emb_mask = dropout.then(|| buf(a, "emb_mask", &[rows, c]));
    let layers = (0..cfg.n_layer)
        .map(|_| LayerActs {
            norm1: norm_acts(cfg, a, rows, true),
            sum1: (!pre).then(|| buf(a, "sum1", &[rows, c])),
            q: buf(a, "q", &[rows, c]),
            k: buf(a, "k", &[rows, c]),
            v: buf(a, "v", &[rows, c]),
            lse: buf(a, "lse", &[b, h, t]),
            att_probs: save_probs.then(|| buf(a, "att_probs", &[b, h, t, t])),
            att: buf(a, "att", &[rows, c]),
            mid: pre.then(|| buf(a, "mid", &[rows, c])),
            norm2: norm_acts(cfg, a, rows, pre),
            sum2: (!pre).then(|| buf(a, "sum2", &[rows, c])),
            fc: buf(a, "fc", &[rows, f]),
            up: glu.then(|| buf(a, "up", &[rows, f])),
            act: buf(a, "act", &[rows, f]),
            attn_mask: dropout.then(|| buf(a, "attn_mask", &[rows, c])),
            mlp_mask: dropout.then(|| buf(a, "mlp_mask", &[rows, c])),
            out: buf(a, "out", &[rows, c]),
        })
        .collect();
    let norm_f = pre.then(|| norm_acts(cfg, a, rows, true));
    let mlm = (cfg.lm_head == LmHead::Mlm).then(|| MlmActs {
        fc: buf(a, "mlm.fc", &[rows, c]),
        act: buf(a, "mlm.act", &[rows, c]),
        norm: norm_acts(cfg, a, rows, true),
    });
    let k = cfg.n_classes;
    let classifier = (k > 0).then(|| ClassifierActs {
        first: buf(a, "cls.first", &[b, c]),
        pooled: buf(a, "cls.pooled", &[b, c]),
        logits: buf(a, "cls.logits", &[b, k]),
        probs: buf(a, "cls.probs", &[b, k]),
        losses: buf(a, "cls.losses", &[b]),
    });
    let lm_rows = if cfg.lm_head == LmHead::None { 0 } else { rows };
    let logits = buf(a, "logits", &[lm_rows, v]);
    let probs = buf(a, "probs", &[lm_rows, v]);
    let losses = buf(a, "losses", &[lm_rows]);
    let bias = has_bias.then(|| buf(a, "bias", &[h, t, t]));
    let qkv = buf(a, "qkv", &[rows, 3 * c]);
    let heads_tmp = buf(a, "heads_tmp", &[rows, c]);
    let merged = buf(a, "merged", &[rows, c]);
    let proj = buf(a, "proj", &[rows, c]);
    let grad = training.then(|| GradScratch {
        dres: buf(a, "dres", &[rows, c]),
        dmid: buf(a, "dmid", &[rows, c]),
        dtmp: buf(a, "dtmp", &[rows, c]),
        dq: buf(a, "dq", &[rows, c]),
        dk: buf(a, "dk", &[rows, c]),
        dv: buf(a, "dv", &[rows, c]),
        datt: buf(a, "datt", &[rows, c]),
        dqkv: buf(a, "dqkv", &[rows, 3 * c]),
        dmerged: buf(a, "dmerged", &[rows, c]),
        dfc: buf(a, "dfc", &[rows, f]),
        dup: glu.then(|| buf(a, "dup", &[rows, f])),
        dact: buf(a, "dact", &[rows, f]),
        dbias: matches!(cfg.positional, Positional::Relative { .. } | Positional::Kerple)
            .then(|| buf(a, "dbias", &[h, t, t])),
        dpooled: (k > 0).then(|| buf(a, "dpooled", &[b, c])),
        dfirst: (k > 0).then(|| buf(a, "dfirst", &[b, c])),
    });
    Acts {
        emb,
        emb_sum,
        emb_norm,
        emb_mask,
        layers,
        norm_f,
        mlm,
        classifier,
        logits,
        probs,
        losses,
        bias,
        qkv,
        heads_tmp,
        merged,
        proj,
        grad,
    }
}

/// Elements of the plan for `(b, t)` (saturating on overflow).
pub fn acts_len(cfg: &ModelConfig, b: usize, t: usize, training: bool) -> usize {
    let mut counter = Counter::default();
    acts(cfg, b, t, training, &mut counter);
    counter.total
}

/// The plan for `(b, t)` carved from `arena`, or an error (not a panic) when `arena` is
/// shorter than that plan: whatever decided that an arena covers a batch, carving checks it.
pub fn acts_in<'a>(
    cfg: &ModelConfig,
    b: usize,
    t: usize,
    training: bool,
    arena: &'a [f32],
) -> Result<Acts<&'a [f32]>> {
    check_arena(cfg, b, t, training, arena.len())?;
    Ok(acts(cfg, b, t, training, &mut Carve { rest: arena }))
}

/// [`acts_in`] with mutable buffers.
pub fn acts_in_mut<'a>(
    cfg: &ModelConfig,
    b: usize,
    t: usize,
    training: bool,
    arena: &'a mut [f32],
) -> Result<Acts<&'a mut [f32]>> {
    check_arena(cfg, b, t, training, arena.len())?;
    Ok(acts(cfg, b, t, training, &mut CarveMut { rest: arena }))
}

fn check_arena(
    cfg: &ModelConfig,
    b: usize,
    t: usize,
    training: bool,
    arena_len: usize,
) -> Result<()> {
    let need = acts_len(cfg, b, t, training);
    if arena_len < need {
        let pass = if training { "training" } else { "inference" };
        return Err(Error::InvalidArgument(format!(
            "model: the activation arena holds {arena_len} floats, a {pass} pass over batch {b} × {t} needs {need}: \
             plan the model for that batch first"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[test]
    fn carving_a_short_arena_is_an_error() {
        let cfg = ModelConfig::gpt(11, 8, 2, 2, 8);
        for training in [false, true] {
            let need = acts_len(&cfg, 2, 3, training);
            let mut arena = vec![0.0f32; need];
            assert!(acts_in(&cfg, 2, 3, training, &arena).is_ok());
            assert!(acts_in_mut(&cfg, 2, 3, training, &mut arena).is_ok());
            // a smaller batch fits the same arena
            assert!(acts_in(&cfg, 1, 2, training, &arena).is_ok());
            let err = acts_in(&cfg, 2, 4, training, &arena)
                .err()
                .expect("a longer sequence must not fit");
            assert!(err.to_string().contains("needs"), "{err}");
            assert!(acts_in_mut(&cfg, 2, 3, training, &mut arena[..need - 1]).is_err());
        }
    }
}
