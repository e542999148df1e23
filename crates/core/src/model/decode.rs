//! Incremental decoding with a KV cache (inference only: nothing here is reachable from the
//! trainer). A [`Decoder`] holds `S` sequence slots. Each call appends `counts[s]` new tokens
//! to slot `s` (a whole prompt, or one sampled token) and returns the logits of each fed
//! slot's last new token. Keys and values of earlier tokens come from the cache, so a new
//! token costs `O(T)` attention instead of re-running the window.
//!
//! Positions: new token `i` of slot `s` sits at `len[s] + i`. Learned absolute positions end
//! at `block_size` (an error past it); sinusoidal, RoPE (with the config's scaling), ALiBi,
//! relative buckets and NoPE run up to the cache's capacity. The math is the training
//! forward's ([`super::transformer::forward`]) row by row; a test checks the logits match.
//!
//! Shapes: the `N` new rows of a call are `[N, C]`, slot by slot; cache `k, v: [L, S, H, cap,
//! D]` (RoPE already applied to `k`); logits `[S_fed, V]` in slot order.

use super::config::{Ffn, LmHead, ModelConfig, NormKind, NormPlacement, Positional};
use super::decode_int8::{linear_either, DecodeInt8, Int8Layer};
use super::kerple::kerple_bias_row;
use super::params::{LayerTensors, Linear, NormTensors, Tensors};
use super::positional::{relative_bucket, sinusoid_row};
use crate::error::{Error, Result};
use crate::kernels::attention_infer::{attend_row, RowKeys};
use crate::kernels::gemv::{linear_forward_infer, MAX_ROWS};
use crate::kernels::glu::{activation_forward, glu_forward};
use crate::kernels::matmul::{matmul_forward, MatmulDims, MatmulForm};
use crate::kernels::norm::{norm_forward, NormDims, NormParams};
use crate::kernels::residual::residual_forward;
use crate::kernels::rope::{RopeDims, RopeTable};
use crate::par::for_each_row_block;

/// Per-call buffers, grown to the largest `N` seen (the cache itself never grows).
#[derive(Default)]
struct Scratch {
    /// `[N, C]` residual stream.
    x: Vec<f32>,
    /// `[N, C]` norm output (sublayer input).
    h: Vec<f32>,
    /// `[N, C]` `x + attn` (pre-norm) or the post-norm sums.
    mid: Vec<f32>,
    /// `[N, 3C]`.
    qkv: Vec<f32>,
    /// `[N, C]` queries (after RoPE), heads side by side.
    q: Vec<f32>,
    /// `[N, C]` staging for RoPE's input.
    tmp: Vec<f32>,
    /// `[N, C]` attention output, heads side by side.
    att: Vec<f32>,
    /// `[N, C]` sublayer output.
    proj: Vec<f32>,
    /// `[N, F]`.
    fc: Vec<f32>,
    /// `[N, F]` (GLU only).
    up: Vec<f32>,
    /// `[N, F]`.
    act: Vec<f32>,
    /// `[N]` norm statistics (mean unused by RMSNorm).
    mean: Vec<f32>,
    rstd: Vec<f32>,
}

impl Scratch {
    fn fit(&mut self, cfg: &ModelConfig, n: usize) {
        let (c, f) = (cfg.n_embd, cfg.ffn_hidden);
        let glu = matches!(cfg.ffn, Ffn::Glu(_));
        for (buf, len) in [
            (&mut self.x, n * c),
            (&mut self.h, n * c),
            (&mut self.mid, n * c),
            (&mut self.qkv, 3 * n * c),
            (&mut self.q, n * c),
            (&mut self.tmp, n * c),
            (&mut self.att, n * c),
            (&mut self.proj, n * c),
            (&mut self.fc, n * f),
            (&mut self.up, if glu { n * f } else { 0 }),
            (&mut self.act, n * f),
            (&mut self.mean, n),
            (&mut self.rstd, n),
        ] {
            buf.resize(len, 0.0);
        }
    }
}

