"""Compare a jaxloss function with its torch reference: values and vector-Jacobian products.

Reference values come from torch 2.13.0 (CPU), computed in the same test run on the same inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import torch

TOL = {
    np.float64: dict(rtol=1e-9, atol=1e-11),
    np.float32: dict(rtol=2e-5, atol=2e-6),
}


def _to_torch(x: Any, requires_grad: bool) -> Any:
    if isinstance(x, np.ndarray):
        t = torch.from_numpy(np.array(x, order="C", copy=True))  # keeps 0-d arrays 0-d
        if requires_grad:
            t.requires_grad_(True)
        return t
    return x


def _cast(x: Any, dtype) -> Any:
    if isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating):
        return x.astype(dtype)
    return x


def compare(
    jax_fn: Callable[..., Any],
    torch_fn: Callable[..., Any],
    args: Sequence[Any],
    *,
    kwargs: dict | None = None,
    torch_kwargs: dict | None = None,
    diff: Sequence[int] = (0,),
    dtype=np.float64,
    jit: bool = False,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Assert jaxloss and torch agree on value and on the VJP with a random cotangent.

    ``args`` are numpy arrays (floating ones are cast to ``dtype``) or Python values, passed positionally
    to both functions; ``kwargs`` go to both unless ``torch_kwargs`` is given for torch. ``diff`` lists the
    positions of arguments whose gradients are compared. Returns (jax value, torch value).
    """
    kwargs = dict(kwargs or {})
    torch_kwargs = kwargs if torch_kwargs is None else dict(torch_kwargs)
    tol = dict(TOL[dtype])
    if rtol is not None:
        tol["rtol"] = rtol
    if atol is not None:
        tol["atol"] = atol
    args = [_cast(a, dtype) for a in args]

    t_args = [_to_torch(a, i in diff) for i, a in enumerate(args)]
    t_out = torch_fn(*t_args, **torch_kwargs)
    rng = np.random.default_rng(seed)
    cot = rng.standard_normal(tuple(t_out.shape)).astype(np.float64)
    t_grads = torch.autograd.grad(
        t_out, [t_args[i] for i in diff], torch.from_numpy(cot).to(t_out.dtype), allow_unused=True
    )

    def f(*d):
        full = list(args)
        for i, v in zip(diff, d):
            full[i] = v
        return jax_fn(*full, **kwargs)

    if jit:
        f = jax.jit(f)
    j_out, vjp = jax.vjp(f, *[jnp.asarray(args[i]) for i in diff])
    j_grads = vjp(jnp.asarray(cot, dtype=j_out.dtype))

    t_val = t_out.detach().numpy()
    assert j_out.shape == tuple(t_out.shape), (j_out.shape, tuple(t_out.shape))
    assert np.dtype(j_out.dtype) == np.dtype(str(t_out.dtype).replace("torch.", "")), (
        j_out.dtype,
        t_out.dtype,
    )
    np.testing.assert_allclose(np.asarray(j_out), t_val, **tol, err_msg="value")
    for i, jg, tg in zip(diff, j_grads, t_grads):
        tg = np.zeros(np.shape(args[i])) if tg is None else tg.numpy()
        np.testing.assert_allclose(np.asarray(jg), tg, **tol, err_msg=f"grad of arg {i}")
    return np.asarray(j_out), t_val
