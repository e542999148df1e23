//! Kernel entry points for ts/src/kernels.ts. Each copies its typed arrays in, runs one core
//! kernel and copies results out; lengths are checked in TS first and again by the core.

use wasm_bindgen::prelude::*;
use wasmformer_core::kernels::attention::{
    attention_backward_lse, attention_forward_infer, attention_forward_lse, AttnCache, AttnDims,
    AttnInferDims, AttnOptions,
};
use wasmformer_core::kernels::glu::{activation_forward, glu_forward, Activation, GluKind};
use wasmformer_core::kernels::matmul::{matmul_forward, MatmulDims, MatmulForm};
use wasmformer_core::kernels::norm::{
    layernorm_forward, rmsnorm_forward, NormCache, NormDims, RmsCache,
};
use wasmformer_core::kernels::rope::{rope_forward, RopeConfig, RopeDims, RopeScaling};
use wasmformer_core::kernels::softmax_xent::{crossentropy_forward, softmax_forward, SoftmaxDims};

use crate::error::{js_error, to_js};

fn parse_form(form: &str) -> Result<MatmulForm, JsValue> {
    match form {
        "ab" => Ok(MatmulForm::AB),
        "abt" => Ok(MatmulForm::ABt),
        "atb" => Ok(MatmulForm::AtB),
        other => Err(js_error(
            "InvalidArgumentError",
            &format!("matmul: form must be \"ab\", \"abt\" or \"atb\", got {other:?}"),
        )),
    }
}

/// `out: [M, N] = op(a) · op(b) (+ bias: [N])`, where `form` says how a and b are stored:
/// `"ab"`: a [M, K], b [K, N]; `"abt"`: a [M, K], b [N, K]; `"atb"`: a [K, M], b [K, N].
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn matmul(
    out: &mut [f32],
    a: &[f32],
    b: &[f32],
    bias: Option<Box<[f32]>>,
    m: usize,
    k: usize,
    n: usize,
    form: &str,
) -> Result<(), JsValue> {
    let form = parse_form(form)?;
    matmul_forward(out, a, b, bias.as_deref(), MatmulDims { m, k, n }, form).map_err(to_js)
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
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn attention(
    out: &mut [f32],
    q: &[f32],
    k: &[f32],
    v: &[f32],
    key_padding: Option<Box<[u8]>>,
    bias: Option<Box<[f32]>>,
    b: usize,
    h: usize,
    t: usize,
    d: usize,
    causal: bool,
) -> Result<(), JsValue> {
    let options = AttnOptions { causal, key_padding: key_padding.as_deref(), bias: bias.as_deref() };
    attention_forward_infer(out, q, k, v, AttnInferDims::new(b, h, t, t, d), options).map_err(to_js)
}

/// Benchmark and diagnostic entry, not part of the TS API (ts/src/diagnostics.ts wraps it for
/// bench/attention.bench.mjs): one training pass of multi-head attention in one call,
/// `attention_forward_lse` then `attention_backward_lse`, as the training step runs them.
///
/// `out, dq, dk, dv: [B, H, T, D]` (assigned), `q, k, v: [B, H, T, D]`, `dout: [B, H, T, D]`
/// the upstream gradient (`None`: the output itself). The saved `lse: [B, H, T]` is allocated
/// here. No key padding or bias.
#[wasm_bindgen(js_name = attentionTrainStep)]
#[allow(clippy::too_many_arguments)]
pub fn attention_train_step(
    out: &mut [f32],
    dq: &mut [f32],
    dk: &mut [f32],
    dv: &mut [f32],
    q: &[f32],
    k: &[f32],
    v: &[f32],
    dout: Option<Box<[f32]>>,
    b: usize,
    h: usize,
    t: usize,
    d: usize,
    causal: bool,
) -> Result<(), JsValue> {
    let dims = AttnDims::new(b, h, t, d);
    let options = AttnOptions { causal, ..AttnOptions::default() };
    let mut lse = AttnCache::new(dims).map_err(to_js)?.lse;
    attention_forward_lse(out, &mut lse, None, q, k, v, dims, options).map_err(to_js)?;
    let out: &[f32] = out;
    let dout = dout.as_deref().unwrap_or(out);
    attention_backward_lse(dq, dk, dv, None, dout, &lse, None, q, k, v, out, dims, options).map_err(to_js)
}

/// Rotary position embedding: `out: [B, T, H, D] = RoPE(inp)`. `scaling`: `"none"`,
/// `"linear"` or `"ntk"` with `factor`.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn rope(
    out: &mut [f32],
    inp: &[f32],
    b: usize,
    t: usize,
    h: usize,
    d: usize,
    rotary_dim: usize,
    base: f32,
    position_offset: usize,
    scaling: &str,
    factor: f32,
) -> Result<(), JsValue> {
    let scaling = match scaling {
        "none" => RopeScaling::None,
        "linear" => RopeScaling::Linear { factor },
        "ntk" => RopeScaling::NtkAware { factor },
        other => {
            return Err(js_error(
                "InvalidArgumentError",
                &format!("rope: scaling must be \"none\", \"linear\" or \"ntk\", got {other:?}"),
            ))
        }
    };
    let config = RopeConfig { base, rotary_dim, position_offset, scaling };
    rope_forward(out, inp, RopeDims { b, t, h, d }, &config).map_err(to_js)
}

