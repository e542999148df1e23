//! The transformer's forward and backward over planned buffers: embeddings (+ positions),
//! `L` blocks (attention and MLP, pre- or post-norm), the final norm, the tied or separate
//! head, and the cross-entropy loss. Every op is a kernel pair from `crate::kernels`; this
//! file only wires them, and each backward line quotes the forward line it differentiates.
//!
//! Shapes: `ids, targets: [B, T]`, activations `[B·T, C]` rows, heads `[B, H, T, D]`,
//! logits `[B·T, V]`. Accumulation: the backward ADDS into the parameter gradients (so micro-
//! batches accumulate) and overwrites every activation gradient.

use super::config::{Ffn, ModelConfig, NormPlacement, Positional};
use super::decode_int8::{linear_int8_checked, DecodeInt8, Int8Layer};
use super::ends::{
    embed_backward, embed_forward, heads_backward, heads_forward, HeadActs, HeadOut, HeadScratch,
    LossScales, Losses,
};
use super::heads::{apply_mask, dropout_mask, heads_to_rows, rows_to_heads, HeadDims};
use super::kerple::{kerple_bias_backward, kerple_bias_forward};
use super::params::{LayerTensors, Linear, NormTensors, Tensors};
use super::plan::{Acts, GradScratch, LayerActs, NormActs};
use super::positional::{alibi_bias, relative_bias_backward, relative_bias_forward, RelativeDims};
use crate::error::{Error, Result};
use crate::kernels::attention::{
    attention_backward_lse, attention_forward_lse, AttnDims, AttnGrads, AttnOptions, AttnSaved, Qkv,
};
use crate::kernels::glu::{
    activation_backward_from_derivative, activation_forward, activation_forward_saving_derivative,
    glu_backward, glu_forward,
};
use crate::kernels::int8::Int8Weight;
use crate::kernels::matmul::{
    matmul_backward_into, matmul_forward, InputGrad, MatmulDims, MatmulForm, MatmulGrads,
};
use crate::kernels::norm::{norm_backward, norm_forward, NormDims, NormGrads, NormParams, Stats};
use crate::kernels::residual::residual_forward;
use crate::kernels::rope::{RopeDims, RopeTable};

/// One call's inputs and the fixed tables it needs.
pub struct Ctx<'a> {
    /// Batch `B`.
    pub b: usize,
    /// Sequence `T` (≤ `block_size` unless the positions allow more).
    pub t: usize,
    /// `[B, T]` token ids (< V).
    pub ids: &'a [u32],
    /// `[B, T]` next-token targets (< V, or `ignore_index`); `None`: logits only.
    pub targets: Option<&'a [i32]>,
    /// Targets equal to this are skipped by the loss.
    pub ignore_index: Option<i32>,
    /// `[B, T]` nonzero for real tokens (encoders).
    pub key_padding: Option<&'a [u8]>,
    /// `[B, T]` segment ids (`< type_vocab_size`); `None`: all segment 0.
    pub type_ids: Option<&'a [u32]>,
    /// `[B]` class labels (`< n_classes`, or `ignore_index`) for the classifier's loss.
    pub labels: Option<&'a [i32]>,
    /// Stop at the final hidden rows (embeddings): no heads, no losses.
    pub hidden_only: bool,
    /// Dropout stream for this call (training with `dropout > 0` only).
    pub dropout_seed: Option<u64>,
    /// A backward follows this forward: the GELU MLP then saves `act'(fc)` in place of `fc`
    /// (see [`mlp_forward`]).
    pub training: bool,
    /// Index of this call's first row in the whole batch (data-parallel shards), so dropout
    /// masks do not depend on how a batch is split.
    pub row_offset: usize,
    /// `[block_size, C]` sinusoidal table.
    pub sinusoid: Option<&'a [f32]>,
    /// `[H]` ALiBi slopes.
    pub alibi_slopes: Option<&'a [f32]>,
    /// RoPE table for `T`, head dim `D`.
    pub rope: Option<RopeTable>,
    /// Int8 copies of the linear weights ([`DecodeInt8`]): when set, every linear layer of
    /// the blocks and heads runs on the W8A16 kernels. Inference only (`training` false).
    pub int8: Option<&'a DecodeInt8>,
}

impl Ctx<'_> {
    fn rows(&self) -> usize {
        self.b * self.t
    }
}

