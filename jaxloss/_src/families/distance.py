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

import jax
import jax.numpy as jnp
import numpy as np

from jaxloss._src.core import optax_conventions as OX
from jaxloss._src.core import validation as V
from jaxloss._src.core.norms import _cosine_similarity, _pairwise_distance
from jaxloss._src.core.registry import fill_docs, register


def _pair_example(rng: np.random.Generator):
    return (rng.standard_normal((4, 3)), rng.standard_normal((4, 3))), {}


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


# ----------------------------------------------------------------------------------------- optax faces
# jaxloss.optax_losses binds each optax_<name> below as <name>.


def _optax_cosine_similarity(a: jax.Array, b: jax.Array, epsilon, axis, where) -> jax.Array:
    """optax's cosine similarity: each vector over ``sqrt(max(||v||^2, epsilon))``, then their dot product.

    Unlike torch's kernel (:func:`jaxloss._src.core.norms._cosine_similarity`), ``epsilon`` bounds the *squared*
    norm and the clip passes no gradient below it, as in optax. A squared norm that is still ``0`` after the
    clip (a zero vector, or a fully masked one, with ``epsilon=0``) is divided by ``1`` instead of ``0``: the
    vector stays ``0``, so the similarity is ``0`` and its gradient finite (optax gives ``nan``).
    """
    a_norm2 = jnp.sum(jnp.square(a), axis=axis, where=where, keepdims=True)
    b_norm2 = jnp.sum(jnp.square(b), axis=axis, where=where, keepdims=True)

    def unit(v, norm2):
        clipped = jnp.clip(norm2, epsilon)
        # double where: no sqrt(0) in the value or the gradient
        safe = jnp.where(clipped > 0, clipped, 1)
        return v / jnp.sqrt(safe)

    return jnp.sum(unit(a, a_norm2) * unit(b, b_norm2), axis=axis, where=where)


_OPTAX_VECTOR_ARGS = """predictions: vectors of shape ``(*B, D)``.
      targets: vectors of the same shape.
      epsilon: lower bound on each *squared* norm.
      axis: axis or axes of the vectors.
      where: elements to include."""


@OX.register("cosine_similarity", family="distance", example=OX.ex_pair, diff=(0, 1))
def optax_cosine_similarity(predictions, targets, *, epsilon=0.0, axis=-1, where=None):
    """Cosine similarity between predictions and targets over ``axis``.

    .. math::

        s = \\frac{a}{\\sqrt{\\max(\\|a\\|^2, \\epsilon)}}
        \\cdot \\frac{b}{\\sqrt{\\max(\\|b\\|^2, \\epsilon)}}

    Args:
      {vector_args}

    Returns:
      Similarities of shape ``(*B,)``. A zero (or fully masked) vector with ``epsilon=0`` gives ``0``
      with a finite gradient, where optax gives ``nan``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import cosine_similarity
      >>> print(cosine_similarity(jnp.array([[3.0, 4.0], [0.0, 0.0]]), jnp.array([[3.0, 4.0], [1.0, 0.0]])))
      [1. 0.]

    Reference: optax.losses.cosine_similarity (optax 0.2.8).
    """
    name = "cosine_similarity"
    predictions = V.as_float(name, "predictions", predictions)
    targets = V.as_float(name, "targets", targets)
    predictions, targets = OX.broadcast_all(predictions, targets)
    where = OX.broadcast_where(where, predictions.shape)
    return _optax_cosine_similarity(predictions, targets, epsilon, axis, where)


@OX.register("cosine_distance", family="distance", example=OX.ex_pair, diff=(0, 1))
def optax_cosine_distance(predictions, targets, *, epsilon=0.0, axis=-1, where=None):
    """Cosine distance ``1 - cos(angle)`` between predictions and targets over ``axis``.

    .. math::

        d = 1 - \\frac{a}{\\sqrt{\\max(\\|a\\|^2, \\epsilon)}}
        \\cdot \\frac{b}{\\sqrt{\\max(\\|b\\|^2, \\epsilon)}}

    Args:
      {vector_args}

    Returns:
      Distances of shape ``(*B,)``; ``1`` for a zero vector with ``epsilon=0`` (optax: ``nan``).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import cosine_distance
      >>> print(cosine_distance(jnp.array([[1.0, 0.0]]), jnp.array([[0.0, 2.0]])))
      [1.]

    Reference: optax.losses.cosine_distance (optax 0.2.8).
    """
    return 1.0 - optax_cosine_similarity(
        predictions, targets, epsilon=epsilon, axis=axis, where=where
    )


fill_docs(
    (optax_cosine_similarity, optax_cosine_distance),
    vector_args=_OPTAX_VECTOR_ARGS,
)
