//! Sinusoidal positions are fair to the tokens: the issue-22 repro ("the dog chased the cat .
//! the cat chased the dog . " repeated, characters, 2 layers, 32 wide, block 32, lr 3e-3, 150
//! steps, the Trainer's defaults otherwise) trains a sinusoidal model to a validation loss in
//! reach of the learned-position model's. Before token embeddings were scaled by √C, the
//! unit-amplitude sinusoid drowned tokens initialised at N(0, 0.02²): 2.17 (sinusoidal) against
//! 0.37 (learned) in the issue; this test's own numbers are at [`BOUND`].
#![cfg(not(target_arch = "wasm32"))]

use wasmformer_core::model::batch::Batch;
use wasmformer_core::model::{Model, ModelConfig, Positional, StepOptions};
use wasmformer_core::optim::adamw::AdamWConfig;

const TEXT: &str = "the dog chased the cat . the cat chased the dog . ";
const B: usize = 8;
const T: usize = 32;
const STEPS: usize = 150;

/// Character ids of the repeated text: `(train, val)`, 90% / 10%.
fn corpus() -> (Vec<u32>, Vec<u32>, usize) {
    let mut chars: Vec<char> = TEXT.chars().collect();
    chars.sort_unstable();
    chars.dedup();
    let text = TEXT.repeat(40);
    let ids: Vec<u32> =
        text.chars().map(|c| chars.iter().position(|&x| x == c).unwrap() as u32).collect();
    let split = ids.len() * 9 / 10;
    (ids[..split].to_vec(), ids[split..].to_vec(), chars.len())
}

/// The Trainer's cosine schedule: `lr` down to `lr / 10` over the run, no warm-up.
fn lr_at(step: usize) -> f32 {
    let (lr, min_lr) = (3e-3f64, 3e-4f64);
    let progress = step as f64 / STEPS as f64;
    (min_lr + 0.5 * (lr - min_lr) * (1.0 + (std::f64::consts::PI * progress).cos())) as f32
}

/// Mean validation loss after training a model with `positional`.
fn val_loss(positional: Positional, seed: u64) -> f32 {
    let (train, val, vocab) = corpus();
    let mut cfg = ModelConfig::gpt(vocab, T, 2, 4, 32);
    cfg.positional = positional;
    let mut model = Model::new(cfg, seed).unwrap();
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for step in 0..STEPS {
        let (mut ids, mut targets) = (Vec::with_capacity(B * T), Vec::with_capacity(B * T));
        for _ in 0..B {
            let start = next(train.len() - T);
            ids.extend_from_slice(&train[start..start + T]);
            targets.extend(train[start + 1..start + T + 1].iter().map(|&x| x as i32));
        }
        let options = StepOptions {
            lr: lr_at(step),
            weight_decay: 0.1,
            decay_embeddings: false,
            adam: AdamWConfig { beta2: 0.95, ..AdamWConfig::default() },
            max_grad_norm: Some(1.0),
            dropout_seed: 0,
        };
        model.train_step(&ids, &targets, 1, B, T, &options).unwrap();
    }
    // Every window of the validation split that has a full target row.
    let (mut total, mut count) = (0.0, 0);
    for start in 0..val.len() - T {
        let ids = &val[start..start + T];
        let targets: Vec<i32> = val[start + 1..start + T + 1].iter().map(|&x| x as i32).collect();
        let losses = model.batch_eval(Batch::tokens(ids, Some(&targets)), 1, T).unwrap();
        total += losses.total();
        count += 1;
    }
    total / count as f32
}

/// Release only (`cargo test --release -p wasmformer-core --test model_sinusoidal`): 600 steps
/// of unoptimised matmuls take minutes. ts/tests/models/sinusoidal.test.ts runs the same
/// repro on wasm in every `npm test`.
#[test]
#[cfg_attr(debug_assertions, ignore = "minutes unoptimised; run with --release")]
fn sinusoidal_positions_learn_word_order_like_learned_ones() {
    for seed in [1, 2] {
        let learned = val_loss(Positional::Learned, seed);
        let sinusoidal = val_loss(Positional::Sinusoidal, seed);
        eprintln!("seed {seed}: val loss learned {learned:.3}, sinusoidal {sinusoidal:.3}");
        assert!(learned < 0.5, "seed {seed}: learned positions did not learn ({learned})");
        assert!(sinusoidal < BOUND, "seed {seed}: sinusoidal {sinusoidal} vs learned {learned}");
    }
}

/// Measured with this test (seeds 1–6, validation loss after 150 steps): learned 0.30–0.37;
/// sinusoidal 0.70–0.77 with the √C scale, 1.59–1.85 without it (seeds 1–2). The bound sits
/// between the two with a margin on each side. (After 600 steps: learned 0.057–0.063,
/// sinusoidal 0.063 with the scale, 0.071–0.114 without; seeds 1–3.)
const BOUND: f32 = 1.1;
