//! Prints matmul GFLOP/s for square sizes, each form, on one thread and on all threads.
//!
//!     cargo run --release -p wasmformer-core --example matmul_gflops [sizes…]
//!
//! A quick look, not the benchmark suite (that is `bench/`): best of a few runs after warm-up.

use std::time::Instant;

use wasmformer_core::kernels::matmul::{matmul_forward, MatmulDims, MatmulForm};
use wasmformer_core::{par, simd_path};

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|s| s.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![256, 512, 1024] } else { sizes };
    let all_threads = par::num_threads();
    println!("simd path {}, {} threads available", simd_path(), all_threads);
    for &size in &sizes {
        let dims = MatmulDims::new(size, size, size);
        let a: Vec<f32> = (0..size * size).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5).collect();
        let b: Vec<f32> = (0..size * size).map(|i| ((i * 104729) % 997) as f32 / 997.0 - 0.5).collect();
        let mut out = vec![0.0f32; size * size];
        for form in [MatmulForm::AB, MatmulForm::ABt, MatmulForm::AtB] {
            let mut line = format!("{size:>5}³ {form:<4?}");
            for threads in [1, all_threads] {
                par::set_max_threads(threads);
                let flops = 2.0 * (size as f64).powi(3);
                let reps = ((2e9 / flops) as usize).clamp(1, 50);
                matmul_forward(&mut out, &a, &b, None, dims, form).expect("shapes are right");
                let mut best = f64::INFINITY;
                for _ in 0..5 {
                    let start = Instant::now();
                    for _ in 0..reps {
                        matmul_forward(&mut out, &a, &b, None, dims, form).expect("shapes are right");
                    }
                    best = best.min(start.elapsed().as_secs_f64() / reps as f64);
                }
                line += &format!("  {threads} thr: {:6.1} GFLOP/s", flops / best / 1e9);
            }
            println!("{line}");
        }
    }
    par::set_max_threads(0);
}
