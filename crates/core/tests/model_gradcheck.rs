//! Whole-model gradient check: for every positional × norm × placement × FFN combination of
//! a tiny model, the analytic gradient of the loss (`Model::loss_and_grads`) against central
//! finite differences of the loss, tensor by tensor, along a random direction per tensor
//! (`(L(p + εu) − L(p − εu)) / 2ε` vs `∇L · u`), plus a few single entries.
//! Native only: it is a check of the wiring, the kernels are checked on wasm32 already.
#![cfg(not(target_arch = "wasm32"))]

use wasmformer_core::kernels::glu::GluKind;
use wasmformer_core::model::batch::Batch;
use wasmformer_core::model::params::InitRng;
use wasmformer_core::model::{
    Ffn, LmHead, Model, ModelConfig, NormKind, NormPlacement, Positional,
};

const B: usize = 2;
const T: usize = 5;

fn config(
    positional: Positional,
    norm: NormKind,
    placement: NormPlacement,
    ffn: Ffn,
    variant: usize,
) -> ModelConfig {
    let mut cfg = ModelConfig::gpt(7, 6, 2, 2, 8);
    cfg.positional = positional;
    cfg.norm = norm;
    cfg.norm_placement = placement;
    cfg.ffn = ffn;
    cfg.ffn_hidden = if matches!(ffn, Ffn::Glu(_)) { 12 } else { 16 };
    cfg.tie_embeddings = variant % 2 == 0;
    cfg.bias = variant % 3 != 2;
    cfg
}

/// Larger-than-init random parameters so every path carries a real gradient.
fn randomize(model: &mut Model, seed: u64) {
    let specs = model.specs().to_vec();
    let mut rng = InitRng::new(seed);
    let params = model.params_mut();
    for spec in specs {
        let out = &mut params[spec.offset..spec.offset + spec.len()];
        let is_norm_weight = spec.name.contains("ln_") && spec.name.ends_with(".weight");
        rng.fill_normal(out, if is_norm_weight { 0.2 } else { 0.5 });
        if is_norm_weight {
            out.iter_mut().for_each(|w| *w += 1.0);
        }
    }
}

fn batch(seed: u64, vocab: usize) -> (Vec<u32>, Vec<i32>) {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let ids: Vec<u32> = (0..B * T).map(|_| (next() % vocab) as u32).collect();
    let mut targets: Vec<i32> = (0..B * T).map(|_| (next() % vocab) as i32).collect();
    targets[3] = -100; // ignored by the loss
    (ids, targets)
}

/// Which optional inputs a check feeds (BERT-style models).
#[derive(Clone, Copy, Default)]
struct Inputs {
    /// Token targets (LM head).
    targets: bool,
    /// Segment ids 0/1.
    types: bool,
    /// The last token of sequence 1 is padding.
    padding: bool,
    /// Class labels (classifier).
    labels: bool,
}

fn check(cfg: ModelConfig, label: &str) -> Vec<String> {
    check_inputs(cfg, label, Inputs { targets: true, ..Inputs::default() })
}

