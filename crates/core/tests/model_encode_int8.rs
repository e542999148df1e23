//! The int8 batch forward of an encoder ([`Model::batch_hidden_int8`],
//! [`Model::batch_logits_int8`]) matches the float32 forward of a twin whose linear weights
//! are the dequantised `ŵ` (the int8 values times their scales) up to the int16 rounding of
//! the activations, and differs from the float32 model by much more: every linear layer of
//! the blocks, the masked-LM head (transform and decoder), the pooler and the classifier runs
//! on the int8 kernels, and nothing else changes.

use wasmformer_core::kernels::int8::{quantize_weight, Scales};
use wasmformer_core::model::batch::Batch;
use wasmformer_core::model::{Group, Model, ModelConfig};
use wasmformer_core::Error;

const B: usize = 3;
const T: usize = 9;

/// A BERT with the masked-LM head (untied, so that the twin can replace its decoder without
/// touching the token embedding) and a 3-class classifier.
fn config() -> ModelConfig {
    let mut cfg = ModelConfig::bert(37, 16, 2, 4, 32, 3);
    cfg.tie_embeddings = false;
    cfg
}

/// A model whose linear weights (every `[out, in]` matrix) are replaced by their dequantised
/// values `ŵ`.
fn dequantised_twin(cfg: &ModelConfig, seed: u64) -> Model {
    let mut twin = Model::new(cfg.clone(), seed).unwrap();
    let specs = twin.specs().to_vec();
    let params = twin.params_mut();
    let mut replaced = 0;
    for s in specs.iter().filter(|s| s.group == Group::Matrix && s.shape.len() == 2) {
        let (n, k) = (s.shape[0], s.shape[1]);
        let w = &mut params[s.offset..s.offset + n * k];
        let q = quantize_weight(w, n, k, Scales::PerChannel).unwrap();
        w.copy_from_slice(&q.dequantize());
        replaced += 1;
    }
    // 4 per block, the LM head, the masked-LM transform, the pooler and the classifier.
    assert_eq!(replaced, cfg.n_layer * 4 + 4, "every linear weight");
    twin
}

/// `B` sequences: the last two padded (mask 0), two segments in the first.
fn inputs(vocab: usize) -> (Vec<u32>, Vec<u32>, Vec<u8>) {
    let ids = (0..B * T).map(|i| ((i * 7 + i / 3 + 2) % vocab) as u32).collect();
    let type_ids = (0..B * T).map(|i| u32::from(i < T && i % T >= 5)).collect();
    let lens = [T, T - 3, 4];
    let mask = (0..B * T).map(|i| u8::from(i % T < lens[i / T])).collect();
    (ids, type_ids, mask)
}

/// Largest |a − b| over the largest |b| (at least 1).
fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(1.0f32, |m, x| m.max(x.abs()));
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max) / scale
}

/// The final hidden rows, the LM logits and the class logits; int8 or float32.
fn outputs(model: &mut Model, int8: bool) -> [Vec<f32>; 3] {
    let (ids, type_ids, mask) = inputs(model.config().vocab_size);
    let batch = Batch {
        ids: &ids,
        type_ids: Some(&type_ids),
        attention_mask: Some(&mask),
        ..Batch::default()
    };
    let hidden = if int8 {
        model.batch_hidden_int8(batch, B, T).unwrap().to_vec()
    } else {
        model.batch_hidden(batch, B, T).unwrap().to_vec()
    };
    let (logits, class) = if int8 {
        model.batch_logits_int8(batch, B, T).unwrap()
    } else {
        model.batch_logits(batch, B, T).unwrap()
    };
    [hidden, logits.to_vec(), class.to_vec()]
}

#[test]
fn int8_encoder_matches_the_dequantised_float_weights() {
    let cfg = config();
    let want_float = outputs(&mut Model::new(cfg.clone(), 5).unwrap(), false);
    let want = outputs(&mut dequantised_twin(&cfg, 5), false);
    let mut int8 = Model::new(cfg.clone(), 5).unwrap();
    int8.quantize_int8().unwrap();
    let got = outputs(&mut int8, true);
    for (what, ((g, w), f)) in
        ["hidden", "logits", "class logits"].iter().zip(got.iter().zip(&want).zip(&want_float))
    {
        assert!(!g.is_empty(), "{what}: no output");
        let (to_twin, to_float) = (max_diff(g, w), max_diff(g, f));
        // Only the activations' int16 rounding separates int8 from its dequantised twin: each
        // linear output moves by at most Σ_k |ŵ_k| · max|x| / 65534 (docs/design/int8.md),
        // ~1e-5 of the output scale per layer; post-LayerNorm keeps the scale near 1.
        eprintln!("{what}: int8 vs dequantised {to_twin:.2e}, vs float32 {to_float:.2e}");
        assert!(to_twin < 5e-5, "{what}: int8 vs dequantised {to_twin}");
        // The weights' int8 rounding is much larger, so the int8 path is not float32's.
        assert!(to_float > 10.0 * to_twin, "{what}: {to_float} vs {to_twin}");
    }
    // The float32 paths of the quantised model still run the float32 weights, unchanged.
    assert_eq!(outputs(&mut int8, false), want_float);
}

#[test]
fn int8_forward_needs_quantize_and_decoding_needs_a_causal_model() {
    let mut model = Model::new(config(), 1).unwrap();
    let (ids, _, _) = inputs(37);
    let batch = Batch { ids: &ids, ..Batch::default() };
    assert!(matches!(model.batch_hidden_int8(batch, B, T), Err(Error::InvalidArgument(_))));
    assert!(matches!(model.batch_logits_int8(batch, B, T), Err(Error::InvalidArgument(_))));
    // An encoder quantises (every head included), but it cannot decode.
    assert!(model.quantize_int8().unwrap() > 0);
    assert!(matches!(model.decode_start(1, 4), Err(Error::InvalidArgument(_))));
}

#[test]
fn int8_classifier_without_lm_head() {
    let mut cfg = ModelConfig::bert(37, 16, 1, 2, 16, 2);
    cfg.lm_head = wasmformer_core::model::LmHead::None;
    let mut model = Model::new(cfg, 2).unwrap();
    model.quantize_int8().unwrap();
    let (ids, _, _) = inputs(37);
    let batch = Batch { ids: &ids, ..Batch::default() };
    let (logits, class) = model.batch_logits_int8(batch, B, T).unwrap();
    assert!(logits.is_empty());
    assert_eq!(class.len(), B * 2);
    assert!(class.iter().all(|x| x.is_finite()));
}
