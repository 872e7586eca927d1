"""Half-precision error of jaxloss and torch against a float64 reference, for torch's losses.

For each loss, float64 inputs are drawn once and rounded to float16 (or bfloat16); jaxloss and torch (CPU)
then compute the loss on those identical half-precision inputs, and each result is compared with torch's
float64 value on the same rounded inputs. Prints a markdown table of relative errors
``|loss_half - loss_64| / |loss_64|`` (the largest over a few random draws) and the versions used; the
"Half-precision error vs torch" section of docs/numerics.md shows its output.

    python benchmarks/half_precision.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import datetime
import platform

import jax
import jax.numpy as jnp
import numpy as np
import torch
import torch.nn.functional as F

jax.config.update("jax_enable_x64", True)

from jaxloss import losses as L  # noqa: E402

N, D, C = 256, 64, 100


def _inputs(rng):
    """name -> (args as float64 numpy, integer arrays left as they are, kwargs)."""
    x = rng.standard_normal((N, D))
    y = rng.standard_normal((N, D))
    logits = 3 * rng.standard_normal((N, C))
    idx = rng.integers(0, C, N)
    probs = rng.uniform(0.02, 0.98, (N, D))
    bits = rng.integers(0, 2, (N, D)).astype(np.float64)
    signs = np.sign(rng.standard_normal(N))
    log_q = np.log(rng.dirichlet(np.ones(C), N))
    p = rng.dirichlet(np.ones(C), N)
    a, pos, neg = (rng.standard_normal((N, D)) for _ in range(3))
    return {
        "mse_loss": ((x, y), {}),
        "l1_loss": ((x, y), {}),
        "smooth_l1_loss": ((x, y), {}),
        "huber_loss": ((x, y), {}),
        "cross_entropy": ((logits, idx), {}),
        "cross_entropy (label_smoothing=0.1)": ((logits, idx), {"label_smoothing": 0.1}),
        "nll_loss": ((np.log(p), idx), {}),
        "binary_cross_entropy": ((probs, bits), {}),
        "binary_cross_entropy_with_logits": ((3 * x, bits), {}),
        "kl_div (batchmean)": ((log_q, p), {"reduction": "batchmean"}),
        "poisson_nll_loss": ((x, np.abs(y) * 3), {}),
        "gaussian_nll_loss": ((x, y, np.exp(0.5 * rng.standard_normal((N, D)))), {}),
        "soft_margin_loss": ((x, np.sign(y)), {}),
        "multilabel_soft_margin_loss": ((x, bits), {}),
        "margin_ranking_loss": ((x[:, 0], y[:, 0], signs), {}),
        "hinge_embedding_loss": ((np.abs(x), np.sign(y)), {}),
        "cosine_embedding_loss": ((x, y, signs), {}),
        "multi_margin_loss": ((logits, idx), {}),
        "triplet_margin_loss": ((a, pos, neg), {}),
    }


def _fn_name(label: str) -> str:
    return label.split(" ")[0]


def _to_torch(a, dtype):
    t = torch.from_numpy(np.asarray(a))
    return t if not t.is_floating_point() else t.to(dtype)


def _jax_dtype(name):
    return {"float16": jnp.float16, "bfloat16": jnp.bfloat16}[name]


def _torch_dtype(name):
    return {"float16": torch.float16, "bfloat16": torch.bfloat16}[name]


def measure(seeds: int):
    rows = {}
    for seed in range(seeds):
        for label, (args, kwargs) in _inputs(np.random.default_rng(seed)).items():
            name = _fn_name(label)
            for half in ("float16", "bfloat16"):
                # round once, in torch, so both libraries see bit-identical half-precision inputs
                t_half = [_to_torch(a, _torch_dtype(half)) for a in args]
                t_64 = [t.double() if t.is_floating_point() else t for t in t_half]
                ref = float(getattr(F, name)(*t_64, **kwargs))
                j_half = [
                    jnp.asarray(t.float().numpy()).astype(_jax_dtype(half))
                    if t.is_floating_point()
                    else jnp.asarray(t.numpy())
                    for t in t_half
                ]
                jax_val = float(jnp.asarray(getattr(L, name)(*j_half, **kwargs), jnp.float64))
                try:
                    torch_val = float(getattr(F, name)(*t_half, **kwargs).double())
                except (
                    RuntimeError,
                    NotImplementedError,
                ):  # op not implemented for this dtype on CPU
                    torch_val = None
                err = lambda v, ref=ref: None if v is None else abs(v - ref) / abs(ref)
                row = rows.setdefault(label, {})
                for lib, v in (("jaxloss", jax_val), ("torch", torch_val)):
                    key = (half, lib)
                    e = err(v)
                    if e is None:
                        row.setdefault(key, None)
                    else:
                        row[key] = max(e, row.get(key) or 0.0)
    return rows


def _fmt(e):
    return "n/a" if e is None else f"{e:.1e}"


def to_markdown(rows, seeds: int) -> str:
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    lines = [
        f"Measured {date} on {platform.machine()} CPU: jax {jax.__version__} ({jax.default_backend()}), "
        f"torch {torch.__version__}; largest relative error over {seeds} random draws, `reduction='mean'` "
        f"unless stated, {N} examples.",
        "",
        "| loss | float16 jaxloss | float16 torch | bfloat16 jaxloss | bfloat16 torch |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, row in rows.items():
        cells = [
            _fmt(row.get((h, lib))) for h in ("float16", "bfloat16") for lib in ("jaxloss", "torch")
        ]
        lines.append(f"| `{label}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(to_markdown(measure(args.seeds), args.seeds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
