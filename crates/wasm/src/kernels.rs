//! Kernel entry points for ts/src/kernels/*.ts. Each takes its typed arrays and one options
//! object (the dims and flags, read by [`Options`]), copies the arrays in, runs one core kernel
//! and copies results out; lengths are checked in TS first and again by the core.

use wasm_bindgen::prelude::*;
use wasmformer_core::error::check_len;
use wasmformer_core::kernels::attention::{
    attention_backward_lse, attention_forward_infer, attention_forward_lse, AttnCache, AttnDims,
    AttnGrads, AttnInferDims, AttnOptions, AttnSaved, Qkv,
};
use wasmformer_core::kernels::gemv::{self, linear_forward_infer};
use wasmformer_core::kernels::glu::{activation_forward, glu_forward, Activation, GluKind};
use wasmformer_core::kernels::int8::{linear_int8_infer, quantize_weight, Int8Weight, Scales};
use wasmformer_core::kernels::matmul::{matmul_forward, MatmulDims, MatmulForm};
use wasmformer_core::kernels::norm::{
    layernorm_forward, rmsnorm_forward, NormCache, NormDims, RmsCache,
};
use wasmformer_core::kernels::rope::{rope_forward, RopeConfig, RopeDims, RopeScaling};
use wasmformer_core::kernels::softmax_xent::{crossentropy_forward, softmax_forward, SoftmaxDims};

use crate::error::{js_error, to_js};
use crate::options::Options;

/// A matmul's `{ m, k, n, form: "ab" | "abt" | "atb" }`.
pub(crate) fn matmul_options(
    options: &JsValue,
    call: &'static str,
) -> Result<(MatmulDims, MatmulForm), JsValue> {
    let o = Options::new(options, call)?;
    let dims = MatmulDims::new(o.count("m")?, o.count("k")?, o.count("n")?);
    let form = [MatmulForm::AB, MatmulForm::ABt, MatmulForm::AtB]
        [o.choice("form", &["ab", "abt", "atb"])?];
    Ok((dims, form))
}

/// `out: [M, N] = op(a) · op(b) (+ bias: [N])`. `options`: `{ m, k, n, form }`, where `form`
/// says how a and b are stored: `"ab"`: a [M, K], b [K, N]; `"abt"`: a [M, K], b [N, K];
/// `"atb"`: a [K, M], b [K, N].
#[wasm_bindgen]
pub fn matmul(
    out: &mut [f32],
    a: &[f32],
    b: &[f32],
    bias: Option<Box<[f32]>>,
    options: &JsValue,
) -> Result<(), JsValue> {
    let (dims, form) = matmul_options(options, "matmul")?;
    matmul_forward(out, a, b, bias.as_deref(), dims, form).map_err(to_js)
}

/// An attention call's `{ b, h, t, d, causal }`.
fn attention_options(options: &JsValue, call: &'static str) -> Result<(AttnDims, bool), JsValue> {
    let o = Options::new(options, call)?;
    let dims = AttnDims::new(o.count("b")?, o.count("h")?, o.count("t")?, o.count("d")?);
    Ok((dims, o.flag_or("causal", false)?))
}

/// Splits `n_items` units of real work over the pool and returns how many each pool thread
/// did (index = thread) followed by the checksum's bits, so a test can see threads working.
#[wasm_bindgen(js_name = poolSmoke)]
pub fn pool_smoke(n_items: usize) -> Vec<f64> {
    let (checksum, per_thread) = wasmformer_core::par::pool_smoke(n_items);
    per_thread.into_iter().map(|c| c as f64).chain(std::iter::once(checksum)).collect()
}

