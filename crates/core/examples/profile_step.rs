//! Times one GPT training step of nanoGPT's Shakespeare CPU config natively, and the attention
//! kernel alone at the same shapes, to see where a step's time goes.
//! `cargo run --release -p wasmformer-core --example profile_step`
use std::time::Instant;
use wasmformer_core::kernels::attention::{
    attention_backward_lse, attention_forward_lse, AttnDims, AttnGrads, AttnOptions, AttnSaved, Qkv,
};
use wasmformer_core::model::{Model, ModelConfig, StepOptions};
use wasmformer_core::optim::adamw::AdamWConfig;

fn main() {
    let (b, t) = (12, 64);
    let cfg = ModelConfig::gpt(65, 64, 4, 4, 128);
    let mut model = Model::new(cfg, 1).unwrap();
    model.plan(b, t, true).unwrap();
    let ids: Vec<u32> = (0..b * t).map(|i| (i * 7 % 65) as u32).collect();
    let targets: Vec<i32> = (0..b * t).map(|i| (i * 11 % 65) as i32).collect();
    let options = StepOptions {
        lr: 1e-3,
        weight_decay: 0.1,
        decay_embeddings: false,
        adam: AdamWConfig::default(),
        max_grad_norm: Some(1.0),
        dropout_seed: 0,
    };
    for _ in 0..3 {
        model.train_step(&ids, &targets, 1, b, t, &options).unwrap();
    }
    let n = 20;
    let start = Instant::now();
    for _ in 0..n {
        model.train_step(&ids, &targets, 1, b, t, &options).unwrap();
    }
    println!("train_step: {:.1} ms", start.elapsed().as_secs_f64() * 1e3 / n as f64);
    let start = Instant::now();
    for _ in 0..n {
        model.eval_loss(&ids, &targets, b, t).unwrap();
    }
    println!("forward only: {:.1} ms", start.elapsed().as_secs_f64() * 1e3 / n as f64);
    let dims = AttnDims::new(b, 4, t, 32);
    let len = b * 4 * t * 32;
    let q: Vec<f32> = (0..len).map(|i| ((i * 13 % 17) as f32 - 8.0) * 0.05).collect();
    let (mut out, mut lse) = (vec![0.0; len], vec![0.0; b * 4 * t]);
    let (mut dq, mut dk, mut dv) = (vec![0.0; len], vec![0.0; len], vec![0.0; len]);
    let opts = AttnOptions { causal: true, ..Default::default() };
    let start = Instant::now();
    for _ in 0..n * 4 {
        let x = Qkv { q: &q, k: &q, v: &q };
        attention_forward_lse(&mut out, &mut lse, None, x, dims, opts).unwrap();
    }
    let fwd = start.elapsed().as_secs_f64() * 1e3 / n as f64;
    let start = Instant::now();
    for _ in 0..n * 4 {
        let grads = AttnGrads { dq: &mut dq, dk: &mut dk, dv: &mut dv, dbias: None };
        let saved = AttnSaved { out: &out, lse: &lse, probs: None };
        let x = Qkv { q: &q, k: &q, v: &q };
        attention_backward_lse(grads, &q, saved, x, dims, opts).unwrap();
    }
    let bwd = start.elapsed().as_secs_f64() * 1e3 / n as f64;
    println!("attention x4 layers: forward {fwd:.1} ms, backward {bwd:.1} ms");
}
