"""Learning-to-rank losses, rax-style: ``scores`` and ``labels`` of shape ``(..., L)``.

Shape legend: ``L`` is the list size (the last axis); ``...`` are any number of batch axes, one list each.
Every loss takes an optional boolean ``where`` mask of the same shape (``False`` items are ignored) and a
``reduction``. Semantics and numbers follow rax 0.4 (every ``rax.*_loss``, ``rax.softmax_loss`` as
``listwise_softmax_loss``, and ``rax.approx_t12n(rax.ndcg_metric)``) with its default ``reduce_fn=jnp.mean``
(``reduction='mean'``; ``'sum'`` is ``jnp.sum`` and ``'none'`` is ``None``). rax's ``segments`` (sub-lists
inside a list), ``weights``, ``lambdaweight_fn``, ``label_fn`` and ``gain_fn`` are keyword arguments where rax
has them (``approx_ndcg_loss`` takes no ``segments``). A fully masked list gives 0 with zero (finite)
gradients.

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

from jaxloss._src.core import optax_conventions as OX
from jaxloss._src.core import reduction as R
from jaxloss._src.core import validation as V
from jaxloss._src.core.registry import fill_docs, register


def _ranking_example(rng: np.random.Generator):
    return (rng.standard_normal((3, 5)), rng.integers(0, 3, (3, 5)).astype(np.float64)), {}


# ----------------------------------------------------------------------------------------------------------
# Argument handling and reductions.


def _prepare(name: str, reduction: str, scores, labels, where, weights=None, segments=None):
    """Check ``reduction`` and the ``(..., L)`` inputs; returns compute-dtype ``scores``, ``labels`` and
    ``weights``, the mask, the segment ids (any dtype compared with ``==``) and the output dtype."""
    R.validate_reduction(name, reduction)
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
    if segments is not None:
        segments = V.as_array(name, "segments", segments)
        V.check_same_shape(name, "segments", segments, "scores", scores)
    return scores.astype(cdt), labels.astype(cdt), where, weights, segments, out_dtype


def _same_segment(segments: jax.Array, where: jax.Array | None) -> jax.Array:
    """``(..., L, L)``: items ``i`` and ``j`` are in one segment (and both valid); rax's segment mask."""
    same = segments[..., :, None] == segments[..., None, :]
    if where is not None:
        same = same & where[..., :, None] & where[..., None, :]
    return same


def _first_in_segment(segments: jax.Array, where: jax.Array | None) -> jax.Array:
    """``(..., L)``: the first valid item of each segment (rax's ``first_item_segment_mask``)."""
    same = _same_segment(segments, where)
    return jnp.any(same & (jnp.cumsum(same, axis=-1) == 1), axis=-2)


def _segment_sum(values: jax.Array, same: jax.Array) -> jax.Array:
    """``(..., L)``: at item ``i``, the sum of ``values`` over the items ``j`` with ``same[..., i, j]``."""
    return jnp.sum(jnp.where(same, values[..., None, :], 0), axis=-1)


def _masked_lse(x: jax.Array, mask: jax.Array) -> jax.Array:
    """``log sum exp`` over the last axis where ``mask``; 0 with zero gradient for an empty row."""
    x = jnp.where(mask, x, -jnp.inf)
    shift = jnp.max(x, axis=-1, keepdims=True, initial=-jnp.inf)
    shift = jax.lax.stop_gradient(jnp.where(jnp.isfinite(shift), shift, 0))
    total = jnp.sum(jnp.where(mask, jnp.exp(x - shift), 0), axis=-1)
    selected = jnp.any(mask, axis=-1)
    return jnp.where(selected, jnp.log(jnp.where(selected, total, 1)) + shift[..., 0], 0)


def _reduce_items(
    values: jax.Array, mask: jax.Array | None, reduction: str, out_dtype
) -> jax.Array:
    """Per-item values kept where ``mask``: ``'mean'`` over ``mask`` (0 if empty), ``'sum'``, or
    ``'none'`` (``(..., L)``, 0 off ``mask``), as rax's ``safe_reduce``."""
    if reduction == "mean":
        if mask is None:  # rax: the mean of no item is 0, not nan
            mask = jnp.ones(values.shape, bool)
        return R.masked_mean(values, mask).astype(out_dtype)
    if mask is not None:
        values = jnp.where(mask, values, 0)
    return R.reduce(values, reduction).astype(out_dtype)


def _reduce_lists(
    values: jax.Array,
    where: jax.Array | None,
    segments: jax.Array | None,
    reduction: str,
    out_dtype,
) -> jax.Array:
    """Per-list values ``(...,)``: ``'mean'`` over the lists with at least one valid item (0 if none), as
    rax. With ``segments``, per-item values ``(..., L)``, each segment's counted at its first valid item."""
    if segments is not None:
        return _reduce_items(values, _first_in_segment(segments, where), reduction, out_dtype)
    list_valid = None if where is None else jnp.any(where, axis=-1)
    if reduction == "mean":
        return R.masked_mean(values, list_valid).astype(out_dtype)
    return R.reduce(values, reduction).astype(out_dtype)


# ----------------------------------------------------------------------------------------------------------
# Kernels.


