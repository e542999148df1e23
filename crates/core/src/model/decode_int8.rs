//! The int8 weights of inference: every linear layer of the blocks and of the heads quantised
//! once to int8 with per-output-channel scales ([`Scales::PerChannel`], the default) or one
//! scale per block along K ([`Scales::Block`]; 32 is GGUF `Q8_0`'s), and packed for the
//! W8A16 kernels ([`crate::kernels::int8`]). Two forwards read them, each through
//! [`linear_int8_checked`]: [`super::decode::Decoder::feed`] (incremental decoding over the KV
//! cache) and the batch forward [`super::transformer::forward`] when its `Ctx::int8` is set
//! (encoders: embeddings, fill-mask, classification). Everything else (embeddings, norms,
//! attention, biases) stays float32. Inference only: a training pass refuses them.
//!
//! Shapes (per layer): `c_attn: [3C, C]`, `attn_proj: [C, C]`, `c_fc, c_up: [F, C]`,
//! `mlp_proj: [C, F]`; `head: [V, C]` (`lm_head`, or `wte` when the embeddings are tied);
//! `mlm_dense: [C, C]`; `pooler: [C, C]`; `classifier: [K, C]`.

use super::config::{LmHead, ModelConfig};
use super::params::{Linear, Tensors};
use crate::error::{Error, Result};
use crate::kernels::int8::{linear_int8_infer, quantize_weight, Int8Weight, Scales};

/// One block's linear weights in int8.
pub struct Int8Layer {
    /// `[3C, C]`.
    pub c_attn: Int8Weight,
    /// `[C, C]`.
    pub attn_proj: Int8Weight,
    /// `[F, C]`.
    pub c_fc: Int8Weight,
    /// `[F, C]` (GLU variants only).
    pub c_up: Option<Int8Weight>,
    /// `[C, F]`.
    pub mlp_proj: Int8Weight,
}

/// The int8 weights of a model's linear layers: `L` blocks and whichever heads it has.
pub struct DecodeInt8 {
    /// One per block.
    pub layers: Vec<Int8Layer>,
    /// `[V, C]` LM head (`None` without one, `LmHead::None`).
    pub head: Option<Int8Weight>,
    /// `[C, C]` masked-LM transform (`LmHead::Mlm` only).
    pub mlm_dense: Option<Int8Weight>,
    /// `[C, C]` classifier pooler (`n_classes > 0` only).
    pub pooler: Option<Int8Weight>,
    /// `[K, C]` class projection (`n_classes > 0` only).
    pub classifier: Option<Int8Weight>,
}

impl DecodeInt8 {
    /// Quantises the linear weights of `p` (a model of `cfg`) with `scales`: the blocks', the
    /// LM head (plain or masked-LM: its transform and its `[V, C]` decoder), the pooler and the
    /// classifier. Errors: [`Error::InvalidArgument`] for a non-finite weight or a bad block
    /// size, [`Error::OutOfMemory`] when the packed copies cannot be allocated.
    pub fn quantize(cfg: &ModelConfig, p: &Tensors<&[f32]>, scales: Scales) -> Result<Self> {
        let (c, f, v, k) = (cfg.n_embd, cfg.ffn_hidden, cfg.vocab_size, cfg.n_classes);
        let pack = |w: &[f32], n: usize, k: usize| quantize_weight(w, n, k, scales);
        let layers = p
            .layers
            .iter()
            .map(|lp| {
                Ok(Int8Layer {
                    c_attn: pack(lp.c_attn.weight, 3 * c, c)?,
                    attn_proj: pack(lp.attn_proj.weight, c, c)?,
                    c_fc: pack(lp.c_fc.weight, f, c)?,
                    c_up: lp.c_up.as_ref().map(|u| pack(u.weight, f, c)).transpose()?,
                    mlp_proj: pack(lp.mlp_proj.weight, c, f)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let head = match cfg.lm_head {
            LmHead::None => None,
            LmHead::Plain | LmHead::Mlm => Some(pack(p.lm_head.unwrap_or(p.wte), v, c)?),
        };
        let mlm_dense = p.mlm.as_ref().map(|m| pack(m.dense.weight, c, c)).transpose()?;
        let (pooler, classifier) = match &p.classifier {
            Some(cp) => (Some(pack(cp.pooler.weight, c, c)?), Some(pack(cp.out.weight, k, c)?)),
            None => (None, None),
        };
        Ok(Self { layers, head, mlm_dense, pooler, classifier })
    }

    /// The `[V, C]` LM head, or [`Error::InvalidArgument`] when the model has none.
    pub fn lm_head(&self) -> Result<&Int8Weight> {
        self.head
            .as_ref()
            .ok_or_else(|| Error::InvalidArgument("int8: the model has no LM head".into()))
    }

    /// Checks that these weights were quantised from a model of `cfg`'s layer count.
    pub fn check_layers(&self, cfg: &ModelConfig) -> Result<()> {
        if self.layers.len() != cfg.n_layer {
            return Err(Error::InvalidArgument(format!(
                "int8: the weights have {} layers, the model {}",
                self.layers.len(),
                cfg.n_layer
            )));
        }
        Ok(())
    }

    /// Bytes held by the packed weights and their scales.
    pub fn bytes(&self) -> u64 {
        let layer = |l: &Int8Layer| {
            [Some(&l.c_attn), Some(&l.attn_proj), Some(&l.c_fc), l.c_up.as_ref(), Some(&l.mlp_proj)]
                .into_iter()
                .flatten()
                .map(|w| w.bytes() as u64)
                .sum::<u64>()
        };
        let heads = [&self.head, &self.mlm_dense, &self.pooler, &self.classifier]
            .into_iter()
            .flatten()
            .map(|w| w.bytes() as u64)
            .sum::<u64>();
        self.layers.iter().map(layer).sum::<u64>() + heads
    }
}

/// `out = inp · weightᵀ + bias` with the int8 weight `q` when given, else the float32 one.
/// `out: [m, n]`, `inp: [m, k]`, `w.weight: [n, k]`, `w.bias: [n]`.
pub(super) fn linear_either(
    out: &mut [f32],
    inp: &[f32],
    w: &Linear<&[f32]>,
    q: Option<&Int8Weight>,
    dims: (usize, usize, usize),
) -> Result<()> {
    let (m, k, n) = dims;
    match q {
        Some(q) => linear_int8_checked(out, inp, q, w.bias, dims),
        None => super::decode::linear(out, inp, w.weight, w.bias, m, k, n),
    }
}

/// `out = inp · ŵᵀ + bias` on the int8 kernels, after checking that `q` is `[n, k]`.
/// `out: [m, n]`, `inp: [m, k]`, `q: [n, k]`, `bias: [n]`; `dims = (m, k, n)`.
pub(super) fn linear_int8_checked(
    out: &mut [f32],
    inp: &[f32],
    q: &Int8Weight,
    bias: Option<&[f32]>,
    dims: (usize, usize, usize),
) -> Result<()> {
    let (m, k, n) = dims;
    if q.n() != n || q.k() != k {
        return Err(Error::InvalidArgument(format!(
            "int8: weight is [{}, {}], expected [{n}, {k}]",
            q.n(),
            q.k()
        )));
    }
    linear_int8_infer(out, inp, q, bias, m)
}
