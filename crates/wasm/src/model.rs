//! `WasmModel`: the core [`Model`] behind a JS class. TS (ts/src/models/) validates the config
//! and every batch first; this layer reads the config object, converts types and errors, and
//! copies typed arrays in and out. A whole training step is ONE call (`trainStep`).

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasmformer_core::kernels::glu::GluKind;
use wasmformer_core::kernels::rope::RopeScaling;
use wasmformer_core::model::batch::Batch;
use wasmformer_core::model::ends::Losses;
use wasmformer_core::model::{
    Ffn, LmHead, MemoryPlan, Model, ModelConfig, NormKind, NormPlacement, Positional, StepOptions,
};
use wasmformer_core::optim::adamw::AdamWConfig;

use crate::error::{js_error, to_js};

fn invalid(message: String) -> JsValue {
    js_error("InvalidArgumentError", &message)
}

fn field(obj: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    Reflect::get(obj, &JsValue::from_str(key)).map_err(|_| invalid(format!("model config: cannot read {key}")))
}

fn number(obj: &JsValue, key: &str) -> Result<f64, JsValue> {
    field(obj, key)?.as_f64().ok_or_else(|| invalid(format!("model config: {key} must be a number")))
}

fn count(obj: &JsValue, key: &str) -> Result<usize, JsValue> {
    let x = number(obj, key)?;
    if x.fract() != 0.0 || !(0.0..=4_294_967_295.0).contains(&x) {
        return Err(invalid(format!("model config: {key} must be a non-negative integer, got {x}")));
    }
    Ok(x as usize)
}

fn text(obj: &JsValue, key: &str) -> Result<String, JsValue> {
    field(obj, key)?.as_string().ok_or_else(|| invalid(format!("model config: {key} must be a string")))
}

fn flag(obj: &JsValue, key: &str) -> Result<bool, JsValue> {
    field(obj, key)?.as_bool().ok_or_else(|| invalid(format!("model config: {key} must be a boolean")))
}

/// Reads the snake_case config object that ts/src/models/config.ts builds.
fn parse_config(obj: &JsValue) -> Result<ModelConfig, JsValue> {
    let positional = match text(obj, "positional")?.as_str() {
        "learned" => Positional::Learned,
        "sinusoidal" => Positional::Sinusoidal,
        "none" => Positional::None,
        "relative" => Positional::Relative {
            num_buckets: count(obj, "relative_buckets")?,
            max_distance: count(obj, "relative_max_distance")?,
        },
        "rope" => Positional::Rope,
        "alibi" => Positional::Alibi,
        other => return Err(invalid(format!("model config: unknown positional {other:?}"))),
    };
    let norm = match text(obj, "norm")?.as_str() {
        "layernorm" => NormKind::LayerNorm,
        "rmsnorm" => NormKind::RmsNorm,
        other => return Err(invalid(format!("model config: unknown norm {other:?}"))),
    };
    let norm_placement = match text(obj, "norm_placement")?.as_str() {
        "pre" => NormPlacement::Pre,
        "post" => NormPlacement::Post,
        other => return Err(invalid(format!("model config: unknown norm placement {other:?}"))),
    };
    let ffn = match text(obj, "ffn")?.as_str() {
        "gelu" => Ffn::Gelu,
        "swiglu" => Ffn::Glu(GluKind::SwiGlu),
        "geglu" => Ffn::Glu(GluKind::GeGlu),
        "reglu" => Ffn::Glu(GluKind::ReGlu),
        "glu" => Ffn::Glu(GluKind::Glu),
        other => return Err(invalid(format!("model config: unknown ffn {other:?}"))),
    };
    let rope_scaling = match text(obj, "rope_scaling")?.as_str() {
        "none" => RopeScaling::None,
        "linear" => RopeScaling::Linear { factor: number(obj, "rope_scaling_factor")? as f32 },
        "ntk" => RopeScaling::NtkAware { factor: number(obj, "rope_scaling_factor")? as f32 },
        other => return Err(invalid(format!("model config: unknown rope_scaling {other:?}"))),
    };
    let lm_head = match text(obj, "lm_head")?.as_str() {
        "none" => LmHead::None,
        "plain" => LmHead::Plain,
        "mlm" => LmHead::Mlm,
        other => return Err(invalid(format!("model config: unknown lm_head {other:?}"))),
    };
    Ok(ModelConfig {
        vocab_size: count(obj, "vocab_size")?,
        block_size: count(obj, "block_size")?,
        n_layer: count(obj, "n_layer")?,
        n_head: count(obj, "n_head")?,
        n_embd: count(obj, "n_embd")?,
        ffn_hidden: count(obj, "ffn_hidden")?,
        positional,
        norm,
        norm_placement,
        ffn,
        bias: flag(obj, "bias")?,
        tie_embeddings: flag(obj, "tie_embeddings")?,
        causal: flag(obj, "causal")?,
        dropout: number(obj, "dropout")? as f32,
        rope_base: number(obj, "rope_base")? as f32,
        rope_scaling,
        norm_eps: number(obj, "norm_eps")? as f32,
        type_vocab_size: count(obj, "type_vocab_size")?,
        embedding_norm: flag(obj, "embedding_norm")?,
        gelu_exact: flag(obj, "gelu_exact")?,
        lm_head,
        n_classes: count(obj, "n_classes")?,
    })
}