fn check_inputs(cfg: ModelConfig, label: &str, inputs: Inputs) -> Vec<String> {
    let mut model = Model::new(cfg.clone(), 1).unwrap();
    randomize(&mut model, 42);
    let (ids, targets) = batch(7, cfg.vocab_size);
    let types: Vec<u32> = (0..B * T).map(|i| u32::from(i % T >= 2)).collect();
    let mask: Vec<u8> = (0..B * T).map(|i| u8::from(i != 2 * T - 1)).collect();
    let labels: Vec<i32> = (0..B as i32).map(|b| (b + 1) % cfg.n_classes.max(1) as i32).collect();
    let batch = Batch {
        ids: &ids,
        targets: inputs.targets.then_some(targets.as_slice()),
        type_ids: inputs.types.then_some(types.as_slice()),
        attention_mask: inputs.padding.then_some(mask.as_slice()),
        labels: inputs.labels.then_some(labels.as_slice()),
    };
    model.batch_loss_and_grads(batch, B, T).unwrap();
    let grads = model.grads().unwrap().to_vec();
    let specs = model.specs().to_vec();
    let base = model.params().to_vec();
    let loss_at = |params: &[f32], model: &mut Model, batch: Batch<'_>| {
        model.params_mut().copy_from_slice(params);
        f64::from(model.batch_eval(batch, B, T).unwrap().total())
    };
    // ReLU's kink: a smaller step crosses fewer kinks, at the price of more f32 rounding noise.
    let relu = matches!(cfg.ffn, Ffn::Glu(GluKind::ReGlu) | Ffn::Relu);
    let batch = &batch;
    let loss_at = |params: &[f32], model: &mut Model| loss_at(params, model, *batch);
    // The plain ReLU MLP has F kinks per row (a GLU's are damped by the up projection), so it
    // takes the smallest step.
    let (eps, atol) = match cfg.ffn {
        Ffn::Relu => (1e-4f32, 1e-2),
        _ if relu => (3e-4f32, 5e-3),
        _ => (1e-3f32, 2e-3),
    };
    let mut rng = InitRng::new(99);
    let mut failures = Vec::new();
    for spec in &specs {
        let range = spec.offset..spec.offset + spec.len();
        let mut direction = vec![0.0f32; spec.len()];
        rng.fill_normal(&mut direction, 1.0);
        let (mut plus, mut minus) = (base.clone(), base.clone());
        for (i, &u) in range.clone().zip(&direction) {
            plus[i] += eps * u;
            minus[i] -= eps * u;
        }
        let numeric =
            (loss_at(&plus, &mut model) - loss_at(&minus, &mut model)) / (2.0 * f64::from(eps));
        let analytic: f64 =
            grads[range].iter().zip(&direction).map(|(&g, &u)| f64::from(g) * f64::from(u)).sum();
        let tol = atol + 2e-2 * numeric.abs().max(analytic.abs());
        if (numeric - analytic).abs() > tol || !analytic.is_finite() {
            failures.push(format!("{}: analytic {analytic:.6} vs numeric {numeric:.6}", spec.name));
        }
    }
    // Every tensor that the loss reaches has a nonzero gradient (no silently cut path).
    for spec in &specs {
        let g = &grads[spec.offset..spec.offset + spec.len()];
        if g.iter().all(|&x| x == 0.0) {
            failures.push(format!("{}: all-zero gradient", spec.name));
        }
    }
    failures.iter().map(|f| format!("{label}: {f}")).collect()
}

#[test]
fn every_combination_matches_finite_differences() {
    let positionals = [
        Positional::Learned,
        Positional::Sinusoidal,
        Positional::None,
        Positional::Relative { num_buckets: 8, max_distance: 16 },
        Positional::Rope,
        Positional::Alibi,
        Positional::Kerple,
    ];
    let ffns = [
        Ffn::Gelu,
        Ffn::Relu,
        Ffn::Glu(GluKind::SwiGlu),
        Ffn::Glu(GluKind::GeGlu),
        Ffn::Glu(GluKind::ReGlu),
    ];
    let (mut variant, mut failures) = (0, Vec::new());
    for positional in positionals {
        for norm in [NormKind::LayerNorm, NormKind::RmsNorm] {
            for placement in [NormPlacement::Pre, NormPlacement::Post] {
                for ffn in ffns {
                    let label = format!(
                        "{positional:?} {norm:?} {placement:?} {ffn:?} (variant {variant})"
                    );
                    failures
                        .extend(check(config(positional, norm, placement, ffn, variant), &label));
                    variant += 1;
                }
            }
        }
    }
    assert!(failures.is_empty(), "gradient mismatches:\n  {}", failures.join("\n  "));
}

#[test]
fn bidirectional_with_dropout_off_matches_too() {
    for positional in [
        Positional::Learned,
        Positional::Relative { num_buckets: 8, max_distance: 16 },
        Positional::Alibi,
        Positional::Kerple,
    ] {
        let mut cfg = config(positional, NormKind::LayerNorm, NormPlacement::Post, Ffn::Gelu, 0);
        cfg.causal = false;
        let failures = check(cfg, &format!("bidirectional {positional:?}"));
        assert!(failures.is_empty(), "gradient mismatches:\n  {}", failures.join("\n  "));
    }
}