@functools.partial(jax.jit, static_argnames=("label_fn",))  # one program per shape when eager
def _listwise_softmax(
    scores: jax.Array,
    labels: jax.Array,
    where: jax.Array | None,
    weights: jax.Array | None = None,
    label_fn: Callable[..., jax.Array] | None = None,
) -> jax.Array:
    """Per-list softmax cross-entropy ``-sum_i y_i log softmax(s)_i`` over the valid items, ``(...,)``.

    Masked items get score ``-inf`` (out of the softmax) and label 0; ``weights`` multiply the labels,
    then ``label_fn(labels, where=where)`` maps them (rax's ``label_fn``). A fully masked list gives 0
    with zero gradients (its scores are replaced by zeros before the ``log_softmax``, so no
    ``-inf - (-inf)`` appears).
    """
    if where is not None:
        labels = jnp.where(where, labels, 0)
        list_valid = jnp.broadcast_to(jnp.any(where, axis=-1, keepdims=True), scores.shape)
        scores = jnp.where(where, scores, -jnp.inf)  # masked items leave the softmax
        scores = jnp.where(list_valid, scores, 0)  # double where: no nan for fully masked lists
    if weights is not None:
        labels = labels * weights
    if label_fn is not None:
        labels = label_fn(labels, where=where)
    terms = labels * jax.nn.log_softmax(scores, axis=-1)
    if where is not None:
        terms = jnp.where(where, terms, 0)  # 0 * -inf at masked items
    return -jnp.sum(terms, axis=-1)


def _segment_log_softmax(scores: jax.Array, same: jax.Array) -> jax.Array:
    """``(..., L)``: ``s_i - log sum_{j ~ i} exp(s_j)`` over the items ``j`` in the segment of ``i``."""
    return scores - _masked_lse(jnp.broadcast_to(scores[..., None, :], same.shape), same)


def _masked_labels(labels, where, weights):
    if where is not None:
        labels = jnp.where(where, labels, 0)
    if weights is not None:
        labels = labels * weights
    return labels


@functools.partial(jax.jit, static_argnames=("label_fn",))
def _segmented_softmax(scores, labels, where, weights, segments, label_fn=None) -> jax.Array:
    """``(..., L)`` segment softmax cross-entropies, the segment's loss at each of its valid items."""
    same = _same_segment(segments, where)
    labels = _masked_labels(labels, where, weights)
    if label_fn is not None:
        labels = label_fn(labels, where=where)
    terms = labels * _segment_log_softmax(scores, same)
    if where is not None:
        terms = jnp.where(where, terms, 0)
    return -_segment_sum(terms, same)


def _softmax(scores, labels, where, weights, segments, label_fn=None) -> jax.Array:
    """The softmax loss per list, or with ``segments`` per segment (at each of its valid items)."""
    if segments is not None:
        return _segmented_softmax(scores, labels, where, weights, segments, label_fn)
    return _listwise_softmax(scores, labels, where, weights, label_fn)


def _normalize_labels(labels: jax.Array, valid: jax.Array, same: jax.Array | None) -> jax.Array:
    """rax's ``normalize_probabilities``: labels over their (segment) sum of valid labels; where that sum
    is 0, uniform ``1 / n_valid`` (``1 / n`` when nothing is valid)."""
    if same is None:
        total = jnp.sum(jnp.where(valid, labels, 0), axis=-1, keepdims=True)
        count = jnp.sum(valid, axis=-1, keepdims=True)
        size: int | jax.Array = valid.shape[-1]
    else:
        total = _segment_sum(labels, same & valid[..., :, None] & valid[..., None, :])
        count = _segment_sum(valid.astype(labels.dtype), same)
        size = jnp.sum(same, axis=-1)
    count = jnp.where(count == 0, size, count).astype(labels.dtype)
    nonzero = total != 0
    return jnp.where(nonzero, labels / jnp.where(nonzero, total, 1), 1 / count)


@functools.partial(jax.jit, static_argnames=("epsilon",))
def _poly1_pt(scores, labels, where, weights, segments, epsilon) -> jax.Array:
    """``epsilon * (1 - p_t)``, ``p_t = sum_i softmax(s)_i * y_i / sum(y)`` per list, or per item of a
    segment when segmented (rax's ``poly1_softmax_loss`` correction term)."""
    valid = jnp.ones(scores.shape, bool) if where is None else where
    labels = _masked_labels(labels, where, weights)
    if segments is None:
        list_valid = jnp.any(valid, axis=-1, keepdims=True)
        masked = jnp.where(valid & list_valid, scores, -jnp.inf)
        masked = jnp.where(list_valid, masked, 0)
        probs = jnp.exp(jax.nn.log_softmax(masked, axis=-1))
        normalized = _normalize_labels(labels, valid, None)
        pt = jnp.sum(jnp.where(valid, normalized * probs, 0), axis=-1)
        pt = jnp.where(list_valid[..., 0], pt, 1.0)  # as rax: a fully masked list has p_t = 1
    else:
        same_all = segments[..., :, None] == segments[..., None, :]
        same = same_all & valid[..., :, None] & valid[..., None, :]
        probs = jnp.where(valid, jnp.exp(_segment_log_softmax(scores, same)), 0)
        normalized = _normalize_labels(labels, valid, same_all)
        pt = _segment_sum(normalized * probs, same)
    return epsilon * (1.0 - pt)


