"""Native reference for `npm run bench`: numpy's float32 matmul (its BLAS, normally OpenBLAS)
on the matmul shapes of bench/shapes.json, one JSON line per shape in the format of
bench/matmul.bench.mjs. The BLAS thread count is fixed by OPENBLAS_NUM_THREADS (and
OMP_NUM_THREADS) before numpy loads, so bench/peers/numpy.bench.mjs runs this once per count.

Usage: OPENBLAS_NUM_THREADS=1 python3 bench/peers/numpy-matmul.py [suite]
Timing as in bench/common.mjs: median of 5 batches of >= 0.15 s, after a warm-up call.
"""
import json
import os
import sys
import time
from pathlib import Path

import numpy as np


def seconds_per_call(call):
    call()
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            call()
        if time.perf_counter() - start >= 0.15:
            break
        calls *= 2
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        samples.append((time.perf_counter() - start) / calls)
    return sorted(samples)[2]


def blas_name():
    """The BLAS numpy was built against (numpy >= 1.25 reports it), else "blas"."""
    try:
        config = np.show_config(mode="dicts")
        return config["Build Dependencies"]["blas"]["name"]
    except Exception:  # older numpy: show_config only prints
        return "blas"


def openblas_core():
    """The kernel family OpenBLAS picked for this CPU (`openblas_get_corename`), or None."""
    import ctypes
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
        for path in sorted(paths):
            lib = ctypes.CDLL(path)
            if hasattr(lib, "openblas_get_corename"):
                lib.openblas_get_corename.restype = ctypes.c_char_p
                return lib.openblas_get_corename().decode()
    except OSError:
        pass
    return None


def main():
    suite = sys.argv[1] if len(sys.argv) > 1 else "quick"
    shapes = json.loads((Path(__file__).resolve().parent.parent / "shapes.json").read_text())[suite]["matmul"]
    threads = int(os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    rng = np.random.default_rng(1)
    variant = blas_name()
    core = openblas_core()
    if core is not None and variant == "blas":
        variant = "openblas"  # Debian's numpy reports the generic libblas it links against
    print(f"[numpy] {variant}, core type {core or 'unknown'}, {threads} thread(s)", file=sys.stderr)
    for shape in shapes:
        m, k, n, form = shape["m"], shape["k"], shape["n"], shape["form"]
        # Stored as in bench/common.mjs operandShapes; .T is a view, BLAS gets the transpose flag.
        a = rng.random((k, m) if form == "atb" else (m, k), dtype=np.float32) - 0.5
        b = rng.random((n, k) if form == "abt" else (k, n), dtype=np.float32) - 0.5
        op_a = a.T if form == "atb" else a
        op_b = b.T if form == "abt" else b
        out = np.empty((m, n), dtype=np.float32)
        seconds = seconds_per_call(lambda: np.matmul(op_a, op_b, out=out))
        print(json.dumps({
            "suite": "kernels", "op": "matmul", "impl": "numpy", "variant": variant, "simd": None,
            "threads": threads, "shape": {"m": m, "k": k, "n": n}, "form": form,
            "seconds": seconds, "gflops": 2 * m * k * n / seconds / 1e9, "numpy": np.__version__,
            "blas_core": core,
        }), flush=True)


main()