/// Multi-head attention, inference path (no T×T buffer): `out: [B, H, T, D]` from
/// `q, k, v: [B, H, T, D]`; `key_padding: [B, T]` (nonzero = real token), `bias: [H, T, T]`.
/// `options`: `{ b, h, t, d, causal (default false) }`.
#[wasm_bindgen]
pub fn attention(
    out: &mut [f32],
    q: &[f32],
    k: &[f32],
    v: &[f32],
    key_padding: Option<Box<[u8]>>,
    bias: Option<Box<[f32]>>,
    options: &JsValue,
) -> Result<(), JsValue> {
    let (AttnDims { b, h, t, d }, causal) = attention_options(options, "attention")?;
    // The online softmax skips a key tile whose largest score is −∞ (every key masked), and a
    // NaN score does not raise that maximum, so a query whose scores are all NaN would come out
    // as zeros: non-finite queries and keys, and a NaN or +∞ bias, are refused before any work.
    check_finite("q", q, false)?;
    check_finite("k", k, false)?;
    if let Some(bias) = bias.as_deref() {
        check_finite("bias", bias, true)?;
    }
    let options =
        AttnOptions { causal, key_padding: key_padding.as_deref(), bias: bias.as_deref() };
    attention_forward_infer(out, q, k, v, AttnInferDims::new(b, h, t, t, d), options).map_err(to_js)
}

/// `InvalidArgumentError` naming the first element of `x` that is NaN or ±∞ (−∞ passes when
/// `allow_neg_inf`: a mask value). One branch-free pass over the exponent bits (all ones:
/// not finite), which vectorises; the element is looked for only when there is one.
fn check_finite(name: &str, x: &[f32], allow_neg_inf: bool) -> Result<(), JsValue> {
    const EXP: u32 = 0x7f80_0000;
    let bad = |v: f32| v.to_bits() & EXP == EXP && !(allow_neg_inf && v == f32::NEG_INFINITY);
    if x.iter().fold(0u32, |seen, &v| seen | u32::from(v.to_bits() & EXP == EXP)) == 0 {
        return Ok(());
    }
    match x.iter().position(|&v| bad(v)) {
        None => Ok(()),
        Some(i) => {
            let v = x[i];
            let shown = if v.is_nan() {
                "NaN"
            } else if v > 0.0 {
                "Infinity"
            } else {
                "-Infinity"
            };
            let mask = if allow_neg_inf { " (or −Infinity to mask)" } else { "" };
            Err(js_error(
                "InvalidArgumentError",
                &format!("attention: {name}[{i}] is {shown}; attention needs finite values{mask}"),
            ))
        }
    }
}

/// Benchmark and diagnostic entry, not part of the TS API (ts/src/diagnostics.ts wraps it for
/// bench/attention.bench.mjs): one training pass of multi-head attention in one call,
/// `attention_forward_lse` then `attention_backward_lse`, as the training step runs them.
///
/// `out, dq, dk, dv: [B, H, T, D]` (assigned), `q, k, v: [B, H, T, D]`, `dout: [B, H, T, D]`
/// the upstream gradient (`None`: the output itself). The saved `lse: [B, H, T]` is allocated
/// here. No key padding or bias. `options`: `{ b, h, t, d, causal (default false) }`.
#[wasm_bindgen(js_name = attentionTrainStep)]
#[allow(clippy::too_many_arguments)] // eight typed arrays (outputs, gradients, inputs) cross here
pub fn attention_train_step(
    out: &mut [f32],
    dq: &mut [f32],
    dk: &mut [f32],
    dv: &mut [f32],
    q: &[f32],
    k: &[f32],
    v: &[f32],
    dout: Option<Box<[f32]>>,
    options: &JsValue,
) -> Result<(), JsValue> {
    let (dims, causal) = attention_options(options, "attentionTrainStep")?;
    let options = AttnOptions { causal, ..AttnOptions::default() };
    let mut lse = AttnCache::new(dims).map_err(to_js)?.lse;
    let x = Qkv { q, k, v };
    attention_forward_lse(out, &mut lse, None, x, dims, options).map_err(to_js)?;
    let out: &[f32] = out;
    let dout = dout.as_deref().unwrap_or(out);
    let grads = AttnGrads { dq, dk, dv, dbias: None };
    let saved = AttnSaved { out, lse: &lse, probs: None };
    attention_backward_lse(grads, dout, saved, x, dims, options).map_err(to_js)
}