/// What every stage of one pass reads: the model's config, its parameters and the call's
/// inputs and tables.
#[derive(Clone, Copy)]
pub struct Pass<'a> {
    /// The model's configuration.
    pub cfg: &'a ModelConfig,
    /// The model's parameters.
    pub p: &'a Tensors<&'a [f32]>,
    /// This call's inputs and tables.
    pub ctx: &'a Ctx<'a>,
}

/// What every op of one block reads: the model's config, this call's inputs and tables, the
/// block's parameters, and the attention bias all blocks share.
#[derive(Clone, Copy)]
struct Layer<'a> {
    cfg: &'a ModelConfig,
    ctx: &'a Ctx<'a>,
    /// The block's parameters.
    p: &'a LayerTensors<&'a [f32]>,
    /// `[H, T, T]` ALiBi, relative-position or KERPLE bias, added to the attention scores
    /// (`None` in a layer without positions).
    bias: Option<&'a [f32]>,
    /// RoPE on q and k (`None` without RoPE or in a layer without positions).
    rope: Option<&'a RopeTable>,
    /// The block's int8 weights (`None`: float32).
    q: Option<&'a Int8Layer>,
}

impl<'a> Layer<'a> {
    /// Block `l` of the pass: its parameters, and the positions unless it is a NoPE layer.
    fn new(pass: Pass<'a>, l: usize, bias: Option<&'a [f32]>) -> Self {
        let Pass { cfg, p, ctx } = pass;
        let positions = cfg.positions_in_layer(l);
        Self {
            cfg,
            ctx,
            p: &p.layers[l],
            bias: bias.filter(|_| positions),
            rope: ctx.rope.as_ref().filter(|_| positions),
            q: ctx.int8.map(|q| &q.layers[l]),
        }
    }
}

/// `out = inp · Wᵀ + b`: `out: [m, n]`, `inp: [m, k]`, `W: [n, k]`, `b: [n]`; with `q` (the
/// int8 copy of `W`, inference only) on the W8A16 kernels instead.
pub(super) fn linear_fwd(
    out: &mut [f32],
    inp: &[f32],
    w: &Linear<&[f32]>,
    q: Option<&Int8Weight>,
    m: usize,
    k: usize,
    n: usize,
) -> Result<()> {
    match q {
        Some(q) => linear_int8_checked(out, inp, q, w.bias, (m, k, n)),
        None => {
            matmul_forward(out, inp, w.weight, w.bias, MatmulDims::new(m, k, n), MatmulForm::ABt)
        }
    }
}

/// Gradients of [`linear_fwd`] (`out = inp · Wᵀ + b`, `dims = (m, k, n)`): `dinp: [m, k]`
/// written as `mode` says, `dW: [n, k]` and `db: [n]` in `g` ADDED into.
pub(super) fn linear_bwd(
    mode: InputGrad,
    dinp: &mut [f32],
    g: &mut Linear<&mut [f32]>,
    dout: &[f32],
    inp: &[f32],
    w: &Linear<&[f32]>,
    dims: MatmulDims,
) -> Result<()> {
    let grads = MatmulGrads { da: dinp, db: &mut *g.weight, dbias: g.bias.as_deref_mut() };
    matmul_backward_into(mode, grads, dout, inp, w.weight, dims, MatmulForm::ABt)
}

pub(super) fn norm_fwd(
    cfg: &ModelConfig,
    out: &mut [f32],
    stats: &mut NormActs<&mut [f32]>,
    inp: &[f32],
    w: &NormTensors<&[f32]>,
) -> Result<()> {
    let dims = NormDims::new(inp.len() / cfg.n_embd, cfg.n_embd);
    let params = NormParams { weight: w.weight, bias: w.bias };
    norm_forward(out, stats.mean.as_deref_mut(), stats.rstd, inp, params, dims, cfg.norm_eps)
}

/// `dinp = Nᵀ(dout)` (assigned), `dweight, dbias +=`.
pub(super) fn norm_bwd(
    cfg: &ModelConfig,
    dinp: &mut [f32],
    g: &mut NormTensors<&mut [f32]>,
    dout: &[f32],
    stats: &NormActs<&mut [f32]>,
    inp: &[f32],
    w: &NormTensors<&[f32]>,
) -> Result<()> {
    let view = NormActs { out: None, mean: stats.mean.as_deref(), rstd: &*stats.rstd };
    norm_bwd_view(cfg, dinp, g, dout, &view, inp, w)
}

