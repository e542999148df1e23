//! Incremental decoding with the KV cache gives the logits of the full forward at every
//! position, for every positional option and both norm placements, fed a prompt at once, one
//! token at a time, or several slots of different lengths in one call; positions past
//! `block_size` run where the encoding allows it and fail cleanly where it does not.

use wasmformer_core::kernels::glu::GluKind;
use wasmformer_core::kernels::rope::RopeScaling;
use wasmformer_core::model::{Ffn, Model, ModelConfig, NormKind, NormPlacement, Positional};
use wasmformer_core::Error;

const POSITIONALS: [Positional; 7] = [
    Positional::Learned,
    Positional::Sinusoidal,
    Positional::None,
    Positional::Relative { num_buckets: 8, max_distance: 12 },
    Positional::Rope,
    Positional::Alibi,
    Positional::Kerple,
];

fn config(
    positional: Positional,
    placement: NormPlacement,
    ffn: Ffn,
    norm: NormKind,
) -> ModelConfig {
    let mut cfg = ModelConfig::gpt(23, 20, 2, 4, 16);
    cfg.positional = positional;
    cfg.norm_placement = placement;
    cfg.ffn = ffn;
    cfg.norm = norm;
    if let Ffn::Glu(_) = ffn {
        cfg.ffn_hidden = 40;
    }
    cfg
}

fn tokens(n: usize, vocab: usize, seed: usize) -> Vec<u32> {
    (0..n).map(|i| ((i * 7 + seed * 5 + i / 3) % vocab) as u32).collect()
}

/// Largest |a − b| relative to the largest |b| (at least 1).
fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    let scale = b.iter().fold(1.0f32, |m, x| m.max(x.abs()));
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max) / scale
}

/// Full-forward logits of `ids: [T]`: `[T, V]`.
fn full_logits(model: &mut Model, ids: &[u32]) -> Vec<f32> {
    model.logits(ids, 1, ids.len()).unwrap().to_vec()
}

#[test]
fn prompt_then_single_tokens_match_the_full_forward() {
    let ffns = [Ffn::Gelu, Ffn::Glu(GluKind::SwiGlu)];
    for positional in POSITIONALS {
        for placement in [NormPlacement::Pre, NormPlacement::Post] {
            for (i, &ffn) in ffns.iter().enumerate() {
                let norm = if i == 0 { NormKind::LayerNorm } else { NormKind::RmsNorm };
                let cfg = config(positional, placement, ffn, norm);
                let v = cfg.vocab_size;
                let mut model = Model::new(cfg.clone(), 11).unwrap();
                let ids = tokens(cfg.block_size, v, 1);
                let want = full_logits(&mut model, &ids);
                model.decode_start(1, cfg.block_size).unwrap();
                let prompt = 7;
                let got = model.decode_feed(&ids[..prompt], &[prompt]).unwrap().to_vec();
                let what = format!("{positional:?} {placement:?} {ffn:?}");
                let d = max_diff(&got, &want[(prompt - 1) * v..prompt * v]);
                assert!(d < 1e-4, "{what}: prompt logits differ by {d}");
                for t in prompt..ids.len() {
                    let got = model.decode_feed(&ids[t..t + 1], &[1]).unwrap().to_vec();
                    let d = max_diff(&got, &want[t * v..(t + 1) * v]);
                    assert!(d < 1e-4, "{what}: logits at position {t} differ by {d}");
                }
                assert_eq!(model.decode_lens().unwrap(), &[cfg.block_size]);
            }
        }
    }
}

#[test]
fn segment_embeddings_embedding_norm_and_exact_gelu_decode_too() {
    let mut cfg = config(Positional::Rope, NormPlacement::Post, Ffn::Gelu, NormKind::LayerNorm);
    cfg.type_vocab_size = 2;
    cfg.embedding_norm = true;
    cfg.gelu_exact = true;
    let v = cfg.vocab_size;
    let mut model = Model::new(cfg.clone(), 4).unwrap();
    let ids = tokens(12, v, 6);
    let want = full_logits(&mut model, &ids);
    model.decode_start(1, 12).unwrap();
    model.decode_feed(&ids[..5], &[5]).unwrap();
    for t in 5..12 {
        let got = model.decode_feed(&ids[t..t + 1], &[1]).unwrap().to_vec();
        let d = max_diff(&got, &want[t * v..(t + 1) * v]);
        assert!(d < 1e-4, "position {t}: {d}");
    }
    cfg.lm_head = wasmformer_core::model::LmHead::Mlm;
    assert!(Model::new(cfg, 1).unwrap().decode_start(1, 4).is_err());
}