fn plan_object(plan: MemoryPlan) -> Result<JsValue, JsValue> {
    let obj = Object::new();
    for (key, value) in [
        ("params", plan.params),
        ("grads", plan.grads),
        ("optimizer", plan.optimizer),
        ("activations", plan.activations),
        ("total", plan.total),
    ] {
        Reflect::set(&obj, &JsValue::from_str(key), &JsValue::from_f64(value as f64))?;
    }
    Ok(obj.into())
}

#[allow(clippy::too_many_arguments)]
fn step_options(lr: f32, weight_decay: f32, decay_embeddings: bool, beta1: f32, beta2: f32, eps: f32, max_grad_norm: f32, dropout_seed: f64) -> StepOptions {
    StepOptions {
        lr,
        weight_decay,
        decay_embeddings,
        adam: AdamWConfig { lr, beta1, beta2, eps, weight_decay },
        max_grad_norm: (max_grad_norm > 0.0).then_some(max_grad_norm),
        dropout_seed: dropout_seed as u64,
    }
}

/// A batch from JS arrays; an empty array is "not given".
fn batch_of<'a>(ids: &'a [u32], targets: &'a [i32], type_ids: &'a [u32], attention_mask: &'a [u8], labels: &'a [i32]) -> Batch<'a> {
    let given = |len: usize| len > 0;
    Batch {
        ids,
        targets: given(targets.len()).then_some(targets),
        type_ids: given(type_ids.len()).then_some(type_ids),
        attention_mask: given(attention_mask.len()).then_some(attention_mask),
        labels: given(labels.len()).then_some(labels),
    }
}

fn losses_array(l: Losses) -> Vec<f64> {
    vec![l.token.map_or(f64::NAN, f64::from), l.class.map_or(f64::NAN, f64::from)]
}

/// A transformer living in wasm memory.
#[wasm_bindgen]
pub struct WasmModel {
    inner: Model,
}

#[wasm_bindgen]
impl WasmModel {
    /// Builds and initialises (GPT-2 init) a model from a config object and a seed.
    #[wasm_bindgen(constructor)]
    pub fn new(config: &JsValue, seed: f64) -> Result<WasmModel, JsValue> {
        let config = parse_config(config)?;
        Ok(WasmModel { inner: Model::new(config, seed as u64).map_err(to_js)? })
    }

    /// Bytes a plan would take: `{ params, grads, optimizer, activations, total }`.
    pub fn estimate(config: &JsValue, b: usize, t: usize, training: bool) -> Result<JsValue, JsValue> {
        let config = parse_config(config)?;
        plan_object(Model::estimate(&config, b, t, training).map_err(to_js)?)
    }