/// The KV cache of `S` slots and the buffers of a decoding call.
pub struct Decoder {
    slots: usize,
    capacity: usize,
    /// Tokens held per slot.
    lens: Vec<usize>,
    /// `[L, S, H, cap, D]`.
    k: Vec<f32>,
    v: Vec<f32>,
    scratch: Scratch,
    /// `[S_fed, C]` last rows, then normed.
    last: Vec<f32>,
    last_normed: Vec<f32>,
    /// `[S_fed, V]`.
    logits: Vec<f32>,
}

/// Where each new row of a call belongs.
#[derive(Clone, Copy)]
struct RowInfo {
    slot: usize,
    pos: usize,
}

impl Decoder {
    /// Floats of one of the two caches: `L · S · cap · C`.
    pub fn cache_len(cfg: &ModelConfig, slots: usize, capacity: usize) -> Result<usize> {
        crate::error::checked_product("decode: cache", &[cfg.n_layer, slots, capacity, cfg.n_embd])
    }

    /// An empty cache of `slots` sequences of up to `capacity` tokens each. `alloc` returns a
    /// zeroed buffer or [`Error::OutOfMemory`]. Encoders (no causal mask) cannot decode.
    pub fn new(
        cfg: &ModelConfig,
        slots: usize,
        capacity: usize,
        alloc: impl Fn(usize, &str) -> Result<Vec<f32>>,
    ) -> Result<Self> {
        if !cfg.causal {
            return Err(Error::InvalidArgument(
                "decode: incremental decoding needs a causal model".into(),
            ));
        }
        if cfg.lm_head != LmHead::Plain {
            return Err(Error::InvalidArgument(
                "decode: incremental decoding needs a plain LM head (lm_head Plain)".into(),
            ));
        }
        if slots == 0 || capacity == 0 {
            return Err(Error::InvalidArgument(format!(
                "decode: slots ({slots}) and capacity ({capacity}) must be > 0"
            )));
        }
        if cfg.positional == Positional::Learned && capacity > cfg.block_size {
            return Err(Error::InvalidArgument(format!(
                "decode: capacity {capacity} exceeds block_size {}: learned absolute positions \
                 have no embedding past it (RoPE, ALiBi, relative, sinusoidal and no positions can \
                 run longer)",
                cfg.block_size
            )));
        }
        let len = Self::cache_len(cfg, slots, capacity)?;
        let k = alloc(len, "the KV cache (keys)")?;
        let v = alloc(len, "the KV cache (values)")?;
        Ok(Self {
            slots,
            capacity,
            lens: vec![0; slots],
            k,
            v,
            scratch: Scratch::default(),
            last: Vec::new(),
            last_normed: Vec::new(),
            logits: Vec::new(),
        })
    }

    /// Tokens held by each slot: `[S]`.
    pub fn lens(&self) -> &[usize] {
        &self.lens
    }

    /// Tokens each slot can hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Empties slot `slot` (its next token sits at position 0).
    pub fn reset(&mut self, slot: usize) -> Result<()> {
        match self.lens.get_mut(slot) {
            Some(len) => {
                *len = 0;
                Ok(())
            }
            None => Err(Error::InvalidArgument(format!(
                "decode: slot {slot} out of range (0..{})",
                self.slots
            ))),
        }
    }

    fn check(&self, cfg: &ModelConfig, tokens: &[u32], counts: &[usize]) -> Result<Vec<RowInfo>> {
        let bad = |msg: String| Err(Error::InvalidArgument(format!("decode: {msg}")));
        if counts.len() != self.slots {
            return bad(format!(
                "counts has {} entries, expected one per slot ({})",
                counts.len(),
                self.slots
            ));
        }
        let total: usize = counts.iter().sum();
        if total == 0 || total != tokens.len() {
            return bad(format!(
                "{} tokens given, counts sum to {total} (must be equal and > 0)",
                tokens.len()
            ));
        }
        if let Some((i, id)) =
            tokens.iter().enumerate().find(|(_, &id)| id as usize >= cfg.vocab_size)
        {
            return bad(format!("token {i} is {id}, expected < vocab_size {}", cfg.vocab_size));
        }
        let mut rows = Vec::with_capacity(total);
        for (slot, (&len, &count)) in self.lens.iter().zip(counts).enumerate() {
            if len + count > self.capacity {
                return bad(format!(
                    "slot {slot} would hold {} tokens, its capacity is {}",
                    len + count,
                    self.capacity
                ));
            }
            rows.extend((len..len + count).map(|pos| RowInfo { slot, pos }));
        }
        Ok(rows)
    }