#[test]
fn slots_of_different_lengths_decode_together() {
    for positional in [
        Positional::Learned,
        Positional::Rope,
        Positional::Alibi,
        Positional::Relative { num_buckets: 8, max_distance: 12 },
    ] {
        let cfg = config(positional, NormPlacement::Pre, Ffn::Gelu, NormKind::LayerNorm);
        let v = cfg.vocab_size;
        let mut model = Model::new(cfg.clone(), 5).unwrap();
        let seqs = [tokens(12, v, 1), tokens(9, v, 2), tokens(15, v, 3)];
        let wants: Vec<Vec<f32>> = seqs.iter().map(|s| full_logits(&mut model, s)).collect();
        model.decode_start(3, 16).unwrap();
        // Prompts of 4, 1 and 6 tokens in one call (12 rows: the packed gemm path).
        let prompts = [4, 1, 6];
        let fed: Vec<u32> = seqs.iter().zip(prompts).flat_map(|(s, p)| s[..p].to_vec()).collect();
        let got = model.decode_feed(&fed, &prompts).unwrap().to_vec();
        for (slot, &p) in prompts.iter().enumerate() {
            let d = max_diff(&got[slot * v..(slot + 1) * v], &wants[slot][(p - 1) * v..p * v]);
            assert!(d < 1e-4, "{positional:?} slot {slot} prompt: {d}");
        }
        // Then one token per slot per call until each sequence ends; finished slots feed 0.
        let mut lens = prompts;
        loop {
            let counts: Vec<usize> = (0..3).map(|s| usize::from(lens[s] < seqs[s].len())).collect();
            if counts.iter().all(|&c| c == 0) {
                break;
            }
            let step: Vec<u32> =
                (0..3).filter(|&s| counts[s] == 1).map(|s| seqs[s][lens[s]]).collect();
            let got = model.decode_feed(&step, &counts).unwrap().to_vec();
            for (row, slot) in (0..3).filter(|&s| counts[s] == 1).enumerate() {
                let t = lens[slot];
                let d = max_diff(&got[row * v..(row + 1) * v], &wants[slot][t * v..(t + 1) * v]);
                assert!(d < 1e-4, "{positional:?} slot {slot} position {t}: {d}");
                lens[slot] += 1;
            }
        }
        model.decode_reset(1).unwrap();
        assert_eq!(model.decode_lens().unwrap(), &[12, 0, 15]);
    }
}

#[test]
fn positions_past_block_size() {
    for positional in POSITIONALS {
        let mut cfg = config(positional, NormPlacement::Pre, Ffn::Gelu, NormKind::LayerNorm);
        if positional == Positional::Rope {
            cfg.rope_scaling = RopeScaling::Linear { factor: 2.0 };
        }
        let mut model = Model::new(cfg.clone(), 3).unwrap();
        let long = 2 * cfg.block_size;
        match model.decode_start(1, long) {
            Err(Error::InvalidArgument(message)) => {
                assert_eq!(positional, Positional::Learned, "{message}");
                assert!(message.contains("block_size"), "{message}");
                continue;
            }
            Err(other) => panic!("{positional:?}: {other:?}"),
            Ok(_) => assert_ne!(positional, Positional::Learned),
        }
        let ids = tokens(long, cfg.vocab_size, 4);
        for t in 0..long {
            let logits = model.decode_feed(&ids[t..t + 1], &[1]).unwrap();
            assert!(logits.iter().all(|x| x.is_finite()), "{positional:?} at {t}");
        }
    }
}

#[test]
fn bad_calls_are_errors_and_change_nothing() {
    let cfg = config(Positional::Learned, NormPlacement::Pre, Ffn::Gelu, NormKind::LayerNorm);
    let mut model = Model::new(cfg.clone(), 1).unwrap();
    assert!(matches!(model.decode_feed(&[1], &[1]), Err(Error::InvalidArgument(_))));
    model.decode_start(2, 8).unwrap();
    for (tokens, counts) in [
        (&[1u32, 2][..], &[1usize][..]),
        (&[1, 2], &[1, 2]),
        (&[99, 1], &[1, 1]),
        (&[1; 9], &[9, 0]),
        (&[], &[0, 0]),
    ] {
        assert!(
            matches!(model.decode_feed(tokens, counts), Err(Error::InvalidArgument(_))),
            "{tokens:?} {counts:?}"
        );
    }
    assert_eq!(model.decode_lens().unwrap(), &[0, 0]);
    assert!(model.decode_feed(&[1, 2, 3], &[2, 1]).is_ok());
    let mut encoder = cfg;
    encoder.causal = false;
    let mut model = Model::new(encoder, 1).unwrap();
    assert!(matches!(model.decode_start(1, 4), Err(Error::InvalidArgument(_))));
}

/// The options added for the lecture lab: the ReLU MLP, partial RoPE, p-RoPE, YaRN (with its
/// attention factor) and layers without positions decode as the full forward runs.
#[test]
fn rope_variants_relu_and_no_position_layers_decode_too() {
    let yarn = RopeScaling::Yarn {
        factor: 4.0,
        original_max_positions: 8,
        beta_fast: 32.0,
        beta_slow: 1.0,
        attention_factor: None,
    };
    let rope = config(Positional::Rope, NormPlacement::Pre, Ffn::Relu, NormKind::RmsNorm);
    let mut cases = vec![
        ModelConfig { rope_fraction: 0.5, ..rope.clone() },
        ModelConfig { rope_keep_frequencies: 0.5, ..rope.clone() },
        ModelConfig { rope_scaling: yarn, rope_fraction: 0.5, ..rope.clone() },
    ];
    for positional in [
        Positional::Rope,
        Positional::Alibi,
        Positional::Relative { num_buckets: 8, max_distance: 12 },
        Positional::Kerple,
    ] {
        let mut cfg = config(positional, NormPlacement::Post, Ffn::Gelu, NormKind::LayerNorm);
        cfg.no_position_layers = vec![0];
        cases.push(cfg);
    }
    for cfg in cases {
        cfg.validate().unwrap();
        let v = cfg.vocab_size;
        let mut model = Model::new(cfg.clone(), 8).unwrap();
        let ids = tokens(cfg.block_size, v, 2);
        let want = full_logits(&mut model, &ids);
        model.decode_start(1, cfg.block_size).unwrap();
        model.decode_feed(&ids[..6], &[6]).unwrap();
        for t in 6..ids.len() {
            let got = model.decode_feed(&ids[t..t + 1], &[1]).unwrap().to_vec();
            let d = max_diff(&got, &want[t * v..(t + 1) * v]);
            assert!(d < 1e-4, "{cfg:?} position {t}: {d}");
        }
    }
}
