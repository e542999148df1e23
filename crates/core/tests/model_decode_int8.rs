//! Int8 decoding ([`Model::quantize_int8`]) matches float32 decoding of the dequantised weights
//! (the int8 values times their scales) up to the int16 rounding of the activations; an
//! encoder quantises but cannot decode.

use wasmformer_core::kernels::glu::GluKind;
use wasmformer_core::kernels::int8::{quantize_weight, Scales};
use wasmformer_core::model::{Ffn, Model, ModelConfig, Positional};
use wasmformer_core::Error;

/// The linear layers the int8 path quantises.
fn is_quantised(name: &str) -> bool {
    name == "lm_head.weight"
        || (name.starts_with("transformer.h.")
            && name.ends_with(".weight")
            && ["c_attn", "c_proj", "c_fc", "c_up"].iter().any(|l| name.contains(l)))
}

/// A model whose quantised weights are replaced by their dequantised values `ŵ`.
fn dequantised_twin(cfg: &ModelConfig, seed: u64) -> Model {
    let mut twin = Model::new(cfg.clone(), seed).unwrap();
    let specs = twin.specs().to_vec();
    let params = twin.params_mut();
    let mut replaced = 0;
    for s in specs.iter().filter(|s| is_quantised(&s.name)) {
        let (n, k) = (s.shape[0], s.shape[1]);
        let w = &mut params[s.offset..s.offset + n * k];
        let q = quantize_weight(w, n, k, Scales::PerChannel).unwrap();
        w.copy_from_slice(&q.dequantize());
        replaced += 1;
    }
    let per_layer = if matches!(cfg.ffn, Ffn::Glu(_)) { 5 } else { 4 };
    assert_eq!(replaced, cfg.n_layer * per_layer + 1, "every linear weight and the head");
    twin
}

fn tokens(n: usize, vocab: usize) -> Vec<u32> {
    (0..n).map(|i| ((i * 7 + i / 3 + 2) % vocab) as u32).collect()
}

/// Largest |a − b| over the largest |b| (at least 1).
fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    let scale = b.iter().fold(1.0f32, |m, x| m.max(x.abs()));
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max) / scale
}

/// Logits of a 5-token prompt (2 slots) and then 6 single steps, each `[S, V]`.
fn decode_all(model: &mut Model, ids: &[u32]) -> Vec<Vec<f32>> {
    model.decode_start(2, 16).unwrap();
    let mut out =
        vec![model.decode_feed(&[&ids[..5], &ids[..3]].concat(), &[5, 3]).unwrap().to_vec()];
    for t in 5..11 {
        out.push(model.decode_feed(&[ids[t], ids[t - 2]], &[1, 1]).unwrap().to_vec());
    }
    out
}

#[test]
fn int8_decoding_matches_the_dequantised_float_weights() {
    for (ffn, positional) in
        [(Ffn::Gelu, Positional::Learned), (Ffn::Glu(GluKind::SwiGlu), Positional::Rope)]
    {
        let mut cfg = ModelConfig::gpt(37, 20, 2, 4, 32);
        cfg.tie_embeddings = false;
        cfg.ffn = ffn;
        cfg.positional = positional;
        if let Ffn::Glu(_) = ffn {
            cfg.ffn_hidden = 72;
        }
        let ids = tokens(11, cfg.vocab_size);
        let mut float = Model::new(cfg.clone(), 3).unwrap();
        let want_float = decode_all(&mut float, &ids);
        let mut twin = dequantised_twin(&cfg, 3);
        let want = decode_all(&mut twin, &ids);
        let mut int8 = Model::new(cfg.clone(), 3).unwrap();
        assert!(!int8.is_int8());
        let bytes = int8.quantize_int8().unwrap();
        assert!(int8.is_int8() && bytes > 0);
        let got = decode_all(&mut int8, &ids);
        for (step, ((g, w), f)) in got.iter().zip(&want).zip(&want_float).enumerate() {
            let (to_twin, to_float) = (max_diff(g, w), max_diff(g, f));
            // Only the activations' int16 rounding separates int8 from its dequantised twin:
            // each linear output moves by at most Σ_k |ŵ_k| · max|x| / 65534 (docs/design/
            // int8.md), ~1e-5 of the output scale per layer here.
            assert!(to_twin < 5e-5, "{ffn:?} step {step}: int8 vs dequantised {to_twin}");
            // The weights' int8 rounding is much larger, so the int8 path is not float32's.
            assert!(to_float > 10.0 * to_twin, "{ffn:?} step {step}: {to_float} vs {to_twin}");
        }
    }
}

#[test]
fn int8_decoding_needs_a_plain_lm_head() {
    // Quantising covers every head now (the encoders' forward uses them), but decoding an
    // encoder is refused before the int8 weights are read.
    let cfg = ModelConfig::bert(30, 16, 1, 2, 8, 0);
    let mut model = Model::new(cfg, 1).unwrap();
    assert!(model.quantize_int8().unwrap() > 0);
    assert!(model.is_int8());
    assert!(matches!(model.decode_start(1, 4), Err(Error::InvalidArgument(_))));
}