def default_gain_fn(labels: jax.Array) -> jax.Array:
    """rax's default gain ``2^y - 1`` (``rax.default_gain_fn``)."""
    return jnp.power(2.0, labels) - 1.0


@functools.partial(jax.jit, static_argnames=("gain_fn",))
def _unique_softmax(scores, labels, where, weights, segments, gain_fn) -> jax.Array:
    """Per-list (``(...,)``) or per-item segment (``(..., L)``) unique-softmax losses (rax 0.4).

    Item ``i`` contributes ``-g(y_i) w_i log(e^{s_i} / (e^{s_i} + sum_{j: y_j < y_i} e^{s_j}))`` over
    the valid items ``j`` (of its segment).
    """
    valid = jnp.ones(scores.shape, bool) if where is None else where
    n = scores.shape[-1]
    rows = labels[..., None, :] < labels[..., :, None]  # [i, j]: y_j < y_i
    if segments is not None:
        rows = rows & (segments[..., :, None] == segments[..., None, :])
    rows = (rows | jnp.broadcast_to(jnp.eye(n, dtype=bool), rows.shape)) & valid[..., None, :]
    lse = _masked_lse(jnp.broadcast_to(scores[..., None, :], rows.shape), rows)
    terms = scores - lse
    if weights is not None:
        terms = terms * weights
    if gain_fn is not None:
        terms = terms * gain_fn(labels)
    terms = jnp.where(valid, terms, 0)
    if segments is None:
        return -jnp.sum(terms, axis=-1)
    return -_segment_sum(terms, _same_segment(segments, where))


@functools.partial(jax.jit, static_argnames=("pair_fn", "lambdaweight_fn"))
def _pairwise(
    scores: jax.Array,
    labels: jax.Array,
    where: jax.Array | None,
    weights: jax.Array | None,
    pair_fn: Callable[[jax.Array, jax.Array], tuple[jax.Array, jax.Array]],
    segments: jax.Array | None = None,
    lambdaweight_fn: Callable[..., jax.Array] | None = None,
) -> tuple[jax.Array, jax.Array]:
    """Pair losses ``pair_fn(s_i - s_j, y_i - y_j)`` and the valid-pair mask, rax's ``pairwise_loss``.

    ``pair_fn`` returns ``(losses, valid)`` from the score and label differences. Returns
    ``(losses, valid)``, both ``(..., L, L)`` with pair ``(i, j)`` at ``[..., i, j]``; invalid pairs have
    loss 0. Pairs need both items valid (``where``) and in one segment (``segments``). ``weights`` (per
    item) weigh each pair by the weight of its first item ``i``; ``lambdaweight_fn(scores, labels,
    where=, segments=, weights=)`` (rax's signature; ``(..., L * L)`` or ``(..., L, L)``) multiplies them.
    """
    diff = scores[..., :, None] - scores[..., None, :]
    label_diff = labels[..., :, None] - labels[..., None, :]
    losses, valid = pair_fn(diff, label_diff)
    valid = jnp.broadcast_to(valid, diff.shape)
    if where is not None:
        valid = valid & where[..., :, None] & where[..., None, :]
    if segments is not None:
        valid = valid & (segments[..., :, None] == segments[..., None, :])
    if weights is not None:
        losses = losses * jnp.broadcast_to(weights[..., :, None], losses.shape)
    if lambdaweight_fn is not None:
        lambdas = lambdaweight_fn(scores, labels, where=where, segments=segments, weights=weights)
        losses = losses * jnp.reshape(lambdas, losses.shape)
    return jnp.where(valid, losses, 0), valid


def _hinge(diff: jax.Array, label_diff: jax.Array) -> tuple[jax.Array, jax.Array]:
    return jax.nn.relu(1.0 - diff), label_diff > 0


def _logistic(diff: jax.Array, label_diff: jax.Array) -> tuple[jax.Array, jax.Array]:
    return jax.nn.softplus(-diff), label_diff > 0  # log(1 + exp(-d)), stable for large |d|


def _soft_zero_one(diff: jax.Array, label_diff: jax.Array) -> tuple[jax.Array, jax.Array]:
    # rax writes 1 - sigmoid(d) for d > 0; sigmoid(-d) is the same number without the cancellation
    return jax.nn.sigmoid(-diff), label_diff > 0


def _pair_mse(diff: jax.Array, label_diff: jax.Array) -> tuple[jax.Array, jax.Array]:
    return jnp.square(diff - label_diff), jnp.ones(diff.shape, bool)  # every pair, the diagonal too


@functools.cache  # one function per option: a stable static argument for jit
def _quantile_pair(tau: float, squared: bool):
    def pair_fn(diff: jax.Array, label_diff: jax.Array) -> tuple[jax.Array, jax.Array]:
        under = jax.nn.relu(label_diff - diff)
        over = jax.nn.relu(diff - label_diff)
        if squared:
            under, over = jnp.square(under), jnp.square(over)
        return tau * under + (1 - tau) * over, label_diff > 0

    return pair_fn


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