#[test]
fn bert_heads_segments_and_padding_match_too() {
    let all = Inputs { targets: true, types: true, padding: true, labels: true };
    let mut cases: Vec<(ModelConfig, Inputs, &str)> = Vec::new();
    // Pretraining: masked-LM head (tied) + next-sentence classifier, segments, a padded key.
    cases.push((ModelConfig::bert(7, 6, 2, 2, 8, 2), all, "bert mlm+nsp"));
    // Masked-LM only, untied decoder, pre-norm RoPE.
    let mut mlm = ModelConfig::bert(7, 6, 2, 2, 8, 0);
    mlm.tie_embeddings = false;
    mlm.positional = Positional::Rope;
    mlm.norm_placement = NormPlacement::Pre;
    cases.push((mlm, Inputs { labels: false, ..all }, "mlm only"));
    // A sequence classifier with no LM head (fine-tuning), 3 classes, relative positions.
    let mut cls = ModelConfig::bert(7, 6, 2, 2, 8, 3);
    cls.lm_head = LmHead::None;
    cls.positional = Positional::Relative { num_buckets: 8, max_distance: 16 };
    cases.push((cls, Inputs { targets: false, ..all }, "classifier only"));
    let mut failures = Vec::new();
    for (mut cfg, inputs, label) in cases {
        cfg.ffn_hidden = 16;
        cfg.norm_eps = 1e-5;
        failures.extend(check_inputs(cfg, label, inputs));
    }
    assert!(failures.is_empty(), "gradient mismatches:\n  {}", failures.join("\n  "));
}

/// The RoPE variants (partial rotation, p-RoPE, YaRN with its attention factor) and layers
/// without positions (every positional that acts inside attention), pre- and post-norm.
#[test]
fn rope_variants_and_no_position_layers_match_too() {
    use wasmformer_core::kernels::rope::RopeScaling;
    let yarn = RopeScaling::Yarn {
        factor: 4.0,
        original_max_positions: 4,
        beta_fast: 8.0,
        beta_slow: 1.0,
        attention_factor: None,
    };
    let mut cases: Vec<(ModelConfig, String)> = Vec::new();
    for (i, placement) in [NormPlacement::Pre, NormPlacement::Post].into_iter().enumerate() {
        // D = 8 (C 16, H 2): partial rotation of 4 dims, p-RoPE keeping 2 of 4 frequencies.
        let mut base = config(Positional::Rope, NormKind::RmsNorm, placement, Ffn::Relu, i);
        base.n_embd = 16;
        base.ffn_hidden = 24;
        let mut partial = base.clone();
        partial.rope_fraction = 0.5;
        cases.push((partial, format!("{placement:?} partial rope")));
        let mut p_rope = base.clone();
        p_rope.rope_keep_frequencies = 0.5;
        cases.push((p_rope, format!("{placement:?} p-rope")));
        let mut scaled = base.clone();
        scaled.rope_scaling = yarn;
        scaled.rope_fraction = 0.75;
        cases.push((scaled, format!("{placement:?} yarn + partial")));
        for positional in [
            Positional::Rope,
            Positional::Alibi,
            Positional::Relative { num_buckets: 8, max_distance: 16 },
            Positional::Kerple,
        ] {
            let mut cfg = config(positional, NormKind::LayerNorm, placement, Ffn::Gelu, i);
            cfg.no_position_layers = vec![1 - i];
            cases.push((cfg, format!("{placement:?} {positional:?} nope layer {}", 1 - i)));
        }
    }
    let mut failures = Vec::new();
    for (cfg, label) in cases {
        cfg.validate().unwrap();
        failures.extend(check(cfg, &label));
    }
    assert!(failures.is_empty(), "gradient mismatches:\n  {}", failures.join("\n  "));
}