/// [`norm_bwd`] with read-only statistics (a prefix of the saved ones).
pub(super) fn norm_bwd_view(
    cfg: &ModelConfig,
    dinp: &mut [f32],
    g: &mut NormTensors<&mut [f32]>,
    dout: &[f32],
    stats: &NormActs<&[f32]>,
    inp: &[f32],
    w: &NormTensors<&[f32]>,
) -> Result<()> {
    let dims = NormDims::new(inp.len() / cfg.n_embd, cfg.n_embd);
    let stats = Stats { mean: stats.mean, rstd: stats.rstd };
    let grads = NormGrads { dweight: &mut *g.weight, dbias: g.bias.as_deref_mut() };
    norm_backward(dinp, grads, dout, stats, inp, w.weight, dims)
}

/// Forward scratch borrowed out of [`Acts`].
struct FwdScratch<'s> {
    qkv: &'s mut [f32],
    heads_tmp: &'s mut [f32],
    merged: &'s mut [f32],
    proj: &'s mut [f32],
}

fn head_dims(cfg: &ModelConfig, ctx: &Ctx<'_>, row_len: usize) -> HeadDims {
    HeadDims { b: ctx.b, t: ctx.t, h: cfg.n_head, d: cfg.head_dim(), row_len }
}

fn attn_dims(cfg: &ModelConfig, ctx: &Ctx<'_>) -> AttnDims {
    AttnDims::new(ctx.b, cfg.n_head, ctx.t, cfg.head_dim())
}

fn rope_dims(cfg: &ModelConfig, ctx: &Ctx<'_>) -> RopeDims {
    // [B, H, T, D] seen as [B·H, T, 1, D]: row t of every head sits at position t.
    RopeDims { b: ctx.b * cfg.n_head, t: ctx.t, h: 1, d: cfg.head_dim() }
}

/// `s.proj = attn(x) · W_projᵀ + b` and the saved q, k, v, lse, att.
fn attn_forward(
    l: Layer<'_>,
    la: &mut LayerActs<&mut [f32]>,
    x: &[f32],
    s: &mut FwdScratch<'_>,
) -> Result<()> {
    let Layer { cfg, ctx, p, bias, rope, q } = l;
    let (rows, c) = (ctx.rows(), cfg.n_embd);
    // qkv = x · W_attnᵀ + b_attn
    linear_fwd(s.qkv, x, &p.c_attn, q.map(|q| &q.c_attn), rows, c, 3 * c)?;
    let hd = head_dims(cfg, ctx, 3 * c);
    for (dst, col) in [(&mut *la.q, 0), (&mut *la.k, c)] {
        match rope {
            Some(table) => {
                rows_to_heads(s.heads_tmp, s.qkv, col, hd);
                // q = RoPE(q_pre), k = RoPE(k_pre)
                table.forward(dst, s.heads_tmp, rope_dims(cfg, ctx))?;
            }
            None => rows_to_heads(dst, s.qkv, col, hd),
        }
    }
    rows_to_heads(la.v, s.qkv, 2 * c, hd);
    let options = AttnOptions { causal: cfg.causal, key_padding: ctx.key_padding, bias };
    // att = softmax(q kᵀ / √D + bias + mask) v
    let qkv = Qkv { q: la.q, k: la.k, v: la.v };
    attention_forward_lse(
        la.att,
        la.lse,
        la.att_probs.as_deref_mut(),
        qkv,
        attn_dims(cfg, ctx),
        options,
    )?;
    heads_to_rows(s.merged, la.att, 0, head_dims(cfg, ctx, c));
    // proj = merged · W_projᵀ + b_proj
    linear_fwd(s.proj, s.merged, &p.attn_proj, q.map(|q| &q.attn_proj), rows, c, c)
}

/// The non-gated MLP's activation.
fn mlp_act(cfg: &ModelConfig) -> Result<crate::kernels::glu::Activation> {
    cfg.mlp_activation().ok_or_else(|| Error::InvalidArgument("model: not a plain MLP".into()))
}