@jax.jit
def _segmented_listmle(scores, labels, where, segments) -> jax.Array:
    """``(..., L)`` per-segment ListMLE at each valid item of the segment.

    Item ``i``'s suffix is the valid items ``k`` of its segment ranked at or after it in the label order
    (decreasing label, ties in input order, as :func:`_sort_by_labels`): the same sums as rax's
    sort-and-segment-cumulative-logsumexp, without the permutations.
    """
    n = scores.shape[-1]
    valid = jnp.ones(scores.shape, bool) if where is None else where
    index = jnp.arange(n)
    # [i, k]: k is ranked at or after i
    later = jnp.broadcast_to(index[None, :] >= index[:, None], scores.shape + (n,))
    after = (labels[..., None, :] < labels[..., :, None]) | (
        (labels[..., None, :] == labels[..., :, None]) & later
    )
    suffix = after & _same_segment(segments, None) & valid[..., None, :]
    lse = _masked_lse(jnp.broadcast_to(scores[..., None, :], suffix.shape), suffix)
    terms = jnp.where(valid, scores - lse, 0)
    return -_segment_sum(terms, _same_segment(segments, where))


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
    scores,
    labels,
    *,
    where=None,
    weights=None,
    segments=None,
    label_fn: Callable[..., jax.Array] | None = None,
    reduction: str = "mean",
) -> jax.Array:
    """Listwise softmax cross-entropy ranking loss (ListNet-style with the labels as targets).

    .. math:: \\ell(s, y) = -\\sum_i y_i \\log \\frac{e^{s_i}}{\\sum_j e^{s_j}}

    over the valid items of each list. Equals ``rax.softmax_loss`` and ``optax.losses.ranking_softmax_loss``.

    Source: Cao et al., "Learning to rank: from pairwise approach to listwise approach", ICML 2007;
    rax 0.4 ``rax.softmax_loss``.

    Args:
      {args}
      weights: optional ``(..., L)`` per-item weights multiplying the labels.
      {segments}
      label_fn: optional ``label_fn(labels, where=where)`` applied to the (masked, weighted) labels
        before the cross-entropy (rax's ``label_fn``; e.g. a normalisation). Must be hashable (a function).
      {list_reduction}

    Returns:
      The loss; a scalar unless ``reduction='none'``; dtype of ``scores``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.ranking import listwise_softmax_loss
      >>> round(float(listwise_softmax_loss(jnp.array([2.0, 1.0, 3.0]), jnp.array([1.0, 0.0, 0.0]))), 4)
      1.4076

    Reference: rax.softmax_loss (rax 0.4); optax.losses.ranking_softmax_loss.
    """
    scores, labels, where, weights, segments, out_dtype = _prepare(
        "listwise_softmax_loss", reduction, scores, labels, where, weights, segments
    )
    values = _softmax(scores, labels, where, weights, segments, label_fn)
    return _reduce_lists(values, where, segments, reduction, out_dtype)


def _pairwise_face(
    name, pair_fn, scores, labels, where, weights, segments, lambdaweight_fn, reduction
):
    """The pairwise losses' body: ``'mean'`` over the valid pairs, or the pair losses summed/kept."""
    scores, labels, where, weights, segments, out_dtype = _prepare(
        name, reduction, scores, labels, where, weights, segments
    )
    losses, valid = _pairwise(scores, labels, where, weights, pair_fn, segments, lambdaweight_fn)
    return _reduce_items(losses, valid, reduction, out_dtype)


_SEGMENTS = """segments: optional ``(..., L)`` segment ids (rax's ``segments``): items with equal ids form
        a list of their own (softmaxes, sums and pairs stay inside a segment)."""

_LIST_REDUCTION = """reduction: ``'mean'`` (over the lists that have a valid item), ``'sum'`` or ``'none'``
        (``(...,)``). With ``segments``: ``'mean'`` over the segments that have a valid item, and ``'none'``
        gives ``(..., L)``, each segment's loss at its first valid item and 0 elsewhere (as rax)."""

_LAMBDAWEIGHT = """lambdaweight_fn: optional ``lambdaweight_fn(scores, labels, where=, segments=, weights=)``
        returning per-pair weights (``(..., L * L)`` or ``(..., L, L)``) that multiply the pair losses, rax's
        ``lambdaweight_fn`` (``rax.dcg_lambdaweight`` and the other rax lambdaweights can be passed as they
        are). Must be hashable (a function)."""

_PAIR_WEIGHTS = """weights: optional ``(..., L)`` per-item weights; pair ``(i, j)`` is weighted by ``weights[i]``."""

_PAIRWISE_REDUCTION = """reduction: ``'mean'`` (over every valid pair of every list, as rax; 0 when there is
        none), ``'sum'`` or ``'none'`` (the pair losses, ``(..., L, L)``, 0 at invalid pairs; rax flattens
        them to ``(..., L * L)``)."""

# the options every pairwise loss but pairwise_qr_loss lists in this order
_PAIRWISE = "\n      ".join((_PAIR_WEIGHTS, _SEGMENTS, _LAMBDAWEIGHT, _PAIRWISE_REDUCTION))


