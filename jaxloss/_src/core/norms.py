"""torch's vector norms and distances, with torch's gradients where the derivative does not exist.

Shared by the distance family (``pairwise_distance``, ``cosine_similarity``), the margin family
(``triplet_margin_loss``) and the optax face (``cosine_similarity``/``cosine_distance``):

* the ``p``-norm's gradient is torch's ``linalg.vector_norm`` backward: ``0`` for a zero vector (not
  ``nan``), ``sign(x)`` for ``p = 1`` (``0`` at ``x = 0``), an even split among the tied extreme
  entries for ``p = +-inf``, and ``0`` everywhere for ``p = 0``;
* ``_cosine_similarity`` clamps each norm to ``eps`` without letting the clamp into the gradient
  (torch clamps in place under ``no_grad``), so the gradient at a zero vector is finite and equals
  torch's.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
from jax import lax
from jax.custom_derivatives import SymbolicZero

from jaxloss._src.core.compat import optimization_barrier
from jaxloss._src.core.numerics import lax_apply, lax_sum, select


def _norm_value(x: jax.Array, p: float, axis: int, keepdims: bool) -> jax.Array:
    """torch's ``linalg.vector_norm`` forward for every ``p`` it accepts."""
    absx = jnp.abs(x)
    if p == 0:
        return jnp.sum(x != 0, axis=axis, keepdims=keepdims).astype(x.dtype)
    if p == math.inf:
        return jnp.max(absx, axis=axis, keepdims=keepdims)
    if p == -math.inf:
        return jnp.min(absx, axis=axis, keepdims=keepdims)
    if p == 1:
        return jnp.sum(absx, axis=axis, keepdims=keepdims)
    if p == 2:
        return jnp.sqrt(jnp.sum(x * x, axis=axis, keepdims=keepdims))
    return jnp.sum(absx**p, axis=axis, keepdims=keepdims) ** (1.0 / p)


def _norm_coefficient(x: jax.Array, norm: jax.Array, p: float) -> jax.Array:
    """``d norm / d x`` elementwise, as torch's ``norm_backward`` defines it (``norm`` kept dims).

    torch masks the points where the derivative does not exist to ``0``: a zero vector (``p >= 1``),
    a zero entry (``p < 1``); for ``p = +-inf`` the gradient is shared evenly by the entries that
    attain the norm.
    """
    if p == 0:
        return jnp.zeros_like(x)
    absx = jnp.abs(x)
    sign = jnp.sign(x)
    if p in (math.inf, -math.inf):
        hit = (absx == norm).astype(x.dtype)
        return sign * hit / jnp.sum(hit, axis=-1, keepdims=True)
    if p == 1:
        return sign
    zero_norm = norm == 0
    # double-where: no inf/nan leaks from the masked branch
    safe_norm = jnp.where(zero_norm, 1, norm)
    if p == 2:
        return jnp.where(zero_norm, 0, x / safe_norm)
    if p < 1:
        safe_absx = jnp.where(x == 0, 1, absx)
        scaled = jnp.where(x == 0, 0, sign * safe_absx ** (p - 1))
        return scaled * norm ** (1 - p)
    if p < 2:
        scaled = sign * absx ** (p - 1)
    else:
        scaled = x * absx ** (p - 2)
    return jnp.where(zero_norm, 0, scaled / safe_norm ** (p - 1))


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2))
def _last_axis_norm(x: jax.Array, p: float, keepdims: bool) -> jax.Array:
    """``p``-norm over the last axis with torch's values and torch's gradient convention."""
    return _norm_value(x, p, -1, keepdims)


@_last_axis_norm.defjvp
def _last_axis_norm_jvp(p, keepdims, primals, tangents):
    (x,), (t,) = primals, tangents
    norm = _norm_value(x, p, -1, True)
    coeff = _norm_coefficient(x, norm, p)
    out = norm if keepdims else jnp.squeeze(norm, -1)
    return out, jnp.sum(coeff * t, axis=-1, keepdims=keepdims)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _clamp_min_straight_through(x: jax.Array, minimum: float) -> jax.Array:
    """``max(x, minimum)`` with derivative 1 everywhere (torch clamps norms under ``no_grad``)."""
    return jnp.maximum(x, minimum)


@_clamp_min_straight_through.defjvp
def _clamp_min_straight_through_jvp(minimum, primals, tangents):
    (x,), (t,) = primals, tangents
    return jnp.maximum(x, minimum), t


