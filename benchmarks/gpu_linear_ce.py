"""linear_cross_entropy on an accelerator: materialised vs XLA chunked vs Pallas, bfloat16, value + gradient.

For each (N, H, V) it compiles ``jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))`` on bfloat16 ``x (N, H)``,
``linear_weight (V, H)`` and class-index targets (a tenth of them ignored), on three paths:

* ``materialised``: ``options=None`` (the ``(N, V)`` logits and their gradient are formed);
* ``xla``: ``LinearCrossEntropyOptions(kernel='xla')`` (the chunked XLA engine, 'auto' blocks);
* ``pallas``: ``LinearCrossEntropyOptions(kernel='pallas', batch_chunk_size=--rows, vocab_chunk_size=--cols)``.

It prints a markdown table of the median wall time of ``--repeats`` calls (after a warm-up call), XLA's
temporaries (``compiled.memory_analysis().temp_size_in_bytes``; a Pallas kernel's own on-chip scratch is
not in it) and the device's ``peak_bytes_in_use`` after the path ran (cumulative over the process, so only
its growth is informative; ``n/a`` where the backend does not report it). A path is skipped (``skip``)
where its estimated footprint exceeds the device memory, and marked ``OOM``/``error`` where compiling or
running it fails; the other paths still run. The three paths of one size run in one process, interleaved,
so their ratios are meaningful.

``--small`` runs tiny sizes on any backend (on CPU the Pallas path runs in interpret mode), as a smoke test.

Example::

    python benchmarks/gpu_linear_ce.py                  # N in 8192..32768, H in 2048/4096, V in 32k..256k
    python benchmarks/gpu_linear_ce.py --small          # a few seconds on CPU
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

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxloss.losses import LinearCrossEntropyOptions, linear_cross_entropy

FULL = {"n": (8192, 16384, 32768), "h": (2048, 4096), "v": (32768, 131072, 262144)}
SMALL = {"n": (64, 96), "h": (32,), "v": (300,)}


def _device_bytes() -> int | None:
    stats = jax.devices()[0].memory_stats() or {}
    return stats.get("bytes_limit")


def _peak() -> int | None:
    stats = jax.devices()[0].memory_stats() or {}
    return stats.get("peak_bytes_in_use")


def _footprint(path: str, n: int, h: int, v: int) -> int:
    """A rough upper estimate of a path's bytes: inputs and gradients in bfloat16, plus (materialised) about
    three (N, V) float32 arrays or (chunked) a few blocks."""
    base = 2 * 2 * (n * h + v * h)
    if path == "materialised":
        return base + 3 * 4 * n * v
    return base + 4 * (v * h + n * h) + 2 * 4 * 128 * v


def _time(fn, *args) -> float:
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - t0


def run(ns, hs, vs, repeats: int, rows: int, cols: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    limit = _device_bytes()
    paths = {
        "materialised": None,
        "xla": LinearCrossEntropyOptions(kernel="xla"),
        "pallas": LinearCrossEntropyOptions(
            kernel="pallas", batch_chunk_size=rows, vocab_chunk_size=cols
        ),
    }
    out = []
    for h in hs:
        for v in vs:
            for n in ns:
                x = jnp.asarray(rng.standard_normal((n, h)), jnp.bfloat16)
                w = jnp.asarray(rng.standard_normal((v, h)) * h**-0.5, jnp.bfloat16)
                t = rng.integers(0, v, n)
                t[::10] = -100
                t = jnp.asarray(t, jnp.int32)
                row = {"N": n, "H": h, "V": v}
                compiled = {}
                for name, options in paths.items():
                    if limit is not None and _footprint(name, n, h, v) > 0.9 * limit:
                        row[name] = "skip"
                        continue

                    def loss(x, w, options=options, t=t):
                        return linear_cross_entropy(x, w, t, options=options)

                    try:
                        c = jax.jit(jax.value_and_grad(loss, argnums=(0, 1))).lower(x, w).compile()
                        _time(c, x, w)  # warm-up
                        mem = c.memory_analysis()
                        compiled[name] = (c, None if mem is None else mem.temp_size_in_bytes)
                    except Exception as e:
                        row[name] = "OOM" if "RESOURCE_EXHAUSTED" in str(e) else "error"
                        print(
                            f"<!-- {name} N={n} H={h} V={v}: {type(e).__name__}: {str(e)[:200]} -->"
                        )
                times = {name: [] for name in compiled}
                peaks = {}
                for _ in range(repeats):
                    for name, (c, _) in compiled.items():
                        times[name].append(_time(c, x, w))
                        peaks[name] = _peak()
                for name, (_, temp) in compiled.items():
                    row[name] = (statistics.median(times[name]), temp, peaks[name])
                out.append(row)
                print(_line(row), flush=True)
                del x, w, compiled
    return out


def _cell(value) -> str:
    if isinstance(value, str):
        return f"{value} | {value} | {value}"
    s, temp, peak = value
    mb = lambda b: "n/a" if b is None else f"{b / 2**20:,.1f}"
    return f"{s * 1e3:.2f} | {mb(temp)} | {mb(peak)}"


def _line(row: dict) -> str:
    cells = " | ".join(_cell(row[p]) for p in ("materialised", "xla", "pallas"))
    return f"| {row['N']} | {row['H']} | {row['V']} | {cells} |"


HEADER = (
    "| N | H | V | materialised ms | temp MiB | peak MiB | xla ms | temp MiB | peak MiB | pallas ms | temp MiB "
    "| peak MiB |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="tiny sizes (CPU smoke test)")
    parser.add_argument("--n", type=int, nargs="*")
    parser.add_argument("--h", type=int, nargs="*")
    parser.add_argument("--v", type=int, nargs="*")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--rows", type=int, default=64, help="Pallas rows per program (power of two)"
    )
    parser.add_argument(
        "--cols", type=int, default=128, help="Pallas classes per step (power of two)"
    )
    args = parser.parse_args(argv)
    sizes = SMALL if args.small else FULL
    ns, hs, vs = args.n or sizes["n"], args.h or sizes["h"], args.v or sizes["v"]
    repeats = 1 if args.small else args.repeats
    rows, cols = (32, 128) if args.small else (args.rows, args.cols)
    print(
        f"device: {jax.devices()[0].device_kind} ({jax.default_backend()}), bfloat16, value + gradient\n"
    )
    print(HEADER)
    return run(ns, hs, vs, repeats, rows, cols)


if __name__ == "__main__":
    main()