@register(
    family="ranking",
    reference="rax.pairwise_hinge_loss (rax 0.4)",
    example=_ranking_example,
    smooth=False,
)
def pairwise_hinge_loss(
    scores,
    labels,
    *,
    where=None,
    weights=None,
    segments=None,
    lambdaweight_fn: Callable[..., jax.Array] | None = None,
    reduction: str = "mean",
) -> jax.Array:
    """Pairwise hinge ranking loss (RankSVM).

    .. math:: \\ell_{ij} = [y_i > y_j] \\max(0, 1 - (s_i - s_j))

    Source: Herbrich, Graepel & Obermayer, "Large margin rank boundaries for ordinal regression", 2000;
    Joachims, KDD 2002; rax 0.4 ``rax.pairwise_hinge_loss``.

    Args:
      {args}
      {pairwise}

    Returns:
      The loss; a scalar unless ``reduction='none'``; dtype of ``scores``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.ranking import pairwise_hinge_loss
      >>> scores = jnp.array([[2.0, 1.0, 0.0], [1.0, 0.5, 1.5]])
      >>> labels = jnp.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
      >>> where = jnp.array([[True, True, False], [True, True, True]])
      >>> round(float(pairwise_hinge_loss(scores, labels, where=where)), 4)
      0.1667

    Reference: rax.pairwise_hinge_loss (rax 0.4).
    """
    options = (where, weights, segments, lambdaweight_fn, reduction)
    return _pairwise_face("pairwise_hinge_loss", _hinge, scores, labels, *options)


@register(
    family="ranking", reference="rax.pairwise_logistic_loss (rax 0.4)", example=_ranking_example
)
def pairwise_logistic_loss(
    scores,
    labels,
    *,
    where=None,
    weights=None,
    segments=None,
    lambdaweight_fn: Callable[..., jax.Array] | None = None,
    reduction: str = "mean",
) -> jax.Array:
    """Pairwise logistic ranking loss (RankNet).

    .. math:: \\ell_{ij} = [y_i > y_j] \\log(1 + e^{-(s_i - s_j)})

    Source: Burges et al., "Learning to rank using gradient descent", ICML 2005; rax 0.4
    ``rax.pairwise_logistic_loss``.

    Args:
      {args}
      {pairwise}

    Returns:
      The loss; a scalar unless ``reduction='none'``; dtype of ``scores``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.ranking import pairwise_logistic_loss
      >>> round(float(pairwise_logistic_loss(jnp.array([0.0, 1.0]), jnp.array([1.0, 0.0]))), 4)
      1.3133

    Reference: rax.pairwise_logistic_loss (rax 0.4).
    """
    options = (where, weights, segments, lambdaweight_fn, reduction)
    return _pairwise_face("pairwise_logistic_loss", _logistic, scores, labels, *options)