    /// Appends `tokens` (`counts[s]` of them for slot `s`, slot by slot) and returns the logits
    /// of each fed slot's last new token, `[S_fed, V]` in slot order (slots with `counts[s] =
    /// 0` are skipped). `p`: the model's parameters; `sinusoid: [block_size, C]` when the model
    /// uses sinusoidal positions; `alibi: [H]` slopes for ALiBi; `int8`: the int8 copies of
    /// the linear weights and the head, used instead of the float32 ones when given (built by
    /// [`DecodeInt8::quantize`] from the same `p`). On error nothing changes.
    pub fn feed(
        &mut self,
        cfg: &ModelConfig,
        p: &Tensors<&[f32]>,
        alibi: Option<&[f32]>,
        int8: Option<&DecodeInt8>,
        tokens: &[u32],
        counts: &[usize],
    ) -> Result<&[f32]> {
        let rows = self.check(cfg, tokens, counts)?;
        let (n, c, v) = (rows.len(), cfg.n_embd, cfg.vocab_size);
        self.scratch.fit(cfg, n);
        embed(cfg, p, &mut self.scratch.x, tokens, &rows)?;
        if let Some(w) = &p.ln_e {
            // x = N_e(x)
            let s = &mut self.scratch;
            s.h.copy_from_slice(&s.x);
            norm_rows(cfg, &mut s.x, &mut s.mean, &mut s.rstd, &s.h, w)?;
        }
        let int8_head = match int8 {
            Some(q) => {
                q.check_layers(cfg)?;
                Some(q.lm_head()?)
            }
            None => None,
        };
        for l in 0..cfg.n_layer {
            let q = int8.map(|q| &q.layers[l]);
            self.layer(cfg, p, l, q, counts, &rows, alibi)?;
        }
        // Only each fed slot's last row goes through the final norm and the head.
        let mut ends = Vec::new();
        let mut end = 0;
        for &count in counts {
            end += count;
            if count > 0 {
                ends.push(end - 1);
            }
        }
        let fed = ends.len();
        self.last.resize(fed * c, 0.0);
        for (dst, &r) in self.last.chunks_exact_mut(c).zip(&ends) {
            dst.copy_from_slice(&self.scratch.x[r * c..(r + 1) * c]);
        }
        let hidden: &[f32] = match &p.ln_f {
            Some(w) => {
                self.last_normed.resize(fed * c, 0.0);
                let s = &mut self.scratch;
                norm_rows(
                    cfg,
                    &mut self.last_normed,
                    &mut s.mean[..fed],
                    &mut s.rstd[..fed],
                    &self.last,
                    w,
                )?;
                &self.last_normed
            }
            None => &self.last,
        };
        self.logits.resize(fed * v, 0.0);
        let head = Linear { weight: p.lm_head.unwrap_or(p.wte), bias: None };
        // logits = hidden · W_headᵀ
        linear_either(&mut self.logits, hidden, &head, int8_head, (fed, c, v))?;
        for (len, &count) in self.lens.iter_mut().zip(counts) {
            *len += count;
        }
        Ok(&self.logits)
    }