    /// Allocates (once) for `b × t` batches; returns the bytes of the whole model state.
    pub fn plan(&mut self, b: usize, t: usize, training: bool) -> Result<JsValue, JsValue> {
        plan_object(self.inner.plan(b, t, training).map_err(to_js)?)
    }

    /// Number of parameters.
    #[wasm_bindgen(js_name = numParams)]
    pub fn num_params(&self) -> usize {
        self.inner.params().len()
    }

    /// The parameter layout as JSON: `[{ name, shape, offset, group }]`.
    #[wasm_bindgen(js_name = specsJson)]
    pub fn specs_json(&self) -> String {
        let items: Vec<String> = self
            .inner
            .specs()
            .iter()
            .map(|s| {
                let shape: Vec<String> = s.shape.iter().map(usize::to_string).collect();
                format!(
                    "{{\"name\":\"{}\",\"shape\":[{}],\"offset\":{},\"group\":\"{:?}\"}}",
                    s.name,
                    shape.join(","),
                    s.offset,
                    s.group
                )
            })
            .collect();
        format!("[{}]", items.join(","))
    }

    /// A copy of the flat parameters.
    #[wasm_bindgen(js_name = getParams)]
    pub fn get_params(&self) -> Vec<f32> {
        self.inner.params().to_vec()
    }

    /// Overwrites the flat parameters (length checked).
    #[wasm_bindgen(js_name = setParams)]
    pub fn set_params(&mut self, data: &[f32]) -> Result<(), JsValue> {
        let params = self.inner.params_mut();
        wasmformer_core::error::check_len("model: parameters", params.len(), data.len()).map_err(to_js)?;
        params.copy_from_slice(data);
        Ok(())
    }

    /// A copy of the gradients of the last training call (empty before any).
    #[wasm_bindgen(js_name = getGrads)]
    pub fn get_grads(&self) -> Vec<f32> {
        self.inner.grads().map(<[f32]>::to_vec).unwrap_or_default()
    }

    /// AdamW first moments (empty before training).
    #[wasm_bindgen(js_name = getOptimizerM)]
    pub fn get_optimizer_m(&self) -> Vec<f32> {
        self.inner.optimizer_state().map(|s| s.0.to_vec()).unwrap_or_default()
    }

    /// AdamW second moments (empty before training).
    #[wasm_bindgen(js_name = getOptimizerV)]
    pub fn get_optimizer_v(&self) -> Vec<f32> {
        self.inner.optimizer_state().map(|s| s.1.to_vec()).unwrap_or_default()
    }

    /// AdamW updates applied so far.
    #[wasm_bindgen(js_name = optimizerStep)]
    pub fn optimizer_step(&self) -> f64 {
        self.inner.optimizer_state().map_or(0.0, |s| s.2 as f64)
    }

    /// Restores AdamW state.
    #[wasm_bindgen(js_name = setOptimizer)]
    pub fn set_optimizer(&mut self, m: &[f32], v: &[f32], step: f64) -> Result<(), JsValue> {
        self.inner.set_optimizer_state(m, v, step as u64).map_err(to_js)
    }

    /// [`WasmModel::train_step`] for any batch: `type_ids`, `attention_mask`: `[accum, B, T]`,
    /// `labels: [accum, B]`; an empty array means "not given".
    #[wasm_bindgen(js_name = trainStepBatch)]
    #[allow(clippy::too_many_arguments)]
    pub fn train_step_batch(
        &mut self,
        ids: &[u32],
        targets: &[i32],
        type_ids: &[u32],
        attention_mask: &[u8],
        labels: &[i32],
        accum: usize,
        b: usize,
        t: usize,
        lr: f32,
        weight_decay: f32,
        decay_embeddings: bool,
        beta1: f32,
        beta2: f32,
        eps: f32,
        max_grad_norm: f32,
        dropout_seed: f64,
    ) -> Result<Vec<f64>, JsValue> {
        let options = step_options(lr, weight_decay, decay_embeddings, beta1, beta2, eps, max_grad_norm, dropout_seed);
        let batch = batch_of(ids, targets, type_ids, attention_mask, labels);
        let r = self.inner.train_step_batch(batch, accum, b, t, &options).map_err(to_js)?;
        Ok(vec![f64::from(r.loss), f64::from(r.grad_norm), if r.applied { 1.0 } else { 0.0 }])
    }

