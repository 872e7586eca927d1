"""``jaxloss check``: run every catalogue loss under jit/grad/vmap on this backend and against references.

For each loss the registry gives a small valid example. The check computes, on whatever device JAX uses:

* ``eager``: the loss in float64 (finite where the example is valid);
* ``jit``: the jitted loss equals the eager one;
* ``grad``: gradients of the summed loss w.r.t. every differentiable argument are finite;
* ``vmap``: ``vmap`` over a leading axis of two examples equals a Python loop;
* ``f32``: the float32 result is within 1e-4 (relative) of the float64 one;
* ``torch``: where the loss is one of torch's and torch is installed, the value and gradients equal
  ``torch.nn.functional``'s (relative 1e-7 in float64).

A mismatch or an exception marks the loss as failed; the command exits non-zero if any failed.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

CHECKS = ("eager", "jit", "grad", "vmap", "f32", "torch")


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray)


def _cast_floats(tree: Any, dtype) -> Any:
    import jax

    return jax.tree_util.tree_map(
        lambda a: a.astype(dtype) if _is_array(a) and np.issubdtype(a.dtype, np.floating) else a,
        tree,
        is_leaf=_is_array,
    )


def _close(a: Any, b: Any, rtol: float, atol: float) -> bool:
    import jax

    la = jax.tree_util.tree_leaves(a)
    lb = jax.tree_util.tree_leaves(b)
    if len(la) != len(lb):
        return False
    return all(
        np.allclose(
            np.asarray(x, np.float64),
            np.asarray(y, np.float64),
            rtol=rtol,
            atol=atol,
            equal_nan=True,
        )
        for x, y in zip(la, lb)
    )


def _scalar_of(out: Any):
    import jax
    import jax.numpy as jnp

    return sum(jnp.sum(jnp.asarray(leaf, jnp.float64)) for leaf in jax.tree_util.tree_leaves(out))


def _grads(spec, args: Sequence[Any], kwargs: dict[str, Any]):
    import jax

    def f(*d):
        full = list(args)
        for i, v in zip(spec.diff, d):
            full[i] = v
        return _scalar_of(spec.fn(*full, **kwargs))

    return jax.grad(f, argnums=tuple(range(len(spec.diff))))(*[args[i] for i in spec.diff])


def _torch_check(spec, args, kwargs) -> str:
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return "n/a"

    def to_t(x, grad=False):
        if _is_array(x):
            t = torch.from_numpy(np.ascontiguousarray(x))
            return t.requires_grad_(True) if grad else t
        return x

    t_args = [to_t(a, i in spec.diff) for i, a in enumerate(args)]
    t_kwargs = {k: to_t(v) for k, v in kwargs.items()}
    t_out = getattr(F, spec.torch)(*t_args, **t_kwargs)
    t_grads = torch.autograd.grad(t_out.sum(), [t_args[i] for i in spec.diff], allow_unused=True)
    value = spec.fn(*args, **kwargs)
    grads = _grads(spec, args, kwargs)
    ok = _close(value, t_out.detach().numpy(), 1e-7, 1e-9) and all(
        tg is None or _close(g, tg.numpy(), 1e-7, 1e-9) for g, tg in zip(grads, t_grads)
    )
    return "ok" if ok else "FAIL"


def check_one(spec, seed: int = 0) -> dict[str, str]:
    """Run the checks on one catalogue entry; returns ``{check: 'ok' | 'FAIL' | 'n/a' | 'ERROR: ...'}``."""
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(seed)
    args, kwargs = spec.example(rng)
    args2, _kwargs2 = spec.example(np.random.default_rng(seed + 1))
    result: dict[str, str] = {}

    def run(name: str, fn: Callable[[], str]) -> None:
        try:
            result[name] = fn()
        except Exception as err:
            result[name] = (
                f"ERROR: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
            )

    eager: dict[str, Any] = {}

    def do_eager() -> str:
        eager["value"] = spec.fn(*args, **kwargs)
        leaves = jax.tree_util.tree_leaves(eager["value"])
        return (
            "ok"
            if all(bool(jnp.all(jnp.isfinite(jnp.asarray(x, jnp.float64)))) for x in leaves)
            else "FAIL"
        )

    def do_jit() -> str:
        arrays = [i for i, a in enumerate(args) if _is_array(a)]

        def f(*arr):
            full = list(args)
            for i, v in zip(arrays, arr):
                full[i] = v
            return spec.fn(*full, **kwargs)

        out = jax.jit(f)(*[args[i] for i in arrays])
        return "ok" if _close(out, eager["value"], 1e-10, 1e-12) else "FAIL"

    def do_grad() -> str:
        grads = _grads(spec, args, kwargs)
        return "ok" if all(bool(jnp.all(jnp.isfinite(g))) for g in grads) else "FAIL"

    def do_vmap() -> str:
        same = all(
            (_is_array(a) and _is_array(b) and a.shape == b.shape and a.dtype == b.dtype)
            or (not _is_array(a) and not _is_array(b))
            for a, b in zip(args, args2)
        )
        second = args2 if same else args
        batched = [i for i, a in enumerate(args) if _is_array(a)]
        stacked = [np.stack([args[i], second[i]]) for i in batched]

        def f(*arr):
            full = list(args)
            for i, v in zip(batched, arr):
                full[i] = v
            return spec.fn(*full, **kwargs)

        out = jax.vmap(f)(*stacked)
        loop = [f(*[s[k] for s in stacked]) for k in range(2)]
        expect = jax.tree_util.tree_map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *loop)
        return "ok" if _close(out, expect, 1e-9, 1e-11) else "FAIL"

    def do_f32() -> str:
        a32 = _cast_floats(list(args), np.float32)
        k32 = _cast_floats(dict(kwargs), np.float32)
        out = spec.fn(*a32, **k32)
        return "ok" if _close(out, eager["value"], 1e-4, 1e-5) else "FAIL"

    run("eager", do_eager)
    if "value" not in eager:
        return {**result, **{c: "skipped (eager failed)" for c in CHECKS[1:]}}
    run("jit", do_jit)
    run("grad", do_grad)
    run("vmap", do_vmap)
    run("f32", do_f32)
    if spec.torch:
        run("torch", lambda: _torch_check(spec, args, kwargs))
    else:
        result["torch"] = "n/a"
    return result


def run_checks(specs, *, out=None, progress: Callable[[int, int, str], None] | None = None) -> int:
    """Check every spec, print a summary table, return the number of failed losses."""
    import jax

    out = sys.stdout if out is None else out
    rows = []
    failed = 0
    for k, spec in enumerate(specs):
        if progress:
            progress(k, len(specs), spec.qualname)
        try:
            res = check_one(spec)
        except Exception:
            res = {"eager": "ERROR: " + traceback.format_exc().splitlines()[-1]}
        bad = any(v not in ("ok", "n/a") for v in res.values())
        failed += bad
        rows.append((spec.qualname, res, bad))
    if progress:
        progress(len(specs), len(specs), "done")
    backend = jax.default_backend()
    devices = ", ".join(sorted({d.device_kind for d in jax.devices()}))
    print(f"jaxloss check on backend {backend} ({devices}), jax {jax.__version__}", file=out)
    width = max(len(r[0]) for r in rows) if rows else 10
    print(f"{'loss':<{width}}  " + "  ".join(f"{c:<5}" for c in CHECKS), file=out)
    for name, res, bad in rows:
        cells = "  ".join(
            f"{(res.get(c, '-') if res.get(c, '-') in ('ok', 'n/a', '-') else 'FAIL'):<5}"
            for c in CHECKS
        )
        print(f"{name:<{width}}  {cells}", file=out)
        if bad:
            for c, v in res.items():
                if v not in ("ok", "n/a"):
                    print(f"    {c}: {v}", file=out)
    print(f"{len(rows) - failed} passed, {failed} failed", file=out)
    return failed