/// Rotary position embedding: `out: [B, T, H, D] = RoPE(inp)`. `options`: `{ b, t, h, d,
/// rotaryDim, base, positionOffset, scaling: "none" | "linear" | "ntk", factor }` (`factor`
/// only read when scaling).
#[wasm_bindgen]
pub fn rope(out: &mut [f32], inp: &[f32], options: &JsValue) -> Result<(), JsValue> {
    let o = Options::new(options, "rope")?;
    let dims = RopeDims { b: o.count("b")?, t: o.count("t")?, h: o.count("h")?, d: o.count("d")? };
    let scaling = match o.choice("scaling", &["none", "linear", "ntk"])? {
        0 => RopeScaling::None,
        1 => RopeScaling::Linear { factor: o.f32("factor")? },
        _ => RopeScaling::NtkAware { factor: o.f32("factor")? },
    };
    let config = RopeConfig {
        base: o.f32("base")?,
        rotary_dim: o.count("rotaryDim")?,
        position_offset: o.count("positionOffset")?,
        scaling,
        kept_frequencies: None,
    };
    rope_forward(out, inp, dims, &config).map_err(to_js)
}

/// Elementwise activation `out = act(inp)`. `options`: `{ kind: "gelu" (tanh) | "gelu-erf" |
/// "silu" | "relu" | "sigmoid" }`.
#[wasm_bindgen]
pub fn activation(out: &mut [f32], inp: &[f32], options: &JsValue) -> Result<(), JsValue> {
    let o = Options::new(options, "activation")?;
    let kinds = ["gelu", "gelu-erf", "silu", "relu", "sigmoid"];
    let act = [
        Activation::Gelu,
        Activation::GeluErf,
        Activation::Silu,
        Activation::Relu,
        Activation::Sigmoid,
    ][o.choice("kind", &kinds)?];
    activation_forward(out, inp, act).map_err(to_js)
}

/// Gated linear unit `out = act(gate) ⊙ up` (all `[N, F]`). `options`: `{ kind: "glu" |
/// "reglu" | "geglu" | "swiglu" }`.
#[wasm_bindgen]
pub fn glu(out: &mut [f32], gate: &[f32], up: &[f32], options: &JsValue) -> Result<(), JsValue> {
    let o = Options::new(options, "glu")?;
    let kinds = ["glu", "reglu", "geglu", "swiglu"];
    let kind = [GluKind::Glu, GluKind::ReGlu, GluKind::GeGlu, GluKind::SwiGlu]
        [o.choice("kind", &kinds)?];
    glu_forward(out, gate, up, kind).map_err(to_js)
}

/// A norm's `{ rows, channels, eps }`.
fn norm_options(options: &JsValue, call: &'static str) -> Result<(NormDims, f32), JsValue> {
    let o = Options::new(options, call)?;
    Ok((NormDims::new(o.count("rows")?, o.count("channels")?), o.f32("eps")?))
}

/// LayerNorm over the last dimension: `out, inp: [N, C]`, `weight, bias: [C]`. `options`:
/// `{ rows (N), channels (C), eps }`.
#[wasm_bindgen(js_name = layerNorm)]
pub fn layer_norm(
    out: &mut [f32],
    inp: &[f32],
    weight: &[f32],
    bias: Option<Box<[f32]>>,
    options: &JsValue,
) -> Result<(), JsValue> {
    let (dims, eps) = norm_options(options, "layerNorm")?;
    let mut cache = NormCache::new(dims.rows);
    layernorm_forward(out, &mut cache, inp, weight, bias.as_deref(), dims, eps).map_err(to_js)
}

/// RMSNorm over the last dimension: `out, inp: [N, C]`, `weight: [C]`. `options`: `{ rows
/// (N), channels (C), eps }`.
#[wasm_bindgen(js_name = rmsNorm)]
pub fn rms_norm(
    out: &mut [f32],
    inp: &[f32],
    weight: &[f32],
    options: &JsValue,
) -> Result<(), JsValue> {
    let (dims, eps) = norm_options(options, "rmsNorm")?;
    let mut cache = RmsCache::new(dims.rows);
    rmsnorm_forward(out, &mut cache, inp, weight, dims, eps).map_err(to_js)
}

