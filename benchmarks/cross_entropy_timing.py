"""cross_entropy variants timed interleaved (round robin, one process), B=8192, C=4096, float32.

Run from the repository root: ``python benchmarks/cross_entropy_timing.py [--repeats 9]``. Times
``jit(value_and_grad)`` of plain ``cross_entropy``, with ``label_smoothing=0.1``, with ``weight`` and
``ignore_index`` (every 7th target ignored), with all three, and optax's one-hot + ``smooth_labels`` path;
prints the median and minimum (ms) and each minimum divided by plain ``cross_entropy``'s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxloss import losses as L


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=9)
    args = p.parse_args()
    B, C = 8192, 4096
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((B, C)).astype(np.float32))
    labels = rng.integers(0, C, B)
    y = jnp.asarray(labels)
    labels[::7] = -100
    y_ignore = jnp.asarray(labels)
    w = jnp.asarray(rng.uniform(0.5, 2, C).astype(np.float32))
    variants = {
        "plain": lambda a: L.cross_entropy(a, y),
        "label_smoothing": lambda a: L.cross_entropy(a, y, label_smoothing=0.1),
        "weight+ignore": lambda a: L.cross_entropy(a, y_ignore, weight=w),
        "weight+ignore+smoothing": lambda a: L.cross_entropy(
            a, y_ignore, weight=w, label_smoothing=0.1
        ),
        "optax smooth_labels": lambda a: jnp.mean(
            optax.losses.softmax_cross_entropy(a, optax.smooth_labels(jax.nn.one_hot(y, C), 0.1))
        ),
    }
    runs = {k: jax.jit(jax.value_and_grad(f)) for k, f in variants.items()}
    for f in runs.values():
        jax.block_until_ready(f(x))
    times = {k: [] for k in runs}
    for _ in range(args.repeats):
        for k, f in runs.items():
            t0 = time.perf_counter()
            jax.block_until_ready(f(x))
            times[k].append(time.perf_counter() - t0)
    base = min(times["plain"])
    for k, v in times.items():
        print(
            f"{k:26s} median {1e3 * statistics.median(v):8.2f}  min {1e3 * min(v):8.2f}  "
            f"min / plain {min(v) / base:.2f}"
        )


if __name__ == "__main__":
    main()
