"""Learning-to-rank losses, rax-style: ``scores`` and ``labels`` of shape ``(..., L)``.

Shape legend: ``L`` is the list size (the last axis); ``...`` are any number of batch axes, one list each.
Every loss takes an optional boolean ``where`` mask of the same shape (``False`` items are ignored) and a
``reduction``. Semantics and numbers follow rax 0.4 (``rax.softmax_loss``, ``rax.pairwise_hinge_loss``,
``rax.pairwise_logistic_loss``, ``rax.listmle_loss`` and ``rax.approx_t12n(rax.ndcg_metric)``) with its
default ``reduce_fn=jnp.mean``. A fully masked list gives 0 with zero (finite) gradients.

Private kernels that other faces reuse:

* :func:`_listwise_softmax` ``(scores, labels, where, weights=None) -> (...,)`` per-list softmax loss
  (``optax.losses.ranking_softmax_loss`` with ``reduce_fn=None``);
* :func:`_pairwise` ``(scores, labels, where, weights, pair_fn) -> (losses, valid)`` of shape ``(..., L, L)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxloss import _reduction as R
from jaxloss import _validation as V
from jaxloss._registry import register


def _ranking_example(rng: np.random.Generator):
    return (rng.standard_normal((3, 5)), rng.integers(0, 3, (3, 5)).astype(np.float64)), {}


# ----------------------------------------------------------------------------------------------------------
# Argument handling and reductions.


def _prepare(name: str, scores, labels, where, weights=None):
    """Convert and check ``(..., L)`` inputs; returns compute-dtype arrays, the mask and the output dtype."""
    scores = V.as_float(name, "scores", scores)
    labels = V.as_array(name, "labels", labels)
    if scores.ndim < 1:
        raise ValueError(f"{name}: scores must have shape (..., L) (at least 1-D); got a scalar")
    V.check_same_shape(name, "labels", labels, "scores", scores)
    out_dtype = jnp.dtype(scores.dtype)
    cdt = V.compute_dtype(out_dtype)
    if where is not None:
        where = V.as_array(name, "where", where)
        V.check_same_shape(name, "where", where, "scores", scores)
        if where.dtype != jnp.bool_:
            raise TypeError(f"{name}: where must be a boolean array; got dtype {where.dtype}")
    if weights is not None:
        weights = V.as_array(name, "weights", weights)
        V.check_same_shape(name, "weights", weights, "scores", scores)
        weights = weights.astype(cdt)
    return scores.astype(cdt), labels.astype(cdt), where, weights, out_dtype


def _reduce_lists(
    values: jax.Array, where: jax.Array | None, reduction: str, out_dtype
) -> jax.Array:
    """Per-list values: ``'mean'`` over the lists with at least one valid item (0 if none), as rax."""
    list_valid = None if where is None else jnp.any(where, axis=-1)
    if reduction == "mean":
        return R.masked_mean(values, list_valid).astype(out_dtype)
    return R.reduce(values, reduction).astype(out_dtype)


# ----------------------------------------------------------------------------------------------------------
# Kernels.


@jax.jit  # one compiled program per shape, also when called eagerly
def _listwise_softmax(
    scores: jax.Array, labels: jax.Array, where: jax.Array | None, weights: jax.Array | None = None
) -> jax.Array:
    """Per-list softmax cross-entropy ``-sum_i y_i log softmax(s)_i`` over the valid items, ``(...,)``.

    Masked items get score ``-inf`` (out of the softmax) and label 0; ``weights`` multiply the labels.
    A fully masked list gives 0 with zero gradients (its scores are replaced by zeros before the
    ``log_softmax``, so no ``-inf - (-inf)`` appears).
    """
    if where is not None:
        labels = jnp.where(where, labels, 0)
        list_valid = jnp.broadcast_to(jnp.any(where, axis=-1, keepdims=True), scores.shape)
        scores = jnp.where(where, scores, -jnp.inf)  # masked items leave the softmax
        scores = jnp.where(list_valid, scores, 0)  # double where: no nan for fully masked lists
    if weights is not None:
        labels = labels * weights
    terms = labels * jax.nn.log_softmax(scores, axis=-1)
    if where is not None:
        terms = jnp.where(where, terms, 0)  # 0 * -inf at masked items
    return -jnp.sum(terms, axis=-1)


@functools.partial(jax.jit, static_argnames=("pair_fn",))
def _pairwise(
    scores: jax.Array,
    labels: jax.Array,
    where: jax.Array | None,
    weights: jax.Array | None,
    pair_fn: Callable[[jax.Array], jax.Array],
) -> tuple[jax.Array, jax.Array]:
    """Pair losses ``pair_fn(s_i - s_j)`` for the pairs with ``y_i > y_j``, and the valid-pair mask.

    Returns ``(losses, valid)``, both ``(..., L, L)`` with pair ``(i, j)`` at ``[..., i, j]``; invalid pairs
    have loss 0. ``weights`` (per item) weigh each pair by the weight of its more relevant item ``i``.
    """
    diff = scores[..., :, None] - scores[..., None, :]
    valid = labels[..., :, None] > labels[..., None, :]
    if where is not None:
        valid = valid & where[..., :, None] & where[..., None, :]
    losses = pair_fn(diff)
    if weights is not None:
        losses = losses * jnp.broadcast_to(weights[..., :, None], losses.shape)
    return jnp.where(valid, losses, 0), valid


def _hinge(diff: jax.Array) -> jax.Array:
    return jax.nn.relu(1.0 - diff)


def _logistic(diff: jax.Array) -> jax.Array:
    return jax.nn.softplus(-diff)  # log(1 + exp(-d)), stable for large |d|


def _sort_by_labels(
    labels: jax.Array, where: jax.Array | None, *arrays: jax.Array
) -> tuple[jax.Array, ...]:
    """Sort ``arrays`` along the last axis by decreasing label, masked items last, ties in input order."""
    iota = jax.lax.broadcasted_iota(jnp.int32, labels.shape, labels.ndim - 1)
    keys = (-labels,) if where is None else (~where, -labels)
    perm = jax.lax.sort(
        (*keys, iota), dimension=labels.ndim - 1, is_stable=True, num_keys=len(keys)
    )[-1]
    return tuple(jnp.take_along_axis(a, perm, axis=-1) for a in arrays)


@jax.jit  # one compiled program when eager (cumlogsumexp is many small ops otherwise)
def _listmle(scores: jax.Array, labels: jax.Array, where: jax.Array | None) -> jax.Array:
    """Per-list ListMLE ``-sum_i [s_(i) - log sum_{k >= i} exp(s_(k))]`` (items sorted by label), ``(...,)``."""
    valid = jnp.ones(scores.shape, bool) if where is None else where
    s_sorted, valid_sorted = _sort_by_labels(labels, where, scores, valid)
    masked = jnp.where(
        valid_sorted, s_sorted, -jnp.inf
    )  # masked items sort last: out of every suffix
    lse = jax.lax.cumlogsumexp(masked, axis=scores.ndim - 1, reverse=True)
    terms = jnp.where(valid_sorted, s_sorted - jnp.where(valid_sorted, lse, 0), 0)
    return -jnp.sum(terms, axis=-1)


@functools.partial(jax.jit, static_argnames=("temperature",))
def _approx_ndcg(
    scores: jax.Array,
    labels: jax.Array,
    where: jax.Array | None,
    weights: jax.Array | None,
    temperature: float,
) -> jax.Array:
    """Per-list NDCG with the smooth ranks of Qin et al. (2010), ``(...,)`` (the loss is its negative)."""
    valid = jnp.ones(scores.shape, bool) if where is None else where
    pair_shape = scores.shape + scores.shape[-1:]
    off_diagonal = jnp.broadcast_to(~jnp.eye(scores.shape[-1], dtype=bool), pair_shape)
    pair_mask = valid[..., :, None] & valid[..., None, :] & off_diagonal
    # approximate 1-based rank of i: 1 + sum_{j != i} sigmoid((s_j - s_i) / T)
    steps = jax.nn.sigmoid((scores[..., None, :] - scores[..., :, None]) / temperature)
    ranks = 1.0 + jnp.sum(jnp.where(pair_mask, steps, 0), axis=-1)
    gains = jnp.power(2.0, labels) - 1.0
    if weights is not None:
        gains = gains * weights
    retrieved = valid & ~jnp.isneginf(scores)  # rax: items scored -inf are not retrieved
    dcg = jnp.sum(jnp.where(retrieved, gains / jnp.log2(ranks + 1.0), 0), axis=-1)
    # ideal DCG: gains sorted in decreasing order (masked items last), exact ranks 1..L
    (ideal_gains, ideal_valid) = _sort_by_labels(gains, where, gains, valid)
    positions = jax.lax.broadcasted_iota(gains.dtype, gains.shape, gains.ndim - 1) + 1.0
    ideal = jnp.sum(jnp.where(ideal_valid, ideal_gains / jnp.log2(positions + 1.0), 0), axis=-1)
    return dcg / jnp.where(ideal == 0, 1.0, ideal)


# ----------------------------------------------------------------------------------------------------------
# Public losses.

_COMMON_ARGS = """scores: ``(..., L)`` item scores (higher ranks first).
      labels: ``(..., L)`` relevance labels (any real dtype; graded or binary).
      where: optional ``(..., L)`` boolean mask; ``False`` items are ignored. A list with no valid item
        gives 0 and is left out of the ``'mean'``."""


@register(
    family="ranking",
    reference="rax.softmax_loss (rax 0.4); optax.losses.ranking_softmax_loss",
    example=_ranking_example,
)
def listwise_softmax_loss(
    scores, labels, *, where=None, weights=None, reduction: str = "mean"
) -> jax.Array:
    """Listwise softmax cross-entropy ranking loss (ListNet-style with the labels as targets).

    .. math:: \\ell(s, y) = -\\sum_i y_i \\log \\frac{e^{s_i}}{\\sum_j e^{s_j}}

    over the valid items of each list. Equals ``rax.softmax_loss`` and ``optax.losses.ranking_softmax_loss``.

    Source: Cao et al., "Learning to rank: from pairwise approach to listwise approach", ICML 2007;
    rax 0.4 ``rax.softmax_loss``.

    Args:
      {args}
      weights: optional ``(..., L)`` per-item weights multiplying the labels.
      reduction: ``'mean'`` (over the lists that have a valid item), ``'sum'`` or ``'none'`` (``(...,)``).

    Returns:
      The loss; a scalar unless ``reduction='none'``; dtype of ``scores``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._ranking import listwise_softmax_loss
      >>> round(float(listwise_softmax_loss(jnp.array([2.0, 1.0, 3.0]), jnp.array([1.0, 0.0, 0.0]))), 4)
      1.4076
    """
    name = "listwise_softmax_loss"
    R.validate_reduction(name, reduction)
    scores, labels, where, weights, out_dtype = _prepare(name, scores, labels, where, weights)
    return _reduce_lists(
        _listwise_softmax(scores, labels, where, weights), where, reduction, out_dtype
    )


def _pairwise_face(name, pair_fn, scores, labels, where, weights, reduction):
    R.validate_reduction(name, reduction)
    scores, labels, where, weights, out_dtype = _prepare(name, scores, labels, where, weights)
    losses, valid = _pairwise(scores, labels, where, weights, pair_fn)
    if reduction == "mean":
        return R.masked_mean(losses, valid).astype(out_dtype)
    return R.reduce(losses, reduction).astype(out_dtype)


_PAIRWISE_RETURNS = """reduction: ``'mean'`` (over every valid pair of every list, as rax; 0 when there is
        none), ``'sum'`` or ``'none'`` (the pair losses, ``(..., L, L)``, 0 at invalid pairs; rax flattens
        them to ``(..., L * L)``)."""


@register(
    family="ranking",
    reference="rax.pairwise_hinge_loss (rax 0.4)",
    example=_ranking_example,
    smooth=False,
)
def pairwise_hinge_loss(
    scores, labels, *, where=None, weights=None, reduction: str = "mean"
) -> jax.Array:
    """Pairwise hinge ranking loss (RankSVM).

    .. math:: \\ell_{ij} = [y_i > y_j] \\max(0, 1 - (s_i - s_j))

    Source: Herbrich, Graepel & Obermayer, "Large margin rank boundaries for ordinal regression", 2000;
    Joachims, KDD 2002; rax 0.4 ``rax.pairwise_hinge_loss``.

    Args:
      {args}
      weights: optional ``(..., L)`` per-item weights; pair ``(i, j)`` is weighted by ``weights[i]``.
      {pairwise_returns}

    Returns:
      The loss; a scalar unless ``reduction='none'``; dtype of ``scores``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._ranking import pairwise_hinge_loss
      >>> scores = jnp.array([[2.0, 1.0, 0.0], [1.0, 0.5, 1.5]])
      >>> labels = jnp.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
      >>> where = jnp.array([[True, True, False], [True, True, True]])
      >>> round(float(pairwise_hinge_loss(scores, labels, where=where)), 4)
      0.1667
    """
    return _pairwise_face("pairwise_hinge_loss", _hinge, scores, labels, where, weights, reduction)


@register(
    family="ranking", reference="rax.pairwise_logistic_loss (rax 0.4)", example=_ranking_example
)
def pairwise_logistic_loss(
    scores, labels, *, where=None, weights=None, reduction: str = "mean"
) -> jax.Array:
    """Pairwise logistic ranking loss (RankNet).

    .. math:: \\ell_{ij} = [y_i > y_j] \\log(1 + e^{-(s_i - s_j)})

    Source: Burges et al., "Learning to rank using gradient descent", ICML 2005; rax 0.4
    ``rax.pairwise_logistic_loss``.

    Args:
      {args}
      weights: optional ``(..., L)`` per-item weights; pair ``(i, j)`` is weighted by ``weights[i]``.
      {pairwise_returns}

    Returns:
      The loss; a scalar unless ``reduction='none'``; dtype of ``scores``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._ranking import pairwise_logistic_loss
      >>> round(float(pairwise_logistic_loss(jnp.array([0.0, 1.0]), jnp.array([1.0, 0.0]))), 4)
      1.3133
    """
    return _pairwise_face(
        "pairwise_logistic_loss", _logistic, scores, labels, where, weights, reduction
    )


@register(family="ranking", reference="rax.listmle_loss (rax 0.4)", example=_ranking_example)
def listmle_loss(scores, labels, *, where=None, reduction: str = "mean") -> jax.Array:
    """ListMLE: negative log-likelihood of the label order under the Plackett-Luce model of the scores.

    .. math:: \\ell(s, y) = -\\sum_i \\Big[ s_{\\pi(i)} - \\log \\sum_{k \\ge i} e^{s_{\\pi(k)}} \\Big]

    with ``pi`` the items sorted by decreasing label (valid items only). Ties between labels keep the input
    order (rax without a ``key``), so the loss is deterministic.

    Source: Xia et al., "Listwise approach to learning to rank: theory and algorithm", ICML 2008; rax 0.4
    ``rax.listmle_loss``.

    Args:
      {args}
      reduction: ``'mean'`` (over the lists that have a valid item), ``'sum'`` or ``'none'`` (``(...,)``).

    Returns:
      The loss; a scalar unless ``reduction='none'``; dtype of ``scores``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._ranking import listmle_loss
      >>> round(float(listmle_loss(jnp.array([0.0, 1.0]), jnp.array([1.0, 0.0]))), 4)
      1.3133
    """
    name = "listmle_loss"
    R.validate_reduction(name, reduction)
    scores, labels, where, _, out_dtype = _prepare(name, scores, labels, where)
    return _reduce_lists(_listmle(scores, labels, where), where, reduction, out_dtype)


@register(
    family="ranking",
    reference="-rax.approx_t12n(rax.ndcg_metric) (rax 0.4)",
    example=_ranking_example,
)
def approx_ndcg_loss(
    scores, labels, *, where=None, weights=None, temperature: float = 1.0, reduction: str = "mean"
) -> jax.Array:
    """ApproxNDCG: minus the NDCG computed with smooth (sigmoid) ranks, a differentiable ranking metric.

    .. math:: \\ell(s, y) = -\\frac{1}{\\mathrm{IDCG}(y)} \\sum_i \\frac{2^{y_i} - 1}{\\log_2(1 + \\hat r_i)},
              \\quad \\hat r_i = 1 + \\sum_{j \\ne i} \\sigma\\Big(\\frac{s_j - s_i}{T}\\Big)

    with ``IDCG`` the DCG of the ideal order (exact ranks; a list with ``IDCG = 0`` gives 0). As rax, the
    loss is ``-NDCG`` (in ``[-1, 0]``), not ``1 - NDCG``; the gradients are the same.

    Source: Qin, Liu & Li, "A general approximation framework for direct optimization of information
    retrieval measures", Information Retrieval 2010; rax 0.4 ``rax.approx_t12n(rax.ndcg_metric)``.

    Args:
      {args}
      weights: optional ``(..., L)`` per-item weights multiplying the gains (in the DCG and the ideal DCG).
      temperature: ``T`` of the sigmoid (positive; smaller is closer to the exact ranks).
      reduction: ``'mean'`` (over the lists that have a valid item), ``'sum'`` or ``'none'`` (``(...,)``).

    Returns:
      The loss; a scalar unless ``reduction='none'``; dtype of ``scores``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._ranking import approx_ndcg_loss
      >>> round(float(approx_ndcg_loss(jnp.array([-1.0, 1.0, 0.0]), jnp.array([0.0, 0.0, 1.0]))), 4)
      -0.6309
    """
    name = "approx_ndcg_loss"
    R.validate_reduction(name, reduction)
    V.check_option(
        name,
        "temperature",
        temperature,
        isinstance(temperature, (int, float)) and temperature > 0,
        "a positive number",
    )
    scores, labels, where, weights, out_dtype = _prepare(name, scores, labels, where, weights)
    values = -_approx_ndcg(scores, labels, where, weights, temperature)
    return _reduce_lists(values, where, reduction, out_dtype)


for _fn in (
    listwise_softmax_loss,
    pairwise_hinge_loss,
    pairwise_logistic_loss,
    listmle_loss,
    approx_ndcg_loss,
):
    if _fn.__doc__:  # None under python -OO
        _fn.__doc__ = _fn.__doc__.replace("{args}", _COMMON_ARGS).replace(
            "{pairwise_returns}", _PAIRWISE_RETURNS
        )
