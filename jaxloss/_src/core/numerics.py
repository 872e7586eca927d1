"""Small numerical helpers shared by several families: safe square roots and powers, normalisation, dots.

Each is written once here, with the gradient convention it guarantees, and imported by the families that use
it (metric, contrastive, quality, detection, multiclass).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

_HIGHEST = lax.Precision.HIGHEST


_NORMALIZE_EPS = 1e-12  # torch.nn.functional.normalize's default eps


def select(cond: jax.Array, x, y) -> jax.Array:
    """``jnp.where(cond, x, y)`` on ``lax.select``, for kernels on a loss's first-call path.

    ``jnp.where`` is a jitted function: on a fresh trace (a new shape, or after ``jax.clear_caches``) it is
    traced, linearised and lowered as a nested program, about 1 ms a call on a 2-core CPU, which adds up in a
    loss's first call. Operands broadcast as in numpy; a Python scalar takes the other operand's dtype (as
    ``jnp.where``'s weak typing does). Operands of two dtypes, or two scalars, go to ``jnp.where``.
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

    def grow(a):
        a = jnp.asarray(a)
        if a.shape == shape:
            return a
        return lax.broadcast_in_dim(a, shape, tuple(range(len(shape) - a.ndim, len(shape))))

    return lax.select(grow(cond), grow(x), grow(y))


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
