//! Training steps: the data-parallel path (one shard per thread) gives the same step as the
//! single-threaded path, with and without dropout and gradient accumulation.
#![cfg(not(target_arch = "wasm32"))]

use wasmformer_core::model::{Model, ModelConfig, Positional, StepOptions};
use wasmformer_core::optim::adamw::AdamWConfig;
use wasmformer_core::par;

/// Held while a test caps the threads: the cap is global, and tests run concurrently.
static THREAD_CAP: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn lock_thread_cap() -> std::sync::MutexGuard<'static, ()> {
    THREAD_CAP.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn batch(n: usize, vocab: usize) -> (Vec<u32>, Vec<i32>) {
    let ids: Vec<u32> = (0..n).map(|i| ((i * 7 + i / 5) % vocab) as u32).collect();
    let mut targets: Vec<i32> = (0..n).map(|i| ((i * 11 + 3) % vocab) as i32).collect();
    targets[5] = -100;
    (ids, targets)
}

fn steps(cfg: &ModelConfig, threads: usize, accum: usize) -> (Vec<f32>, Vec<f32>) {
    let _cap = lock_thread_cap();
    par::set_max_threads(threads);
    let mut model = Model::new(cfg.clone(), 3).unwrap();
    let (b, t) = (5, 8);
    let (ids, targets) = batch(accum * b * t, cfg.vocab_size);
    let options = StepOptions {
        lr: 1e-2,
        weight_decay: 0.1,
        decay_embeddings: false,
        adam: AdamWConfig::default(),
        max_grad_norm: Some(1.0),
        dropout_seed: 9,
    };
    let mut losses = Vec::new();
    for _ in 0..3 {
        let report = model.train_step(&ids, &targets, accum, b, t, &options).unwrap();
        assert!(report.applied);
        losses.push(report.loss);
    }
    par::set_max_threads(0);
    (losses, model.params().to_vec())
}

#[test]
fn sharded_steps_match_single_threaded_steps() {
    for (dropout, positional, accum) in [
        (0.0, Positional::Learned, 1),
        (0.2, Positional::Rope, 2),
        (0.1, Positional::Relative { num_buckets: 8, max_distance: 16 }, 1),
    ] {
        let mut cfg = ModelConfig::gpt(11, 8, 2, 2, 16);
        cfg.dropout = dropout;
        cfg.positional = positional;
        let (l1, p1) = steps(&cfg, 1, accum);
        let (l2, p2) = steps(&cfg, 2, accum);
        for (a, b) in l1.iter().zip(&l2) {
            assert!((a - b).abs() <= 1e-5 * a.abs(), "{positional:?}: loss {a} vs {b}");
        }
        let worst = p1.iter().zip(&p2).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "{positional:?} dropout {dropout}: parameters differ by {worst}");
    }
}

#[test]
fn sharded_bert_steps_weight_both_losses_like_single_threaded_steps() {
    use wasmformer_core::model::batch::Batch;
    let cfg = ModelConfig::bert(11, 8, 2, 2, 16, 3);
    let run = |threads: usize| {
        let _cap = lock_thread_cap();
        par::set_max_threads(threads);
        let mut model = Model::new(cfg.clone(), 3).unwrap();
        let (b, t, accum) = (5, 8, 2);
        let (ids, mut targets) = batch(accum * b * t, cfg.vocab_size);
        // Masked-LM style: most targets ignored, unevenly over the sequences.
        targets
            .iter_mut()
            .enumerate()
            .filter(|(i, _)| i % 3 != 0 && *i > 20)
            .for_each(|(_, x)| *x = -100);
        let types: Vec<u32> = (0..ids.len()).map(|i| u32::from(i % t >= 4)).collect();
        let mask: Vec<u8> = (0..ids.len()).map(|i| u8::from(i % t < 7 || i / t % 2 == 0)).collect();
        let labels: Vec<i32> =
            (0..accum * b).map(|i| if i == 1 { -100 } else { (i % 3) as i32 }).collect();
        let batch = Batch {
            ids: &ids,
            targets: Some(&targets),
            type_ids: Some(&types),
            attention_mask: Some(&mask),
            labels: Some(&labels),
        };
        let options = StepOptions {
            lr: 1e-2,
            weight_decay: 0.1,
            decay_embeddings: false,
            adam: AdamWConfig::default(),
            max_grad_norm: Some(1.0),
            dropout_seed: 9,
        };
        let losses: Vec<f32> = (0..3)
            .map(|_| model.train_step_batch(batch, accum, b, t, &options).unwrap().loss)
            .collect();
        par::set_max_threads(0);
        (losses, model.params().to_vec())
    };
    let (l1, p1) = run(1);
    let (l2, p2) = run(2);
    for (a, b) in l1.iter().zip(&l2) {
        assert!((a - b).abs() <= 1e-5 * a.abs(), "loss {a} vs {b}");
    }
    let worst = p1.iter().zip(&p2).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "parameters differ by {worst}");
}

#[test]
fn sharded_steps_with_kernels_split_inside_shards_repeat_bit_for_bit() {
    // Large enough that the products inside each shard split into tasks, which an idle thread
    // may take from the other shard: the result must not depend on who ran what.
    let cfg = ModelConfig::gpt(37, 32, 2, 4, 64);
    repeat_bit_for_bit_on_two_threads(&cfg, "learned");
}

#[test]
fn trainable_attention_biases_repeat_bit_for_bit_on_two_threads() {
    // Relative and KERPLE biases get their gradient summed over the batch inside the attention
    // backward, whose heads run on several threads: the sum must not follow thread timing.
    for (positional, name) in [
        (Positional::Relative { num_buckets: 8, max_distance: 16 }, "relative"),
        (Positional::Kerple, "kerple"),
    ] {
        let mut cfg = ModelConfig::gpt(37, 32, 2, 4, 64);
        cfg.positional = positional;
        repeat_bit_for_bit_on_two_threads(&cfg, name);
    }
}

fn repeat_bit_for_bit_on_two_threads(cfg: &ModelConfig, what: &str) {
    let run = || {
        let _cap = lock_thread_cap();
        par::set_max_threads(2);
        let mut model = Model::new(cfg.clone(), 5).unwrap();
        let (b, t) = (6, 32);
        let (ids, targets) = batch(b * t, cfg.vocab_size);
        let options = StepOptions {
            lr: 1e-2,
            weight_decay: 0.1,
            decay_embeddings: false,
            adam: AdamWConfig::default(),
            max_grad_norm: Some(1.0),
            dropout_seed: 9,
        };
        let losses: Vec<u32> = (0..4)
            .map(|_| model.train_step(&ids, &targets, 1, b, t, &options).unwrap().loss.to_bits())
            .collect();
        par::set_max_threads(0);
        (losses, model.params().iter().map(|x| x.to_bits()).collect::<Vec<u32>>())
    };
    let first = run();
    for _ in 0..3 {
        assert!(run() == first, "{what}: two-thread training steps differ between runs");
    }
}