/// `proj = MLP(x)`, saving fc (, up) and act. With the GELU or ReLU MLP in training, `fc` is
/// left holding `act'(fc)` instead: all the backward needs of it.
fn mlp_forward(
    l: Layer<'_>,
    la: &mut LayerActs<&mut [f32]>,
    x: &[f32],
    proj: &mut [f32],
) -> Result<()> {
    let Layer { cfg, ctx, p, q, .. } = l;
    let (rows, c, f) = (ctx.rows(), cfg.n_embd, cfg.ffn_hidden);
    // fc = x · W_fcᵀ + b_fc
    linear_fwd(la.fc, x, &p.c_fc, q.map(|q| &q.c_fc), rows, c, f)?;
    match (cfg.ffn, &p.c_up, la.up.as_deref_mut()) {
        // act = gelu(fc) or relu(fc)
        (Ffn::Gelu | Ffn::Relu, _, _) if ctx.training => {
            activation_forward_saving_derivative(la.act, la.fc, mlp_act(cfg)?)?
        }
        (Ffn::Gelu | Ffn::Relu, _, _) => activation_forward(la.act, la.fc, mlp_act(cfg)?)?,
        (Ffn::Glu(kind), Some(c_up), Some(up)) => {
            // up = x · W_upᵀ + b_up;  act = act(fc) ⊙ up
            let q_up = match q {
                Some(q) => Some(q.c_up.as_ref().ok_or_else(|| {
                    Error::InvalidArgument("model: int8 GLU weight c_up missing".into())
                })?),
                None => None,
            };
            linear_fwd(up, x, c_up, q_up, rows, c, f)?;
            glu_forward(la.act, la.fc, up, kind)?;
        }
        _ => return Err(Error::InvalidArgument("model: GLU buffers missing".into())),
    }
    // proj = act · W_projᵀ + b_proj
    linear_fwd(proj, la.act, &p.mlp_proj, q.map(|q| &q.mlp_proj), rows, f, c)
}

fn maybe_dropout(
    x: &mut [f32],
    mask: Option<&mut [f32]>,
    cfg: &ModelConfig,
    ctx: &Ctx<'_>,
    site: u64,
) {
    if let (Some(mask), Some(seed)) = (mask, ctx.dropout_seed) {
        dropout_mask(mask, cfg.dropout, seed, site, ctx.row_offset * ctx.t * cfg.n_embd);
        apply_mask(x, mask);
    }
}