/// Softmax over the last dimension: `probs, logits: [N, V]`. `options`: `{ rows (N), vocab
/// (V) }`.
#[wasm_bindgen]
pub fn softmax(probs: &mut [f32], logits: &[f32], options: &JsValue) -> Result<(), JsValue> {
    let o = Options::new(options, "softmax")?;
    softmax_forward(probs, logits, SoftmaxDims::new(o.count("rows")?, o.count("vocab")?))
        .map_err(to_js)
}

/// Cross-entropy of `logits: [N, V]` against `targets: [N]`: fills `losses: [N]` and returns
/// the mean over rows whose target is not `ignoreIndex`. `options`: `{ rows (N), vocab (V),
/// ignoreIndex (optional) }`.
#[wasm_bindgen(js_name = crossEntropy)]
pub fn cross_entropy(
    losses: &mut [f32],
    logits: &[f32],
    targets: &[i32],
    options: &JsValue,
) -> Result<f32, JsValue> {
    let o = Options::new(options, "crossEntropy")?;
    let dims = SoftmaxDims::new(o.count("rows")?, o.count("vocab")?);
    let ignore_index = o.optional_i32("ignoreIndex")?;
    let mut probs = vec![0.0; logits.len()];
    crossentropy_forward(losses, &mut probs, logits, targets, ignore_index, dims).map_err(to_js)
}

/// How [`LinearWeights`] stores its matrix.
enum StoredWeight {
    /// `[N, K]` float32, as given.
    F32(Vec<f32>),
    /// `[N, K]` quantised to int8 and packed once.
    Int8(Int8Weight),
}

/// A linear layer's weight `[N, K]` (PyTorch's `[out, in]`) held in the module, as float32 or
/// packed int8, applied as the decoding path applies its layers: `out = x · weightᵀ (+ bias)`,
/// the few-rows kernel for `M ≤ 8` rows and the tiled product above.
#[wasm_bindgen]
pub struct LinearWeights {
    weight: StoredWeight,
    n: usize,
    k: usize,
}

#[wasm_bindgen]
impl LinearWeights {
    /// Copies (float32) or quantises (int8) `weight: [N, K]`. `options`: `{ n, k, dtype:
    /// "float32" | "int8", block }`, where `block` is the int8 scale block along K (0: one
    /// scale per output channel).
    #[wasm_bindgen(constructor)]
    pub fn new(weight: &[f32], options: &JsValue) -> Result<LinearWeights, JsValue> {
        let o = Options::new(options, "LinearWeights")?;
        let (n, k) = (o.count("n")?, o.count("k")?);
        let stored = if o.choice("dtype", &["float32", "int8"])? == 0 {
            check_len("LinearWeights: weight", n.saturating_mul(k), weight.len()).map_err(to_js)?;
            StoredWeight::F32(weight.to_vec())
        } else {
            let scales = match o.count("block")? {
                0 => Scales::PerChannel,
                block => Scales::Block(block),
            };
            StoredWeight::Int8(quantize_weight(weight, n, k, scales).map_err(to_js)?)
        };
        Ok(LinearWeights { weight: stored, n, k })
    }

    /// Bytes the stored weight takes in the module (values and scales).
    #[wasm_bindgen(js_name = byteLength)]
    pub fn byte_length(&self) -> usize {
        match &self.weight {
            StoredWeight::F32(w) => 4 * w.len(),
            StoredWeight::Int8(w) => w.bytes(),
        }
    }

    /// `out: [M, N] = x: [M, K] · weightᵀ (+ bias: [N])`. `options`: `{ m }`.
    pub fn apply(
        &self,
        out: &mut [f32],
        x: &[f32],
        bias: Option<Box<[f32]>>,
        options: &JsValue,
    ) -> Result<(), JsValue> {
        let m = Options::new(options, "LinearWeights.apply")?.count("m")?;
        let bias = bias.as_deref();
        match &self.weight {
            StoredWeight::F32(w) => {
                let dims = MatmulDims::new(m, self.k, self.n);
                if m <= gemv::MAX_ROWS {
                    linear_forward_infer(out, x, w, bias, dims)
                } else {
                    matmul_forward(out, x, w, bias, dims, MatmulForm::ABt)
                }
            }
            StoredWeight::Int8(w) => linear_int8_infer(out, x, w, bias, m),
        }
        .map_err(to_js)
    }
}
