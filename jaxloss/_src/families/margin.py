"""Margin and embedding losses: torch's ``margin_ranking_loss``, ``hinge_embedding_loss``,
``cosine_embedding_loss``, ``multilabel_margin_loss``, ``multi_margin_loss``,
``triplet_margin_loss`` and ``triplet_margin_with_distance_loss``.

Hinges follow torch's two conventions at the kink, which differ between ops:

* ``clamp_min(z, 0)`` (margin ranking, hinge embedding, cosine embedding, the triplet losses) has
  derivative ``1`` at ``z = 0`` and propagates ``nan``: :func:`_clamp_min0`;
* the multi-class kernels (``multi_margin_loss``, ``multilabel_margin_loss``) only add terms with
  ``z > 0``, so their derivative at ``z = 0`` is ``0``.

Per-example kernels other faces reuse: :func:`_triplet_margin` (and
:func:`_triplet_from_distances`).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxloss._src.core import optax_conventions as OX
from jaxloss._src.core import reduction as R
from jaxloss._src.core import validation as V
from jaxloss._src.core.norms import _pairwise_distance
from jaxloss._src.core.numerics import lax_apply, select
from jaxloss._src.core.registry import register

# torch's EPSILON (added to each squared norm in cosine_embedding_loss) is a C++ float: 1e-12
# rounded to float32
_COSINE_EMBEDDING_EPS = float(np.float32(1e-12))


# --------------------------------------------------------------------------------------------------------
# kernels


@jax.custom_jvp
def _clamp_min0(z: jax.Array) -> jax.Array:
    """torch's ``clamp_min(z, 0)``: ``nan`` stays ``nan``; derivative ``[z >= 0]``, as torch's.

    The derivative is ``1`` at the kink ``z = 0`` and ``0`` at ``nan`` (torch's backward). In the clamped
    region the tangent is ``t * 0`` (not a literal ``0``), so forward mode agrees with reverse mode on non-finite
    inputs: where an ``inf`` input makes a tangent infinite inside the clamped region, both give
    ``0 * inf = nan``, as torch's backward does (``jvp == vjp`` on torch's reference inputs).
    """
    return select(lax_apply(lax.lt, z, 0), 0, z)


@_clamp_min0.defjvp
def _clamp_min0_jvp(primals, tangents):
    (z,), (t,) = primals, tangents
    # t * 0, not a literal 0: nan where t is not finite (XLA rewrites ``indicator * t`` into a select)
    value = select(lax_apply(lax.lt, z, 0), 0, z)
    return value, select(lax_apply(lax.ge, z, 0), t, lax_apply(lax.mul, t, 0))


def _positive_part(z: jax.Array) -> jax.Array:
    """``z`` where ``z > 0`` else ``0`` (torch's multi-class kernels): derivative 0 at z = 0."""
    return jnp.where(z > 0, z, jnp.zeros_like(z))


def _margin_ranking(input1, input2, target, margin: float) -> jax.Array:
    """Elementwise ``max(0, -y * (x1 - x2) + margin)``."""
    return _clamp_min0(-target * (input1 - input2) + margin)


def _hinge_embedding(input, target, margin: float) -> jax.Array:
    """Elementwise, exactly as torch: ``[y != 1] max(0, margin - x) + [y != -1] x``.

    A target other than ``1`` and ``-1`` therefore gets both terms.
    """
    zeros = jnp.zeros_like(input)
    return jnp.where(target != 1, _clamp_min0(margin - input), zeros) + jnp.where(
        target != -1, input, zeros
    )


def _cosine_embedding(input1, input2, target, margin: float) -> jax.Array:
    """Per example (last axis): ``1 - cos`` (y = 1), ``max(0, cos - margin)`` (y = -1), else 0.

    ``cos = <x1, x2> / sqrt((|x1|^2 + eps) (|x2|^2 + eps))`` with torch's ``eps = float32(1e-12)``
    (finite at zero vectors).
    """
    prod_sum = jnp.sum(input1 * input2, axis=-1)
    mag_square1 = jnp.sum(input1 * input1, axis=-1) + _COSINE_EMBEDDING_EPS
    mag_square2 = jnp.sum(input2 * input2, axis=-1) + _COSINE_EMBEDDING_EPS
    cos = prod_sum / jnp.sqrt(mag_square1 * mag_square2)
    zeros = jnp.zeros_like(cos)
    return jnp.where(target == 1, 1 - cos, zeros) + jnp.where(
        target == -1, _clamp_min0(cos - margin), zeros
    )


def _multilabel_margin(input: jax.Array, target: jax.Array) -> jax.Array:
    """Per example over the last axis ``C``: ``sum_{i, j} max(0, 1 - (x[y_i] - x[j])) / C``.

    ``i`` runs over the target positions before the first negative entry (a repeated class counts
    each time it appears, as in torch) and ``j`` over the classes that are not among those targets.
    """
    num_classes = input.shape[-1]
    valid = jnp.cumsum(target < 0, axis=-1) == 0  # positions before the first -1
    # clipped so that indices stay in range even where the data check is skipped (plain jit)
    index = jnp.clip(jnp.where(valid, target, 0), 0, num_classes - 1)
    classes = jnp.arange(num_classes).reshape((1,) * index.ndim + (num_classes,))
    hits = (index[..., :, None] == classes) & valid[..., :, None]  # (..., position, class)
    is_target = jnp.any(hits, axis=-2)
    input_target = jnp.take_along_axis(input, index, axis=-1)
    z = 1 - input_target[..., :, None] + input[..., None, :]
    mask = valid[..., :, None] & ~is_target[..., None, :]
    return jnp.sum(jnp.where(mask, _positive_part(z), 0), axis=(-2, -1)) / num_classes


def _multi_margin(input: jax.Array, target: jax.Array, p: int, margin: float, weight) -> jax.Array:
    """Per example (last axis ``C``): ``sum_{j != y} w_y max(0, margin - x[y] + x[j])^p / C``."""
    num_classes = input.shape[-1]
    index = jnp.clip(target, 0, num_classes - 1)  # in range even unchecked under jit
    input_target = jnp.take_along_axis(input, index[..., None], axis=-1)
    h = _positive_part(margin - input_target + input)
    if p == 2:
        h = h * h
    if weight is not None:
        h = h * weight[index][..., None]  # weight of the target class, applied after the power
    others = jnp.arange(num_classes).reshape((1,) * index.ndim + (num_classes,)) != index[..., None]
    return jnp.sum(jnp.where(others, h, 0), axis=-1) / num_classes


def _triplet_from_distances(dist_pos, dist_neg, dist_swap, margin: float) -> jax.Array:
    """``max(0, margin + d(a, p) - d(a, n))``; swap uses ``min(d(a, n), d(p, n))`` for d(a, n).

    ``dist_swap`` is ``None`` without swap; ``jnp.minimum`` shares the gradient at ties as
    ``torch.min`` does.
    """
    if dist_swap is not None:
        dist_neg = jnp.minimum(dist_neg, dist_swap)
    # lax, not jnp: on a first call's path (see numerics.lax_apply); the margin in the distances' dtype, as
    # torch takes a number
    shifted = lax_apply(lax.add, jnp.asarray(margin, dist_pos.dtype), dist_pos)
    return _clamp_min0(lax_apply(lax.sub, shifted, dist_neg))


def _triplet_margin(
    anchor, positive, negative, margin: float, p: float, eps: float, swap: bool
) -> jax.Array:
    """Per-example triplet margin loss on torch's ``pairwise_distance`` (eps in the difference)."""
    dist_pos = _pairwise_distance(anchor, positive, p, eps, False)
    dist_neg = _pairwise_distance(anchor, negative, p, eps, False)
    dist_swap = _pairwise_distance(positive, negative, p, eps, False) if swap else None
    return _triplet_from_distances(dist_pos, dist_neg, dist_swap, margin)


# --------------------------------------------------------------------------------------------------------
# shared argument handling


def _broadcast(loss: str, **arrays: jax.Array) -> list[jax.Array]:
    """Broadcast named arrays together (torch-style); errors name each argument and its shape."""
    try:
        shape = jnp.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError as err:
        shapes = ", ".join(f"{k} of shape {tuple(a.shape)}" for k, a in arrays.items())
        raise ValueError(f"{loss}: {shapes} do not broadcast") from err
    return [jnp.broadcast_to(a, shape) for a in arrays.values()]


def _check_same_ndim(loss: str, **arrays: jax.Array) -> None:
    ndims = {a.ndim for a in arrays.values()}
    if len(ndims) > 1:
        got = ", ".join(f"{k} {a.ndim}-D {tuple(a.shape)}" for k, a in arrays.items())
        raise ValueError(
            f"{loss}: {', '.join(arrays)} must have the same number of dimensions; got {got}"
        )


def _check_margin_positive(loss: str, margin) -> None:
    V.check_option(loss, "margin", margin, margin > 0, "greater than 0")


def _as_number_array(loss: str, name: str, x) -> jax.Array:
    """A target of +-1 labels: any real dtype (torch accepts integer and floating targets)."""
    arr = V.as_array(loss, name, x)
    if not (jnp.issubdtype(arr.dtype, jnp.number) or arr.dtype == jnp.bool_):
        raise TypeError(f"{loss}: {name} must have a numeric dtype; got {arr.dtype}")
    return arr


def _classes_input(loss: str, input, target):
    """Checks shared by the multi-class margin losses: input 0-D, ``(C,)`` or ``(N, C)``, C > 0."""
    input = V.as_float(loss, "input", input)
    target = V.as_int(loss, "target", target)
    if input.ndim > 2 or (input.ndim >= 1 and input.shape[-1] == 0):
        raise ValueError(
            f"{loss}: input must be 0-D, (C,) or (N, C) with C > 0 (N may be 0); got shape {tuple(input.shape)}"
        )
    return input, target


def _upcast(out_dtype, *arrays):
    cdt = V.compute_dtype(out_dtype)
    return [a.astype(cdt) for a in arrays]


def _triplet_inputs(
    loss: str, reduction: str, margin, anchor, positive, negative
) -> list[jax.Array]:
    """The triplet losses' checks: ``reduction``, ``margin > 0``, three arrays of one rank."""
    R.validate_reduction(loss, reduction)
    _check_margin_positive(loss, margin)
    named = {"anchor": anchor, "positive": positive, "negative": negative}
    named = {k: V.as_array(loss, k, x) for k, x in named.items()}
    _check_same_ndim(loss, **named)
    return list(named.values())


def _common_triplets(loss: str, anchor, positive, negative) -> tuple[list[jax.Array], jnp.dtype]:
    """The triplet broadcast together and upcast, and the output dtype."""
    out_dtype = V.result_dtype(anchor, positive, negative)
    arrays = _broadcast(loss, anchor=anchor, positive=positive, negative=negative)
    return _upcast(out_dtype, *arrays), out_dtype


# --------------------------------------------------------------------------------------------------------
# examples (small valid float64 inputs for the catalogue)


def _sign_target(rng: np.random.Generator, shape) -> np.ndarray:
    return rng.choice(np.array([-1.0, 1.0]), size=shape)


def _ranking_example(rng: np.random.Generator):
    return (rng.standard_normal(5), rng.standard_normal(5), _sign_target(rng, 5)), {"margin": 0.5}


def _hinge_example(rng: np.random.Generator):
    return (rng.standard_normal((3, 4)), _sign_target(rng, (3, 4))), {}


def _cosine_embedding_example(rng: np.random.Generator):
    x1, x2 = rng.standard_normal((2, 4, 3))
    return (x1, x2, _sign_target(rng, 4)), {"margin": 0.2}


def _multilabel_example(rng: np.random.Generator):
    target = np.array([[3, 0, -1, 1, 2], [1, -1, 0, 0, 0], [-1, 2, 2, 2, 2], [0, 1, 2, 3, 4]])
    return (rng.standard_normal((4, 5)), target), {}


def _multi_margin_example(rng: np.random.Generator):
    return (rng.standard_normal((4, 5)), rng.integers(0, 5, size=4)), {
        "weight": rng.uniform(0.5, 2.0, 5)
    }


def _triplet_example(rng: np.random.Generator):
    a, p, n = rng.standard_normal((3, 4, 3))
    return (a, p, n), {"swap": True}


def _triplet_distance_example(rng: np.random.Generator):
    a, p, n = rng.standard_normal((3, 4, 3))
    return (a, p, n), {}


# --------------------------------------------------------------------------------------------------------
# public losses


@register(
    family="margin",
    reference="torch.nn.functional.margin_ranking_loss (torch 2.13)",
    torch="margin_ranking_loss",
    example=_ranking_example,
    diff=(0, 1, 2),
    smooth=False,
)
def margin_ranking_loss(
    input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"
):
    """Margin ranking loss, torch's ``margin_ranking_loss``.

    .. math:: \\ell_i = \\max(0, -y_i (x_{1,i} - x_{2,i}) + \\text{margin})

    Args:
      input1: scores, any shape.
      input2: scores with the same number of dimensions as ``input1`` (broadcast together, as
        torch).
      target: labels ``1`` (``input1`` should rank higher) or ``-1``, same number of dimensions; any
        real dtype. It enters the formula as a number, so it has a gradient, as in torch.
      margin: the margin.
      size_average: deprecated, see ``reduction`` (mapped exactly as torch maps it).
      reduce: deprecated, see ``reduction``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``.

    Returns:
      The loss; a scalar unless ``reduction='none'`` (then the broadcast shape). The derivative at
      the kink is torch's ``clamp_min`` one: ``1``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import margin_ranking_loss
      >>> x1, x2, y = jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0]), jnp.array([1.0, 1.0])
      >>> float(margin_ranking_loss(x1, x2, y, margin=0.5))
      0.75

    Reference: ``torch.nn.functional.margin_ranking_loss`` (torch 2.13).
    """
    name = "margin_ranking_loss"
    reduction = R.legacy_reduction(name, size_average, reduce, reduction)
    R.validate_reduction(name, reduction)
    input1, input2 = V.as_float_group(name, ("input1", input1), ("input2", input2))
    target = _as_number_array(name, "target", target)
    _check_same_ndim(name, input1=input1, input2=input2, target=target)
    out_dtype = V.result_dtype(input1, input2, target)
    input1, input2, target = _broadcast(name, input1=input1, input2=input2, target=target)
    input1, input2, target = _upcast(out_dtype, input1, input2, target)
    return R.reduce(_margin_ranking(input1, input2, target, margin), reduction).astype(out_dtype)


@register(
    family="margin",
    reference="torch.nn.functional.hinge_embedding_loss (torch 2.13)",
    torch="hinge_embedding_loss",
    example=_hinge_example,
    diff=(0,),
    smooth=False,
)
def hinge_embedding_loss(
    input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"
):
    """Hinge embedding loss, torch's ``hinge_embedding_loss``.

    .. math:: \\ell_i = [y_i \\ne 1] \\max(0, \\text{margin} - x_i) + [y_i \\ne -1]\\, x_i

    which is ``x`` for ``y = 1`` and ``max(0, margin - x)`` for ``y = -1``; any other label gets
    both terms, exactly as torch computes it.

    Args:
      input: distances (usually non-negative), any shape.
      target: labels ``1`` or ``-1``, broadcastable with ``input``; any real dtype (not
        differentiated).
      margin: the margin.
      size_average: deprecated, see ``reduction``.
      reduce: deprecated, see ``reduction``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``.

    Returns:
      The loss in ``input``'s dtype; a scalar unless ``reduction='none'`` (then the broadcast
      shape).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import hinge_embedding_loss
      >>> hinge_embedding_loss(jnp.array([0.3, 0.3, 2.0]), jnp.array([1, -1, -1]), reduction="none")
      Array([0.3, 0.7, 0. ], dtype=float32)

    Reference: ``torch.nn.functional.hinge_embedding_loss`` (torch 2.13).
    """
    name = "hinge_embedding_loss"
    reduction = R.legacy_reduction(name, size_average, reduce, reduction)
    R.validate_reduction(name, reduction)
    input = V.as_float(name, "input", input)
    target = _as_number_array(name, "target", target)
    out_dtype = input.dtype
    input, target = _broadcast(name, input=input, target=target)
    (input,) = _upcast(out_dtype, input)
    return R.reduce(_hinge_embedding(input, target, margin), reduction).astype(out_dtype)


@register(
    family="margin",
    reference="torch.nn.functional.cosine_embedding_loss (torch 2.13)",
    torch="cosine_embedding_loss",
    example=_cosine_embedding_example,
    diff=(0, 1),
    smooth=False,
)
def cosine_embedding_loss(
    input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"
):
    """Cosine embedding loss, torch's ``cosine_embedding_loss``.

    .. math::
        \\cos_i = \\frac{\\langle x_{1,i}, x_{2,i}\\rangle}
                        {\\sqrt{(\\lVert x_{1,i}\\rVert^2 + 10^{-12})
                                 (\\lVert x_{2,i}\\rVert^2 + 10^{-12})}},
        \\qquad
        \\ell_i = \\begin{cases} 1 - \\cos_i & y_i = 1 \\\\
                  \\max(0, \\cos_i - \\text{margin}) & y_i = -1 \\\\
                  0 & \\text{otherwise} \\end{cases}

    torch's ``1e-12`` (a float32 constant, ``9.99999996e-13``, also in float64) goes on each squared
    norm, so zero vectors give ``cos = 0`` and finite gradients.

    Args:
      input1: ``(N, D)`` embeddings, or ``(D,)`` for a single pair.
      input2: same rank as ``input1``, broadcast with it.
      target: ``(N,)`` labels ``1``/``-1`` for 2-D inputs, 0-d for 1-D inputs; any real dtype.
      margin: the margin for dissimilar pairs (torch suggests ``[0, 0.5]``).
      size_average: deprecated, see ``reduction``.
      reduce: deprecated, see ``reduction``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``.

    Returns:
      The loss; ``(N,)`` (or 0-d for 1-D inputs) with ``reduction='none'``, else a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import cosine_embedding_loss
      >>> x1 = jnp.array([[1.0, 0.0], [3.0, 4.0]])
      >>> x2 = jnp.array([[0.0, 1.0], [4.0, 3.0]])
      >>> cosine_embedding_loss(x1, x2, jnp.array([1, -1]), reduction="none")
      Array([1.  , 0.96], dtype=float32)

    Reference: ``torch.nn.functional.cosine_embedding_loss`` (torch 2.13).
    """
    name = "cosine_embedding_loss"
    reduction = R.legacy_reduction(name, size_average, reduce, reduction)
    R.validate_reduction(name, reduction)
    input1, input2 = V.as_float_group(name, ("input1", input1), ("input2", input2))
    target = _as_number_array(name, "target", target)
    if target.ndim not in (0, 1):
        raise ValueError(
            f"{name}: target must be 0-D or 1-D (multi-target is not supported); got shape {tuple(target.shape)}"
        )
    want = target.ndim + 1
    for arg, x in (("input1", input1), ("input2", input2)):
        if x.ndim != want:
            raise ValueError(
                f"{name}: a {target.ndim}-D target of shape {tuple(target.shape)} needs {want}-D input1 and "
                f"input2; got {arg} of shape {tuple(x.shape)}"
            )
    out_dtype = V.result_dtype(input1, input2)
    input1, input2 = V.broadcast_pair(name, "input1", input1, "input2", input2)
    try:
        batch = jnp.broadcast_shapes(target.shape, input1.shape[:-1])
    except ValueError as err:
        raise ValueError(
            f"{name}: target has shape {tuple(target.shape)}; it must broadcast with the batch shape "
            f"{tuple(input1.shape[:-1])} of input1 and input2"
        ) from err
    input1 = jnp.broadcast_to(input1, batch + input1.shape[-1:])
    input2 = jnp.broadcast_to(input2, batch + input2.shape[-1:])
    target = jnp.broadcast_to(target, batch)
    input1, input2 = _upcast(out_dtype, input1, input2)
    values = _cosine_embedding(input1, input2, target, margin)
    return R.reduce(values, reduction).astype(out_dtype)


@register(
    family="margin",
    reference="torch.nn.functional.multilabel_margin_loss (torch 2.13)",
    torch="multilabel_margin_loss",
    example=_multilabel_example,
    diff=(0,),
    smooth=False,
)
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss, torch's ``multilabel_margin_loss``.

    .. math::
        \\ell_n = \\sum_{i} \\sum_{j \\notin \\mathcal{Y}_n}
                  \\frac{\\max(0, 1 - (x_{n, y_{n,i}} - x_{n,j}))}{C}

    where ``y_n`` lists the target classes of sample ``n`` up to its first ``-1`` (the rest is
    ignored) and :math:`\\mathcal{Y}_n` is the set of those classes. A class listed twice counts
    twice, as in torch.
    Only terms with a positive hinge are added, so the derivative at the kink is ``0`` (torch's
    kernel).

    Args:
      input: ``(N, C)`` scores, ``(C,)`` for one sample, or 0-d (``C = 1``). ``C > 0``; ``N`` may be
        0.
      target: integer array of ``input``'s shape (a 0-d input takes a 0-d or ``(1,)`` target),
        values in ``[-1, C - 1]``.
      size_average: deprecated, see ``reduction``.
      reduce: deprecated, see ``reduction``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``.

    Returns:
      ``(N,)`` with ``reduction='none'`` (0-d for a single sample); else a scalar. An empty batch
      gives ``nan`` for ``'mean'`` (torch 2.13 returns an uninitialised value there).

    Raises:
      ValueError: a target value outside ``[-1, C - 1]``, on concrete arrays (torch's run-time
        error; see :func:`jaxloss.checked` under ``jit``, where out-of-range values are clipped
        instead).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import multilabel_margin_loss
      >>> x = jnp.array([[0.1, 0.2, 0.4, 0.8]])
      >>> y = jnp.array([[3, 0, -1, 1]])
      >>> multilabel_margin_loss(x, y)
      Array(0.85, dtype=float32)

    Reference: ``torch.nn.functional.multilabel_margin_loss`` (torch 2.13).
    """
    name = "multilabel_margin_loss"
    reduction = R.legacy_reduction(name, size_average, reduce, reduction)
    R.validate_reduction(name, reduction)
    input, target = _classes_input(name, input, target)
    num_classes = input.shape[-1] if input.ndim else 1
    if input.ndim <= 1:
        ok = target.ndim <= 1 and target.size == num_classes
    else:
        ok = target.shape == input.shape
    if not ok:
        raise ValueError(
            f"{name}: target has shape {tuple(target.shape)}; for input of shape {tuple(input.shape)} it must "
            f"have input's shape{' (or (1,))' if input.ndim == 0 else ''}"
        )
    V.data_check(
        name,
        lambda t: (t >= -1) & (t < num_classes),
        f"target values must be in [-1, {num_classes - 1}] (-1 ends each sample's targets)",
        target,
    )
    out_dtype = input.dtype
    (input,) = _upcast(out_dtype, input)
    batched = input.ndim == 2
    values = _multilabel_margin(input.reshape(-1, num_classes), target.reshape(-1, num_classes))
    if not batched:
        values = values.reshape(())
    return R.reduce(values, reduction).astype(out_dtype)


@register(
    family="margin",
    reference="torch.nn.functional.multi_margin_loss (torch 2.13)",
    torch="multi_margin_loss",
    example=_multi_margin_example,
    diff=(0,),
    smooth=False,
)
def multi_margin_loss(
    input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"
):
    """Multi-class hinge loss, torch's ``multi_margin_loss``.

    .. math::
        \\ell_n = \\frac{1}{C} \\sum_{j \\ne y_n} w_{y_n}
                  \\max(0, \\text{margin} - x_{n,y_n} + x_{n,j})^p

    The weight of the target class multiplies each term after the power. Only terms with a positive
    hinge are added, so the derivative at the kink is ``0`` (torch's kernel).

    Args:
      input: ``(N, C)`` scores, ``(C,)`` for one sample, or 0-d (``C = 1``). ``C > 0``; ``N`` may be
        0.
      target: integer class indices in ``[0, C)``: ``(N,)`` for 2-D input; 0-d or ``(1,)``
        otherwise.
      p: ``1`` or ``2``.
      margin: the margin.
      weight: optional ``(C,)`` class weights (differentiable here; torch does not differentiate
        them).
      size_average: deprecated, see ``reduction``.
      reduce: deprecated, see ``reduction``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``.

    Returns:
      ``(N,)`` with ``reduction='none'`` for 2-D input; for one sample, ``target``'s shape (0-d or
      ``(1,)``). Else a scalar; an empty batch gives ``nan`` for ``'mean'`` (torch 2.13 returns an
      uninitialised value).

    Raises:
      ValueError: ``p`` not 1 or 2, a ``weight`` that is not 1-D of size ``C``, wrong shapes; a
        class index outside ``[0, C)`` on concrete arrays (see :func:`jaxloss.checked` under
        ``jit``, where out-of-range indices are clipped instead).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import multi_margin_loss
      >>> multi_margin_loss(jnp.array([[0.1, 0.2, 0.4, 0.8]]), jnp.array([3]))
      Array(0.325, dtype=float32)

    Reference: ``torch.nn.functional.multi_margin_loss`` (torch 2.13).
    """
    name = "multi_margin_loss"
    reduction = R.legacy_reduction(name, size_average, reduce, reduction)
    R.validate_reduction(name, reduction)
    V.check_option(name, "p", p, not isinstance(p, bool) and p in (1, 2), "1 or 2")
    input, target = _classes_input(name, input, target)
    num_classes = input.shape[-1] if input.ndim else 1
    if weight is not None:
        weight = V.as_float(name, "weight", weight)
        if weight.ndim != 1:
            raise ValueError(
                f"{name}: weight must be one-dimensional; got shape {tuple(weight.shape)}"
            )
        if weight.shape[0] != num_classes:
            raise ValueError(
                f"{name}: weight has shape {tuple(weight.shape)}; for input of shape {tuple(input.shape)} it "
                f"must be ({num_classes},)"
            )
    if input.ndim == 2:
        ok, want = target.shape == input.shape[:1], f"({input.shape[0]},)"
    else:
        ok, want = target.ndim <= 1 and target.size == 1, "() or (1,)"
    if not ok:
        raise ValueError(
            f"{name}: target has shape {tuple(target.shape)}; for input of shape {tuple(input.shape)} it must "
            f"be {want}"
        )
    V.data_check(
        name,
        lambda t: (t >= 0) & (t < num_classes),
        f"target values must be in [0, {num_classes})",
        target,
    )
    out_dtype = input.dtype
    (input,) = _upcast(out_dtype, input)
    if weight is not None:
        weight = weight.astype(input.dtype)
    values = _multi_margin(
        input.reshape(-1, num_classes), target.reshape(-1), int(p), margin, weight
    )
    values = values.reshape(target.shape if input.ndim < 2 else values.shape)
    return R.reduce(values, reduction).astype(out_dtype)


@register(
    family="margin",
    reference="torch.nn.functional.triplet_margin_loss (torch 2.13)",
    torch="triplet_margin_loss",
    example=_triplet_example,
    diff=(0, 1, 2),
    smooth=False,
)
def triplet_margin_loss(
    anchor,
    positive,
    negative,
    margin=1.0,
    p=2,
    eps=1e-6,
    swap=False,
    size_average=None,
    reduce=None,
    reduction="mean",
):
    """Triplet margin loss, torch's ``triplet_margin_loss``.

    .. math:: \\ell_i = \\max(0, \\text{margin} + d(a_i, p_i) - d(a_i, n_i)),
              \\qquad d(x, y) = \\lVert x - y + \\epsilon \\rVert_p

    ``d`` is :func:`pairwise_distance` (``eps`` added to the difference). With ``swap`` (Balntas et
    al., 2016, "Learning local feature descriptors with triplets and shallow convolutional neural
    networks"), ``d(a, n)`` is replaced by ``min(d(a, n), d(p, n))``.

    Args:
      anchor: ``(N, D)`` or ``(D,)`` embeddings (any rank: the last axis is reduced).
      positive: same number of dimensions as ``anchor`` (broadcast with it).
      negative: same number of dimensions as ``anchor``.
      margin: must be ``> 0``.
      p: the norm degree of the distance.
      eps: added to each difference.
      swap: use the distance swap.
      size_average: deprecated, see ``reduction``.
      reduce: deprecated, see ``reduction``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``.

    Returns:
      ``(N,)`` (0-d for 1-D inputs) with ``reduction='none'``, else a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import triplet_margin_loss
      >>> a, pos, neg = jnp.array([[0.0, 0.0]]), jnp.array([[0.0, 1.0]]), jnp.array([[0.0, 1.5]])
      >>> round(float(triplet_margin_loss(a, pos, neg, eps=0.0)), 4)
      0.5

    Reference: ``torch.nn.functional.triplet_margin_loss`` (torch 2.13).
    """
    name = "triplet_margin_loss"
    reduction = R.legacy_reduction(name, size_average, reduce, reduction)
    anchor, positive, negative = _triplet_inputs(
        name, reduction, margin, anchor, positive, negative
    )
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: p must be a real number; got {type(p).__name__}")
    (anchor, positive, negative), out_dtype = _common_triplets(name, anchor, positive, negative)
    values = _triplet_margin(anchor, positive, negative, margin, float(p), eps, bool(swap))
    return R.reduce(values, reduction).astype(out_dtype)


@register(
    family="margin",
    reference="torch.nn.functional.triplet_margin_with_distance_loss (torch 2.13)",
    torch="triplet_margin_with_distance_loss",
    example=_triplet_distance_example,
    diff=(0, 1, 2),
    smooth=False,
)
def triplet_margin_with_distance_loss(
    anchor,
    positive,
    negative,
    *,
    distance_function: Callable[[jax.Array, jax.Array], jax.Array] | None = None,
    margin=1.0,
    swap=False,
    reduction="mean",
):
    """Triplet margin loss with any distance, torch's ``triplet_margin_with_distance_loss``.

    .. math:: \\ell_i = \\max(0, \\text{margin} + d(a_i, p_i) - d(a_i, n_i))

    with ``d(a, n)`` replaced by ``min(d(a, n), d(p, n))`` when ``swap``.

    Args:
      anchor: embeddings; ``positive`` and ``negative`` must have the same number of dimensions.
      positive: positive examples.
      negative: negative examples.
      distance_function: any JAX-traceable ``d(x1, x2) -> array`` (e.g. ``lambda x, y: 1 -
        cosine_similarity(x, y)``); default :func:`pairwise_distance` with ``p=2, eps=1e-6``.
      margin: must be ``> 0``.
      swap: use the distance swap.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``.

    Returns:
      The per-triplet losses (the shape of the distances) with ``reduction='none'``, else a scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import triplet_margin_with_distance_loss
      >>> a, pos, neg = jnp.array([[0.0, 0.0]]), jnp.array([[0.0, 1.0]]), jnp.array([[0.0, 1.5]])
      >>> l1 = lambda x, y: jnp.sum(jnp.abs(x - y), axis=-1)
      >>> triplet_margin_with_distance_loss(a, pos, neg, distance_function=l1, margin=2.0)
      Array(1.5, dtype=float32)

    Reference: ``torch.nn.functional.triplet_margin_with_distance_loss`` (torch 2.13).
    """
    name = "triplet_margin_with_distance_loss"
    anchor, positive, negative = _triplet_inputs(
        name, reduction, margin, anchor, positive, negative
    )
    if distance_function is None:
        (anchor, positive, negative), _ = _common_triplets(name, anchor, positive, negative)

        def distance_function(x1, x2):  # torch.pairwise_distance with its defaults
            return _pairwise_distance(x1, x2, 2.0, 1e-6, False)

    elif not callable(distance_function):
        raise TypeError(
            f"{name}: distance_function must be callable or None; got {type(distance_function).__name__}"
        )
    dist_pos = jnp.asarray(distance_function(anchor, positive))
    dist_neg = jnp.asarray(distance_function(anchor, negative))
    dist_swap = jnp.asarray(distance_function(positive, negative)) if swap else None
    out_dtype = V.result_dtype(dist_pos, dist_neg)
    cdt = V.compute_dtype(out_dtype)
    dist_pos, dist_neg = dist_pos.astype(cdt), dist_neg.astype(cdt)
    if dist_swap is not None:
        dist_swap = dist_swap.astype(cdt)
    values = _triplet_from_distances(dist_pos, dist_neg, dist_swap, margin)
    return R.reduce(values, reduction).astype(out_dtype)


# ----------------------------------------------------------------------------------------- optax faces
# jaxloss.optax_losses binds each optax_<name> below as <name>.


@OX.register(
    "triplet_margin_loss",
    family="margin",
    example=lambda rng: (tuple(rng.standard_normal((3, 4, 5))), {}),
    diff=(0, 1, 2),
    smooth=False,
)
def optax_triplet_margin_loss(
    anchors, positives, negatives, axis=-1, norm_degree=2, margin=1.0, eps=1e-6
):
    """Triplet margin loss ``max(d(a, p) - d(a, n) + margin, 0)`` with ``d(x, y) = (sum |x - y|^q + eps)^(1/q)``.

    .. math::

        \\ell = \\max\\big(d(a, p) - d(a, n) + m, 0\\big),
        \\quad d(x, y) = \\Big(\\sum_i |x_i - y_i|^q + \\epsilon\\Big)^{1/q}

    Args:
      anchors: ``(B, D)``.
      positives: ``(B, D)``.
      negatives: ``(B, D)``.
      axis: the feature axis.
      norm_degree: ``q``. jaxloss takes ``|x - y|`` (a norm); optax 0.2.8 raises the signed difference to
        ``q``, which differs for odd or fractional ``q``.
      margin: the margin.
      eps: added inside the root (keeps the gradient finite at ``d = 0``).

    Returns:
      Losses of shape ``(B,)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import triplet_margin_loss
      >>> a = jnp.array([[0.0, 0.0], [1.0, 1.0]])
      >>> p = jnp.array([[0.1, 0.1], [1.1, 1.1]])
      >>> n = jnp.array([[1.0, 0.0], [0.0, 1.0]])
      >>> print(triplet_margin_loss(a, p, n).round(4))
      [0.1414 0.1414]

    Reference: Balntas et al., BMVC 2016; optax 0.2.8.
    """
    name = "triplet_margin_loss"
    anchors = V.as_float(name, "anchors", anchors)
    positives = V.as_float(name, "positives", positives)
    negatives = V.as_float(name, "negatives", negatives)

    def distance(x, y):
        return jnp.power(jnp.power(jnp.abs(x - y), norm_degree).sum(axis) + eps, 1 / norm_degree)

    return jnp.maximum(distance(anchors, positives) - distance(anchors, negatives) + margin, 0)