/// Runs the model; returns the mean losses of the given targets and labels. `a` must be
/// planned for exactly `(ctx.b, ctx.t)` (with the masks when `ctx.dropout_seed` is set).
pub fn forward(
    cfg: &ModelConfig,
    p: &Tensors<&[f32]>,
    a: &mut Acts<&mut [f32]>,
    ctx: &Ctx<'_>,
) -> Result<Losses> {
    let t = ctx.t;
    if let Some(q) = ctx.int8 {
        if ctx.training {
            return Err(Error::InvalidArgument(
                "model: the int8 weights are for inference only, not for a training pass".into(),
            ));
        }
        q.check_layers(cfg)?;
    }
    // emb = dropout(N_e(s · wte[ids] + pe[t] + wtt[type_ids]))
    let pass = Pass { cfg, p, ctx };
    embed_forward(pass, a)?;
    maybe_dropout(a.emb, a.emb_mask.as_deref_mut(), cfg, ctx, 0);
    let rel = |num_buckets, max_distance| RelativeDims {
        t,
        h: cfg.n_head,
        causal: cfg.causal,
        num_buckets,
        max_distance,
    };
    match (cfg.positional, a.bias.as_deref_mut()) {
        (Positional::Alibi, Some(bias)) => alibi_bias(bias, ctx.alibi_slopes.unwrap_or(&[]), t),
        (Positional::Relative { num_buckets, max_distance }, Some(bias)) => {
            let table = p
                .rel_bias
                .ok_or_else(|| Error::InvalidArgument("model: rel_bias missing".into()))?;
            // bias[h, i, j] = rel_bias[bucket(j − i), h]
            relative_bias_forward(bias, table, rel(num_buckets, max_distance));
        }
        (Positional::Kerple, Some(bias)) => {
            let params =
                p.kerple.ok_or_else(|| Error::InvalidArgument("model: kerple missing".into()))?;
            // bias[h, i, j] = −softplus(ρ1_h) · ln(1 + softplus(ρ2_h) · |i − j|)
            kerple_bias_forward(bias, params, t, cfg.n_head);
        }
        _ => {}
    }
    let Acts {
        emb,
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
        ..
    } = a;
    let bias = bias.as_deref();
    let mut s = FwdScratch { qkv, heads_tmp, merged, proj };
    let pre = cfg.norm_placement == NormPlacement::Pre;
    for l in 0..cfg.n_layer {
        let (done, rest) = layers.split_at_mut(l);
        let x: &[f32] = if l == 0 { emb } else { &*done[l - 1].out };
        let la = &mut rest[0];
        let lp = &p.layers[l];
        let layer = Layer::new(pass, l, bias);
        let site = 1 + 2 * l as u64;
        if pre {
            let attn_in = la.norm1.out.take().unwrap_or_default();
            norm_fwd(cfg, attn_in, &mut la.norm1, x, &lp.ln_1)?; // attn_in = N1(x)
            attn_forward(layer, la, attn_in, &mut s)?;
            la.norm1.out = Some(attn_in);
            maybe_dropout(s.proj, la.attn_mask.as_deref_mut(), cfg, ctx, site);
            let mid = la.mid.as_deref_mut().unwrap_or_default();
            residual_forward(mid, x, s.proj)?; // mid = x + proj
            let mlp_in = la.norm2.out.take().unwrap_or_default();
            norm_fwd(cfg, mlp_in, &mut la.norm2, mid, &lp.ln_2)?; // mlp_in = N2(mid)
            mlp_forward(layer, la, mlp_in, s.proj)?;
            la.norm2.out = Some(mlp_in);
            maybe_dropout(s.proj, la.mlp_mask.as_deref_mut(), cfg, ctx, site + 1);
            let mid = la.mid.as_deref().unwrap_or_default();
            residual_forward(la.out, mid, s.proj)?; // out = mid + proj
        } else {
            attn_forward(layer, la, x, &mut s)?;
            maybe_dropout(s.proj, la.attn_mask.as_deref_mut(), cfg, ctx, site);
            let sum1 = la.sum1.as_deref_mut().unwrap_or_default();
            residual_forward(sum1, x, s.proj)?; // sum1 = x + proj
            let h1 = la.norm1.out.take().unwrap_or_default();
            norm_fwd(cfg, h1, &mut la.norm1, sum1, &lp.ln_1)?; // h1 = N1(sum1)
            mlp_forward(layer, la, h1, s.proj)?;
            maybe_dropout(s.proj, la.mlp_mask.as_deref_mut(), cfg, ctx, site + 1);
            let sum2 = la.sum2.as_deref_mut().unwrap_or_default();
            residual_forward(sum2, h1, s.proj)?; // sum2 = h1 + proj
            la.norm1.out = Some(h1);
            norm_fwd(cfg, la.out, &mut la.norm2, sum2, &lp.ln_2)?; // out = N2(sum2)
        }
    }
    let last: &[f32] = match layers.last() {
        Some(la) => la.out,
        None => emb,
    };
    let hidden: &[f32] = match (norm_f.as_mut(), &p.ln_f) {
        (Some(nf), Some(w)) => {
            let out = nf.out.take().unwrap_or_default();
            norm_fwd(cfg, out, nf, last, w)?; // hidden = N_f(last)
            nf.out = Some(out);
            nf.out.as_deref().unwrap_or_default()
        }
        _ => last,
    };
    if ctx.hidden_only {
        return Ok(Losses::default());
    }
    let out = HeadOut { logits, probs, losses, mlm: mlm.as_mut(), classifier: classifier.as_mut() };
    heads_forward(pass, out, hidden)
}

/// Backward scratch borrowed out of [`GradScratch`].
struct Bwd<'s> {
    dres: &'s mut [f32],
    dmid: &'s mut [f32],
    dtmp: &'s mut [f32],
    dq: &'s mut [f32],
    dk: &'s mut [f32],
    dv: &'s mut [f32],
    datt: &'s mut [f32],
    dqkv: &'s mut [f32],
    dmerged: &'s mut [f32],
    mlp: MlpBwd<'s>,
    dbias: Option<&'s mut [f32]>,
}

/// The MLP backward's scratch: `dfc, dup, dact: [B·T, F]` (`dup` for GLU only).
struct MlpBwd<'s> {
    dfc: &'s mut [f32],
    dup: Option<&'s mut [f32]>,
    dact: &'s mut [f32],
}