@register(family="ranking", reference="rax.listmle_loss (rax 0.4)", example=_ranking_example)
def listmle_loss(
    scores, labels, *, where=None, segments=None, reduction: str = "mean"
) -> jax.Array:
    """ListMLE: negative log-likelihood of the label order under the Plackett-Luce model of the scores.

    .. math:: \\ell(s, y) = -\\sum_i \\Big[ s_{\\pi(i)} - \\log \\sum_{k \\ge i} e^{s_{\\pi(k)}} \\Big]

    with ``pi`` the items sorted by decreasing label (valid items only). Ties between labels keep the input
    order (rax without a ``key``), so the loss is deterministic.

    Source: Xia et al., "Listwise approach to learning to rank: theory and algorithm", ICML 2008; rax 0.4
    ``rax.listmle_loss``.

    Args:
      {args}
      {segments}
      {list_reduction}

    Returns:
      The loss; a scalar unless ``reduction='none'``; dtype of ``scores``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.ranking import listmle_loss
      >>> round(float(listmle_loss(jnp.array([0.0, 1.0]), jnp.array([1.0, 0.0]))), 4)
      1.3133

    Reference: rax.listmle_loss (rax 0.4).
    """
    scores, labels, where, _, segments, out_dtype = _prepare(
        "listmle_loss", reduction, scores, labels, where, None, segments
    )
    if segments is not None:
        values = _segmented_listmle(scores, labels, where, segments)
    else:
        values = _listmle(scores, labels, where)
    return _reduce_lists(values, where, segments, reduction, out_dtype)


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
      >>> from jaxloss._src.families.ranking import approx_ndcg_loss
      >>> round(float(approx_ndcg_loss(jnp.array([-1.0, 1.0, 0.0]), jnp.array([0.0, 0.0, 1.0]))), 4)
      -0.6309

    Reference: -rax.approx_t12n(rax.ndcg_metric) (rax 0.4).
    """
    name = "approx_ndcg_loss"
    V.check_option(
        name,
        "temperature",
        temperature,
        isinstance(temperature, (int, float)) and temperature > 0,
        "a positive number",
    )
    scores, labels, where, weights, _, out_dtype = _prepare(
        name, reduction, scores, labels, where, weights
    )
    values = -_approx_ndcg(scores, labels, where, weights, temperature)
    return _reduce_lists(values, where, None, reduction, out_dtype)


@register(family="ranking", reference="rax.poly1_softmax_loss (rax 0.4)", example=_ranking_example)
def poly1_softmax_loss(
    scores,
    labels,
    *,
    where=None,
    weights=None,
    segments=None,
    epsilon: float = 1.0,
    reduction: str = "mean",
) -> jax.Array:
    """Poly-1 softmax ranking loss: the softmax cross-entropy plus ``epsilon * (1 - p_t)``.

    .. math:: \\ell(s, y) = -\\sum_i y_i \\log \\sigma(s)_i + \\epsilon \\Big(1 - \\sum_i
              \\frac{y_i}{\\sum_j y_j} \\sigma(s)_i\\Big)

    with :math:`\\sigma` the softmax over the valid items (labels that sum to 0 are replaced by the uniform
    distribution over the valid items, as rax's ``normalize_probabilities``).

    Source: Leng et al., "PolyLoss: a polynomial expansion perspective of classification loss functions",
    ICLR 2022; rax 0.4 ``rax.poly1_softmax_loss``.

    Args:
      {args}
      weights: optional ``(..., L)`` per-item weights multiplying the labels.
      {segments}
      epsilon: the coefficient of the poly-1 term (rax's default 1; 0 gives the softmax loss).
      {list_reduction}

    Returns:
      The loss; a scalar unless ``reduction='none'``; dtype of ``scores``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.ranking import poly1_softmax_loss
      >>> round(float(poly1_softmax_loss(jnp.array([2.0, 1.0, 3.0]), jnp.array([1.0, 0.0, 0.0]))), 4)
      2.1629

    Reference: rax.poly1_softmax_loss (rax 0.4).
    """
    name = "poly1_softmax_loss"
    V.check_option(
        name,
        "epsilon",
        epsilon,
        isinstance(epsilon, (int, float)) and not isinstance(epsilon, bool),
        "a number",
    )
    scores, labels, where, weights, segments, out_dtype = _prepare(
        name, reduction, scores, labels, where, weights, segments
    )
    values = _softmax(scores, labels, where, weights, segments)
    values = values + _poly1_pt(scores, labels, where, weights, segments, float(epsilon))
    return _reduce_lists(values, where, segments, reduction, out_dtype)


@register(family="ranking", reference="rax.unique_softmax_loss (rax 0.4)", example=_ranking_example)
def unique_softmax_loss(
    scores,
    labels,
    *,
    where=None,
    weights=None,
    segments=None,
    gain_fn: Callable[[jax.Array], jax.Array] | None = default_gain_fn,
    reduction: str = "mean",
) -> jax.Array:
    """Unique softmax ranking loss: each item against the items less relevant than it.

    .. math:: \\ell(s, y) = -\\sum_i g(y_i) \\log \\frac{e^{s_i}}{e^{s_i} + \\sum_{j: y_j < y_i} e^{s_j}}

    over the valid items (of one segment), with the gain :math:`g(y) = 2^y - 1` by default (so items with
    label 0 contribute nothing).

    Source: Pobrotyn & Białobrzeski / Zhu et al., "Unique softmax loss", 2023 (rax's reference,
    arXiv:2302.04947); rax 0.4 ``rax.unique_softmax_loss``.

    Args:
      {args}
      weights: optional ``(..., L)`` per-item weights multiplying item ``i``'s term.
      {segments}
      gain_fn: the gain ``g`` applied to the labels (rax's ``gain_fn``; default ``2^y - 1``, ``None`` for
        no gain). Must be hashable (a function).
      {list_reduction}

    Returns:
      The loss; a scalar unless ``reduction='none'``; dtype of ``scores``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.ranking import unique_softmax_loss
      >>> round(float(unique_softmax_loss(jnp.array([2.0, 1.0, 3.0]), jnp.array([1.0, 0.0, 2.0]))), 4)
      1.5361

    Reference: rax.unique_softmax_loss (rax 0.4).
    """
    scores, labels, where, weights, segments, out_dtype = _prepare(
        "unique_softmax_loss", reduction, scores, labels, where, weights, segments
    )
    values = _unique_softmax(scores, labels, where, weights, segments, gain_fn)
    return _reduce_lists(values, where, segments, reduction, out_dtype)


@register(
    family="ranking",
    reference="rax.pairwise_soft_zero_one_loss (rax 0.4)",
    example=_ranking_example,
)
def pairwise_soft_zero_one_loss(
    scores,
    labels,
    *,
    where=None,
    weights=None,
    segments=None,
    lambdaweight_fn: Callable[..., jax.Array] | None = None,
    reduction: str = "mean",
) -> jax.Array:
    """Pairwise soft zero-one ranking loss: a sigmoid relaxation of the count of misordered pairs.

    .. math:: \\ell_{ij} = [y_i > y_j] \\, \\sigma(-(s_i - s_j))

    Source: Yuan et al., "Ranking with soft zero-one loss" (rax's reference); rax 0.4
    ``rax.pairwise_soft_zero_one_loss`` (which writes ``1 - sigmoid(d)`` for ``d > 0``: the same number,
    computed here without the cancellation).

    Args:
      {args}
      {pairwise}

    Returns:
      The loss; a scalar unless ``reduction='none'``; dtype of ``scores``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.ranking import pairwise_soft_zero_one_loss
      >>> round(float(pairwise_soft_zero_one_loss(jnp.array([0.0, 1.0]), jnp.array([1.0, 0.0]))), 4)
      0.7311

    Reference: rax.pairwise_soft_zero_one_loss (rax 0.4).
    """
    options = (where, weights, segments, lambdaweight_fn, reduction)
    return _pairwise_face("pairwise_soft_zero_one_loss", _soft_zero_one, scores, labels, *options)


@register(family="ranking", reference="rax.pairwise_mse_loss (rax 0.4)", example=_ranking_example)
def pairwise_mse_loss(
    scores,
    labels,
    *,
    where=None,
    weights=None,
    segments=None,
    lambdaweight_fn: Callable[..., jax.Array] | None = None,
    reduction: str = "mean",
) -> jax.Array:
    """Pairwise mean squared error: score differences regressed on label differences.

    .. math:: \\ell_{ij} = \\big((s_i - s_j) - (y_i - y_j)\\big)^2

    over **every** pair of valid items, ``i = j`` included (as rax; those pairs are 0 but count in the
    ``'mean'``).

    Args:
      {args}
      {pairwise}

    Returns:
      The loss; a scalar unless ``reduction='none'``; dtype of ``scores``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.ranking import pairwise_mse_loss
      >>> round(float(pairwise_mse_loss(jnp.array([0.0, 1.0]), jnp.array([1.0, 0.0]))), 4)
      2.0

    Reference: rax.pairwise_mse_loss (rax 0.4).
    """
    options = (where, weights, segments, lambdaweight_fn, reduction)
    return _pairwise_face("pairwise_mse_loss", _pair_mse, scores, labels, *options)


@register(
    family="ranking",
    reference="rax.pairwise_qr_loss (rax 0.4)",
    example=_ranking_example,
    smooth=False,
)
def pairwise_qr_loss(
    scores,
    labels,
    *,
    where=None,
    weights=None,
    segments=None,
    tau: float = 0.5,
    squared: bool = False,
    lambdaweight_fn: Callable[..., jax.Array] | None = None,
    reduction: str = "mean",
) -> jax.Array:
    """Pairwise quantile regression loss: score differences fit to label differences at quantile ``tau``.

    .. math:: \\ell_{ij} = [y_i > y_j] \\big(\\tau\\,[\\Delta y - \\Delta s]_+
              + (1 - \\tau)\\,[\\Delta s - \\Delta y]_+\\big)

    with :math:`\\Delta s = s_i - s_j`, :math:`\\Delta y = y_i - y_j` (each hinge squared when ``squared``).

    Args:
      {args}
      {pair_weights}
      {segments}
      tau: the quantile, in ``(0, 1]`` (default 0.5).
      squared: square the two hinges.
      {lambdaweight}
      {pairwise_reduction}

    Returns:
      The loss; a scalar unless ``reduction='none'``; dtype of ``scores``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.ranking import pairwise_qr_loss
      >>> round(float(pairwise_qr_loss(jnp.array([0.0, 1.0]), jnp.array([1.0, 0.0]))), 4)
      1.0

    Reference: rax.pairwise_qr_loss (rax 0.4).
    """
    name = "pairwise_qr_loss"
    V.check_option(
        name,
        "tau",
        tau,
        isinstance(tau, (int, float)) and not isinstance(tau, bool) and 0 < tau <= 1,
        "a number in (0, 1]",
    )
    options = (where, weights, segments, lambdaweight_fn, reduction)
    return _pairwise_face(name, _quantile_pair(float(tau), bool(squared)), scores, labels, *options)


def _pointwise_face(name, kernel, scores, labels, where, weights, segments, reduction):
    # segments are checked, and unused by the pointwise losses, as in rax
    scores, labels, where, weights, _, out_dtype = _prepare(
        name, reduction, scores, labels, where, weights, segments
    )
    values = kernel(scores, labels)
    if weights is not None:
        values = values * weights
    return _reduce_items(values, where, reduction, out_dtype)


_POINTWISE_ARGS = """weights: optional ``(..., L)`` per-item weights multiplying the item losses.
      segments: accepted for a uniform signature and ignored (items are scored one by one), as rax.
      reduction: ``'mean'`` (over every valid item; 0 when none), ``'sum'`` or ``'none'`` (``(..., L)``, 0
        at masked items)."""


def _sigmoid_ce(scores: jax.Array, labels: jax.Array) -> jax.Array:
    # max(s, 0) - s y + log(1 + exp(-|s|)): the stable sigmoid cross-entropy, rax's form
    labels = jnp.clip(labels, 0.0, 1.0)
    return jax.nn.relu(scores) - scores * labels + jnp.log1p(jnp.exp(-jnp.abs(scores)))


def _square_error(scores: jax.Array, labels: jax.Array) -> jax.Array:
    return jnp.square(scores - labels)


@register(
    family="ranking", reference="rax.pointwise_sigmoid_loss (rax 0.4)", example=_ranking_example
)
def pointwise_sigmoid_loss(
    scores, labels, *, where=None, weights=None, segments=None, reduction: str = "mean"
) -> jax.Array:
    """Pointwise sigmoid cross-entropy of each item's score against its label clipped to ``[0, 1]``.

    .. math:: \\ell_i = -y_i \\log \\sigma(s_i) - (1 - y_i) \\log(1 - \\sigma(s_i)), \\quad
              y_i \\leftarrow \\min(\\max(y_i, 0), 1)

    Args:
      {args}
      {pointwise}

    Returns:
      The loss; a scalar unless ``reduction='none'``; dtype of ``scores``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.ranking import pointwise_sigmoid_loss
      >>> round(float(pointwise_sigmoid_loss(jnp.array([0.0, 2.0]), jnp.array([1.0, 0.0]))), 4)
      1.41

    Reference: rax.pointwise_sigmoid_loss (rax 0.4).
    """
    return _pointwise_face(
        "pointwise_sigmoid_loss", _sigmoid_ce, scores, labels, where, weights, segments, reduction
    )


@register(family="ranking", reference="rax.pointwise_mse_loss (rax 0.4)", example=_ranking_example)
def pointwise_mse_loss(
    scores, labels, *, where=None, weights=None, segments=None, reduction: str = "mean"
) -> jax.Array:
    """Pointwise squared error of each item's score against its label.

    .. math:: \\ell_i = (s_i - y_i)^2

    Args:
      {args}
      {pointwise}

    Returns:
      The loss; a scalar unless ``reduction='none'``; dtype of ``scores``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss._src.families.ranking import pointwise_mse_loss
      >>> round(float(pointwise_mse_loss(jnp.array([0.0, 2.0]), jnp.array([1.0, 0.0]))), 4)
      2.5

    Reference: rax.pointwise_mse_loss (rax 0.4).
    """
    return _pointwise_face(
        "pointwise_mse_loss", _square_error, scores, labels, where, weights, segments, reduction
    )


fill_docs(
    (
        listwise_softmax_loss,
        pairwise_hinge_loss,
        pairwise_logistic_loss,
        listmle_loss,
        approx_ndcg_loss,
        poly1_softmax_loss,
        unique_softmax_loss,
        pairwise_soft_zero_one_loss,
        pairwise_mse_loss,
        pairwise_qr_loss,
        pointwise_sigmoid_loss,
        pointwise_mse_loss,
    ),
    args=_COMMON_ARGS,
    pairwise=_PAIRWISE,
    pair_weights=_PAIR_WEIGHTS,
    pairwise_reduction=_PAIRWISE_REDUCTION,
    segments=_SEGMENTS,
    list_reduction=_LIST_REDUCTION,
    lambdaweight=_LAMBDAWEIGHT,
    pointwise=_POINTWISE_ARGS,
)


# ----------------------------------------------------------------------------------------- optax faces
# jaxloss.optax_losses binds each optax_<name> below as <name>.


@OX.register("ranking_softmax_loss", family="ranking", example=OX.ex_binary)
def optax_ranking_softmax_loss(logits, labels, *, where=None, weights=None, reduce_fn=jnp.mean):
    """Listwise softmax ranking loss ``-sum_i y_i log softmax(s)_i`` per list, then ``reduce_fn``.

    .. math:: \\ell = -\\sum_i y_i \\log \\operatorname{softmax}(s)_i

    Args:
      logits: scores ``(*B, L)``.
      labels: relevance labels ``(*B, L)``.
      where: valid items ``(*B, L)``; lists without a valid item are left out of the reduction.
      weights: per-item weights multiplying the labels.
      reduce_fn: ``jnp.mean`` (``0`` when no list is valid), ``jnp.sum`` or ``None`` (per-list losses,
        ``0`` for lists without a valid item).

    Returns:
      The reduced loss, or ``(*B,)`` with ``reduce_fn=None``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import ranking_softmax_loss
      >>> print(round(float(ranking_softmax_loss(jnp.array([2.0, 1.0, 3.0]), jnp.array([1.0, 0.0, 0.0]))), 3))
      1.408

    Reference: Cao et al., "Learning to Rank: From Pairwise Approach to Listwise Approach", 2007; optax.
    """
    name = "ranking_softmax_loss"
    logits = V.as_float(name, "logits", logits)
    labels = V.as_array(name, "labels", labels).astype(logits.dtype)
    logits, labels = OX.broadcast_all(logits, labels)
    where = OX.broadcast_where(where, logits.shape)
    if weights is not None:
        weights = jnp.broadcast_to(jnp.asarray(weights), labels.shape)
    # per list; 0 for a list without valid items
    loss = _listwise_softmax(logits, labels, where, weights)
    valid_lists = None if where is None else jnp.any(where, axis=-1)
    if reduce_fn is None:
        return loss
    out = reduce_fn(loss, where=valid_lists)
    if reduce_fn is jnp.mean:
        # a mean over no valid list is 0, unless the losses themselves carry a nan
        out = jnp.where(jnp.isnan(out) & ~jnp.any(jnp.isnan(loss)), 0.0, out)
    return out
