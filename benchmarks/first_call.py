"""Where a first call's time goes: trace, lowering, XLA compile and first run, jaxloss against optax.

Run from the repository root: ``python benchmarks/first_call.py [CASE ...] [--size small|large] [--repeats 4]``
(default: the bench cases that have an optax contender). For each case of ``jaxloss bench`` it builds
``jit(value_and_grad(loss))`` from cleared caches (``jax.clear_caches()``), as the bench's first-call column
does, and times its four stages separately: ``.trace`` (the Python function run on tracers, the jaxpr),
``.lower`` (StableHLO), ``.compile`` (XLA) and the first call of the compiled program. jaxloss and optax
alternate, starting with each in turn; the medians (ms) are printed, with the number of jaxpr equations
(nested ones included) and of kernels in the compiled program.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxloss.cli import bench as B

STAGES = ("trace", "lower", "compile", "run")


def _equations(jaxpr) -> int:
    """Equations of a jaxpr, those of the jaxprs in its equations' parameters included."""
    count = 0
    for eqn in jaxpr.eqns:
        count += 1
        for param in eqn.params.values():
            inner = getattr(param, "jaxpr", param)
            if hasattr(inner, "eqns"):
                count += _equations(inner)
    return count


def _kernels(compiled) -> int:
    """Kernels (fusions and unfused computations) in the entry computation of the optimised HLO."""
    text = compiled.as_text()
    entry = text[text.index("ENTRY") :]
    return len(re.findall(r"= \S+ (?:fusion|custom-call|gather|scatter|reduce|dot)\(", entry))


def _stages(loss, argnums, arrays):
    jax.clear_caches()
    f = jax.jit(jax.value_and_grad(lambda *a: loss(*a), argnums=argnums))
    t0 = time.perf_counter()
    traced = f.trace(*arrays)
    t1 = time.perf_counter()
    lowered = traced.lower()
    t2 = time.perf_counter()
    compiled = lowered.compile()
    t3 = time.perf_counter()
    jax.block_until_ready(compiled(*arrays))
    t4 = time.perf_counter()
    shape = (_equations(traced.jaxpr.jaxpr), _kernels(compiled))
    return (t1 - t0, t2 - t1, t3 - t2, t4 - t3), shape


def main():
    cases = {c.name: c for c in B._cases() if c.optax is not None}
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("cases", nargs="*", default=list(cases), help=f"of {', '.join(cases)}")
    p.add_argument("--size", choices=("small", "large"), default="small")
    p.add_argument("--repeats", type=int, default=4)
    args = p.parse_args()
    print(
        f"jax {jax.__version__}, backend {jax.default_backend()}, {os.cpu_count()} CPUs; median ms"
    )
    for name in args.cases:
        case = cases[name]
        inputs = case.make(np.random.default_rng(0), case.sizes[args.size])
        names = list(inputs)
        argnums = tuple(names.index(d) for d in case.diff)
        arrays = [jax.device_put(inputs[n]) for n in names]
        times: dict[str, list] = {"jaxloss": [], "optax": []}
        shapes = {}
        for rep in range(args.repeats):
            order = ("jaxloss", "optax") if rep % 2 == 0 else ("optax", "jaxloss")
            for who in order:
                loss = case.jaxloss(None) if who == "jaxloss" else case.optax(None)
                t, shapes[who] = _stages(loss, argnums, arrays)
                times[who].append(t)
        for who, samples in times.items():
            med = [statistics.median(s[i] for s in samples) * 1e3 for i in range(len(STAGES))]
            parts = " ".join(f"{stage} {m:5.1f}" for stage, m in zip(STAGES, med))
            eqns, kernels = shapes[who]
            print(
                f"{name:28s} {args.size:5s} {who:7s} {parts}  total {sum(med):6.1f}"
                f"  ({eqns} equations, {kernels} kernels)"
            )


if __name__ == "__main__":
    main()