/// Elementwise activation `out = act(inp)`: `"gelu"` (tanh), `"gelu-erf"`, `"silu"`, `"relu"`,
/// `"sigmoid"`.
#[wasm_bindgen]
pub fn activation(out: &mut [f32], inp: &[f32], act: &str) -> Result<(), JsValue> {
    let act = match act {
        "gelu" => Activation::Gelu,
        "gelu-erf" => Activation::GeluErf,
        "silu" => Activation::Silu,
        "relu" => Activation::Relu,
        "sigmoid" => Activation::Sigmoid,
        other => return Err(js_error("InvalidArgumentError", &format!("activation: unknown {other:?}"))),
    };
    activation_forward(out, inp, act).map_err(to_js)
}

/// Gated linear unit `out = act(gate) ⊙ up` (all `[N, F]`): `"glu"`, `"reglu"`, `"geglu"`,
/// `"swiglu"`.
#[wasm_bindgen]
pub fn glu(out: &mut [f32], gate: &[f32], up: &[f32], kind: &str) -> Result<(), JsValue> {
    let kind = match kind {
        "glu" => GluKind::Glu,
        "reglu" => GluKind::ReGlu,
        "geglu" => GluKind::GeGlu,
        "swiglu" => GluKind::SwiGlu,
        other => return Err(js_error("InvalidArgumentError", &format!("glu: unknown kind {other:?}"))),
    };
    glu_forward(out, gate, up, kind).map_err(to_js)
}

/// LayerNorm over the last dimension: `out, inp: [N, C]`, `weight, bias: [C]`.
#[wasm_bindgen(js_name = layerNorm)]
#[allow(clippy::too_many_arguments)]
pub fn layer_norm(
    out: &mut [f32],
    inp: &[f32],
    weight: &[f32],
    bias: Option<Box<[f32]>>,
    rows: usize,
    channels: usize,
    eps: f32,
) -> Result<(), JsValue> {
    let mut cache = NormCache::new(rows);
    let dims = NormDims::new(rows, channels);
    layernorm_forward(out, &mut cache, inp, weight, bias.as_deref(), dims, eps).map_err(to_js)
}

/// RMSNorm over the last dimension: `out, inp: [N, C]`, `weight: [C]`.
#[wasm_bindgen(js_name = rmsNorm)]
pub fn rms_norm(
    out: &mut [f32],
    inp: &[f32],
    weight: &[f32],
    rows: usize,
    channels: usize,
    eps: f32,
) -> Result<(), JsValue> {
    let mut cache = RmsCache::new(rows);
    rmsnorm_forward(out, &mut cache, inp, weight, NormDims::new(rows, channels), eps).map_err(to_js)
}

/// Softmax over the last dimension: `probs, logits: [N, V]`.
#[wasm_bindgen]
pub fn softmax(probs: &mut [f32], logits: &[f32], rows: usize, vocab: usize) -> Result<(), JsValue> {
    softmax_forward(probs, logits, SoftmaxDims::new(rows, vocab)).map_err(to_js)
}

/// Cross-entropy of `logits: [N, V]` against `targets: [N]`: fills `losses: [N]` and returns
/// the mean over rows whose target is not `ignore_index`.
#[wasm_bindgen(js_name = crossEntropy)]
pub fn cross_entropy(
    losses: &mut [f32],
    logits: &[f32],
    targets: &[i32],
    ignore_index: Option<i32>,
    rows: usize,
    vocab: usize,
) -> Result<f32, JsValue> {
    let mut probs = vec![0.0; logits.len()];
    crossentropy_forward(losses, &mut probs, logits, targets, ignore_index, SoftmaxDims::new(rows, vocab))
        .map_err(to_js)
}
