"""Distances between embeddings: torch's ``pairwise_distance`` and ``cosine_similarity``.

The kernels :func:`_pairwise_distance` and :func:`_cosine_similarity` are reused by the margin
losses (``triplet_margin_loss``) and by the optax face
(``optax.losses.cosine_similarity``/``cosine_distance``).

Gradients follow torch's conventions exactly, including where the function has no derivative:

* the ``p``-norm's gradient is torch's ``linalg.vector_norm`` backward: ``0`` for a zero vector (not
  ``nan``), ``sign(x)`` for ``p = 1`` (``0`` at ``x = 0``), an even split among the tied extreme
  entries for ``p = +-inf``, and ``0`` everywhere for ``p = 0``;
* ``cosine_similarity`` clamps each norm to ``eps`` without letting the clamp into the gradient
  (torch clamps in place under ``no_grad``), so the gradient at a zero vector is finite and equals
  torch's.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_derivatives import SymbolicZero

from jaxloss import _validation as V
from jaxloss._compat import optimization_barrier
from jaxloss._registry import register


def _pair_example(rng: np.random.Generator):
    return (rng.standard_normal((4, 3)), rng.standard_normal((4, 3))), {}


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
    diff = x1 - x2 + eps  # eps inside, as torch
    return jnp.sqrt(jnp.sum(diff * diff, axis=-1, keepdims=True))


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
        return norm, jnp.zeros_like(norm)
    f1, f2 = optimization_barrier((x1, x2))
    zero_norm = norm == 0
    # double-where: no inf/nan leaks from the masked branch
    coeff = jnp.where(zero_norm, 0, (f1 - f2 + eps) / jnp.where(zero_norm, 1, norm))
    if t2 is None:
        t = t1
    elif t1 is None:
        t = -t2
    else:
        t = t1 - t2
    return norm, jnp.sum(coeff * t, axis=-1, keepdims=True)


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
        return norm if keepdim else jnp.squeeze(norm, -1)
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


def _as_pair(loss: str, x1, x2) -> tuple[jax.Array, jax.Array]:
    """Convert two inputs; integers are accepted (torch promotes them, the result is floating)."""
    return V.as_array(loss, "x1", x1), V.as_array(loss, "x2", x2)


def _check_p(loss: str, p) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"{loss}: p must be a real number; got {type(p).__name__}")
    return float(p)


@register(
    family="distance",
    reference="torch.nn.functional.pairwise_distance (torch 2.13)",
    torch="pairwise_distance",
    example=_pair_example,
    diff=(0, 1),
)
def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``p``-norm distance between the rows of ``x1`` and ``x2``, torch's ``pairwise_distance``.

    .. math:: d = \\Big(\\sum_k |x_{1,k} - x_{2,k} + \\epsilon|^p\\Big)^{1/p}

    taken over the last axis of the broadcast shape of ``x1`` and ``x2``. ``eps`` is added to the
    difference (not to the norm), so the distance of equal rows is ``eps * D ** (1/p)`` and its
    gradient is finite. ``p = inf`` is the largest ``|difference + eps|``, ``p = -inf`` the
    smallest, ``p = 0`` the number of non-zero entries (gradient ``0``); any other real ``p``
    (fractional or negative) uses the formula above.

    Args:
      x1: ``(*, D)`` or ``(D,)`` (or 0-d) array.
      x2: array broadcastable with ``x1``.
      p: the norm degree (Python number).
      eps: added to the difference ``x1 - x2``.
      keepdim: keep the reduced axis with size 1.

    Returns:
      The distances, shape ``(*)`` (``(*, 1)`` with ``keepdim``); 0-d for 1-D inputs. Integer inputs
      paired with floats are promoted as torch promotes them.

    The gradient follows torch's ``linalg.vector_norm`` convention (``0`` at a zero difference
    vector when ``eps = 0``, ties shared evenly for ``p = +-inf``).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import pairwise_distance
      >>> pairwise_distance(jnp.array([[0.0, 0.0]]), jnp.array([[3.0, 4.0]]), eps=0.0)
      Array([5.], dtype=float32)

    Reference: ``torch.nn.functional.pairwise_distance`` (torch 2.13, ``at::pairwise_distance``).
    """
    name = "pairwise_distance"
    p = _check_p(name, p)
    x1, x2 = _as_pair(name, x1, x2)
    # integer pairs give the default float, as eps makes them floating
    out_dtype = V.result_dtype(x1, x2)
    x1, x2 = V.broadcast_pair(name, "x1", x1, "x2", x2)
    cdt = V.compute_dtype(out_dtype)
    return _pairwise_distance(x1.astype(cdt), x2.astype(cdt), p, eps, keepdim).astype(out_dtype)


@register(
    family="distance",
    reference="torch.nn.functional.cosine_similarity (torch 2.13)",
    torch="cosine_similarity",
    example=_pair_example,
    diff=(0, 1),
)
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim``, torch's ``cosine_similarity``.

    .. math:: s = \\sum_k \\frac{x_{1,k}}{\\max(\\lVert x_1\\rVert_2, \\epsilon)}
                  \\frac{x_{2,k}}{\\max(\\lVert x_2\\rVert_2, \\epsilon)}

    Each norm is clamped to ``eps`` on its own (torch 2.13 normalises each input first, so
    ``|s| <= 1``). A zero vector gives ``0``. As in torch, the clamp does not enter the gradient: it
    is computed as if the clamped norm were ``||x||`` (whose own gradient is ``0`` at a zero
    vector), so the gradient at a zero vector is ``x_2 / (eps * max(||x_2||, eps))``, finite and
    equal to torch's.

    Args:
      x1: array.
      x2: array broadcastable with ``x1``.
      dim: axis of the broadcast shape to reduce (negative counts from the end; ``0``/``-1`` for 0-d
        inputs).
      eps: lower bound of each norm.

    Returns:
      The broadcast shape with ``dim`` removed.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import cosine_similarity
      >>> x1 = jnp.array([[1.0, 0.0], [3.0, 4.0]])
      >>> x2 = jnp.array([[2.0, 0.0], [-4.0, -3.0]])
      >>> cosine_similarity(x1, x2).round(4)
      Array([ 1.  , -0.96], dtype=float32)

    Reference: ``torch.nn.functional.cosine_similarity`` (torch 2.13, ``at::cosine_similarity``).
    """
    name = "cosine_similarity"
    x1, x2 = _as_pair(name, x1, x2)
    dtype = jnp.dtype(jnp.result_type(x1, x2))
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(
            f"{name}: x1 ({x1.dtype}) and x2 ({x2.dtype}) must promote to a floating dtype; got {dtype}"
        )
    x1, x2 = V.broadcast_pair(name, "x1", x1, "x2", x2)
    ndim = max(x1.ndim, 1)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not -ndim <= dim < ndim:
        raise ValueError(
            f"{name}: dim must be an int in [{-ndim}, {ndim - 1}] for inputs of broadcast shape "
            f"{tuple(x1.shape)}; got {dim!r}"
        )
    cdt = V.compute_dtype(dtype)
    return _cosine_similarity(x1.astype(cdt), x2.astype(cdt), int(dim), eps).astype(dtype)
