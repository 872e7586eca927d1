"""Small numerical helpers shared by several families: safe square roots and powers, normalisation, dots.

Each is written once here, with the gradient convention it guarantees, and imported by the families that use
it (metric, contrastive, quality, detection, multiclass).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

_HIGHEST = lax.Precision.HIGHEST


_NORMALIZE_EPS = 1e-12  # torch.nn.functional.normalize's default eps


def _broadcast_to(a: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    """``a`` broadcast to ``shape`` as numpy broadcasts (trailing axes aligned), with ``lax.broadcast_in_dim``."""
    if a.shape == tuple(shape):
        return a
    return lax.broadcast_in_dim(a, shape, tuple(range(len(shape) - a.ndim, len(shape))))


def lax_apply(op, *operands) -> jax.Array:
    """``op`` (a ``lax`` elementwise function) on operands broadcast as numpy broadcasts them.

    For kernels on a loss's first-call path: ``jnp``'s operators and functions are jitted functions, each traced,
    linearised and lowered as a nested program on a fresh trace (a new shape, or after ``jax.clear_caches``),
    about 1 ms a call on a 2-core CPU; a ``lax`` function binds one primitive. The array operands must share
    one dtype; a Python number takes it (as ``jnp``'s weak typing keeps it), so ``lax_apply(lax.mul, 0.5, x)``
    is ``0.5 * x`` in ``x``'s dtype.
    """
    arrays = [a for a in operands if hasattr(a, "dtype")]
    shape = lax.broadcast_shapes(*(a.shape for a in arrays))
    dtype = arrays[0].dtype

    def operand(a):
        # lax takes a 0-d operand beside an array as it is (a literal in the program, no broadcast)
        if not hasattr(a, "dtype"):
            return np.asarray(a, dtype)
        return a if a.ndim == 0 else _broadcast_to(a, shape)

    return op(*map(operand, operands))


def lax_sum(x: jax.Array, axes, keepdims: bool = False) -> jax.Array:
    """``jnp.sum(x, axes, keepdims=keepdims)`` as one ``reduce_sum`` (see :func:`lax_apply`); ``axes`` an int,
    a tuple, or ``None`` for all."""
    return _lax_reduce(x, axes, keepdims, 0, lax.add)


def lax_max(x: jax.Array, axes, keepdims: bool = False) -> jax.Array:
    """``jnp.max(x, axes, keepdims=keepdims)`` of a floating ``x`` as one ``reduce_max`` (see :func:`lax_sum`)."""
    return _lax_reduce(x, axes, keepdims, -np.inf, lax.max)


def _lax_reduce(x, axes, keepdims, init, op):
    if axes is None:
        axes = tuple(range(x.ndim))
    axes = (axes,) if isinstance(axes, int) else tuple(axes)
    axes = tuple(a % x.ndim for a in axes)
    out = lax.reduce(x, np.asarray(init, x.dtype), op, axes)
    if not keepdims:
        return out
    # a reshape, not lax.expand_dims's broadcast: its transpose is a reshape too, not a sum over unit axes
    return lax.reshape(out, tuple(1 if a in axes else n for a, n in enumerate(x.shape)))


def select(cond: jax.Array, x, y) -> jax.Array:
    """``jnp.where(cond, x, y)`` on ``lax.select``, for kernels on a loss's first-call path (see
    :func:`lax_apply`).

    Operands broadcast as in numpy; a Python scalar takes the other operand's dtype (as ``jnp.where``'s weak
    typing does). Operands of two dtypes, or two scalars, go to ``jnp.where``.
    """

    def takes(scalar, other) -> bool:
        """Whether ``scalar`` is a Python number that ``other``'s dtype holds, as jnp.where would keep it."""
        if isinstance(scalar, bool) or not isinstance(scalar, (int, float)):
            return False
        if not hasattr(other, "dtype"):
            return False
        return isinstance(scalar, int) or jnp.issubdtype(other.dtype, jnp.inexact)

    if takes(x, y):
        x = lax.full_like(y, x, shape=())
    elif takes(y, x):
        y = lax.full_like(x, y, shape=())
    if not (hasattr(x, "dtype") and hasattr(y, "dtype")) or x.dtype != y.dtype:
        return jnp.where(cond, x, y)
    shape = lax.broadcast_shapes(jnp.shape(cond), x.shape, y.shape)
    return lax.select(*(_broadcast_to(jnp.asarray(a), shape) for a in (cond, x, y)))


def _safe_sqrt(x: jax.Array) -> jax.Array:
    """``sqrt(max(x, 0))`` with gradient 0 (not inf/nan) where ``x <= 0`` (double-where)."""
    positive = x > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, x, 1)), 0)


def _l2_normalize(x: jax.Array) -> jax.Array:
    """torch's ``F.normalize(x, dim=-1)``: ``x / max(||x||, 1e-12)``; a zero row stays zero, finite gradient."""
    norm = _safe_sqrt(jnp.sum(x * x, axis=-1, keepdims=True))
    return x / jnp.maximum(norm, _NORMALIZE_EPS)


def _dot(a: jax.Array, b: jax.Array) -> jax.Array:
    """``a @ b.T`` at full precision (no TF32/bfloat16 passes on accelerators)."""
    return jnp.matmul(a, b.T, precision=_HIGHEST)


def _modulating_power(base: jax.Array, gamma) -> jax.Array:
    """``base ** gamma`` for ``base >= 0`` with finite gradients where ``base == 0``.

    The value at ``base == 0`` is ``0 ** gamma`` (``1`` for ``gamma == 0``, else ``0``); its gradient there is
    taken as ``0`` (for ``0 < gamma < 1`` the one-sided derivative is infinite, but it is always multiplied by
    the derivative of a saturated sigmoid, which is ``0``, and the product's limit is ``0``).
    """
    positive = base > 0
    safe = jnp.where(
        positive, base, 1
    )  # double where: no inf/nan flows back through the unused branch
    at_zero = jnp.where(jnp.asarray(gamma) == 0, 1, 0).astype(base.dtype)
    return jnp.where(positive, safe**gamma, at_zero)