    /// Zeroes the gradients and computes those of the summed losses of a batch; returns
    /// `[token_loss, class_loss]` (NaN where absent).
    #[allow(clippy::too_many_arguments)] // a batch crosses the wasm boundary as flat typed arrays
    #[wasm_bindgen(js_name = lossAndGradsBatch)]
    pub fn loss_and_grads_batch(&mut self, ids: &[u32], targets: &[i32], type_ids: &[u32], attention_mask: &[u8], labels: &[i32], b: usize, t: usize) -> Result<Vec<f64>, JsValue> {
        let batch = batch_of(ids, targets, type_ids, attention_mask, labels);
        Ok(losses_array(self.inner.batch_loss_and_grads(batch, b, t).map_err(to_js)?))
    }

    /// The losses of a batch, `[token_loss, class_loss]` (NaN where absent); no gradients.
    #[allow(clippy::too_many_arguments)] // a batch crosses the wasm boundary as flat typed arrays
    #[wasm_bindgen(js_name = evalBatch)]
    pub fn eval_batch(&mut self, ids: &[u32], targets: &[i32], type_ids: &[u32], attention_mask: &[u8], labels: &[i32], b: usize, t: usize) -> Result<Vec<f64>, JsValue> {
        let batch = batch_of(ids, targets, type_ids, attention_mask, labels);
        Ok(losses_array(self.inner.batch_eval(batch, b, t).map_err(to_js)?))
    }

    /// The losses of a batch and the class logits of the same forward:
    /// `[token_loss, class_loss, logits: [B, K]...]` (NaN where a loss is absent; no logits
    /// without a classifier); no gradients.
    #[allow(clippy::too_many_arguments)] // a batch crosses the wasm boundary as flat typed arrays
    #[wasm_bindgen(js_name = evalBatchWithClassLogits)]
    pub fn eval_batch_with_class_logits(&mut self, ids: &[u32], targets: &[i32], type_ids: &[u32], attention_mask: &[u8], labels: &[i32], b: usize, t: usize) -> Result<Vec<f64>, JsValue> {
        let batch = batch_of(ids, targets, type_ids, attention_mask, labels);
        let (losses, logits) = self.inner.batch_eval_with_class_logits(batch, b, t).map_err(to_js)?;
        let mut out = losses_array(losses);
        out.extend(logits.iter().map(|&x| f64::from(x)));
        Ok(out)
    }

    /// LM logits `[B, T, V]` (`which = 0`), class logits `[B, K]` (`1`) or the final hidden
    /// rows `[B, T, C]` (`2`) of a batch.
    #[wasm_bindgen(js_name = outputsBatch)]
    pub fn outputs_batch(&mut self, ids: &[u32], type_ids: &[u32], attention_mask: &[u8], which: u32, b: usize, t: usize) -> Result<Vec<f32>, JsValue> {
        let batch = batch_of(ids, &[], type_ids, attention_mask, &[]);
        let out = match which {
            0 => self.inner.batch_logits(batch, b, t).map_err(to_js)?.0,
            1 => self.inner.batch_logits(batch, b, t).map_err(to_js)?.1,
            _ => self.inner.batch_hidden(batch, b, t).map_err(to_js)?,
        };
        Ok(out.to_vec())
    }

    /// The attention probabilities `[L, H, T, T]` of ONE sequence `ids: [T]` (`type_ids`,
    /// `attention_mask: [T]`, empty = not given), dropout off.
    #[wasm_bindgen(js_name = attentionProbs)]
    pub fn attention_probs(&mut self, ids: &[u32], type_ids: &[u32], attention_mask: &[u8], t: usize) -> Result<Vec<f32>, JsValue> {
        let batch = batch_of(ids, &[], type_ids, attention_mask, &[]);
        self.inner.attention_probs(batch, t).map_err(to_js)
    }

