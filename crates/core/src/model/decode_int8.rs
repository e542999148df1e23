//! The int8 weights of incremental decoding: every linear layer of the blocks and the LM head
//! quantised once to int8 with per-output-channel scales ([`Scales::PerChannel`]) and packed
//! for the W8A16 kernels ([`crate::kernels::int8`]). [`super::decode::Decoder::feed`] given a
//! [`DecodeInt8`] runs those layers with [`linear_int8_infer`]; everything else (embeddings,
//! norms, attention over the KV cache, biases) stays float32. Inference only.
//!
//! Shapes (per layer): `c_attn: [3C, C]`, `attn_proj: [C, C]`, `c_fc, c_up: [F, C]`,
//! `mlp_proj: [C, F]`; `head: [V, C]` (`lm_head`, or `wte` when the embeddings are tied).

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

/// The int8 weights of the decoding path: `L` blocks and the LM head.
pub struct DecodeInt8 {
    /// One per block.
    pub layers: Vec<Int8Layer>,
    /// `[V, C]`.
    pub head: Int8Weight,
}

fn pack(w: &[f32], n: usize, k: usize) -> Result<Int8Weight> {
    quantize_weight(w, n, k, Scales::PerChannel)
}

impl DecodeInt8 {
    /// Quantises the linear weights of `p` (a model of `cfg`) per output channel.
    /// Errors: [`Error::InvalidArgument`] for a model without a plain LM head or with a
    /// non-finite weight, [`Error::OutOfMemory`] when the packed copies cannot be allocated.
    pub fn quantize(cfg: &ModelConfig, p: &Tensors<&[f32]>) -> Result<Self> {
        if cfg.lm_head != LmHead::Plain {
            return Err(Error::InvalidArgument(
                "quantize: int8 decoding needs a plain LM head (lm_head Plain)".into(),
            ));
        }
        let (c, f, v) = (cfg.n_embd, cfg.ffn_hidden, cfg.vocab_size);
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
        let head = pack(p.lm_head.unwrap_or(p.wte), v, c)?;
        Ok(Self { layers, head })
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
        self.layers.iter().map(layer).sum::<u64>() + self.head.bytes() as u64
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
        Some(q) => {
            if q.n() != n || q.k() != k {
                return Err(Error::InvalidArgument(format!(
                    "decode: int8 weight is [{}, {}], expected [{n}, {k}]",
                    q.n(),
                    q.k()
                )));
            }
            linear_int8_infer(out, inp, q, w.bias, m)
        }
        None => super::decode::linear(out, inp, w.weight, w.bias, m, k, n),
    }
}
