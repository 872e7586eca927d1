"""linear_cross_entropy: time and XLA temporary memory of value + gradient, chunked against materialised.

For each (N, V) it compiles ``jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))`` on float32 inputs
``x (N, H)``, ``linear_weight (V, H)`` and class-index targets, once with ``options=None`` (the ``(N, V)``
logits materialised) and once with ``LinearCrossEntropyOptions()`` (chunked, default 'auto' blocks), and
reports the median wall time of ``--repeats`` calls (after a warm-up call) and
``compiled.memory_analysis().temp_size_in_bytes``. Both paths run in the same process, interleaved, so their
ratio is meaningful on a shared machine. The materialised path is skipped where its temporaries would exceed
``--max-materialised-gb``.

Example::

    python benchmarks/linear_ce_sweep.py                      # N in (1024, 4096), V in (32768, 65536, 131072)
    python benchmarks/linear_ce_sweep.py --n 4096 --v 32768 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from jaxloss.losses import LinearCrossEntropyOptions, linear_cross_entropy


def _compile(options, x, w, t):
    fn = jax.value_and_grad(
        lambda x, w: linear_cross_entropy(x, w, t, options=options), argnums=(0, 1)
    )
    compiled = jax.jit(fn).lower(x, w).compile()
    return compiled, compiled.memory_analysis().temp_size_in_bytes


def _time(compiled, x, w) -> float:
    t0 = time.perf_counter()
    jax.block_until_ready(compiled(x, w))
    return time.perf_counter() - t0


def run(
    ns, vs, h: int, repeats: int, max_materialised_gb: float, rows=(), seed: int = 0
) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for n in ns:
        for v in vs:
            x = jnp.asarray(rng.standard_normal((n, h)), jnp.float32)
            w = jnp.asarray(rng.standard_normal((v, h)) * h**-0.5, jnp.float32)
            t = jnp.asarray(rng.integers(0, v, n), jnp.int32)
            paths = {"chunked": LinearCrossEntropyOptions()}
            for r in rows:
                paths[f"chunked_rows{r}"] = LinearCrossEntropyOptions(batch_chunk_size=r)
            # the materialised gradient holds about three (N, V) float32 arrays
            if 3 * n * v * 4 <= max_materialised_gb * 1e9:
                paths["materialised"] = None
            compiled = {name: _compile(opt, x, w, t) for name, opt in paths.items()}
            times = {name: [] for name in paths}
            for c, _ in compiled.values():
                _time(c, x, w)  # warm-up
            for _ in range(repeats):
                for name, (c, _) in compiled.items():
                    times[name].append(_time(c, x, w))
            row = {"N": n, "H": h, "V": v}
            for name in ("materialised", "chunked"):
                if name in compiled:
                    row[f"{name}_s"] = statistics.median(times[name])
                    row[f"{name}_temp_mb"] = compiled[name][1] / 1e6
            out.append(row)
            print(_line(row), flush=True)
            for r in rows:
                extra = dict(
                    row,
                    chunked_s=statistics.median(times[f"chunked_rows{r}"]),
                    chunked_temp_mb=compiled[f"chunked_rows{r}"][1] / 1e6,
                )
                print(_line(extra).replace(f"| {v} |", f"| {v} (rows={r}) |", 1), flush=True)
    return out


def _line(row: dict) -> str:
    def cell(key, fmt):
        return fmt.format(row[key]) if key in row else "n/a"

    ratio_t = (
        f"{row['chunked_s'] / row['materialised_s']:.2f}" if "materialised_s" in row else "n/a"
    )
    ratio_m = (
        f"1/{row['materialised_temp_mb'] / row['chunked_temp_mb']:.0f}"
        if "materialised_temp_mb" in row
        else "n/a"
    )
    return (
        f"| {row['N']} | {row['H']} | {row['V']} | {cell('materialised_s', '{:.3f}')} | "
        f"{cell('materialised_temp_mb', '{:,.0f}')} | {cell('chunked_s', '{:.3f}')} | "
        f"{cell('chunked_temp_mb', '{:,.0f}')} | {ratio_t} | {ratio_m} |"
    )


HEADER = (
    "| N | H | V | materialised s | materialised temp MB | chunked s | chunked temp MB | time ratio | "
    "temp ratio |\n|---|---|---|---|---|---|---|---|---|"
)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, nargs="+", default=[1024, 4096])
    p.add_argument("--v", type=int, nargs="+", default=[32768, 65536, 131072])
    p.add_argument("--h", type=int, default=512)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--max-materialised-gb", type=float, default=8.0)
    p.add_argument(
        "--rows",
        type=int,
        nargs="*",
        default=[],
        help="also time LinearCrossEntropyOptions(batch_chunk_size=r) for each r",
    )
    args = p.parse_args(argv)
    print(
        f"backend: {jax.default_backend()}, device: {jax.devices()[0].device_kind}, float32, value+grad"
    )
    print(HEADER, flush=True)
    run(args.n, args.v, args.h, args.repeats, args.max_materialised_gb, args.rows)


if __name__ == "__main__":
    main()