    /// One block over the new rows, reading and extending layer `l`'s cache (`q`: its int8
    /// weights, if quantised).
    #[allow(clippy::too_many_arguments)]
    fn layer(
        &mut self,
        cfg: &ModelConfig,
        p: &Tensors<&[f32]>,
        l: usize,
        q: Option<&Int8Layer>,
        counts: &[usize],
        rows: &[RowInfo],
        alibi: Option<&[f32]>,
    ) -> Result<()> {
        let lp = &p.layers[l];
        let per_layer = self.k.len() / cfg.n_layer;
        let layer_range = l * per_layer..(l + 1) * per_layer;
        let cache = LayerCache {
            k: &mut self.k[layer_range.clone()],
            v: &mut self.v[layer_range],
            lens: &self.lens,
            capacity: self.capacity,
        };
        let s = &mut self.scratch;
        let positions = cfg.positions_in_layer(l);
        let layer = Layer {
            cfg,
            lp,
            q,
            positions,
            rel_bias: p.rel_bias,
            kerple: p.kerple,
            alibi,
            counts,
            rows,
        };
        if cfg.norm_placement == NormPlacement::Pre {
            norm_rows(cfg, &mut s.h, &mut s.mean, &mut s.rstd, &s.x, &lp.ln_1)?; // h = N1(x)
            attention(layer, cache, s, false)?;
            residual_forward(&mut s.mid, &s.x, &s.proj)?; // mid = x + attn(h)
            norm_rows(cfg, &mut s.h, &mut s.mean, &mut s.rstd, &s.mid, &lp.ln_2)?; // h = N2(mid)
            mlp(layer, s)?;
            residual_forward(&mut s.x, &s.mid, &s.proj) // x = mid + mlp(h)
        } else {
            attention(layer, cache, s, true)?;
            residual_forward(&mut s.mid, &s.x, &s.proj)?; // sum1 = x + attn(x)
            norm_rows(cfg, &mut s.h, &mut s.mean, &mut s.rstd, &s.mid, &lp.ln_1)?; // h1 = N1(sum1)
            mlp(layer, s)?;
            residual_forward(&mut s.mid, &s.h, &s.proj)?; // sum2 = h1 + mlp(h1)
            norm_rows(cfg, &mut s.x, &mut s.mean, &mut s.rstd, &s.mid, &lp.ln_2)
            // x = N2(sum2)
        }
    }
}

/// `x[r] = wte[token] (+ position encoding at row r's position)`. `x: [N, C]`.
fn embed(
    cfg: &ModelConfig,
    p: &Tensors<&[f32]>,
    x: &mut [f32],
    tokens: &[u32],
    rows: &[RowInfo],
) -> Result<()> {
    let c = cfg.n_embd;
    for ((dst, &id), row) in x.chunks_exact_mut(c).zip(tokens).zip(rows) {
        let id = id as usize;
        dst.copy_from_slice(&p.wte[id * c..(id + 1) * c]);
        match (cfg.positional, p.wpe) {
            (Positional::Learned, Some(wpe)) => {
                let pe = wpe.get(row.pos * c..(row.pos + 1) * c).ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "decode: position {} is past block_size {} (learned absolute positions)",
                        row.pos, cfg.block_size
                    ))
                })?;
                dst.iter_mut().zip(pe).for_each(|(o, &e)| *o += e);
            }
            (Positional::Sinusoidal, _) => {
                let mut pe = vec![0.0f32; c];
                sinusoid_row(&mut pe, row.pos);
                let s = cfg.token_scale();
                // x = √C · wte[token] + sinusoid[pos]
                dst.iter_mut().zip(&pe).for_each(|(o, &e)| *o = s * *o + e);
            }
            _ => {}
        }
        if let Some(wtt) = p.wtt {
            // segment 0, as in the training forward without type ids
            dst.iter_mut().zip(&wtt[..c]).for_each(|(o, &e)| *o += e);
        }
    }
    Ok(())
}

/// `out = N(inp)` over the `n` rows of `inp: [n, C]` (`out: [≥ n, C]`, `mean, rstd: [≥ n]`).
fn norm_rows(
    cfg: &ModelConfig,
    out: &mut [f32],
    mean: &mut [f32],
    rstd: &mut [f32],
    inp: &[f32],
    w: &NormTensors<&[f32]>,
) -> Result<()> {
    let (c, n) = (cfg.n_embd, inp.len() / cfg.n_embd);
    let mean = (cfg.norm == NormKind::LayerNorm).then_some(&mut mean[..n]);
    let params = NormParams { weight: w.weight, bias: w.bias };
    norm_forward(
        &mut out[..n * c],
        mean,
        &mut rstd[..n],
        inp,
        params,
        NormDims::new(n, c),
        cfg.norm_eps,
    )
}