    /// One optimizer step over `accum` micro-batches `ids, targets: [accum, B, T]`; returns
    /// `[loss, grad_norm, applied (1/0)]`. `max_grad_norm <= 0` or NaN: no clipping.
    #[wasm_bindgen(js_name = trainStep)]
    #[allow(clippy::too_many_arguments)]
    pub fn train_step(
        &mut self,
        ids: &[u32],
        targets: &[i32],
        accum: usize,
        b: usize,
        t: usize,
        lr: f32,
        weight_decay: f32,
        decay_embeddings: bool,
        beta1: f32,
        beta2: f32,
        eps: f32,
        max_grad_norm: f32,
        dropout_seed: f64,
    ) -> Result<Vec<f64>, JsValue> {
        self.train_step_batch(ids, targets, &[], &[], &[], accum, b, t, lr, weight_decay, decay_embeddings, beta1, beta2, eps, max_grad_norm, dropout_seed)
    }

    /// Zeroes the gradients and computes those of the mean loss (read with `getGrads`).
    #[wasm_bindgen(js_name = lossAndGrads)]
    pub fn loss_and_grads(&mut self, ids: &[u32], targets: &[i32], b: usize, t: usize) -> Result<f32, JsValue> {
        self.inner.loss_and_grads(ids, targets, b, t).map_err(to_js)
    }

    /// Mean loss over `ids, targets: [B, T]`, no gradients.
    #[wasm_bindgen(js_name = evalLoss)]
    pub fn eval_loss(&mut self, ids: &[u32], targets: &[i32], b: usize, t: usize) -> Result<f32, JsValue> {
        self.inner.eval_loss(ids, targets, b, t).map_err(to_js)
    }

    /// Logits `[B, T, V]` for `ids: [B, T]`.
    pub fn logits(&mut self, ids: &[u32], b: usize, t: usize) -> Result<Vec<f32>, JsValue> {
        Ok(self.inner.logits(ids, b, t).map_err(to_js)?.to_vec())
    }

    /// Logits of the LAST position of each row, `[B, V]` (sampling).
    #[wasm_bindgen(js_name = lastLogits)]
    pub fn last_logits(&mut self, ids: &[u32], b: usize, t: usize) -> Result<Vec<f32>, JsValue> {
        let v = self.inner.config().vocab_size;
        let all = self.inner.logits(ids, b, t).map_err(to_js)?;
        Ok(all.chunks_exact(t * v).flat_map(|row| row[(t - 1) * v..].iter().copied()).collect())
    }

    /// Opens a KV cache for `slots` sequences of up to `capacity` tokens; returns its bytes.
    #[wasm_bindgen(js_name = decodeStart)]
    pub fn decode_start(&mut self, slots: usize, capacity: usize) -> Result<f64, JsValue> {
        Ok(self.inner.decode_start(slots, capacity).map_err(to_js)? as f64)
    }

    /// Appends `tokens` (`counts[s]` of them to slot `s`) and returns the logits `[S_fed, V]`
    /// of each fed slot's last new token.
    #[wasm_bindgen(js_name = decodeFeed)]
    pub fn decode_feed(&mut self, tokens: &[u32], counts: &[u32]) -> Result<Vec<f32>, JsValue> {
        let counts: Vec<usize> = counts.iter().map(|&c| c as usize).collect();
        Ok(self.inner.decode_feed(tokens, &counts).map_err(to_js)?.to_vec())
    }

    /// Tokens held per slot (empty when no cache is open).
    #[wasm_bindgen(js_name = decodeLens)]
    pub fn decode_lens(&self) -> Vec<u32> {
        self.inner.decode_lens().map_or_else(Vec::new, |lens| lens.iter().map(|&l| l as u32).collect())
    }

    /// Empties one slot of the open cache.
    #[wasm_bindgen(js_name = decodeReset)]
    pub fn decode_reset(&mut self, slot: usize) -> Result<(), JsValue> {
        self.inner.decode_reset(slot).map_err(to_js)
    }

    /// Frees the KV cache.
    #[wasm_bindgen(js_name = decodeEnd)]
    pub fn decode_end(&mut self) {
        self.inner.decode_end();
    }
}