def _euclidean_value(x1: jax.Array, x2: jax.Array, eps: float) -> jax.Array:
    """``||x1 - x2 + eps||_2`` over the last axis, kept (``x1``/``x2`` of one shape and dtype)."""
    # eps tied to this pair of inputs: XLA would otherwise merge the broadcast eps of two distances
    # (anchor-positive, anchor-negative) into one array written to memory, which stops each CPU
    # reduction from fusing it (the barrier is gone from the compiled program)
    _, _, eps = optimization_barrier((x1, x2, jnp.asarray(eps, x1.dtype)))
    # lax, not jnp, here and in the rule below: on a first call's path (see numerics.lax_apply)
    diff = lax_apply(lax.add, lax.sub(x1, x2), eps)  # eps inside, as torch
    return lax.sqrt(lax_sum(lax.mul(diff, diff), -1, keepdims=True))


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _euclidean_distance(x1: jax.Array, x2: jax.Array, eps: float) -> jax.Array:
    """The ``p = 2`` fast path of :func:`_pairwise_distance` (kept last axis).

    Same values and derivative as ``_last_axis_norm(x1 - x2 + eps, 2, True)`` (torch's
    ``norm_backward``: ``diff / norm``, ``0`` at a zero difference vector; bitwise equal eagerly,
    while under ``jit`` XLA may turn the division by the row norm into a multiplication by its
    reciprocal, which moves a gradient entry by at most an ulp, as before). Performance under
    ``jit`` (forward + backward): the derivative's difference is recomputed from the inputs after an
    ``optimization_barrier``, so XLA does not share ``x1 - x2 + eps`` between the norm and the
    gradient (shared, it is written to memory and read back by both); the norm is one fused
    reduction over the inputs and each gradient one elementwise pass.
    """
    return _euclidean_value(x1, x2, eps)


def _euclidean_distance_jvp(eps, primals, tangents):
    x1, x2 = primals
    t1, t2 = (None if isinstance(t, SymbolicZero) else t for t in tangents)
    norm = _euclidean_value(x1, x2, eps)
    if t1 is None and t2 is None:
        return norm, lax.full_like(norm, 0)
    f1, f2 = optimization_barrier((x1, x2))
    zero_norm = lax_apply(lax.eq, norm, 0)
    # double-where: no inf/nan leaks from the masked branch
    diff = lax_apply(lax.add, lax.sub(f1, f2), eps)
    coeff = select(zero_norm, 0, lax_apply(lax.div, diff, select(zero_norm, 1, norm)))
    if t2 is None:
        t = t1
    elif t1 is None:
        t = lax.neg(t2)
    else:
        t = lax.sub(t1, t2)
    return norm, lax_sum(lax.mul(coeff, t), -1, keepdims=True)


_euclidean_distance.defjvp(_euclidean_distance_jvp, symbolic_zeros=True)


def _pairwise_distance(
    x1: jax.Array, x2: jax.Array, p: float, eps: float, keepdim: bool
) -> jax.Array:
    """torch's ``pairwise_distance`` kernel: ``||x1 - x2 + eps||_p`` over the broadcast last axis.

    ``x1``/``x2`` are arrays of one floating dtype that broadcast together; a 0-d pair gives
    ``|x1 - x2 + eps|``.
    """
    if (
        p == 2
        and x1.ndim >= 1
        and x1.shape == x2.shape
        and x1.dtype == x2.dtype
        and jnp.issubdtype(x1.dtype, jnp.floating)
    ):
        norm = _euclidean_distance(x1, x2, eps)
        return norm if keepdim else lax.squeeze(norm, (norm.ndim - 1,))
    shape = jnp.broadcast_shapes(x1.shape, x2.shape)
    diff = jnp.broadcast_to(x1, shape) - jnp.broadcast_to(x2, shape) + eps  # eps inside, as torch
    if (
        diff.ndim == 0
    ):  # torch reduces a 0-d tensor over dim -1 to its absolute value, keepdim or not
        return _last_axis_norm(diff[None], p, False)
    return _last_axis_norm(diff, p, keepdim)


def _cosine_similarity(x1: jax.Array, x2: jax.Array, axis: int, eps: float) -> jax.Array:
    """torch's ``cosine_similarity``: ``sum(x1 / max(|x1|, eps) * x2 / max(|x2|, eps))`` on axis.

    Each norm is clamped separately (not their product) and the clamp passes no gradient, as in
    torch 2.13. ``x1``/``x2`` must broadcast; ``axis`` indexes the broadcast shape (a 0-d pair is
    treated as length 1).
    """
    shape = jnp.broadcast_shapes(x1.shape, x2.shape)
    x1, x2 = jnp.broadcast_to(x1, shape), jnp.broadcast_to(x2, shape)
    if x1.ndim == 0:
        x1, x2, axis = x1[None], x2[None], 0
    x1, x2 = jnp.moveaxis(x1, axis, -1), jnp.moveaxis(x2, axis, -1)
    # On a length-1 axis the 2-norm is |x|; torch computes it so, without squaring (no overflow at 1e30
    # in float32), and the 1-norm has the same value and, under torch's conventions, the same gradient.
    p = 1 if x1.shape[-1] == 1 else 2
    n1 = _clamp_min_straight_through(_last_axis_norm(x1, p, True), eps)
    n2 = _clamp_min_straight_through(_last_axis_norm(x2, p, True), eps)
    return jnp.sum((x1 / n1) * (x2 / n2), axis=-1)  # normalise first, as torch: |result| <= 1