/// `out = inp · weightᵀ + bias`, `out: [m, n]`, `inp: [m, k]`, `weight: [n, k]`: the
/// streaming kernel for a few rows (a decoding step), the packed gemm for a prompt.
pub(super) fn linear(
    out: &mut [f32],
    inp: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    m: usize,
    k: usize,
    n: usize,
) -> Result<()> {
    let dims = MatmulDims::new(m, k, n);
    if m <= MAX_ROWS {
        linear_forward_infer(out, inp, weight, bias, dims)
    } else {
        matmul_forward(out, inp, weight, bias, dims, MatmulForm::ABt)
    }
}

/// What one block reads during a call: the config, the block's weights, the new rows and the
/// positional tables.
#[derive(Clone, Copy)]
struct Layer<'a> {
    cfg: &'a ModelConfig,
    /// The block's weights.
    lp: &'a LayerTensors<&'a [f32]>,
    /// The block's int8 weights, when the model is quantised.
    q: Option<&'a Int8Layer>,
    /// The block's attention sees the positions (false in a NoPE layer).
    positions: bool,
    /// `[num_buckets, H]` learned relative-position biases.
    rel_bias: Option<&'a [f32]>,
    /// `[2, H]` KERPLE parameters.
    kerple: Option<&'a [f32]>,
    /// `[H]` ALiBi slopes.
    alibi: Option<&'a [f32]>,
    /// `[S]` new tokens per slot.
    counts: &'a [usize],
    /// `[N]` the slot and position of each new row.
    rows: &'a [RowInfo],
}

/// `s.proj = MLP(s.h)` over the new rows.
fn mlp(layer: Layer<'_>, s: &mut Scratch) -> Result<()> {
    let Layer { cfg, lp, q, rows, .. } = layer;
    let (n, c, f) = (rows.len(), cfg.n_embd, cfg.ffn_hidden);
    linear_either(&mut s.fc, &s.h, &lp.c_fc, q.map(|q| &q.c_fc), (n, c, f))?; // fc = h · W_fcᵀ + b_fc
    match (cfg.ffn, &lp.c_up) {
        (Ffn::Gelu | Ffn::Relu, _) => {
            let act = cfg.mlp_activation().unwrap_or(cfg.gelu());
            activation_forward(&mut s.act, &s.fc, act)? // act = gelu(fc) or relu(fc)
        }
        (Ffn::Glu(kind), Some(c_up)) => {
            let q_up = q.and_then(|q| q.c_up.as_ref());
            linear_either(&mut s.up, &s.h, c_up, q_up, (n, c, f))?; // up = h · W_upᵀ + b_up
            glu_forward(&mut s.act, &s.fc, &s.up, kind)?; // act = act(fc) ⊙ up
        }
        _ => return Err(Error::InvalidArgument("decode: GLU weights missing".into())),
    }
    linear_either(&mut s.proj, &s.act, &lp.mlp_proj, q.map(|q| &q.mlp_proj), (n, f, c))
    // proj = act · W_projᵀ + b_proj
}

/// One layer's slice of the cache.
struct LayerCache<'a> {
    /// `[S, H, cap, D]`.
    k: &'a mut [f32],
    v: &'a mut [f32],
    /// Tokens held per slot before this call.
    lens: &'a [usize],
    capacity: usize,
}

impl LayerCache<'_> {
    /// Offset of `(slot, head, pos)` in `[S, H, cap, D]`.
    fn at(&self, h: usize, d: usize, slot: usize, head: usize, pos: usize) -> usize {
        ((slot * h + head) * self.capacity + pos) * d
    }
}