/// Gradients of [`mlp_forward`]: `dinp: [B·T, C]` ASSIGNED from `dproj: [B·T, C]`, the
/// block's parameter gradients in `g` added into; `x` is the MLP's input.
fn mlp_backward(
    l: Layer<'_>,
    la: &LayerActs<&mut [f32]>,
    g: &mut LayerTensors<&mut [f32]>,
    dinp: &mut [f32],
    dproj: &[f32],
    x: &[f32],
    bw: &mut MlpBwd<'_>,
) -> Result<()> {
    let Layer { cfg, ctx, p, .. } = l;
    let (rows, c, f) = (ctx.rows(), cfg.n_embd, cfg.ffn_hidden);
    // proj = act · W_projᵀ + b_proj
    linear_bwd(
        InputGrad::Assign,
        bw.dact,
        &mut g.mlp_proj,
        dproj,
        la.act,
        &p.mlp_proj,
        MatmulDims::new(rows, f, c),
    )?;
    let d = MatmulDims::new(rows, c, f);
    // dinp is assigned by the first product into it, added to by the second (GLU).
    let dinp_mode =
        match (cfg.ffn, bw.dup.as_deref_mut(), la.up.as_deref(), &p.c_up, g.c_up.as_mut()) {
            // act = gelu(fc) or relu(fc), la.fc = act'(fc) (saved by the training forward)
            (Ffn::Gelu | Ffn::Relu, ..) => {
                activation_backward_from_derivative(bw.dfc, bw.dact, la.fc)?;
                InputGrad::Assign
            }
            (Ffn::Glu(kind), Some(dup), Some(up), Some(pu), Some(gu)) => {
                // act = act(fc) ⊙ up
                glu_backward(bw.dfc, dup, bw.dact, la.fc, up, kind)?;
                // up = x · W_upᵀ + b_up
                linear_bwd(InputGrad::Assign, dinp, gu, dup, x, pu, d)?;
                InputGrad::Add
            }
            _ => return Err(Error::InvalidArgument("model: GLU buffers missing".into())),
        };
    // fc = x · W_fcᵀ + b_fc
    linear_bwd(dinp_mode, dinp, &mut g.c_fc, bw.dfc, x, &p.c_fc, d)
}

/// Gradients of [`attn_forward`]: `dinp: [B·T, C]` (in `dtmp` or `dmid`, as the caller
/// chooses) ASSIGNED from `dproj: [B·T, C]`, the block's parameter gradients in `g` and the
/// bias gradient in `bw.dbias` added into; `x` is the attention's input.
fn attn_backward(
    l: Layer<'_>,
    la: &LayerActs<&mut [f32]>,
    g: &mut LayerTensors<&mut [f32]>,
    dinp: &mut [f32],
    dproj: &[f32],
    x: &[f32],
    bw: &mut AttnBwd<'_, '_>,
) -> Result<()> {
    let Layer { cfg, ctx, p, bias, rope, .. } = l;
    let (rows, c) = (ctx.rows(), cfg.n_embd);
    heads_to_rows(bw.merged, la.att, 0, head_dims(cfg, ctx, c));
    // proj = merged · W_projᵀ + b_proj
    linear_bwd(
        InputGrad::Assign,
        bw.dmerged,
        &mut g.attn_proj,
        dproj,
        bw.merged,
        &p.attn_proj,
        MatmulDims::new(rows, c, c),
    )?;
    rows_to_heads(bw.datt, bw.dmerged, 0, head_dims(cfg, ctx, c));
    let options = AttnOptions { causal: cfg.causal, key_padding: ctx.key_padding, bias };
    // att = softmax(q kᵀ / √D + bias + mask) v
    let grads = AttnGrads {
        dq: &mut *bw.dq,
        dk: &mut *bw.dk,
        dv: &mut *bw.dv,
        // a layer without the bias adds nothing to its gradient
        dbias: bw.dbias.as_deref_mut().filter(|_| bias.is_some()),
    };
    let saved = AttnSaved { out: la.att, lse: la.lse, probs: la.att_probs.as_deref() };
    let qkv = Qkv { q: la.q, k: la.k, v: la.v };
    attention_backward_lse(grads, bw.datt, saved, qkv, attn_dims(cfg, ctx), options)?;
    let hd = head_dims(cfg, ctx, 3 * c);
    for (dsrc, col) in [(&*bw.dq, 0), (&*bw.dk, c)] {
        match rope {
            Some(table) => {
                // q = RoPE(q_pre)  →  dq_pre = RoPE⁻¹(dq)
                table.backward(bw.datt, dsrc, rope_dims(cfg, ctx))?;
                heads_to_rows(bw.dqkv, bw.datt, col, hd);
            }
            None => heads_to_rows(bw.dqkv, dsrc, col, hd),
        }
    }
    heads_to_rows(bw.dqkv, bw.dv, 2 * c, hd);
    // qkv = x · W_attnᵀ + b_attn
    linear_bwd(
        InputGrad::Assign,
        dinp,
        &mut g.c_attn,
        bw.dqkv,
        x,
        &p.c_attn,
        MatmulDims::new(rows, c, 3 * c),
    )
}

