//! The native row of `npm run bench` (scripts/bench.mjs): matmul GFLOP/s of this build for
//! the shapes given on the command line, on 1 and 2 threads, as JSON lines like the wasm rows.
//!
//!     cargo run --release -p wasmformer-core --example bench_matmul -- M K N FORM [M K N FORM]…
//!
//! FORM is ab, abt or atb. Median of 5 batches of ≥ 0.15 s after a warm-up, as in bench/.

use std::time::Instant;

use wasmformer_core::kernels::matmul::{matmul_forward, MatmulDims, MatmulForm};
use wasmformer_core::{par, simd_path};

fn parse_form(form: &str) -> Option<MatmulForm> {
    match form {
        "ab" => Some(MatmulForm::AB),
        "abt" => Some(MatmulForm::ABt),
        "atb" => Some(MatmulForm::AtB),
        _ => None,
    }
}

/// Median seconds per call of `call`.
fn time(mut call: impl FnMut()) -> f64 {
    call();
    let mut calls = 1usize;
    loop {
        let start = Instant::now();
        (0..calls).for_each(|_| call());
        if start.elapsed().as_secs_f64() >= 0.15 {
            break;
        }
        calls *= 2;
    }
    let mut samples: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            (0..calls).for_each(|_| call());
            start.elapsed().as_secs_f64() / calls as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args.len() % 4 != 0 {
        eprintln!("usage: bench_matmul M K N FORM [M K N FORM]…  (FORM: ab, abt, atb)");
        std::process::exit(2);
    }
    for thread_count in [1usize, 2] {
        par::set_max_threads(thread_count);
        for shape in args.chunks(4) {
            let dims: Vec<usize> = shape[..3].iter().filter_map(|s| s.parse().ok()).collect();
            let (Some(form), &[m, k, n]) = (parse_form(&shape[3]), &dims[..]) else {
                eprintln!("bad shape {shape:?}: expected M K N FORM");
                std::process::exit(2);
            };
            let a: Vec<f32> =
                (0..m * k).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5).collect();
            let b: Vec<f32> =
                (0..k * n).map(|i| ((i * 104_729) % 997) as f32 / 997.0 - 0.5).collect();
            let mut out = vec![0.0f32; m * n];
            let seconds = time(|| {
                matmul_forward(&mut out, &a, &b, None, MatmulDims { m, k, n }, form)
                    .expect("the shapes were built to match");
            });
            let gflops = 2.0 * (m * k * n) as f64 / seconds / 1e9;
            println!(
                "{{\"suite\":\"kernels\",\"op\":\"matmul\",\"impl\":\"native\",\"variant\":\"native\",\"simd\":\"{}\",\"threads\":{},\"shape\":{{\"m\":{},\"k\":{},\"n\":{}}},\"form\":\"{}\",\"seconds\":{},\"gflops\":{}}}",
                simd_path(), par::num_threads(), m, k, n, shape[3], seconds, gflops
            );
        }
    }
}