/// `s.proj = attn(input) · W_projᵀ + b_proj` for the new rows, after writing their keys and
/// values into `cache`. `input` is `s.x` (post-norm) or `s.h` (pre-norm).
fn attention(layer: Layer<'_>, cache: LayerCache<'_>, s: &mut Scratch, post: bool) -> Result<()> {
    let Layer { cfg, lp, q: q8, positions, rel_bias, kerple, alibi, counts, rows } = layer;
    let (n, c, h, d) = (rows.len(), cfg.n_embd, cfg.n_head, cfg.head_dim());
    let input = if post { &s.x } else { &s.h };
    linear_either(&mut s.qkv, input, &lp.c_attn, q8.map(|q| &q.c_attn), (n, c, 3 * c))?; // qkv = input · W_attnᵀ + b_attn
    let mut r0 = 0;
    for (slot, &count) in counts.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let rows_of_slot = r0 * c..(r0 + count) * c;
        let start = cache.lens[slot];
        // q = RoPE(q_pre), k = RoPE(k_pre) at positions start.., then k and v into the cache.
        for (col, dst) in [(0, &mut s.q), (c, &mut s.att)] {
            for i in r0..r0 + count {
                s.tmp[i * c..(i + 1) * c].copy_from_slice(&s.qkv[i * 3 * c + col..][..c]);
            }
            if cfg.positional == Positional::Rope && positions {
                let table = RopeTable::new(count, d, &cfg.rope_config(start))?;
                let dims = RopeDims { b: 1, t: count, h, d };
                table.forward(
                    &mut dst[rows_of_slot.clone()],
                    &s.tmp[rows_of_slot.clone()],
                    dims,
                )?;
            } else {
                dst[rows_of_slot.clone()].copy_from_slice(&s.tmp[rows_of_slot.clone()]);
            }
        }
        for i in 0..count {
            let r = r0 + i;
            for head in 0..h {
                let at = cache.at(h, d, slot, head, start + i);
                cache.k[at..at + d].copy_from_slice(&s.att[r * c + head * d..][..d]);
                cache.v[at..at + d].copy_from_slice(&s.qkv[r * 3 * c + 2 * c + head * d..][..d]);
            }
        }
        r0 += count;
    }
    // att[r, head] = softmax(q kᵀ / √D + bias, keys ≤ pos) v, one (row, head) per task row.
    let scale = 1.0 / (d as f32).sqrt();
    let longest = rows.iter().map(|row| row.pos + 1).max().unwrap_or(1);
    let min_rows = (8192 / (longest * d)).max(1);
    let (k_cache, v_cache, q) = (&*cache.k, &*cache.v, &s.q);
    let cache = &cache;
    for_each_row_block(&mut s.att, d, min_rows, |task_rows, block| {
        let mut bias = vec![0.0f32; longest];
        for (index, out) in task_rows.zip(block.chunks_exact_mut(d)) {
            let (r, head) = (index / h, index % h);
            let RowInfo { slot, pos } = rows[r];
            let n_keys = pos + 1;
            let base = cache.at(h, d, slot, head, 0);
            let bias_row = match (cfg.positional, alibi, rel_bias) {
                _ if !positions => None,
                (Positional::Kerple, ..) => {
                    let params = kerple.unwrap_or_default();
                    kerple_bias_row(&mut bias[..n_keys], params, h, head, pos);
                    Some(&bias[..n_keys])
                }
                (Positional::Alibi, Some(slopes), _) => {
                    let slope = slopes[head];
                    for (j, b) in bias[..n_keys].iter_mut().enumerate() {
                        *b = -slope * (pos - j) as f32;
                    }
                    Some(&bias[..n_keys])
                }
                (Positional::Relative { num_buckets, max_distance }, _, Some(table)) => {
                    for (j, b) in bias[..n_keys].iter_mut().enumerate() {
                        let bucket = relative_bucket(
                            j as isize - pos as isize,
                            true,
                            num_buckets,
                            max_distance,
                        );
                        *b = table[bucket * h + head];
                    }
                    Some(&bias[..n_keys])
                }
                _ => None,
            };
            let keys = &k_cache[base..base + n_keys * d];
            let values = &v_cache[base..base + n_keys * d];
            let keys = RowKeys { k: keys, v: values, pad: None, bias: bias_row, n_keys };
            attend_row(out, &q[r * c + head * d..][..d], keys, scale);
        }
    });
    linear_either(&mut s.proj, &s.att, &lp.attn_proj, q8.map(|q| &q.attn_proj), (n, c, c))
    // proj = att · W_projᵀ + b_proj
}
