#!/usr/bin/env python3
"""Side-by-side reference: NumPy/OpenBLAS on the shapes `swift run -c release bench` measures.

Prints CSV lines `name,size,threads,value,unit` like the Swift bench (value in GFLOP/s).
Run it twice for 1 and 2 threads (OpenBLAS fixes its thread count at import):
    OPENBLAS_NUM_THREADS=1 python3 scripts/numpy_matmul.py
    OPENBLAS_NUM_THREADS=2 python3 scripts/numpy_matmul.py
Optional: nothing in the package needs Python.
"""
import os, sys, time
import numpy as np

# (name, batch, m, n, k, transA, transB) -- keep in step with Sources/bench/MatmulBench.swift
SHAPES = [("square", 1, s, s, s, False, False) for s in (64, 128, 256, 512, 1024)]
for (m, n, k) in [(32, 16384, 27), (32, 16384, 288), (64, 4096, 288), (64, 4096, 576),
                  (64, 1024, 576), (64, 4096, 1152), (32, 16384, 864), (3, 16384, 288)]:
    SHAPES.append(("conv_fwd", 1, m, n, k, False, False))      # W[cout,cin*9] . cols[cin*9,BHW]
    SHAPES.append(("conv_dW", 1, m, k, n, False, True))        # dY[cout,BHW] . cols^T
    SHAPES.append(("conv_dcols", 1, k, n, m, True, False))     # W^T . dY
SHAPES += [("attn", 256, 16, 16, 64, False, True),             # Q.K^T per head
           ("attn", 256, 64, 64, 16, False, True),
           ("attn", 256, 64, 16, 64, False, False)]             # P.V


def size_label(b, m, n, k):
    s = f"{m}x{n}x{k}"
    return f"{b}@{s}" if b > 1 else s


def main():
    quick = "--quick" in sys.argv
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "all")
    rng = np.random.default_rng(0)
    for name, b, m, n, k, ta, tb in SHAPES:
        a = rng.standard_normal((b, k, m) if ta else (b, m, k), dtype=np.float32)
        bb = rng.standard_normal((b, n, k) if tb else (b, k, n), dtype=np.float32)
        opa = a.transpose(0, 2, 1) if ta else a
        opb = bb.transpose(0, 2, 1) if tb else bb
        if b == 1:
            opa, opb = opa[0], opb[0]
        flops = 2.0 * b * m * n * k
        reps = max(1, int(2e8 / flops)) if not quick else 1
        np.matmul(opa, opb)
        best = float("inf")
        for _ in range(3 if quick else 5):
            t = time.perf_counter()
            for _ in range(reps):
                np.matmul(opa, opb)
            best = min(best, (time.perf_counter() - t) / reps)
        print(f"numpy_{name},{size_label(b, m, n, k)},{threads},{flops / best / 1e9:.1f},GFLOP/s")


if __name__ == "__main__":
    main()
