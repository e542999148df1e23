//! `WasmModel`: the core [`Model`] behind a JS class. TS (ts/src/models/) validates the config
//! and every batch first; this layer reads the config and options objects, converts types and
//! errors, and copies typed arrays in and out. A whole training step is ONE call
//! (`trainStepBatch`). A batch crosses as typed arrays (`ids`, `targets`, `typeIds`,
//! `attentionMask`, `labels`; an empty array is "not given") plus one options object.

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasmformer_core::kernels::glu::GluKind;
use wasmformer_core::kernels::int8::Scales;
use wasmformer_core::kernels::rope::RopeScaling;
use wasmformer_core::model::batch::Batch;
use wasmformer_core::model::ends::Losses;
use wasmformer_core::model::{
    Ffn, LmHead, MemoryPlan, Model, ModelConfig, NormKind, NormPlacement, Positional, StepOptions,
};
use wasmformer_core::optim::adamw::AdamWConfig;

use crate::error::to_js;
use crate::options::{invalid, Options};

/// Reads the snake_case config object that ts/src/models/config.ts builds.
fn parse_config(config: &JsValue) -> Result<ModelConfig, JsValue> {
    let o = Options::new(config, "model config")?;
    let positional = match o.text("positional")?.as_str() {
        "learned" => Positional::Learned,
        "sinusoidal" => Positional::Sinusoidal,
        "none" => Positional::None,
        "relative" => Positional::Relative {
            num_buckets: o.count("relative_buckets")?,
            max_distance: o.count("relative_max_distance")?,
        },
        "rope" => Positional::Rope,
        "alibi" => Positional::Alibi,
        "kerple" => Positional::Kerple,
        other => return Err(invalid(format!("model config: unknown positional {other:?}"))),
    };
    let norm = match o.text("norm")?.as_str() {
        "layernorm" => NormKind::LayerNorm,
        "rmsnorm" => NormKind::RmsNorm,
        other => return Err(invalid(format!("model config: unknown norm {other:?}"))),
    };
    let norm_placement = match o.text("norm_placement")?.as_str() {
        "pre" => NormPlacement::Pre,
        "post" => NormPlacement::Post,
        other => return Err(invalid(format!("model config: unknown norm placement {other:?}"))),
    };
    let ffn = match o.text("ffn")?.as_str() {
        "gelu" => Ffn::Gelu,
        "relu" => Ffn::Relu,
        "swiglu" => Ffn::Glu(GluKind::SwiGlu),
        "geglu" => Ffn::Glu(GluKind::GeGlu),
        "reglu" => Ffn::Glu(GluKind::ReGlu),
        "glu" => Ffn::Glu(GluKind::Glu),
        other => return Err(invalid(format!("model config: unknown ffn {other:?}"))),
    };
    let rope_scaling = match o.text("rope_scaling")?.as_str() {
        "none" => RopeScaling::None,
        "linear" => RopeScaling::Linear { factor: o.number("rope_scaling_factor")? as f32 },
        "ntk" => RopeScaling::NtkAware { factor: o.number("rope_scaling_factor")? as f32 },
        "yarn" => RopeScaling::Yarn {
            factor: o.number("rope_scaling_factor")? as f32,
            original_max_positions: o.count("rope_scaling_original_max_positions")?,
            beta_fast: o.number("rope_scaling_beta_fast")? as f32,
            beta_slow: o.number("rope_scaling_beta_slow")? as f32,
            attention_factor: o.optional_number("rope_scaling_attention_factor")?.map(|m| m as f32),
        },
        other => return Err(invalid(format!("model config: unknown rope_scaling {other:?}"))),
    };
    let lm_head = match o.text("lm_head")?.as_str() {
        "none" => LmHead::None,
        "plain" => LmHead::Plain,
        "mlm" => LmHead::Mlm,
        other => return Err(invalid(format!("model config: unknown lm_head {other:?}"))),
    };
    Ok(ModelConfig {
        vocab_size: o.count("vocab_size")?,
        block_size: o.count("block_size")?,
        n_layer: o.count("n_layer")?,
        n_head: o.count("n_head")?,
        n_embd: o.count("n_embd")?,
        ffn_hidden: o.count("ffn_hidden")?,
        positional,
        norm,
        norm_placement,
        ffn,
        bias: o.flag("bias")?,
        tie_embeddings: o.flag("tie_embeddings")?,
        causal: o.flag("causal")?,
        dropout: o.number("dropout")? as f32,
        rope_base: o.number("rope_base")? as f32,
        rope_scaling,
        rope_fraction: o.number("rope_fraction")?,
        rope_keep_frequencies: o.number("rope_keep_frequencies")?,
        no_position_layers: o.counts("no_position_layers")?,
        norm_eps: o.number("norm_eps")? as f32,
        type_vocab_size: o.count("type_vocab_size")?,
        embedding_norm: o.flag("embedding_norm")?,
        gelu_exact: o.flag("gelu_exact")?,
        lm_head,
        n_classes: o.count("n_classes")?,
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

/// The optimizer step of `trainStepBatch`'s options: `lr`, `weightDecay`, `decayEmbeddings`,
/// `beta1`, `beta2`, `eps`, `gradClip` (the global gradient-norm clip; 0 or absent: none) and
/// `dropoutSeed` (an integer). AdamW's ranges are checked by the core.
fn step_options(o: &Options<'_>) -> Result<StepOptions, JsValue> {
    let (lr, weight_decay) = (o.f32("lr")?, o.f32("weightDecay")?);
    let grad_clip = o.f32_or("gradClip", 0.0)?;
    if grad_clip < 0.0 {
        return Err(invalid(format!(
            "trainStepBatch: gradClip must be >= 0 (0: no clipping), got {grad_clip}"
        )));
    }
    Ok(StepOptions {
        lr,
        weight_decay,
        decay_embeddings: o.flag("decayEmbeddings")?,
        adam: AdamWConfig {
            lr,
            beta1: o.f32("beta1")?,
            beta2: o.f32("beta2")?,
            eps: o.f32("eps")?,
            weight_decay,
        },
        max_grad_norm: (grad_clip > 0.0).then_some(grad_clip),
        dropout_seed: o.seed("dropoutSeed")?,
    })
}

/// `(B, T)` from an options object's `batchSize` and `seqLen`.
fn batch_dims(o: &Options<'_>) -> Result<(usize, usize), JsValue> {
    Ok((o.count("batchSize")?, o.count("seqLen")?))
}

/// `(B, T, training)` from a plan's options `{ batchSize, seqLen, training }`.
fn plan_dims(options: &JsValue, call: &'static str) -> Result<(usize, usize, bool), JsValue> {
    let o = Options::new(options, call)?;
    let (b, t) = batch_dims(&o)?;
    Ok((b, t, o.flag("training")?))
}

/// A batch from JS arrays; an empty array is "not given".
fn batch_of<'a>(
    ids: &'a [u32],
    targets: &'a [i32],
    type_ids: &'a [u32],
    attention_mask: &'a [u8],
    labels: &'a [i32],
) -> Batch<'a> {
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
    /// `options`: `{ batchSize, seqLen, training }`.
    pub fn estimate(config: &JsValue, options: &JsValue) -> Result<JsValue, JsValue> {
        let config = parse_config(config)?;
        let (b, t, training) = plan_dims(options, "estimate")?;
        plan_object(Model::estimate(&config, b, t, training).map_err(to_js)?)
    }

    /// Allocates (once) for batches of `batchSize × seqLen`; returns the bytes of the whole
    /// model state. `options`: `{ batchSize, seqLen, training }`.
    pub fn plan(&mut self, options: &JsValue) -> Result<JsValue, JsValue> {
        let (b, t, training) = plan_dims(options, "plan")?;
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
        wasmformer_core::error::check_len("model: parameters", params.len(), data.len())
            .map_err(to_js)?;
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

    /// Restores AdamW state: moments `m, v: [numParams]`; `options`: `{ step }` (updates
    /// applied so far).
    #[wasm_bindgen(js_name = setOptimizer)]
    pub fn set_optimizer(
        &mut self,
        m: &[f32],
        v: &[f32],
        options: &JsValue,
    ) -> Result<(), JsValue> {
        let step = Options::new(options, "setOptimizer")?.u64("step")?;
        self.inner.set_optimizer_state(m, v, step).map_err(to_js)
    }

    /// One optimizer step over `accum` micro-batches: `ids`, `targets`, `type_ids`,
    /// `attention_mask`: `[accum·B, T]`, `labels: [accum·B]`. `options`: `{ accum, batchSize (B,
    /// rows per micro-batch), seqLen (T), lr, weightDecay, decayEmbeddings, beta1, beta2, eps,
    /// gradClip, dropoutSeed }` (see [`step_options`]). Returns `[loss, grad_norm, applied
    /// (1/0)]`.
    #[wasm_bindgen(js_name = trainStepBatch)]
    pub fn train_step_batch(
        &mut self,
        ids: &[u32],
        targets: &[i32],
        type_ids: &[u32],
        attention_mask: &[u8],
        labels: &[i32],
        options: &JsValue,
    ) -> Result<Vec<f64>, JsValue> {
        let o = Options::new(options, "trainStepBatch")?;
        let (accum, (b, t)) = (o.count("accum")?, batch_dims(&o)?);
        let step = step_options(&o)?;
        let batch = batch_of(ids, targets, type_ids, attention_mask, labels);
        let r = self.inner.train_step_batch(batch, accum, b, t, &step).map_err(to_js)?;
        Ok(vec![f64::from(r.loss), f64::from(r.grad_norm), if r.applied { 1.0 } else { 0.0 }])
    }

    /// Zeroes the gradients and computes those of the summed losses of a batch (`[B, T]`
    /// arrays, `labels: [B]`; `options`: `{ batchSize, seqLen }`); returns `[token_loss,
    /// class_loss]` (NaN where absent).
    #[wasm_bindgen(js_name = lossAndGradsBatch)]
    pub fn loss_and_grads_batch(
        &mut self,
        ids: &[u32],
        targets: &[i32],
        type_ids: &[u32],
        attention_mask: &[u8],
        labels: &[i32],
        options: &JsValue,
    ) -> Result<Vec<f64>, JsValue> {
        let (b, t) = batch_dims(&Options::new(options, "lossAndGradsBatch")?)?;
        let batch = batch_of(ids, targets, type_ids, attention_mask, labels);
        Ok(losses_array(self.inner.batch_loss_and_grads(batch, b, t).map_err(to_js)?))
    }

    /// The losses of a batch (`[B, T]` arrays, `labels: [B]`; `options`: `{ batchSize, seqLen
    /// }`), `[token_loss, class_loss]` (NaN where absent); no gradients.
    #[wasm_bindgen(js_name = evalBatch)]
    pub fn eval_batch(
        &mut self,
        ids: &[u32],
        targets: &[i32],
        type_ids: &[u32],
        attention_mask: &[u8],
        labels: &[i32],
        options: &JsValue,
    ) -> Result<Vec<f64>, JsValue> {
        let (b, t) = batch_dims(&Options::new(options, "evalBatch")?)?;
        let batch = batch_of(ids, targets, type_ids, attention_mask, labels);
        Ok(losses_array(self.inner.batch_eval(batch, b, t).map_err(to_js)?))
    }

    /// The losses of a batch and the class logits of the same forward (`options`: `{
    /// batchSize, seqLen }`): `[token_loss, class_loss, logits: [B, K]...]` (NaN where a loss
    /// is absent; no logits without a classifier); no gradients.
    #[wasm_bindgen(js_name = evalBatchWithClassLogits)]
    pub fn eval_batch_with_class_logits(
        &mut self,
        ids: &[u32],
        targets: &[i32],
        type_ids: &[u32],
        attention_mask: &[u8],
        labels: &[i32],
        options: &JsValue,
    ) -> Result<Vec<f64>, JsValue> {
        let (b, t) = batch_dims(&Options::new(options, "evalBatchWithClassLogits")?)?;
        let batch = batch_of(ids, targets, type_ids, attention_mask, labels);
        let (losses, logits) =
            self.inner.batch_eval_with_class_logits(batch, b, t).map_err(to_js)?;
        let mut out = losses_array(losses);
        out.extend(logits.iter().map(|&x| f64::from(x)));
        Ok(out)
    }

    /// The outputs of a batch (`ids`, `type_ids`, `attention_mask`: `[B, T]`). `options`: `{
    /// batchSize, seqLen, output }` with `output`: `"logits"` (LM logits `[B, T, V]`),
    /// `"classLogits"` (`[B, K]`) or `"hidden"` (the final hidden rows `[B, T, C]`).
    #[wasm_bindgen(js_name = outputsBatch)]
    pub fn outputs_batch(
        &mut self,
        ids: &[u32],
        type_ids: &[u32],
        attention_mask: &[u8],
        options: &JsValue,
    ) -> Result<Vec<f32>, JsValue> {
        self.outputs((ids, type_ids, attention_mask), options, "outputsBatch", false)
    }

    /// [`WasmModel::outputs_batch`] with every linear layer on its int8 copy (the model must be
    /// quantised: `quantizeInt8`). Same arguments and outputs.
    #[wasm_bindgen(js_name = outputsBatchInt8)]
    pub fn outputs_batch_int8(
        &mut self,
        ids: &[u32],
        type_ids: &[u32],
        attention_mask: &[u8],
        options: &JsValue,
    ) -> Result<Vec<f32>, JsValue> {
        self.outputs((ids, type_ids, attention_mask), options, "outputsBatchInt8", true)
    }

    /// The attention probabilities `[L, H, T, T]` of ONE sequence `ids: [T]` (`type_ids`,
    /// `attention_mask: [T]`, empty = not given), dropout off. `options`: `{ seqLen }`.
    #[wasm_bindgen(js_name = attentionProbs)]
    pub fn attention_probs(
        &mut self,
        ids: &[u32],
        type_ids: &[u32],
        attention_mask: &[u8],
        options: &JsValue,
    ) -> Result<Vec<f32>, JsValue> {
        let t = Options::new(options, "attentionProbs")?.count("seqLen")?;
        let batch = batch_of(ids, &[], type_ids, attention_mask, &[]);
        self.inner.attention_probs(batch, t).map_err(to_js)
    }

    /// Opens a KV cache for `slots` sequences of up to `capacity` tokens; returns its bytes.
    /// `options`: `{ slots, capacity }`.
    #[wasm_bindgen(js_name = decodeStart)]
    pub fn decode_start(&mut self, options: &JsValue) -> Result<f64, JsValue> {
        let o = Options::new(options, "decodeStart")?;
        let (slots, capacity) = (o.count("slots")?, o.count("capacity")?);
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
        self.inner
            .decode_lens()
            .map_or_else(Vec::new, |lens| lens.iter().map(|&l| l as u32).collect())
    }

    /// Empties one slot of the open cache.
    #[wasm_bindgen(js_name = decodeReset)]
    pub fn decode_reset(&mut self, slot: usize) -> Result<(), JsValue> {
        self.inner.decode_reset(slot).map_err(to_js)
    }

    /// Quantises every linear weight (blocks and heads) to int8, packed once: one scale per
    /// output channel when `block` is 0, else one per `block` values along K (a multiple of 8
    /// up to 2048); `decodeFeed` and `outputsBatchInt8` then use them. Returns their bytes.
    #[wasm_bindgen(js_name = quantizeInt8)]
    pub fn quantize_int8(&mut self, block: usize) -> Result<f64, JsValue> {
        let scales = if block == 0 { Scales::PerChannel } else { Scales::Block(block) };
        Ok(self.inner.quantize_int8_with(scales).map_err(to_js)? as f64)
    }

    /// Frees the KV cache.
    #[wasm_bindgen(js_name = decodeEnd)]
    pub fn decode_end(&mut self) {
        self.inner.decode_end();
    }
}

impl WasmModel {
    /// The body of [`WasmModel::outputs_batch`] (`int8` false) and
    /// [`WasmModel::outputs_batch_int8`] (true): `inputs` are `ids`, `type_ids`,
    /// `attention_mask`, all `[B, T]`.
    fn outputs(
        &mut self,
        (ids, type_ids, attention_mask): (&[u32], &[u32], &[u8]),
        options: &JsValue,
        name: &'static str,
        int8: bool,
    ) -> Result<Vec<f32>, JsValue> {
        let o = Options::new(options, name)?;
        let (b, t) = batch_dims(&o)?;
        let output = o.choice("output", &["logits", "classLogits", "hidden"])?;
        let batch = batch_of(ids, &[], type_ids, attention_mask, &[]);
        let m = &mut self.inner;
        let out = match (output, int8) {
            (0 | 1, false) => {
                let (logits, class_logits) = m.batch_logits(batch, b, t).map_err(to_js)?;
                if output == 0 {
                    logits
                } else {
                    class_logits
                }
            }
            (0 | 1, true) => {
                let (logits, class_logits) = m.batch_logits_int8(batch, b, t).map_err(to_js)?;
                if output == 0 {
                    logits
                } else {
                    class_logits
                }
            }
            (_, false) => m.batch_hidden(batch, b, t).map_err(to_js)?,
            (_, true) => m.batch_hidden_int8(batch, b, t).map_err(to_js)?,
        };
        Ok(out.to_vec())
    }
}
