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
