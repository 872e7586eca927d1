"""CTC forward+backward timings: jaxloss (torch face and optax face) vs torch vs optax.

Run from the repository root: ``python benchmarks/ctc_timing.py [--threads 2] [--repeats 50]``.
float32, ``jit``, gradient w.r.t. ``log_probs`` (torch face, torch) or ``logits`` (optax faces). The calls
are interleaved round-robin so that machine load affects every contender alike. Prints milliseconds
(minimum and median over the repeats) and the ratios of the minima to optax and to torch, and the first call
of each JAX contender (trace + compile + first run of a fresh ``jit``, timed once per size, after a warm-up
at a tiny size that pays JAX's one-time costs for every contender alike).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxloss._src.families.ctc import ctc_loss, optax_ctc_loss


def _contenders(T, B, K, S, fresh=False):
    """Callables that run each contender once, and (``fresh``) the JAX ones' first-call times (s)."""
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((T, B, K)).astype(np.float32)
    log_probs = np.asarray(jax.nn.log_softmax(logits, axis=-1))
    targets = rng.integers(1, K, (B, S)).astype(np.int32)
    in_len = rng.integers(T // 2, T + 1, B).astype(np.int32)
    tg_len = rng.integers(S // 2, S + 1, B).astype(np.int32)
    in_len[0], tg_len[0] = T, S

    j_args = [jnp.asarray(v) for v in (log_probs, targets, in_len, tg_len)]
    ours = jax.jit(
        jax.value_and_grad(lambda lp, tg, il, tl: ctc_loss(lp, tg, il, tl, reduction="sum"))
    )

    o_args = (
        jnp.asarray(np.transpose(logits, (1, 0, 2))),
        jnp.asarray((np.arange(T)[None] >= in_len[:, None]).astype(np.float32)),
        jnp.asarray(targets),
        jnp.asarray((np.arange(S)[None] >= tg_len[:, None]).astype(np.float32)),
    )
    ours_optax = jax.jit(jax.value_and_grad(lambda *a: optax_ctc_loss(*a).sum()))
    ref_optax = jax.jit(jax.value_and_grad(lambda *a: optax.ctc_loss(*a).sum()))

    first = {}
    if fresh:
        grads = (
            j_args[0],
            o_args[0],
        )  # the allocator's first touch of gradient-sized buffers: untimed
        jax.block_until_ready(jax.jit(lambda *a: [x + 1 for x in a])(*grads))
        for name, fn, args in (
            ("jaxloss ctc_loss", ours, j_args),
            ("jaxloss optax face", ours_optax, o_args),
            ("optax.ctc_loss", ref_optax, o_args),
        ):
            t0 = time.perf_counter()
            jax.block_until_ready(fn(*args))
            first[name] = time.perf_counter() - t0

    t_lp = torch.from_numpy(log_probs.copy()).requires_grad_()
    t_rest = [torch.from_numpy(v.astype(np.int64)) for v in (targets, in_len, tg_len)]

    def run_torch():
        loss = torch.nn.functional.ctc_loss(t_lp, *t_rest, reduction="sum")
        torch.autograd.grad(loss, t_lp)

    return first, {
        "jaxloss ctc_loss": lambda: jax.block_until_ready(ours(*j_args)),
        "jaxloss optax face": lambda: jax.block_until_ready(ours_optax(*o_args)),
        "optax.ctc_loss": lambda: jax.block_until_ready(ref_optax(*o_args)),
        "torch ctc_loss": run_torch,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=2, help="torch threads (XLA uses every core)")
    p.add_argument("--repeats", type=int, default=50)
    p.add_argument("--sizes", default="200,16,40,40;1000,16,40,200", help="T,B,K,S;...")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    for fn in _contenders(8, 2, 5, 3)[1].values():  # warm-up: JAX's one-time tracing costs
        fn()
    for size in args.sizes.split(";"):
        T, B, K, S = (int(v) for v in size.split(","))
        first, contenders = _contenders(T, B, K, S, fresh=True)
        for fn in contenders.values():
            fn()
            fn()
        times = {k: [] for k in contenders}
        for _ in range(args.repeats):
            for k, fn in contenders.items():
                t0 = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t0)
        best = {k: 1e3 * min(v) for k, v in times.items()}
        print(
            f"T={T} B={B} K={K} S={S} float32, forward+backward, torch threads {args.threads} (ms)"
        )
        for k, v in times.items():
            print(
                f"  {k:20s} min {best[k]:8.3f}  median {1e3 * float(np.median(v)):8.3f}  "
                f"x optax {best[k] / best['optax.ctc_loss']:.2f}  x torch {best[k] / best['torch ctc_loss']:.2f}"
            )
        print("  first call (s): " + ", ".join(f"{k} {v:.2f}" for k, v in first.items()))


if __name__ == "__main__":
    main()