struct AttnBwd<'a, 's> {
    merged: &'a mut [f32],
    dmerged: &'a mut [f32],
    datt: &'a mut [f32],
    dq: &'a mut [f32],
    dk: &'a mut [f32],
    dv: &'a mut [f32],
    dqkv: &'a mut [f32],
    dbias: &'a mut Option<&'s mut [f32]>,
}

fn add_into(acc: &mut [f32], x: &[f32]) {
    for (a, &b) in acc.iter_mut().zip(x) {
        *a += b;
    }
}

/// Adds the gradients of `scale · loss` to `g`; `a` holds the forward of the same `ctx`
/// (with targets). `g` accumulates; activation gradients are overwritten.
pub fn backward(
    cfg: &ModelConfig,
    p: &Tensors<&[f32]>,
    g: &mut Tensors<&mut [f32]>,
    a: &mut Acts<&mut [f32]>,
    ctx: &Ctx<'_>,
    scales: LossScales,
) -> Result<()> {
    if ctx.targets.is_none() && ctx.labels.is_none() {
        return Err(Error::InvalidArgument("model: backward needs targets or labels".into()));
    }
    let Acts {
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
        bias,
        merged,
        grad,
        ..
    } = a;
    let gs: &mut GradScratch<&mut [f32]> = grad
        .as_mut()
        .ok_or_else(|| Error::InvalidArgument("model: not planned for training".into()))?;
    let GradScratch {
        dres,
        dmid,
        dtmp,
        dq,
        dk,
        dv,
        datt,
        dqkv,
        dmerged,
        dfc,
        dup,
        dact,
        dbias,
        dpooled,
        dfirst,
    } = gs;
    let mlp = MlpBwd { dfc, dup: dup.as_deref_mut(), dact };
    let mut bw =
        Bwd { dres, dmid, dtmp, dq, dk, dv, datt, dqkv, dmerged, mlp, dbias: dbias.as_deref_mut() };
    if let Some(db) = bw.dbias.as_deref_mut() {
        db.fill(0.0);
    }
    let bias = bias.as_deref();
    let pre = cfg.norm_placement == NormPlacement::Pre;
    let last: &[f32] = match layers.last() {
        Some(la) => la.out,
        None => emb,
    };
    let hidden: &[f32] = norm_f.as_ref().and_then(|nf| nf.out.as_deref()).unwrap_or(last);
    // loss = token CE of the LM head + class CE of the classifier
    let head_acts = HeadActs { logits, probs, mlm: mlm.as_ref(), classifier: classifier.as_mut() };
    let scratch = HeadScratch {
        dn: bw.dtmp,
        dact: bw.dmid,
        dfc: bw.dmerged,
        dpooled: dpooled.as_deref_mut(),
        dfirst: dfirst.as_deref_mut(),
    };
    let pass = Pass { cfg, p, ctx };
    heads_backward(pass, g, head_acts, hidden, bw.dres, scratch, scales)?;
    if let (Some(nf), Some(w), Some(gw)) = (norm_f.as_ref(), &p.ln_f, g.ln_f.as_mut()) {
        // hidden = N_f(last)
        norm_bwd(cfg, bw.dtmp, gw, bw.dres, nf, last, w)?;
        std::mem::swap(&mut bw.dres, &mut bw.dtmp);
    }
    for l in (0..cfg.n_layer).rev() {
        let (done, rest) = layers.split_at(l);
        let x: &[f32] = if l == 0 { emb } else { &*done[l - 1].out };
        let la = &rest[0];
        let (lp, lg) = (&p.layers[l], &mut g.layers[l]);
        let layer = Layer::new(pass, l, bias);
        let mut ab = AttnBwd {
            merged,
            dmerged: bw.dmerged,
            datt: bw.datt,
            dq: bw.dq,
            dk: bw.dk,
            dv: bw.dv,
            dqkv: bw.dqkv,
            dbias: &mut bw.dbias,
        };
        if pre {
            // out = mid + proj_mlp
            bw.dmid.copy_from_slice(bw.dres);
            if let Some(mask) = la.mlp_mask.as_deref() {
                apply_mask(bw.dres, mask);
            }
            let mlp_in = la.norm2.out.as_deref().unwrap_or_default();
            mlp_backward(layer, la, lg, bw.dtmp, bw.dres, mlp_in, &mut bw.mlp)?;
            // mlp_in = N2(mid)
            let mid = la.mid.as_deref().unwrap_or_default();
            norm_bwd(cfg, bw.dres, &mut lg.ln_2, bw.dtmp, &la.norm2, mid, &lp.ln_2)?;
            add_into(bw.dmid, bw.dres);
            // mid = x + proj_attn
            bw.dres.copy_from_slice(bw.dmid);
            if let Some(mask) = la.attn_mask.as_deref() {
                apply_mask(bw.dmid, mask);
            }
            let attn_in = la.norm1.out.as_deref().unwrap_or_default();
            attn_backward(layer, la, lg, bw.dtmp, bw.dmid, attn_in, &mut ab)?;
            // attn_in = N1(x)
            norm_bwd(cfg, bw.dmid, &mut lg.ln_1, bw.dtmp, &la.norm1, x, &lp.ln_1)?;
            add_into(bw.dres, bw.dmid);
        } else {
            // out = N2(sum2)
            let sum2 = la.sum2.as_deref().unwrap_or_default();
            norm_bwd(cfg, bw.dtmp, &mut lg.ln_2, bw.dres, &la.norm2, sum2, &lp.ln_2)?;
            // sum2 = h1 + proj_mlp
            bw.dmid.copy_from_slice(bw.dtmp);
            if let Some(mask) = la.mlp_mask.as_deref() {
                apply_mask(bw.dtmp, mask);
            }
            let h1 = la.norm1.out.as_deref().unwrap_or_default();
            mlp_backward(layer, la, lg, bw.dres, bw.dtmp, h1, &mut bw.mlp)?;
            add_into(bw.dmid, bw.dres);
            // h1 = N1(sum1)
            let sum1 = la.sum1.as_deref().unwrap_or_default();
            norm_bwd(cfg, bw.dtmp, &mut lg.ln_1, bw.dmid, &la.norm1, sum1, &lp.ln_1)?;
            // sum1 = x + proj_attn
            bw.dres.copy_from_slice(bw.dtmp);
            if let Some(mask) = la.attn_mask.as_deref() {
                apply_mask(bw.dtmp, mask);
            }
            attn_backward(layer, la, lg, bw.dmid, bw.dtmp, x, &mut ab)?;
            add_into(bw.dres, bw.dmid);
        }
    }
    // emb = dropout(N_e(s · wte[ids] + pe[t] + wtt[type_ids]))
    if let Some(mask) = emb_mask.as_deref() {
        apply_mask(bw.dres, mask);
    }
    embed_backward(pass, g, bw.dres, bw.dtmp, emb_sum.as_deref(), emb_norm.as_ref())?;
    if let (Positional::Relative { num_buckets, max_distance }, Some(dtable), Some(db)) =
        (cfg.positional, g.rel_bias.as_deref_mut(), bw.dbias.as_deref())
    {
        let dims =
            RelativeDims { t: ctx.t, h: cfg.n_head, causal: cfg.causal, num_buckets, max_distance };
        // bias[h, i, j] = rel_bias[bucket(j − i), h]
        relative_bias_backward(dtable, db, dims);
    }
    if let (Positional::Kerple, Some(dparams), Some(params), Some(db)) =
        (cfg.positional, g.kerple.as_deref_mut(), p.kerple, bw.dbias.as_deref())
    {
        // bias[h, i, j] = −softplus(ρ1_h) · ln(1 + softplus(ρ2_h) · |i − j|)
        kerple_bias_backward(dparams, db, params, ctx.t, cfg.n_head);
    }
    Ok(())
}
