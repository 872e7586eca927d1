"""Metric-learning and self-supervised losses on a batch of embeddings.

``contrastive_loss``, ``ntxent_loss``, ``info_nce_loss``, ``supervised_contrastive_loss``, ``npairs_loss``,
``arcface_loss``, ``cosface_loss``, ``circle_loss``, ``multi_similarity_loss``, and pml's pair, triplet and
proxy losses: ``lifted_structure_loss``, ``generalized_lifted_structure_loss``, ``margin_loss``, ``nca_loss``,
``proxy_nca_loss``, ``proxy_anchor_loss``, ``soft_triple_loss``, ``fast_ap_loss``, ``tuplet_margin_loss``,
``instance_loss``, ``angular_loss``, ``intra_pair_variance_loss``, ``signal_to_noise_ratio_contrastive_loss``,
``normalized_softmax_loss``, ``p2s_grad_loss``, ``threshold_consistent_margin_loss`` and
``sub_center_arcface_loss``.

pml's default miner gives every pair (and every triplet) of the batch, so none of these losses mines: pass
the pairs you want through ``labels``. Learnable tensors that pml's classes own (proxies, class weights,
SoftTriple's and sub-center ArcFace's centres, MarginLoss's ``beta``) are explicit arguments here, so
``jax.grad`` with respect to them gives pml's parameter gradients. Where pml's loss returns a value that is
already reduced (P2SGrad, threshold-consistent margin, histogram, PNP, manifold, dynamic soft margin), pml's
reducers leave it as it is, and ``reduction='mean'`` here is that value.

Shapes: ``B`` batch, ``D`` embedding size, ``C`` classes, ``M`` negative keys. Embeddings are ``(B, D)``
floats, labels ``(B,)`` integers; two rows with the same label form a positive pair (a row is never its own
pair), two rows with different labels a negative pair. Where labels are class indices (the losses with
class weights, proxies or centres), an index outside ``[0, C)`` raises ``ValueError`` on concrete arrays
unless the docstring says otherwise; under ``jit`` it selects no class, and :func:`jaxloss.checked` reports it.

Semantics follow pytorch-metric-learning 2.9 (``pml``) with its default distance and reducer unless the
docstring says otherwise; ``ntxent_loss`` follows ``optax.losses.ntxent`` and ``info_nce_loss`` the
``info-nce-pytorch`` package. Where pml's default reducer is ``AvgNonZeroReducer``, ``reduction='mean'``
averages over the strictly positive losses only (``0`` when there are none), exactly as pml does; each
docstring says which denominator its ``'mean'`` uses and what ``'none'`` returns.

Similarity matrices use ``precision=HIGHEST`` matrix products, so float32 results on GPU/TPU are full float32
(torch's default), not TF32/bfloat16. Every loss keeps finite gradients for zero-norm embeddings (they are
normalised as ``x / max(||x||, 1e-12)``, torch's ``F.normalize``) and for batches where a label has no
positive or no negative partner.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxloss._src.core import optax_conventions as OX
from jaxloss._src.core import reduction as R
from jaxloss._src.core import validation as V
from jaxloss._src.core.embeddings import paired_views
from jaxloss._src.core.numerics import _HIGHEST, _dot, _l2_normalize, _safe_sqrt
from jaxloss._src.core.registry import register

__all__ = [
    "angular_loss",
    "arcface_loss",
    "batch_all_triplet_margin_loss",
    "circle_loss",
    "contrastive_loss",
    "cosface_loss",
    "dynamic_soft_margin_loss",
    "fast_ap_loss",
    "generalized_lifted_structure_loss",
    "histogram_loss",
    "info_nce_loss",
    "instance_loss",
    "intra_pair_variance_loss",
    "large_margin_softmax_loss",
    "lifted_structure_loss",
    "manifold_loss",
    "margin_loss",
    "multi_similarity_loss",
    "nca_loss",
    "normalized_softmax_loss",
    "npairs_loss",
    "ntxent_loss",
    "p2s_grad_loss",
    "pnp_loss",
    "proxy_anchor_loss",
    "proxy_nca_loss",
    "ranked_list_loss",
    "signal_to_noise_ratio_contrastive_loss",
    "smooth_ap_loss",
    "soft_triple_loss",
    "sphereface_loss",
    "sub_center_arcface_loss",
    "supervised_contrastive_loss",
    "threshold_consistent_margin_loss",
    "tuplet_margin_loss",
    "vicreg_loss",
]

_PML = "pytorch-metric-learning 2.9"
_SOFTPLUS_THRESHOLD = 20.0  # torch.nn.Softplus(beta=1) default threshold, used by pml's CircleLoss


# ---------------------------------------------------------------------------------------------------------
# examples for the catalogue


def _labelled_example(rng: np.random.Generator):
    embeddings = rng.standard_normal((6, 4))
    labels = np.array([0, 0, 1, 1, 2, 0])
    return (embeddings, labels), {}


def _info_nce_example(rng: np.random.Generator):
    return (
        rng.standard_normal((4, 3)),
        rng.standard_normal((4, 3)),
        rng.standard_normal((5, 3)),
    ), {}


def _classifier_example(rng: np.random.Generator):
    return (rng.standard_normal((5, 4)), np.array([0, 2, 1, 2, 0]), rng.standard_normal((3, 4))), {}


# ---------------------------------------------------------------------------------------------------------
# shared pieces


def _prepare(
    loss: str,
    reduction: str,
    embeddings,
    labels,
    *,
    labels_name: str = "labels",
    in_range: bool = False,
    reductions: tuple[str, ...] = R.REDUCTIONS,
    **centres,
):
    """Check ``reduction``, ``(B, D)`` float embeddings, ``(B,)`` integer labels and the float class centres
    passed by name (``weight=``, ``proxies=``: ``(C, D)``; ``centers=``: ``(C, K, D)``); ``in_range``: labels
    must be in ``[0, C)``. Returns the arrays in the compute dtype (half precision upcast), then the result
    dtype."""
    R.validate_reduction(loss, reduction, reductions)
    embeddings = V.as_float(loss, "embeddings", embeddings)
    V.check_ndim(loss, "embeddings", embeddings, (2,))
    labels = V.as_int(loss, labels_name, labels)
    batch, size = embeddings.shape
    if labels.shape != (batch,):
        raise ValueError(
            f"{loss}: {labels_name} has shape {tuple(labels.shape)}; it must be ({batch},) (one integer "
            f"label per row of embeddings {tuple(embeddings.shape)})"
        )
    arrays = []
    for name, centre in centres.items():
        centre = V.as_float(loss, name, centre)
        ndim = 3 if name == "centers" else 2  # (C, K, D) sub-centres, else (C, D)
        V.check_ndim(loss, name, centre, (ndim,))
        if centre.shape[-1] != size:
            want = f"(C, K, {size})" if ndim == 3 else f"(C, {size})"
            raise ValueError(
                f"{loss}: {name} has shape {tuple(centre.shape)}; it must be {want} (class centres with the "
                f"embedding size of embeddings {tuple(embeddings.shape)})"
            )
        if in_range:
            _check_classes(loss, labels, centre.shape[0], labels_name)
        arrays.append(centre)
    out_dtype = V.result_dtype(embeddings, *arrays)
    cdt = V.compute_dtype(out_dtype)
    return (embeddings.astype(cdt), labels, *(a.astype(cdt) for a in arrays), out_dtype)


def _positive_int(loss: str, name: str, value) -> int:
    """An option that must be a positive Python (or NumPy) int, as a Python int."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0
    V.check_option(loss, name, value, ok, "a positive int")
    return int(value)


def _check_classes(loss: str, labels: jax.Array, classes: int, name: str = "labels") -> None:
    """Class indices must be in ``[0, classes)`` (checked on concrete arrays; see :func:`jaxloss.checked`)."""
    V.data_check(
        loss, lambda t: (t >= 0) & (t < classes), f"{name} must be in [0, {classes})", labels
    )


def _pair_masks(labels: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(positive, negative)`` boolean ``(B, B)`` masks; the diagonal is in neither."""
    same = labels[:, None] == labels[None, :]
    eye = jnp.eye(labels.shape[0], dtype=bool)
    return same & ~eye, ~same


def _masked_logsumexp(x: jax.Array, mask: jax.Array, *, add_one: bool = False) -> jax.Array:
    """Row-wise ``log(sum_{mask} exp(x))`` (``log(1 + sum ...)`` with ``add_one``); ``0`` for empty rows.

    pml's ``lmu.logsumexp``: masked entries never contribute and get a zero gradient; a row with nothing
    selected gives ``0`` with a zero (not ``nan``) gradient.
    """
    x = jnp.where(mask, x, -jnp.inf)
    shift = jnp.max(x, axis=1, keepdims=True, initial=-jnp.inf)
    if add_one:
        shift = jnp.maximum(shift, 0)  # the implicit 0 logit joins the max
    # rows with nothing selected: shift 0, not -inf
    shift = lax.stop_gradient(jnp.where(jnp.isfinite(shift), shift, 0))
    total = jnp.sum(jnp.exp(x - shift), axis=1)
    if add_one:
        total = total + jnp.exp(-shift[:, 0])
    selected = jnp.any(mask, axis=1)
    total = jnp.where(selected, total, 1)  # log(1) = 0 and a finite gradient for empty rows
    return jnp.where(selected, jnp.log(total) + shift[:, 0], 0)


def _cosine_matrix(x: jax.Array, y: jax.Array | None = None) -> jax.Array:
    """``(B, B)`` cosine similarities of L2-normalised rows (pml's ``CosineSimilarity``); ``(B, C)`` with
    the rows of ``y``."""
    unit = _l2_normalize(x)
    return _dot(unit, unit if y is None else _l2_normalize(y))


def _lp_distances(
    x: jax.Array, y: jax.Array | None = None, *, power: int = 1, normalize: bool = True
) -> jax.Array:
    """pml's default ``LpDistance(normalize_embeddings=normalize, p=2, power=power)`` matrix ``(B, B')``.

    Exact differences of the (L2-normalised) rows, torch's ``cdist`` for batches up to 25 rows (no
    ``|a|^2 + |b|^2 - 2ab`` cancellation, which loses all accuracy for near-duplicate pairs). Identical rows
    are at distance exactly 0 with a zero gradient, as in torch: XLA fuses the normalisation into the
    difference (``x_i r_i - x_j r_j`` with an FMA), which leaves ~1e-17 and would flip AvgNonZero's count.
    """
    raw_y = x if y is None else y
    xn = _l2_normalize(x) if normalize else x
    yn = xn if y is None else (_l2_normalize(y) if normalize else y)
    diff = xn[:, None, :] - yn[None, :, :]
    squared = jnp.sum(diff * diff, axis=-1)
    identical = jnp.all(x[:, None, :] == raw_y[None, :, :], axis=-1)
    squared = jnp.where(identical, 0, squared)
    return squared if power == 2 else _safe_sqrt(squared)


def _torch_softplus(x: jax.Array) -> jax.Array:
    """torch's ``Softplus(beta=1, threshold=20)``: ``x`` itself above the threshold."""
    above = x > _SOFTPLUS_THRESHOLD
    return jnp.where(above, x, jax.nn.softplus(jnp.where(above, 0, x)))


def _finish(values: jax.Array, reduction: str, mean_mask, out_dtype) -> jax.Array:
    """``'none'``: values; ``'sum'``: their sum; ``'mean'``: mean over ``mean_mask`` (a boolean array; ``True``:
    all, but 0 for no value, pml's zero loss; ``None``: the plain mean)."""
    if reduction == "none":
        out = values
    elif reduction == "sum":
        out = jnp.sum(values)
    else:
        out = R.masked_mean(values, mean_mask)
    return out.astype(out_dtype)


def _finish_parts(
    pos, pos_mask, neg, neg_mask, reduction: str, out_dtype, weights=(1, 1)
) -> jax.Array:
    """A loss made of a positive-pair and a negative-pair ``(B, B)`` part, ``weights`` ``(w+, w-)``:
    ``'mean'`` adds the weighted means of the parts over their masks (pml's reducer on each part; an empty
    part adds 0), ``'sum'`` and ``'none'`` reduce the weighted sum of the parts."""
    w_pos, w_neg = weights
    if reduction == "mean":
        out = w_pos * R.masked_mean(pos, pos_mask) + w_neg * R.masked_mean(neg, neg_mask)
        return out.astype(out_dtype)
    return _finish(w_pos * pos + w_neg * neg, reduction, None, out_dtype)


def _finish_positive_pairs(losses, positive, negative, reduction: str, out_dtype) -> jax.Array:
    """``(B, B)`` losses of the positive pairs, reduced over them (pml's ``MeanReducer``); all 0 when the
    batch has no negative pair (pml's zero loss)."""
    pairs = positive & jnp.any(negative)
    return _finish(jnp.where(pairs, losses, 0), reduction, pairs, out_dtype)


def _pair_hinges(d, labels, pos_margin, neg_margin) -> tuple[jax.Array, jax.Array]:
    """The contrastive hinges of a ``(B, B)`` distance: ``[d - m+]_+`` on the positive pairs and
    ``[m- - d]_+`` on the negative pairs, each 0 off its pairs."""
    positive, negative = _pair_masks(labels)
    pos = jnp.where(positive, jax.nn.relu(d - pos_margin), 0)
    neg = jnp.where(negative, jax.nn.relu(neg_margin - d), 0)
    return pos, neg


def _radians(degrees):
    """``(math, radians)`` for a Python number (the trigonometry stays in Python), else ``(jnp, radians)``."""
    if isinstance(degrees, float):
        return math, math.radians(degrees)
    return jnp, jnp.deg2rad(degrees)


def _onehot(labels: jax.Array, classes: int) -> jax.Array:
    """``(B, C)`` boolean one-hot of class indices (an index outside ``[0, C)`` selects nothing)."""
    return labels[:, None] == jnp.arange(classes)[None, :]


def _triplet_mask(positive: jax.Array, negative: jax.Array) -> jax.Array:
    """``(B, B, B)`` mask of the triplets ``[a, p, n]``: ``(a, p)`` a positive and ``(a, n)`` a negative pair."""
    return positive[:, :, None] & negative[:, None, :]


# ---------------------------------------------------------------------------------------------------------
# contrastive


@register(
    family="metric",
    reference=f"Hadsell et al. 2006; {_PML} ContrastiveLoss",
    example=_labelled_example,
)
def contrastive_loss(
    embeddings,
    labels,
    *,
    pos_margin=0.0,
    neg_margin=1.0,
    normalize: bool = True,
    reduction: str = "mean",
):
    """Contrastive (pair) loss over every pair of the batch, pytorch-metric-learning's ``ContrastiveLoss``.

    With :math:`d_{ij} = \\lVert \\hat x_i - \\hat x_j \\rVert_2` (``\\hat x`` the L2-normalised rows when
    ``normalize``), every positive pair ``(i, j)`` (same label, ``i != j``) and every negative pair
    (different labels) contributes

    .. math::

        \\ell^+_{ij} = \\max(0, d_{ij} - m_+), \\qquad \\ell^-_{ij} = \\max(0, m_- - d_{ij}).

    Hadsell, Chopra & LeCun, *Dimensionality Reduction by Learning an Invariant Mapping* (CVPR 2006), squared
    these hinges and halved them; pml (and this function) uses plain hinges with margins on both sides.
    Ordered pairs are used, so each unordered pair counts twice, as in pml.

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers.
      pos_margin: ``m_+``; positive pairs closer than this cost nothing (pml's ``pos_margin``, default 0).
      neg_margin: ``m_-``; negative pairs further apart than this cost nothing (pml's ``neg_margin``, 1).
      normalize: L2-normalise the rows first (pml's default ``LpDistance(normalize_embeddings=True)``);
        ``False`` uses raw Euclidean distances.
      reduction: ``'mean'`` (pml's default ``AvgNonZeroReducer`` on each part, then summed: mean of the
        non-zero positive-pair losses plus mean of the non-zero negative-pair losses; a part with no
        non-zero loss adds 0), ``'sum'`` (every pair loss summed, pml's ``SumReducer``) or ``'none'``.

    Returns:
      A scalar, or for ``'none'`` the ``(B, B)`` matrix of pair losses: ``\\ell^+_{ij}`` on positive
      pairs, ``\\ell^-_{ij}`` on negative pairs, 0 on the diagonal.

    Memory is ``O(B^2 D)``: distances are taken from exact differences, not from ``|a|^2 + |b|^2 - 2ab``
    (which loses all accuracy for near-duplicate pairs, the pairs this loss pulls together).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import contrastive_loss
      >>> x = jnp.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
      >>> round(float(contrastive_loss(x, jnp.array([0, 0, 1]))), 4)
      1.6488

    Reference: Hadsell et al. 2006; pytorch-metric-learning 2.9 ContrastiveLoss.
    """
    name = "contrastive_loss"
    pos_margin = V.hyper(name, "pos_margin", pos_margin)
    neg_margin = V.hyper(name, "neg_margin", neg_margin)
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    d = _lp_distances(embeddings, normalize=bool(normalize))
    pos, neg = _pair_hinges(d, labels, pos_margin, neg_margin)
    return _finish_parts(pos, pos > 0, neg, neg > 0, reduction, out_dtype)


# ---------------------------------------------------------------------------------------------------------
# NT-Xent (SimCLR), optax semantics


def _ntxent_pairs(
    embeddings: jax.Array, labels: jax.Array, temperature, eps
) -> tuple[jax.Array, jax.Array]:
    """Per-positive-pair NT-Xent losses as a ``(B, B)`` matrix (zero off the positive mask), and that mask.

    The arithmetic is optax's ``ntxent`` step for step (cosine with squared norms clipped at ``eps``, max
    shift over positives and negatives, ``numer - log(denom)``), so sums agree with optax to rounding
    (the similarities come from one matrix product). The only additions are guards that keep gradients
    finite (a row with neither positives nor negatives, i.e. a batch of one, has a ``-inf`` max) without
    changing any selected value.
    """
    norm2 = jnp.sum(jnp.square(embeddings), axis=-1, keepdims=True)
    unit = embeddings / jnp.sqrt(jnp.clip(norm2, eps))
    xcs = _dot(unit, unit) / temperature
    same = labels[:, None] == labels[None, :]
    matches = same & ~jnp.eye(labels.shape[0], dtype=bool)
    xcs_diffs = jnp.where(same, -jnp.inf, xcs)
    xcs_matches = jnp.where(matches, xcs, -jnp.inf)
    xcs_max = jnp.maximum(
        jnp.max(xcs_diffs, axis=1, keepdims=True, initial=-jnp.inf),
        jnp.max(xcs_matches, axis=1, keepdims=True, initial=-jnp.inf),
    )
    # a row with neither positives nor negatives: shift 0, not -inf
    xcs_max = lax.stop_gradient(jnp.where(jnp.isfinite(xcs_max), xcs_max, 0))
    numer = xcs_matches - xcs_max
    denom = jnp.sum(jnp.exp(xcs_diffs - xcs_max), axis=1, keepdims=True) + jnp.exp(numer)
    # unselected entries may be log(0) (a row without negatives); keep their gradient finite
    denom = jnp.where(matches, denom, 1)
    per_pair = -jnp.where(matches, numer - jnp.log(denom), 0)
    return per_pair, matches


def _ntxent(embeddings, labels, temperature=0.07) -> jax.Array:
    """optax's ``ntxent`` scalar: summed positive-pair losses over the number of positive pairs.

    The kernel ``jaxloss.optax_losses.ntxent`` calls; no validation (the face does it). ``nan`` when the
    batch has no positive pair, as optax.
    """
    embeddings = jnp.asarray(embeddings)
    labels = jnp.asarray(labels)
    out_dtype = embeddings.dtype
    eps = jnp.finfo(out_dtype).eps  # optax clips the squared norms at the input dtype's eps
    per_pair, matches = _ntxent_pairs(
        embeddings.astype(V.compute_dtype(out_dtype)), labels, temperature, eps
    )
    return (jnp.sum(per_pair) / jnp.sum(matches)).astype(out_dtype)


@register(
    family="metric",
    reference=f"Chen et al. 2020 (SimCLR); optax.losses.ntxent (optax 0.2.8); {_PML} NTXentLoss",
    example=_labelled_example,
)
def ntxent_loss(embeddings, labels, *, temperature=0.07, reduction: str = "mean"):
    """Normalised temperature-scaled cross entropy (NT-Xent, SimCLR), generalised to label groups.

    With cosine similarities :math:`s_{ij}` and temperature :math:`\\tau`, each positive pair ``(i, j)``
    (same label, ``i != j``) costs

    .. math::

        \\ell_{ij} = -\\log \\frac{e^{s_{ij}/\\tau}}{e^{s_{ij}/\\tau} + \\sum_{k: y_k \\ne y_i} e^{s_{ik}/\\tau}}

    (the other positives of ``i`` are not in the denominator). Chen et al., *A Simple Framework for
    Contrastive Learning of Visual Representations* (ICML 2020). ``reduction='mean'`` equals
    ``optax.losses.ntxent(embeddings, labels, temperature)`` and pml's ``NTXentLoss(temperature)`` (whose
    ``log(p + tiny)`` differs only when ``p`` underflows). Norms are clipped as optax does
    (``|x|^2 >= eps`` of the input dtype).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers; ``[0, 0, 1, 1]`` makes rows 0/1 and 2/3 the positive pairs.
      temperature: :math:`\\tau > 0` (a Python number or a scalar array, e.g. a learned one).
      reduction: ``'mean'`` over the positive pairs (``0`` with zero gradient when there is none, where
        optax gives ``nan``), ``'sum'``, or ``'none'``.

    Returns:
      A scalar, or for ``'none'`` the ``(B, B)`` matrix with :math:`\\ell_{ij}` on positive pairs and 0
      elsewhere. An anchor without positives contributes nothing; a batch with one label everywhere has
      no negatives and every :math:`\\ell_{ij} = 0`.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import ntxent_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
      >>> round(float(ntxent_loss(x, jnp.array([0, 0, 1, 1]), temperature=0.5)), 4)
      0.4302

    Reference: Chen et al. 2020 (SimCLR); optax.losses.ntxent (optax 0.2.8); pytorch-metric-learning 2.9 NTXentLoss.
    """
    name = "ntxent_loss"
    temperature = V.hyper(name, "temperature", temperature, positive=True)
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    eps = jnp.finfo(out_dtype).eps
    per_pair, matches = _ntxent_pairs(embeddings, labels, temperature, eps)
    return _finish(per_pair, reduction, matches, out_dtype)


# ---------------------------------------------------------------------------------------------------------
# InfoNCE (query / positive key / negative keys)


def _info_nce_logits(query, positive_key, negative_keys, negative_mode: str) -> jax.Array:
    """``(N, K)`` cosine logits; column 0 (or the diagonal without negatives) holds the positive."""
    q = _l2_normalize(query)
    p = _l2_normalize(positive_key)
    if negative_keys is None:
        return _dot(q, p)
    n = _l2_normalize(negative_keys)
    positive = jnp.sum(q * p, axis=-1, keepdims=True)
    if negative_mode == "unpaired":
        negative = _dot(q, n)
    else:
        negative = jnp.einsum("nd,nmd->nm", q, n, precision=_HIGHEST)
    return jnp.concatenate([positive, negative], axis=1)


@register(
    family="metric",
    reference="Oord et al. 2018 (CPC); info-nce-pytorch 0.1.4 info_nce",
    example=_info_nce_example,
    diff=(0, 1, 2),
)
def info_nce_loss(
    query,
    positive_key,
    negative_keys=None,
    *,
    temperature=0.1,
    negative_mode: str = "unpaired",
    reduction: str = "mean",
):
    """InfoNCE: cross entropy of picking each query's positive key among negatives, on cosine logits.

    .. math::

        \\ell_i = -\\log \\frac{e^{\\cos(q_i, p_i)/\\tau}}
            {e^{\\cos(q_i, p_i)/\\tau} + \\sum_{n \\in \\mathcal N_i} e^{\\cos(q_i, n)/\\tau}}

    Oord, Li & Vinyals, *Representation Learning with Contrastive Predictive Coding* (2018). Matches the
    ``info-nce-pytorch`` package (``info_nce.info_nce``, version 0.1.4) option for option: vectors are
    L2-normalised (torch's ``F.normalize``); without ``negative_keys`` the negatives of query ``i`` are the
    other queries' positive keys.

    Args:
      query: ``(N, D)`` floats.
      positive_key: ``(N, D)`` floats, the positive of each query.
      negative_keys: ``None``, ``(M, D)`` shared negatives (``negative_mode='unpaired'``) or ``(N, M, D)``
        negatives per query (``negative_mode='paired'``).
      temperature: :math:`\\tau > 0` (a Python number or a scalar array).
      negative_mode: ``'unpaired'`` or ``'paired'``, as above (ignored without ``negative_keys``).
      reduction: ``'mean'`` (over the ``N`` queries), ``'sum'`` or ``'none'``.

    Returns:
      A scalar, or the ``(N,)`` per-query losses for ``'none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import info_nce_loss
      >>> q = jnp.array([[1.0, 0.0], [0.0, 1.0]])
      >>> round(float(info_nce_loss(q, q, temperature=1.0)), 4)
      0.3133

    Reference: Oord et al. 2018 (CPC); info-nce-pytorch 0.1.4 info_nce.
    """
    name = "info_nce_loss"
    R.validate_reduction(name, reduction)
    V.check_option(
        name,
        "negative_mode",
        negative_mode,
        negative_mode in ("unpaired", "paired"),
        "'unpaired' or 'paired'",
    )
    temperature = V.hyper(name, "temperature", temperature, positive=True)
    query, positive_key, out_dtype = paired_views(
        name, "query", query, "positive_key", positive_key
    )
    if negative_keys is not None:
        negative_keys = V.as_float(name, "negative_keys", negative_keys)
        n, d = query.shape
        if negative_mode == "unpaired":
            ok = negative_keys.ndim == 2 and negative_keys.shape[1] == d
            want = f"(M, {d})"
        else:
            ok = (
                negative_keys.ndim == 3
                and negative_keys.shape[0] == n
                and negative_keys.shape[2] == d
            )
            want = f"({n}, M, {d})"
        if not ok:
            raise ValueError(
                f"{name}: negative_keys has shape {tuple(negative_keys.shape)}; with "
                f"negative_mode={negative_mode!r} and query {tuple(query.shape)} it must be {want}"
            )
        out_dtype = V.result_dtype(
            out_dtype, negative_keys
        )  # the negatives join the type promotion
        cdt = V.compute_dtype(out_dtype)
        query, positive_key, negative_keys = (
            x.astype(cdt) for x in (query, positive_key, negative_keys)
        )
    logits = _info_nce_logits(query, positive_key, negative_keys, negative_mode) / temperature
    log_probs = jax.nn.log_softmax(logits, axis=1)  # stable cross entropy
    if negative_keys is None:
        values = -jnp.diagonal(log_probs)
    else:
        values = -log_probs[:, 0]
    return _finish(values, reduction, None, out_dtype)


# ---------------------------------------------------------------------------------------------------------
# supervised contrastive


def _supcon_per_anchor(embeddings: jax.Array, labels: jax.Array, temperature) -> jax.Array:
    """``(B,)`` SupCon losses (pml's ``SupConLoss``), 0 for anchors without positives; all 0 when the
    batch has no positive or no negative pair (pml returns its zero loss then)."""
    positive, negative = _pair_masks(labels)
    mat = _cosine_matrix(embeddings) / temperature
    mat = mat - lax.stop_gradient(jnp.max(mat, axis=1, keepdims=True, initial=-jnp.inf))  # as pml
    log_prob = mat - _masked_logsumexp(mat, positive | negative)[:, None]
    pos = positive.astype(mat.dtype)
    count = jnp.sum(pos, axis=1) + jnp.finfo(mat.dtype).tiny  # pml's small_val: 0 / tiny = 0
    values = -jnp.sum(pos * log_prob, axis=1) / count
    active = jnp.any(positive) & jnp.any(negative)
    return jnp.where(active, values, 0)


@register(
    family="metric", reference=f"Khosla et al. 2020; {_PML} SupConLoss", example=_labelled_example
)
def supervised_contrastive_loss(embeddings, labels, *, temperature=0.1, reduction: str = "mean"):
    """Supervised contrastive loss (SupCon), pytorch-metric-learning's ``SupConLoss``.

    With cosine similarities :math:`s_{ij}`, :math:`P(i)` the other rows with label :math:`y_i` and
    :math:`A(i)` every row but :math:`i`:

    .. math::

        \\ell_i = -\\frac{1}{|P(i)|} \\sum_{p \\in P(i)}
            \\log \\frac{e^{s_{ip}/\\tau}}{\\sum_{a \\in A(i)} e^{s_{ia}/\\tau}}

    Khosla et al., *Supervised Contrastive Learning* (NeurIPS 2020), the :math:`\\mathcal L^{sup}_{out}`
    form.

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers.
      temperature: :math:`\\tau > 0` (pml's default 0.1; a Python number or a scalar array).
      reduction: ``'mean'`` (pml's default ``AvgNonZeroReducer``: the mean over anchors whose loss is
        > 0, i.e. anchors that have positives; 0 when none), ``'sum'`` or ``'none'``.

    Returns:
      A scalar, or the ``(B,)`` per-anchor losses for ``'none'``: 0 for an anchor without positives. As in
      pml, every loss is 0 (with zero gradient) when the batch has no positive pair or no negative pair
      (one label everywhere).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import supervised_contrastive_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
      >>> round(float(supervised_contrastive_loss(x, jnp.array([0, 0, 1]), temperature=1.0)), 4)
      0.4846

    Reference: Khosla et al. 2020; pytorch-metric-learning 2.9 SupConLoss.
    """
    name = "supervised_contrastive_loss"
    temperature = V.hyper(name, "temperature", temperature, positive=True)
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    values = _supcon_per_anchor(embeddings, labels, temperature)
    return _finish(values, reduction, values > 0, out_dtype)


# ---------------------------------------------------------------------------------------------------------
# N-pairs


def _npairs_per_anchor(embeddings: jax.Array, labels: jax.Array, normalize: bool):
    """``(B,)`` N-pair losses at the anchors, 0 elsewhere, and the anchor mask.

    Each label with two or more rows gives one tuple, as pml: its first row is the anchor and its second
    row the positive; the positives of the other labels are the anchor's negatives.
    """
    batch = labels.shape[0]
    if batch == 0:  # argmax has nothing to look at
        return jnp.zeros((0,), embeddings.dtype), jnp.zeros((0,), bool)
    index = jnp.arange(batch)
    same = labels[:, None] == labels[None, :]
    first = jnp.argmax(same, axis=1)  # first row with my label
    later = same & (index[None, :] > first[:, None])
    second = jnp.argmax(later, axis=1)  # second row with my label (garbage when there is none)
    is_anchor = (index == first) & jnp.any(later, axis=1)
    x = _l2_normalize(embeddings) if normalize else embeddings
    logits = _dot(x, x[second])  # logits[i, k] = <anchor i, positive of anchor k>
    cols = jnp.broadcast_to(is_anchor[None, :], (batch, batch))
    values = _masked_logsumexp(logits, cols) - jnp.diagonal(logits)
    return jnp.where(is_anchor, values, 0), is_anchor


@register(family="metric", reference=f"Sohn 2016; {_PML} NPairsLoss", example=_labelled_example)
def npairs_loss(embeddings, labels, *, normalize: bool = True, reduction: str = "mean"):
    """Multi-class N-pair loss, pytorch-metric-learning's ``NPairsLoss``.

    From each label that has at least two rows, the first row is an anchor :math:`a_k` and the second its
    positive :math:`p_k`; the other labels' positives are its negatives:

    .. math::

        \\ell_k = -\\log \\frac{e^{\\langle a_k, p_k \\rangle}}{\\sum_{l} e^{\\langle a_k, p_l \\rangle}}

    Sohn, *Improved Deep Metric Learning with Multi-class N-pair Loss Objective* (NeurIPS 2016).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers. Rows after the second of a label are unused, as in pml.
      normalize: L2-normalise the rows first (pml's default ``DotProductSimilarity`` normalises);
        ``False`` uses raw inner products as in the paper (which adds an L2 penalty on the embeddings).
      reduction: ``'mean'`` (pml's default ``MeanReducer``: over the anchors; 0 when no label has two
        rows), ``'sum'`` or ``'none'``.

    Returns:
      A scalar, or for ``'none'`` a ``(B,)`` array holding :math:`\\ell_k` at each anchor (the first row of
      its label) and 0 at every other row.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import npairs_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
      >>> round(float(npairs_loss(x, jnp.array([0, 0, 1, 1]))), 4)
      0.4093

    Reference: Sohn 2016; pytorch-metric-learning 2.9 NPairsLoss.
    """
    name = "npairs_loss"
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    values, is_anchor = _npairs_per_anchor(embeddings, labels, bool(normalize))
    return _finish(values, reduction, is_anchor, out_dtype)


# ---------------------------------------------------------------------------------------------------------
# ArcFace / CosFace (additive angular / cosine margin softmax)


def _margin_softmax(embeddings, labels, weight, scale, target_logit) -> jax.Array:
    """``(B,)`` cross entropies of ``scale * cos`` with the target column replaced by ``target_logit(cos)``.

    Cosines are between L2-normalised embeddings and L2-normalised class centres (pml's
    ``CosineSimilarity`` on ``W``); pml's ``cos + onehot * (modified - cos)`` order is kept.
    """
    cosine = _dot(_l2_normalize(embeddings), _l2_normalize(weight))  # (B, C)
    return _margin_softmax_of_cosine(cosine, labels, scale, target_logit)


def _margin_softmax_of_cosine(cosine, labels, scale, target_logit) -> jax.Array:
    """:func:`_margin_softmax` from the ``(B, C)`` cosines."""
    onehot = _onehot(labels, cosine.shape[1]).astype(cosine.dtype)
    target = jnp.sum(cosine * onehot, axis=1)
    logits = (cosine + onehot * (target_logit(target) - target)[:, None]) * scale
    log_probs = jax.nn.log_softmax(logits, axis=1)  # stable cross entropy
    return -jnp.sum(log_probs * onehot, axis=1)


def _arcface_target(margin_degrees):
    """pml's ArcFace target logit: ``cos(theta + m)`` while ``theta <= pi - m``, else ``cos(theta) - m sin m``.

    ``cos(theta + m)`` is written ``c cos m - sqrt(1 - c^2) sin m`` with a zero-gradient square root at
    ``|c| = 1``: pml's ``acos`` has an infinite derivative there (``nan``/``inf`` gradients for an
    embedding exactly on its class centre); here the gradient is ``cos m`` instead.
    """
    xp, margin = _radians(margin_degrees)
    cos_m, sin_m = xp.cos(margin), xp.sin(margin)

    def target(c):
        c = jnp.clip(c, -1, 1)  # pml clamps before acos
        sin_theta = _safe_sqrt(1 - c * c)
        plus_margin = c * cos_m - sin_theta * sin_m
        monotone = c - margin * sin_m  # keeps the target decreasing in theta past pi - m
        return jnp.where(c >= -cos_m, plus_margin, monotone)  # theta <= pi - m

    return target


@register(
    family="metric",
    reference=f"Deng et al. 2019 (ArcFace); {_PML} ArcFaceLoss",
    example=_classifier_example,
    diff=(0, 2),
)
def arcface_loss(embeddings, labels, weight, *, margin=28.6, scale=64.0, reduction: str = "mean"):
    """Additive angular margin (ArcFace) softmax loss, pytorch-metric-learning's ``ArcFaceLoss``.

    With :math:`\\cos\\theta_{ic}` between the normalised embedding ``i`` and the normalised class centre
    ``c`` (a row of ``weight``) and :math:`m` the margin in radians:

    .. math::

        \\ell_i = -\\log \\frac{e^{s\\,\\psi(\\theta_{i y_i})}}
            {e^{s\\,\\psi(\\theta_{i y_i})} + \\sum_{c \\ne y_i} e^{s \\cos\\theta_{ic}}}, \\quad
        \\psi(\\theta) = \\begin{cases} \\cos(\\theta + m) & \\theta \\le \\pi - m \\\\
            \\cos\\theta - m \\sin m & \\text{otherwise} \\end{cases}

    Deng et al., *ArcFace: Additive Angular Margin Loss for Deep Face Recognition* (CVPR 2019).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` class indices in ``[0, C)``.
      weight: ``(C, D)`` class centres (pml stores the transpose, ``W`` of shape ``(D, C)``).
      margin: the angular margin **in degrees**, as pml (default 28.6, about the paper's 0.5 rad; the
        paper's ``m = 0.5`` is ``margin=math.degrees(0.5)``).
      scale: :math:`s` (pml's default 64).
      reduction: ``'mean'`` (over the batch, pml's default ``MeanReducer``), ``'sum'`` or ``'none'``.

    Returns:
      A scalar, or the ``(B,)`` per-example losses for ``'none'``. Gradients stay finite when an embedding
      lies exactly on (or opposite) its class centre, where pml's ``acos`` gives ``nan``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import arcface_loss
      >>> x = jnp.array([[1.0, 0.2], [0.1, 1.0]])
      >>> w = jnp.array([[1.0, 0.0], [0.0, 1.0]])
      >>> round(float(arcface_loss(x, jnp.array([0, 1]), w, scale=4.0)), 4)
      0.0751

    Reference: Deng et al. 2019 (ArcFace); pytorch-metric-learning 2.9 ArcFaceLoss.
    """
    name = "arcface_loss"
    margin = V.hyper(name, "margin", margin, nonnegative=True)
    scale = V.hyper(name, "scale", scale, positive=True)
    embeddings, labels, weight, out_dtype = _prepare(
        name, reduction, embeddings, labels, in_range=True, weight=weight
    )
    values = _margin_softmax(embeddings, labels, weight, scale, _arcface_target(margin))
    return _finish(values, reduction, None, out_dtype)


@register(
    family="metric",
    reference=f"Wang et al. 2018 (CosFace); {_PML} CosFaceLoss",
    example=_classifier_example,
    diff=(0, 2),
)
def cosface_loss(embeddings, labels, weight, *, margin=0.35, scale=64.0, reduction: str = "mean"):
    """Large margin cosine (CosFace) softmax loss, pytorch-metric-learning's ``CosFaceLoss``.

    .. math::

        \\ell_i = -\\log \\frac{e^{s(\\cos\\theta_{i y_i} - m)}}
            {e^{s(\\cos\\theta_{i y_i} - m)} + \\sum_{c \\ne y_i} e^{s \\cos\\theta_{ic}}}

    with cosines between normalised embeddings and normalised class centres. Wang et al., *CosFace: Large
    Margin Cosine Loss for Deep Face Recognition* (CVPR 2018).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` class indices in ``[0, C)``.
      weight: ``(C, D)`` class centres (the transpose of pml's ``W``).
      margin: :math:`m`, subtracted from the target cosine (pml's default 0.35).
      scale: :math:`s` (pml's default 64).
      reduction: ``'mean'`` (over the batch, pml's default ``MeanReducer``), ``'sum'`` or ``'none'``.

    Returns:
      A scalar, or the ``(B,)`` per-example losses for ``'none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import cosface_loss
      >>> x = jnp.array([[1.0, 0.2], [0.1, 1.0]])
      >>> w = jnp.array([[1.0, 0.0], [0.0, 1.0]])
      >>> round(float(cosface_loss(x, jnp.array([0, 1]), w, scale=4.0)), 4)
      0.1345

    Reference: Wang et al. 2018 (CosFace); pytorch-metric-learning 2.9 CosFaceLoss.
    """
    name = "cosface_loss"
    margin = V.hyper(name, "margin", margin)
    scale = V.hyper(name, "scale", scale, positive=True)
    embeddings, labels, weight, out_dtype = _prepare(
        name, reduction, embeddings, labels, in_range=True, weight=weight
    )
    values = _margin_softmax(embeddings, labels, weight, scale, lambda c: c - margin)
    return _finish(values, reduction, None, out_dtype)


# ---------------------------------------------------------------------------------------------------------
# Circle


def _circle_per_anchor(
    embeddings, labels, m, gamma, normalize: bool, detach_weights: bool
) -> jax.Array:
    """``(B,)`` circle losses (pml's ``CircleLoss``); 0 for anchors without a positive or a negative."""
    positive, negative = _pair_masks(labels)
    x = _l2_normalize(embeddings) if normalize else embeddings
    s = _dot(x, x)
    weight_source = lax.stop_gradient(s) if detach_weights else s
    alpha_p = jax.nn.relu(1 + m - weight_source)  # O_p = 1 + m
    alpha_n = jax.nn.relu(weight_source + m)  # O_n = -m
    logit_p = -gamma * alpha_p * (s - (1 - m))  # Delta_p = 1 - m
    logit_n = gamma * alpha_n * (s - m)  # Delta_n = m
    values = _torch_softplus(
        _masked_logsumexp(logit_p, positive) + _masked_logsumexp(logit_n, negative)
    )
    complete = jnp.any(positive, axis=1) & jnp.any(negative, axis=1)
    return jnp.where(complete, values, 0)


@register(
    family="metric",
    reference=f"Sun et al. 2020; {_PML} CircleLoss; keras.losses.Circle (Keras 3)",
    example=_labelled_example,
    smooth=False,  # the circle weights are constants for the gradient (stop_gradient), as pml
)
def circle_loss(
    embeddings,
    labels,
    *,
    m=0.4,
    gamma=80.0,
    normalize: bool = True,
    detach_weights: bool = True,
    reduction: str = "mean",
):
    """Circle loss for pair labels, pytorch-metric-learning's ``CircleLoss`` (and ``keras.losses.Circle``).

    With cosine similarities :math:`s_{ij}`, positives :math:`P(i)`, negatives :math:`N(i)`,
    :math:`\\alpha_p = [1 + m - s_p]_+`, :math:`\\alpha_n = [s_n + m]_+`:

    .. math::

        \\ell_i = \\operatorname{softplus}\\Big(
            \\log \\sum_{p \\in P(i)} e^{-\\gamma \\alpha_p (s_p - (1 - m))}
            + \\log \\sum_{n \\in N(i)} e^{\\gamma \\alpha_n (s_n - m)} \\Big)

    Sun et al., *Circle Loss: A Unified Perspective of Pair Similarity Optimization* (CVPR 2020).

    **Which reference.** The defaults match pml's ``CircleLoss(m=0.4, gamma=80)``: the weights
    :math:`\\alpha` are held constant for the gradient (``detach``, as in the authors' code) and rows are
    L2-normalised. Keras 3's ``keras.losses.Circle(gamma=80, margin=0.4)`` takes already-normalised
    embeddings and lets gradients flow through :math:`\\alpha`: ``normalize=False, detach_weights=False``
    gives its values and gradients (its default ``'sum_over_batch_size'`` with the ``loss > 0`` mask is
    the ``'mean'`` here). Two residual differences, both invisible on unit-norm inputs: Keras clamps the
    cosine distance ``1 - s`` at 0 (so ``s > 1`` counts as 1), and pml's ``Softplus`` (used here) returns
    ``x`` itself above 20 where Keras's is exact (a relative difference below ``1e-10``).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers.
      m: the relaxation margin (pml's ``m``, Keras's ``margin``; default 0.4).
      gamma: the scale :math:`\\gamma` (default 80).
      normalize: L2-normalise the rows first (pml); ``False`` for Keras's semantics (inputs already unit).
      detach_weights: hold :math:`\\alpha_p, \\alpha_n` constant in the gradient (pml and the paper's code);
        ``False`` for Keras's gradients.
      reduction: ``'mean'`` (pml's default ``AvgNonZeroReducer``, and Keras's masked mean: over the
        anchors whose loss is > 0; 0 when none), ``'sum'`` or ``'none'``.

    Returns:
      A scalar, or the ``(B,)`` per-anchor losses for ``'none'``: 0 (zero gradient) for an anchor with no
      positive or no negative.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import circle_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
      >>> round(float(circle_loss(x, jnp.array([0, 0, 1, 1]), gamma=4.0)), 4)
      0.8299

    Reference: Sun et al. 2020; pytorch-metric-learning 2.9 CircleLoss; keras.losses.Circle (Keras 3).
    """
    name = "circle_loss"
    m = V.hyper(name, "m", m)
    gamma = V.hyper(name, "gamma", gamma, positive=True)
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    values = _circle_per_anchor(embeddings, labels, m, gamma, bool(normalize), bool(detach_weights))
    return _finish(values, reduction, values > 0, out_dtype)


# ---------------------------------------------------------------------------------------------------------
# Multi-similarity


def _multi_similarity_per_anchor(embeddings, labels, alpha, beta, base) -> jax.Array:
    """``(B,)`` multi-similarity losses (pml's ``MultiSimilarityLoss``); empty sums contribute 0."""
    positive, negative = _pair_masks(labels)
    s = _cosine_matrix(embeddings)
    pos = _masked_logsumexp(alpha * (base - s), positive, add_one=True) / alpha
    neg = _masked_logsumexp(beta * (s - base), negative, add_one=True) / beta
    return pos + neg


@register(
    family="metric",
    reference=f"Wang et al. 2019; {_PML} MultiSimilarityLoss",
    example=_labelled_example,
)
def multi_similarity_loss(
    embeddings, labels, *, alpha=2.0, beta=50.0, base=0.5, reduction: str = "mean"
):
    """Multi-similarity loss, pytorch-metric-learning's ``MultiSimilarityLoss``.

    With cosine similarities :math:`s_{ij}`, positives :math:`P(i)`, negatives :math:`N(i)` and
    :math:`\\lambda` = ``base``:

    .. math::

        \\ell_i = \\frac{1}{\\alpha} \\log\\Big(1 + \\sum_{p \\in P(i)} e^{-\\alpha (s_{ip} - \\lambda)}\\Big)
            + \\frac{1}{\\beta} \\log\\Big(1 + \\sum_{n \\in N(i)} e^{\\beta (s_{in} - \\lambda)}\\Big)

    Wang et al., *Multi-Similarity Loss with General Pair Weighting for Deep Metric Learning* (CVPR 2019).
    As in pml, the paper's pair mining step is not part of the loss (pml has it as
    ``MultiSimilarityMiner``): every pair of the batch is used.

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers.
      alpha: weight of the positive term (default 2).
      beta: weight of the negative term (default 50).
      base: the similarity offset :math:`\\lambda` (default 0.5).
      reduction: ``'mean'`` (over all ``B`` anchors, pml's default ``MeanReducer``), ``'sum'`` or
        ``'none'``.

    Returns:
      A scalar, or the ``(B,)`` per-anchor losses for ``'none'``; an anchor without positives (or without
      negatives) just lacks that term.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import multi_similarity_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
      >>> round(float(multi_similarity_loss(x, jnp.array([0, 0, 1, 1]))), 4)
      0.2688

    Reference: Wang et al. 2019; pytorch-metric-learning 2.9 MultiSimilarityLoss.
    """
    name = "multi_similarity_loss"
    alpha = V.hyper(name, "alpha", alpha, positive=True)
    beta = V.hyper(name, "beta", beta, positive=True)
    base = V.hyper(name, "base", base)
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    values = _multi_similarity_per_anchor(embeddings, labels, alpha, beta, base)
    return _finish(values, reduction, True, out_dtype)


# ---------------------------------------------------------------------------------------------------------
# More pytorch-metric-learning losses: shared pieces


def _proxy_example(rng: np.random.Generator):
    return (
        rng.standard_normal((6, 4)),
        np.array([0, 2, 1, 2, 0, 0]),
        rng.standard_normal((3, 4)),
    ), {}


def _soft_triple_example(rng: np.random.Generator):
    return (
        rng.standard_normal((5, 4)),
        np.array([0, 2, 1, 2, 0]),
        rng.standard_normal((3, 2, 4)),
    ), {}


def _margin_example(rng: np.random.Generator):
    return (
        rng.standard_normal((6, 4)),
        np.array([0, 0, 1, 1, 2, 0]),
        np.array([1.2, 1.1, 0.9]),
    ), {}


def _centre_cosines(embeddings: jax.Array, centers: jax.Array) -> jax.Array:
    """``(B, C, K)`` cosines between the rows and the ``K`` centres of each class (``centers`` ``(C, K, D)``)."""
    classes, per_class, size = centers.shape
    flat = centers.reshape(classes * per_class, size)
    return _cosine_matrix(embeddings, flat).reshape(-1, classes, per_class)


def _row_lse(x: jax.Array, mask: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Row-wise masked ``log sum exp`` and whether the row selects anything (``-inf``-free, finite grads)."""
    return _masked_logsumexp(x, mask), jnp.any(mask, axis=1)


# ---------------------------------------------------------------------------------------------------------
# Lifted structure


def _lifted_pairs(d, negative, neg_margin, pos_margin) -> jax.Array:
    """``(B, B)`` lifted-structure losses of every pair (those of the positive pairs are the loss)."""
    lse, has_neg = _row_lse(neg_margin - d, negative)  # per anchor: log sum_n exp(m_- - d_in)
    # log(exp(lse_i) + exp(lse_j)) over the negatives of both ends of the pair (i, j)
    a = jnp.where(has_neg, lse, -jnp.inf)
    shift = jnp.maximum(a[:, None], a[None, :])
    shift = lax.stop_gradient(jnp.where(jnp.isfinite(shift), shift, 0))
    e_i = jnp.where(
        has_neg[:, None], jnp.exp(lse[:, None] - shift), 0
    )  # lse is 0 (finite) if empty
    e_j = jnp.where(has_neg[None, :], jnp.exp(lse[None, :] - shift), 0)
    either = has_neg[:, None] | has_neg[None, :]
    union = jnp.where(either, jnp.log(jnp.where(either, e_i + e_j, 1)) + shift, 0)
    return jnp.square(jax.nn.relu(union + d - pos_margin)) / 2


@register(
    family="metric",
    reference=f"Oh Song et al. 2016; {_PML} LiftedStructureLoss",
    example=_labelled_example,
    smooth=False,
)
def lifted_structure_loss(
    embeddings, labels, *, neg_margin=1.0, pos_margin=0.0, reduction: str = "mean"
):
    """Lifted structured loss over every positive pair, pytorch-metric-learning's ``LiftedStructureLoss``.

    With Euclidean distances :math:`d` between L2-normalised rows, for each positive pair ``(i, j)``:

    .. math::

        \\ell_{ij} = \\tfrac12 \\Big[\\log \\Big(\\sum_{n \\in N(i)} e^{m_- - d_{in}}
            + \\sum_{n \\in N(j)} e^{m_- - d_{jn}}\\Big) + d_{ij} - m_+\\Big]_+^2

    Oh Song et al., *Deep Metric Learning via Lifted Structured Feature Embedding* (CVPR 2016). The pairs
    are ordered, so each unordered positive pair counts twice, hence the ``1/2``.

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers.
      neg_margin: :math:`m_-` (pml's ``neg_margin``, default 1).
      pos_margin: :math:`m_+` (pml's ``pos_margin``, default 0).
      reduction: ``'mean'`` (over the positive pairs, pml's default ``MeanReducer``; 0 when the batch has
        no positive or no negative pair), ``'sum'`` or ``'none'`` (the ``(B, B)`` matrix, 0 off the
        positive pairs).

    Returns:
      A scalar, or the ``(B, B)`` pair losses for ``'none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import lifted_structure_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
      >>> round(float(lifted_structure_loss(x, jnp.array([0, 0, 1, 1]))), 4)
      1.4328

    Reference: Oh Song et al. 2016; pytorch-metric-learning 2.9 LiftedStructureLoss.
    """
    name = "lifted_structure_loss"
    neg_margin = V.hyper(name, "neg_margin", neg_margin)
    pos_margin = V.hyper(name, "pos_margin", pos_margin)
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    positive, negative = _pair_masks(labels)
    losses = _lifted_pairs(_lp_distances(embeddings), negative, neg_margin, pos_margin)
    return _finish_positive_pairs(losses, positive, negative, reduction, out_dtype)


@register(
    family="metric",
    reference=f"Hermans et al. 2017; {_PML} GeneralizedLiftedStructureLoss",
    example=_labelled_example,
    smooth=False,
)
def generalized_lifted_structure_loss(
    embeddings, labels, *, neg_margin=1.0, pos_margin=0.0, reduction: str = "mean"
):
    """Generalized lifted structure loss, pytorch-metric-learning's ``GeneralizedLiftedStructureLoss``.

    With Euclidean distances :math:`d` between L2-normalised rows, positives :math:`P(i)` and negatives
    :math:`N(i)`:

    .. math::

        \\ell_i = \\Big[\\log \\sum_{p \\in P(i)} e^{d_{ip} - m_+}
            + \\log \\sum_{n \\in N(i)} e^{m_- - d_{in}}\\Big]_+

    (an empty sum's log counts 0, as pml). Hermans, Beyer & Leibe, *In Defense of the Triplet Loss for
    Person Re-Identification* (2017), after Oh Song et al. (2016).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers.
      neg_margin: :math:`m_-` (default 1).
      pos_margin: :math:`m_+` (default 0).
      reduction: ``'mean'`` (over all ``B`` anchors, pml's default ``MeanReducer``; 0 for a batch without
        any pair), ``'sum'`` or ``'none'`` (``(B,)``).

    Returns:
      A scalar, or the ``(B,)`` per-anchor losses for ``'none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import generalized_lifted_structure_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
      >>> round(float(generalized_lifted_structure_loss(x, jnp.array([0, 0, 1, 1]))), 4)
      0.9731

    Reference: Hermans et al. 2017; pytorch-metric-learning 2.9 GeneralizedLiftedStructureLoss.
    """
    name = "generalized_lifted_structure_loss"
    neg_margin = V.hyper(name, "neg_margin", neg_margin)
    pos_margin = V.hyper(name, "pos_margin", pos_margin)
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    positive, negative = _pair_masks(labels)
    d = _lp_distances(embeddings)
    values = jax.nn.relu(
        _masked_logsumexp(d - pos_margin, positive) + _masked_logsumexp(neg_margin - d, negative)
    )
    values = jnp.where(jnp.any(positive | negative), values, 0)
    return _finish(values, reduction, True, out_dtype)


# ---------------------------------------------------------------------------------------------------------
# Margin loss (Wu et al. 2017)


@register(
    family="metric",
    reference=f"Wu et al. 2017; {_PML} MarginLoss",
    example=_margin_example,
    diff=(0, 2),
    smooth=False,
)
def margin_loss(embeddings, labels, beta=1.2, *, margin=0.2, nu=0.0, reduction: str = "mean"):
    """Margin-based loss with a (learnable) boundary ``beta``, pytorch-metric-learning's ``MarginLoss``.

    With Euclidean distances :math:`d` between L2-normalised rows, every triplet ``(a, p, n)`` of the batch
    (pml's default: all triplets) contributes

    .. math::

        \\ell_{apn} = [d_{ap} - \\beta_a + \\alpha]_+ + [\\beta_a - d_{an} + \\alpha]_+

    with :math:`\\alpha` = ``margin`` and :math:`\\beta_a` = ``beta`` (or ``beta[labels[a]]`` for a
    per-class ``beta``). Wu et al., *Sampling Matters in Deep Embedding Learning* (ICCV 2017).

    ``beta`` is a plain argument, so ``jax.grad`` gives its gradient (pml's ``learn_beta=True``). pml adds
    the regulariser ``nu * beta`` only when ``learn_beta``: here it is added whenever ``nu != 0`` (pass
    ``nu=0``, the default, for pml's ``learn_beta=False``).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers (class indices in ``[0, C)`` when ``beta`` is per class).
      beta: the boundary :math:`\\beta`: a number, a 0-d array, or a ``(C,)`` array of per-class values
        (pml's ``num_classes``); default 1.2.
      margin: :math:`\\alpha` (default 0.2).
      nu: the weight of the ``beta`` regulariser (default 0).
      reduction: ``'mean'`` (pml's default ``DivisorReducer``: the sum over all triplets divided by the
        number of strictly positive hinge terms, 0 when none; plus the regulariser: ``nu * beta`` for a
        scalar ``beta``, ``sum nu * beta_a`` over the triplets divided by the same count for a per-class
        ``beta``), ``'sum'`` (the triplet losses summed, plus ``nu * beta``, or ``nu * beta_a`` summed over
        the triplets) or ``'none'`` (the ``(B, B, B)`` triplet losses, 0 off the valid triplets, without
        the regulariser). A batch without a triplet gives 0.

    Returns:
      A scalar, or the ``(B, B, B)`` triplet losses for ``'none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import margin_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
      >>> round(float(margin_loss(x, jnp.array([0, 0, 1, 1]), 0.8)), 4)
      0.0471

    Reference: Wu et al. 2017; pytorch-metric-learning 2.9 MarginLoss.
    """
    name = "margin_loss"
    margin = V.hyper(name, "margin", margin)
    nu = V.hyper(name, "nu", nu)
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    if isinstance(beta, (int, float, np.integer, np.floating)) and not isinstance(beta, bool):
        beta = V.hyper(name, "beta", beta)
        beta_a = jnp.full(labels.shape, beta, embeddings.dtype)
        per_class = False
    else:
        beta = V.as_float(name, "beta", beta)
        V.check_ndim(name, "beta", beta, (0, 1))
        per_class = beta.ndim == 1
        beta = beta.astype(embeddings.dtype)
        if per_class:
            _check_classes(name, labels, beta.shape[0])
            beta_a = beta[labels]
        else:
            beta_a = jnp.broadcast_to(beta, labels.shape)
    positive, negative = _pair_masks(labels)
    d = _lp_distances(embeddings)
    pos = jnp.where(positive, jax.nn.relu(d - beta_a[:, None] + margin), 0)  # [a, p]
    neg = jnp.where(negative, jax.nn.relu(beta_a[:, None] - d + margin), 0)  # [a, n]
    n_pos = jnp.sum(positive, axis=1).astype(d.dtype)
    n_neg = jnp.sum(negative, axis=1).astype(d.dtype)
    triplets = n_pos * n_neg  # per anchor
    any_triplet = jnp.sum(triplets) > 0
    if reduction == "none":
        valid = _triplet_mask(positive, negative)
        out = jnp.where(valid, pos[:, :, None] + neg[:, None, :], 0)
        return out.astype(out_dtype)
    # each (a, p) hinge appears in n_neg[a] triplets, each (a, n) hinge in n_pos[a]
    total = jnp.sum(pos * n_neg[:, None]) + jnp.sum(neg * n_pos[:, None])
    divisor = jnp.sum((pos > 0) * n_neg[:, None]) + jnp.sum((neg > 0) * n_pos[:, None])
    reg_sum = nu * (jnp.sum(triplets * beta_a) if per_class else jnp.mean(beta_a))
    if reduction == "sum":
        out = total + reg_sum
    else:
        safe = jnp.where(divisor > 0, divisor, 1)
        out = jnp.where(divisor > 0, total / safe, 0)
        out = out + (jnp.where(divisor > 0, reg_sum / safe, 0) if per_class else reg_sum)
    return jnp.where(any_triplet, out, 0).astype(out_dtype)


# ---------------------------------------------------------------------------------------------------------
# NCA and ProxyNCA


def _nca_values(query, reference, same, softmax_scale, exclude_diagonal: bool):
    """``(B,)`` ``-log sum_{same} softmax(-scale * d^2)`` and which rows pml keeps (probability != 0)."""
    logits = -softmax_scale * _lp_distances(query, None if exclude_diagonal else reference, power=2)
    available = jnp.ones(logits.shape, bool)
    if exclude_diagonal:
        available = ~jnp.eye(logits.shape[0], dtype=bool)
    log_total, _ = _row_lse(logits, available)
    log_same, has_same = _row_lse(logits, same & available)
    log_p = log_same - log_total
    keep = has_same & (jnp.exp(log_p) != 0)  # pml drops rows whose probability underflows to 0
    return jnp.where(keep, -log_p, 0), keep


@register(
    family="metric",
    reference=f"Goldberger et al. 2005; {_PML} NCALoss",
    example=_labelled_example,
)
def nca_loss(embeddings, labels, *, softmax_scale=1.0, reduction: str = "mean"):
    """Neighbourhood components analysis loss, pytorch-metric-learning's ``NCALoss``.

    With squared Euclidean distances :math:`d^2` between L2-normalised rows (pml's default
    ``LpDistance(power=2)``):

    .. math::

        \\ell_i = -\\log \\sum_{j \\ne i,\\, y_j = y_i}
            \\frac{e^{-s\\, d_{ij}^2}}{\\sum_{k \\ne i} e^{-s\\, d_{ik}^2}}

    Goldberger et al., *Neighbourhood Components Analysis* (NIPS 2005).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers.
      softmax_scale: :math:`s` (default 1).
      reduction: ``'mean'`` (pml's ``MeanReducer`` over the rows that have a positive; 0 when none, where
        pml's mean of an empty tensor is ``nan``), ``'sum'`` or ``'none'`` (``(B,)``, 0 for rows without a
        positive).

    Returns:
      A scalar, or the ``(B,)`` per-row losses for ``'none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import nca_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
      >>> round(float(nca_loss(x, jnp.array([0, 0, 1, 1]))), 4)
      0.4302

    Reference: Goldberger et al. 2005; pytorch-metric-learning 2.9 NCALoss.
    """
    name = "nca_loss"
    softmax_scale = V.hyper(name, "softmax_scale", softmax_scale)
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    same = labels[:, None] == labels[None, :]
    values, keep = _nca_values(embeddings, embeddings, same, softmax_scale, True)
    return _finish(values, reduction, keep, out_dtype)


@register(
    family="metric",
    reference=f"Movshovitz-Attias et al. 2017; {_PML} ProxyNCALoss",
    example=_proxy_example,
    diff=(0, 2),
)
def proxy_nca_loss(embeddings, labels, proxies, *, softmax_scale=1.0, reduction: str = "mean"):
    """Proxy-NCA loss, pytorch-metric-learning's ``ProxyNCALoss``.

    .. math::

        \\ell_i = -\\log \\frac{e^{-s\\, d^2(x_i, p_{y_i})}}{\\sum_c e^{-s\\, d^2(x_i, p_c)}}

    with squared Euclidean distances between L2-normalised embeddings and L2-normalised proxies.
    Movshovitz-Attias et al., *No Fuss Distance Metric Learning using Proxies* (ICCV 2017).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers; a label outside ``[0, C)`` has no proxy and its row is dropped, as pml.
      proxies: ``(C, D)`` learnable proxies (pml's ``loss.proxies``; pass them explicitly and
        differentiate with respect to them).
      softmax_scale: :math:`s` (default 1).
      reduction: ``'mean'`` (pml's ``MeanReducer`` over the kept rows), ``'sum'`` or ``'none'`` (``(B,)``).

    Returns:
      A scalar, or the ``(B,)`` per-row losses for ``'none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import proxy_nca_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
      >>> p = jnp.array([[1.0, 0.0], [0.0, 1.0]])
      >>> round(float(proxy_nca_loss(x, jnp.array([0, 0, 1]), p)), 4)
      0.2556

    Reference: Movshovitz-Attias et al. 2017; pytorch-metric-learning 2.9 ProxyNCALoss.
    """
    name = "proxy_nca_loss"
    softmax_scale = V.hyper(name, "softmax_scale", softmax_scale)
    embeddings, labels, proxies, out_dtype = _prepare(
        name, reduction, embeddings, labels, proxies=proxies
    )
    same = _onehot(labels, proxies.shape[0])
    values, keep = _nca_values(embeddings, proxies, same, softmax_scale, False)
    return _finish(values, reduction, keep, out_dtype)


# ---------------------------------------------------------------------------------------------------------
# Proxy-Anchor


@register(
    family="metric",
    reference=f"Kim et al. 2020; {_PML} ProxyAnchorLoss",
    example=_proxy_example,
    diff=(0, 2),
)
def proxy_anchor_loss(
    embeddings, labels, proxies, *, margin=0.1, alpha=32.0, reduction: str = "mean"
):
    """Proxy-Anchor loss, pytorch-metric-learning's ``ProxyAnchorLoss``.

    With cosine similarities :math:`s_{ic}` between embeddings and proxies, :math:`X_c^+` the rows of
    class ``c``, :math:`X_c^-` the others and :math:`C^+` the classes present in the batch:

    .. math::

        \\ell = \\frac{1}{|C^+|} \\sum_{c \\in C^+} \\log\\Big(1 + \\sum_{i \\in X_c^+}
            e^{-\\alpha (s_{ic} - \\delta)}\\Big)
            + \\frac{1}{C} \\sum_{c} \\log\\Big(1 + \\sum_{i \\in X_c^-} e^{\\alpha (s_{ic} + \\delta)}\\Big)

    Kim et al., *Proxy Anchor Loss for Deep Metric Learning* (CVPR 2020).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` class indices in ``[0, C)``.
      proxies: ``(C, D)`` learnable proxies (pml's ``loss.proxies``).
      margin: :math:`\\delta` (default 0.1).
      alpha: :math:`\\alpha` (default 32).
      reduction: ``'mean'`` (pml's ``DivisorReducer``: the formula above), ``'sum'`` (the per-proxy terms
        summed without the divisors) or ``'none'`` (``(C,)``: each proxy's positive plus negative term).

    Returns:
      A scalar, or the ``(C,)`` per-proxy losses for ``'none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import proxy_anchor_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
      >>> p = jnp.array([[1.0, 0.0], [0.0, 1.0]])
      >>> round(float(proxy_anchor_loss(x, jnp.array([0, 0, 1]), p)), 4)
      12.82

    Reference: Kim et al. 2020; pytorch-metric-learning 2.9 ProxyAnchorLoss.
    """
    name = "proxy_anchor_loss"
    margin = V.hyper(name, "margin", margin)
    alpha = V.hyper(name, "alpha", alpha)
    embeddings, labels, proxies, out_dtype = _prepare(
        name, reduction, embeddings, labels, in_range=True, proxies=proxies
    )
    classes = proxies.shape[0]
    cos_t = _cosine_matrix(proxies, embeddings)  # (C, B)
    pos_mask = _onehot(labels, classes).T  # (C, B)
    pos_term = _masked_logsumexp(alpha * (margin - cos_t), pos_mask, add_one=True)
    neg_term = _masked_logsumexp(alpha * (cos_t + margin), ~pos_mask, add_one=True)
    if reduction == "none":
        return (pos_term + neg_term).astype(out_dtype)
    if reduction == "sum":
        return jnp.sum(pos_term + neg_term).astype(out_dtype)
    with_pos = jnp.sum(jnp.any(pos_mask, axis=1))
    pos_part = jnp.where(with_pos > 0, jnp.sum(pos_term) / jnp.maximum(with_pos, 1), 0)
    return (pos_part + jnp.sum(neg_term) / classes).astype(out_dtype)


# ---------------------------------------------------------------------------------------------------------
# SoftTriple


@register(
    family="metric",
    reference=f"Qian et al. 2019; {_PML} SoftTripleLoss",
    example=_soft_triple_example,
    diff=(0, 2),
)
def soft_triple_loss(
    embeddings, labels, centers, *, la=20.0, gamma=0.1, margin=0.01, reduction: str = "mean"
):
    """SoftTriple loss with ``K`` centres per class, pytorch-metric-learning's ``SoftTripleLoss``.

    With cosine similarities :math:`s_{ick}` between embedding ``i`` and centre ``k`` of class ``c``:

    .. math::

        S_{ic} = \\sum_k \\operatorname{softmax}_k(s_{ick} / \\gamma)\\, s_{ick}, \\qquad
        \\ell_i = -\\log \\frac{e^{\\lambda (S_{i y_i} - \\delta)}}
            {e^{\\lambda (S_{i y_i} - \\delta)} + \\sum_{c \\ne y_i} e^{\\lambda S_{ic}}}

    Qian et al., *SoftTriple Loss: Deep Metric Learning Without Triplet Sampling* (ICCV 2019). pml applies
    no centre regulariser by default (its ``weight_regularizer=None``), nor does this function.

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` class indices in ``[0, C)``.
      centers: ``(C, K, D)`` learnable centres; pml's ``loss.fc`` of shape ``(D, C * K)`` is
        ``fc.T.reshape(C, K, D)``.
      la: :math:`\\lambda`, the scale (default 20).
      gamma: :math:`\\gamma`, the temperature of the softmax over a class's centres (default 0.1).
      margin: :math:`\\delta` (default 0.01).
      reduction: ``'mean'`` (over the batch, pml's default ``MeanReducer``), ``'sum'`` or ``'none'``.

    Returns:
      A scalar, or the ``(B,)`` per-example losses for ``'none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import soft_triple_loss
      >>> x = jnp.array([[1.0, 0.0], [0.0, 1.0]])
      >>> c = jnp.array([[[1.0, 0.0], [1.0, 0.2]], [[0.0, 1.0], [0.3, 1.0]]])
      >>> round(float(soft_triple_loss(x, jnp.array([0, 1]), c, la=2.0)), 4)
      0.2001

    Reference: Qian et al. 2019; pytorch-metric-learning 2.9 SoftTripleLoss.
    """
    name = "soft_triple_loss"
    la = V.hyper(name, "la", la)
    gamma = V.hyper(name, "gamma", gamma, positive=True)
    margin = V.hyper(name, "margin", margin)
    embeddings, labels, centers, out_dtype = _prepare(
        name, reduction, embeddings, labels, in_range=True, centers=centers
    )
    sim = _centre_cosines(embeddings, centers)
    classes = centers.shape[0]
    prob = jax.nn.softmax(sim * (1.0 / gamma), axis=2)  # pml multiplies by 1 / gamma
    logits = jnp.sum(prob * sim, axis=2)
    onehot = _onehot(labels, classes)
    log_probs = jax.nn.log_softmax(la * (logits - jnp.where(onehot, margin, 0)), axis=1)
    values = -jnp.sum(jnp.where(onehot, log_probs, 0), axis=1)
    return _finish(values, reduction, None, out_dtype)


# ---------------------------------------------------------------------------------------------------------
# FastAP


@register(
    family="metric",
    reference=f"Cakir et al. 2019; {_PML} FastAPLoss",
    example=_labelled_example,
    smooth=False,
)
def fast_ap_loss(embeddings, labels, *, num_bins: int = 10, reduction: str = "mean"):
    """FastAP: one minus a histogram approximation of average precision, pml's ``FastAPLoss``.

    Squared Euclidean distances between L2-normalised rows (in ``[0, 4]``) are soft-binned into
    ``num_bins + 1`` triangular bins; with :math:`h^+_{ik}` (:math:`h_{ik}`) the positive (all) counts of
    anchor ``i`` in bin ``k`` and :math:`H` their cumulative sums:

    .. math::

        \\ell_i = 1 - \\frac{1}{|P(i)|} \\sum_k \\frac{h^+_{ik} H^+_{ik}}{H_{ik}}

    Cakir et al., *Deep Metric Learning to Rank* (CVPR 2019); pml adapts the authors' code.

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers.
      num_bins: the number of histogram bins (a positive int, default 10).
      reduction: ``'mean'`` (pml's ``MeanReducer`` over the anchors that have a positive; 0 when no
        histogram term is positive), ``'sum'`` or ``'none'`` (``(B,)``, 0 for anchors without a positive).

    Returns:
      A scalar, or the ``(B,)`` per-anchor losses for ``'none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import fast_ap_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
      >>> round(float(fast_ap_loss(x, jnp.array([0, 1, 0, 1]))), 4)
      0.5833

    Reference: Cakir et al. 2019; pytorch-metric-learning 2.9 FastAPLoss.
    """
    name = "fast_ap_loss"
    num_bins = _positive_int(name, "num_bins", num_bins)
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    positive, negative = _pair_masks(labels)
    d = _lp_distances(embeddings, power=2)
    delta = 4.0 / num_bins
    mids = jnp.linspace(0.0, 4.0, num_bins + 1, dtype=d.dtype)
    pulse = jax.nn.relu(
        1 - jnp.abs(d[:, :, None] - mids[None, None, :]) / delta
    )  # (B, B, bins + 1)
    pos_hist = jnp.sum(jnp.where(positive[:, :, None], pulse, 0), axis=1)
    neg_hist = jnp.sum(jnp.where(negative[:, :, None], pulse, 0), axis=1)
    product = pos_hist * jnp.cumsum(pos_hist, axis=1)
    total = jnp.cumsum(pos_hist + neg_hist, axis=1)
    safe_h = (product > 0) & (total > 0)
    ap_sum = jnp.sum(jnp.where(safe_h, product / jnp.where(safe_h, total, 1), 0), axis=1)
    n_pos = jnp.sum(positive, axis=1)
    safe_n = n_pos > 0
    values = jnp.where(safe_n, 1 - ap_sum / jnp.maximum(n_pos, 1), 0)
    keep = safe_n & jnp.any(safe_h)
    values = jnp.where(keep, values, 0)
    return _finish(values, reduction, keep, out_dtype)


# ---------------------------------------------------------------------------------------------------------
# Tuplet margin


@register(
    family="metric",
    reference=f"Yu & Tao 2019; {_PML} TupletMarginLoss",
    example=_labelled_example,
)
def tuplet_margin_loss(embeddings, labels, *, margin=5.73, scale=64.0, reduction: str = "mean"):
    """Tuplet margin loss, pytorch-metric-learning's ``TupletMarginLoss``.

    With cosine similarities :math:`s`, :math:`\\theta_{ap} = \\arccos s_{ap}` and the margin :math:`m`
    in radians, every positive pair ``(a, p)`` contributes

    .. math::

        \\ell_{ap} = \\log\\Big(1 + \\sum_{n \\in N(a)} e^{\\sigma (s_{an} - \\cos(\\theta_{ap} - m))}\\Big)

    Yu & Tao, *Deep Metric Learning with Tuplet Margin Loss* (ICCV 2019). ``cos(theta - m)`` is computed
    as ``s cos m + sqrt(1 - s^2) sin m`` with a zero-gradient square root at ``|s| = 1``, where pml's
    ``acos`` gives ``nan`` gradients (identical positive rows).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers.
      margin: :math:`m` **in degrees**, as pml (default 5.73).
      scale: :math:`\\sigma` (default 64).
      reduction: ``'mean'`` (over the positive pairs, pml's ``MeanReducer``; 0 when the batch has no
        positive or no negative pair), ``'sum'`` or ``'none'`` (``(B, B)``, 0 off the positive pairs).

    Returns:
      A scalar, or the ``(B, B)`` pair losses for ``'none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import tuplet_margin_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
      >>> round(float(tuplet_margin_loss(x, jnp.array([0, 0, 1, 1]), scale=4.0)), 4)
      0.1828

    Reference: Yu & Tao 2019; pytorch-metric-learning 2.9 TupletMarginLoss.
    """
    name = "tuplet_margin_loss"
    margin = V.hyper(name, "margin", margin)
    scale = V.hyper(name, "scale", scale)
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    xp, margin = _radians(margin)
    cos_m, sin_m = xp.cos(margin), xp.sin(margin)
    positive, negative = _pair_masks(labels)
    s = _cosine_matrix(embeddings)
    c = jnp.clip(s, -1, 1)
    shifted = c * cos_m + _safe_sqrt(1 - c * c) * sin_m  # cos(acos(s) - m)
    neg_lse, has_neg = _row_lse(scale * s, negative)  # log sum_n exp(scale s_an)
    inside = neg_lse[:, None] - scale * shifted
    losses = jnp.where(has_neg[:, None], jax.nn.softplus(inside), 0)  # log(1 + exp(.))
    return _finish_positive_pairs(losses, positive, negative, reduction, out_dtype)


# ---------------------------------------------------------------------------------------------------------
# Instance loss


@register(
    family="metric",
    reference=f"Zheng et al. 2020; {_PML} InstanceLoss",
    example=_labelled_example,
)
def instance_loss(embeddings, labels, *, gamma=64.0, reduction: str = "mean"):
    """Instance loss, pytorch-metric-learning's ``InstanceLoss``.

    The ``(B, B)`` cosine similarities times :math:`\\gamma` are the logits of a ``B``-way cross-entropy
    whose target for row ``i`` is the rank of ``labels[i]`` among the sorted distinct labels (pml's
    ``torch.unique(labels, return_inverse=True)``):

    .. math:: \\ell_i = -\\log \\operatorname{softmax}(\\gamma\\, s_{i,:})_{r(y_i)}

    Zheng et al., *Dual-Path Convolutional Image-Text Embeddings with Instance Loss* (ACM TOMM 2020).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers.
      gamma: the scale :math:`\\gamma` (default 64).
      reduction: ``'mean'`` (over the batch, pml's ``MeanReducer``), ``'sum'`` or ``'none'`` (``(B,)``).

    Returns:
      A scalar, or the ``(B,)`` per-example losses for ``'none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import instance_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
      >>> round(float(instance_loss(x, jnp.array([5, 5, 7]), gamma=2.0)), 4)
      1.0008

    Reference: Zheng et al. 2020; pytorch-metric-learning 2.9 InstanceLoss.
    """
    name = "instance_loss"
    gamma = V.hyper(name, "gamma", gamma)
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    batch = labels.shape[0]
    earlier = jnp.tril(jnp.ones((batch, batch), bool), k=-1)  # [j, k]: k < j
    first = ~jnp.any(
        earlier & (labels[:, None] == labels[None, :]), axis=1
    )  # first occurrence of its value
    target = jnp.sum(first[None, :] & (labels[None, :] < labels[:, None]), axis=1)  # unique inverse
    log_probs = jax.nn.log_softmax(gamma * _cosine_matrix(embeddings), axis=1)
    values = -jnp.take_along_axis(log_probs, target[:, None], axis=1)[:, 0]
    return _finish(values, reduction, None, out_dtype)


# ---------------------------------------------------------------------------------------------------------
# Angular, intra-pair variance, SNR contrastive, normalized softmax, P2SGrad, threshold-consistent margin


@register(
    family="metric",
    reference=f"Wang et al. 2017; {_PML} AngularLoss",
    example=_labelled_example,
)
def angular_loss(embeddings, labels, *, alpha=40.0, reduction: str = "mean"):
    """Angular loss (N-pair form), pytorch-metric-learning's ``AngularLoss``.

    With :math:`\\hat x_a, \\hat x_p` the L2-normalised anchor and positive, :math:`x_n` the **raw**
    negative rows (as pml, whose reference embeddings are not normalised) and :math:`t = \\tan^2\\alpha`,
    every positive pair ``(a, p)`` contributes

    .. math::

        \\ell_{ap} = \\log\\Big(1 + \\sum_{n \\in N(a)} e^{4 t (\\hat x_a + \\hat x_p)^\\top x_n
            - 2 (1 + t) \\hat x_a^\\top \\hat x_p}\\Big)

    Wang et al., *Deep Metric Learning with Angular Loss* (ICCV 2017).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers.
      alpha: the angle :math:`\\alpha` **in degrees** (default 40).
      reduction: ``'mean'`` (over the positive pairs, pml's ``MeanReducer``; 0 when the batch has no
        positive or no negative pair), ``'sum'`` or ``'none'`` (``(B, B)``, 0 off the positive pairs).

    Returns:
      A scalar, or the ``(B, B)`` pair losses for ``'none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import angular_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
      >>> round(float(angular_loss(x, jnp.array([0, 0, 1, 1]))), 4)
      0.3124

    Reference: Wang et al. 2017; pytorch-metric-learning 2.9 AngularLoss.
    """
    name = "angular_loss"
    alpha = V.hyper(name, "alpha", alpha)
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    xp, alpha = _radians(alpha)
    t = xp.tan(alpha) ** 2
    positive, negative = _pair_masks(labels)
    unit = _l2_normalize(embeddings)
    raw = _dot(unit, embeddings)  # [a, n] = x_a_hat . x_n
    ap = _dot(unit, unit)
    # [a, p, n]: 4 t (x_a + x_p) . x_n - 2 (1 + t) x_a . x_p
    inside = 4 * t * (raw[:, None, :] + raw[None, :, :]) - 2 * (1 + t) * ap[:, :, None]
    mask = jnp.broadcast_to(negative[:, None, :], inside.shape)
    losses = _masked_logsumexp(
        inside.reshape(-1, inside.shape[-1]), mask.reshape(inside.shape[0] ** 2, -1), add_one=True
    ).reshape(ap.shape)
    return _finish_positive_pairs(losses, positive, negative, reduction, out_dtype)


@register(
    family="metric",
    reference=f"Yu et al. 2019; {_PML} IntraPairVarianceLoss",
    example=_labelled_example,
    smooth=False,
)
def intra_pair_variance_loss(
    embeddings, labels, *, pos_eps=0.01, neg_eps=0.01, reduction: str = "mean"
):
    """Intra-pair variance loss, pytorch-metric-learning's ``IntraPairVarianceLoss``.

    With cosine similarities :math:`s`, :math:`\\mu_+` (:math:`\\mu_-`) the mean over the positive
    (negative) ordered pairs of the batch:

    .. math::

        \\ell^+_{ij} = [(1 - \\epsilon_+)\\mu_+ - s_{ij}]_+^2, \\qquad
        \\ell^-_{ij} = [s_{ij} - (1 + \\epsilon_-)\\mu_-]_+^2

    Yu & Tao / Yu et al., *Deep Metric Learning with Tuplet Margin Loss* (ICCV 2019), the intra-pair
    variance term. The means are part of the graph (gradients flow through them), as pml.

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers.
      pos_eps: :math:`\\epsilon_+` (default 0.01).
      neg_eps: :math:`\\epsilon_-` (default 0.01).
      reduction: ``'mean'`` (pml's ``MeanReducer`` on each part, then summed: mean over the positive pairs
        plus mean over the negative pairs; an empty part adds 0), ``'sum'`` or ``'none'`` (``(B, B)``:
        :math:`\\ell^+` on positive pairs, :math:`\\ell^-` on negative pairs, 0 on the diagonal).

    Returns:
      A scalar, or the ``(B, B)`` pair losses for ``'none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import intra_pair_variance_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8], [0.6, 0.8]])
      >>> round(float(intra_pair_variance_loss(x, jnp.array([0, 0, 1, 1, 0]))), 4)
      0.1027

    Reference: Yu et al. 2019; pytorch-metric-learning 2.9 IntraPairVarianceLoss.
    """
    name = "intra_pair_variance_loss"
    pos_eps = V.hyper(name, "pos_eps", pos_eps)
    neg_eps = V.hyper(name, "neg_eps", neg_eps)
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    positive, negative = _pair_masks(labels)
    s = _cosine_matrix(embeddings)
    mean_pos = R.masked_mean(s, positive)
    mean_neg = R.masked_mean(s, negative)
    pos = jnp.where(positive, jnp.square(jax.nn.relu((1 - pos_eps) * mean_pos - s)), 0)
    neg = jnp.where(negative, jnp.square(jax.nn.relu(s - (1 + neg_eps) * mean_neg)), 0)
    return _finish_parts(pos, positive, neg, negative, reduction, out_dtype)


@register(
    family="metric",
    reference=f"Yuan et al. 2019; {_PML} SignalToNoiseRatioContrastiveLoss",
    example=_labelled_example,
    smooth=False,
)
def signal_to_noise_ratio_contrastive_loss(
    embeddings, labels, *, pos_margin=0.0, neg_margin=1.0, reduction: str = "mean"
):
    """Contrastive loss on the signal-to-noise-ratio distance, pml's ``SignalToNoiseRatioContrastiveLoss``.

    pml's ``SNRDistance`` between L2-normalised rows, :math:`d_{ij} = \\operatorname{var}(\\hat x_i -
    \\hat x_j) / \\operatorname{var}(\\hat x_i)` (unbiased variances over the ``D`` features), in the
    contrastive hinges of :func:`contrastive_loss`:
    :math:`\\ell^+_{ij} = [d_{ij} - m_+]_+`, :math:`\\ell^-_{ij} = [m_- - d_{ij}]_+`.

    Yuan et al., *Signal-To-Noise Ratio: A Robust Distance Metric for Deep Metric Learning* (CVPR 2019).
    A row whose features have zero variance (a zero or constant row) has no SNR; pml divides by 0
    (``inf``/``nan``), here its distances are the variances of the differences (denominator 1).

    Args:
      embeddings: ``(B, D)`` floats (``D >= 2``).
      labels: ``(B,)`` integers.
      pos_margin: :math:`m_+` (default 0).
      neg_margin: :math:`m_-` (default 1).
      reduction: ``'mean'`` (pml's ``AvgNonZeroReducer`` on each part, then summed, as
        :func:`contrastive_loss`), ``'sum'`` or ``'none'`` (``(B, B)``).

    Returns:
      A scalar, or the ``(B, B)`` pair losses for ``'none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import signal_to_noise_ratio_contrastive_loss
      >>> x = jnp.array([[1.0, 0.0, 2.0], [0.8, 0.6, 1.0], [0.0, 1.0, -1.0]])
      >>> round(float(signal_to_noise_ratio_contrastive_loss(x, jnp.array([0, 0, 1]))), 4)
      2.5715

    Reference: Yuan et al. 2019; pytorch-metric-learning 2.9 SignalToNoiseRatioContrastiveLoss.
    """
    name = "signal_to_noise_ratio_contrastive_loss"
    pos_margin = V.hyper(name, "pos_margin", pos_margin)
    neg_margin = V.hyper(name, "neg_margin", neg_margin)
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    unit = _l2_normalize(embeddings)
    ddof = unit.shape[1] - 1

    def var(v):
        centred = v - jnp.mean(v, axis=-1, keepdims=True)
        return jnp.sum(centred * centred, axis=-1) / ddof

    anchor_var = var(unit)[:, None]
    # a row with no variance (zero or constant) has no SNR: pml divides by 0 (inf/nan); here by 1
    d = var(unit[:, None, :] - unit[None, :, :]) / jnp.where(anchor_var > 0, anchor_var, 1)
    pos, neg = _pair_hinges(d, labels, pos_margin, neg_margin)
    return _finish_parts(pos, pos > 0, neg, neg > 0, reduction, out_dtype)


@register(
    family="metric",
    reference=f"Zhai & Wu 2019; {_PML} NormalizedSoftmaxLoss",
    example=_classifier_example,
    diff=(0, 2),
)
def normalized_softmax_loss(
    embeddings, labels, weight, *, temperature=0.05, reduction: str = "mean"
):
    """Normalized softmax loss, pytorch-metric-learning's ``NormalizedSoftmaxLoss``.

    .. math:: \\ell_i = -\\log \\operatorname{softmax}_c(\\cos\\theta_{ic} / T)_{y_i}

    with cosines between L2-normalised embeddings and L2-normalised class weights. Zhai & Wu,
    *Classification is a Strong Baseline for Deep Metric Learning* (BMVC 2019).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` class indices in ``[0, C)``.
      weight: ``(C, D)`` class weights (the transpose of pml's ``W``).
      temperature: :math:`T` (default 0.05).
      reduction: ``'mean'`` (over the batch, pml's ``MeanReducer``), ``'sum'`` or ``'none'``.

    Returns:
      A scalar, or the ``(B,)`` per-example losses for ``'none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import normalized_softmax_loss
      >>> x = jnp.array([[1.0, 0.2], [0.1, 1.0]])
      >>> w = jnp.array([[1.0, 0.0], [0.0, 1.0]])
      >>> round(float(normalized_softmax_loss(x, jnp.array([0, 1]), w, temperature=0.5)), 4)
      0.1717

    Reference: Zhai & Wu 2019; pytorch-metric-learning 2.9 NormalizedSoftmaxLoss.
    """
    name = "normalized_softmax_loss"
    temperature = V.hyper(name, "temperature", temperature, positive=True)
    embeddings, labels, weight, out_dtype = _prepare(
        name, reduction, embeddings, labels, in_range=True, weight=weight
    )
    values = _margin_softmax(embeddings, labels, weight, 1.0 / temperature, lambda c: c)
    return _finish(values, reduction, None, out_dtype)


@register(
    family="metric",
    reference=f"Zhang et al. 2019; {_PML} P2SGradLoss",
    example=_classifier_example,
    diff=(0, 2),
    smooth=False,
)
def p2s_grad_loss(embeddings, labels, weight, *, reduction: str = "mean"):
    """P2SGrad loss, pytorch-metric-learning's ``P2SGradLoss``: mean squared error of the cosines.

    .. math:: \\ell_{ic} = (\\cos\\theta_{ic} - [c = y_i])^2

    with :math:`\\cos\\theta_{ic} = x_i^\\top w_c / \\lVert x_i \\rVert` clamped to ``[-1, 1]``. Zhang et
    al., *P2SGrad: Refined Gradients for Optimizing Deep Face Models* (CVPR 2019).

    pml rescales its weight in place before each call, outside the graph (torch's ``renorm(2, 1, 1e-5)``
    then ``* 1e5``: each class vector to norm ``n / (n + 1e-7)``, about 1); here the same factor is applied
    to ``weight`` and held constant in the gradient. So the value is pml's, and the gradient with respect
    to ``weight`` is pml's ``weight.grad`` times that factor (``1 - 1e-7`` for unit rows, which pml keeps).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` class indices in ``[0, C)``.
      weight: ``(C, D)`` class weights (the transpose of pml's ``weight``).
      reduction: ``'mean'`` (over all ``B * C`` terms, pml's ``MSELoss``), ``'sum'`` (the terms summed)
        or ``'none'`` (``(B, C)``).

    Returns:
      A scalar, or the ``(B, C)`` squared errors for ``'none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import p2s_grad_loss
      >>> x = jnp.array([[1.0, 0.2], [0.1, 1.0]])
      >>> w = jnp.array([[1.0, 0.0], [0.0, 1.0]])
      >>> round(float(p2s_grad_loss(x, jnp.array([0, 1]), w)), 4)
      0.0122

    Reference: Zhang et al. 2019; pytorch-metric-learning 2.9 P2SGradLoss.
    """
    name = "p2s_grad_loss"
    embeddings, labels, weight, out_dtype = _prepare(
        name, reduction, embeddings, labels, in_range=True, weight=weight
    )
    # torch's renorm(2, 1, 1e-5).mul(1e5), as pml applies it to its weight before each call (outside the
    # graph, so the rescaling is a constant here): rows longer than 1e-5 get norm / (norm + 1e-7)
    w_norm = lax.stop_gradient(_safe_sqrt(jnp.sum(weight * weight, axis=1, keepdims=True)))
    scale = jnp.where(w_norm > 1e-5, 1e-5 / (w_norm + 1e-7), 1.0)
    unit_w = weight * scale * 1e5
    x_norm = _safe_sqrt(jnp.sum(embeddings * embeddings, axis=1, keepdims=True))
    # a zero embedding has cosine 0 (pml: 0 / 0 = nan) and a finite gradient
    cosine = jnp.clip(_dot(embeddings, unit_w) / jnp.where(x_norm > 0, x_norm, 1), -1, 1)
    onehot = _onehot(labels, weight.shape[0])
    values = jnp.square(cosine - onehot.astype(cosine.dtype))
    return _finish(values, reduction, None, out_dtype)


@register(
    family="metric",
    reference=f"Zhang et al. 2023; {_PML} ThresholdConsistentMarginLoss",
    example=_labelled_example,
    smooth=False,
)
def threshold_consistent_margin_loss(
    embeddings,
    labels,
    *,
    lambda_plus=1.0,
    lambda_minus=1.0,
    margin_plus=0.9,
    margin_minus=0.5,
    reduction: str = "mean",
):
    """Threshold-consistent margin (TCM) loss, pytorch-metric-learning's ``ThresholdConsistentMarginLoss``.

    With cosine similarities :math:`s` over the positive pairs :math:`P` and negative pairs :math:`N`:

    .. math::

        \\ell = \\lambda_+ \\frac{\\sum_{P} (m_+ - s) [s \\le m_+]}{\\sum_P [s \\le m_+]}
            + \\lambda_- \\frac{\\sum_{N} (s - m_-) [s \\ge m_-]}{\\sum_N [s \\ge m_-]}

    (an empty selection adds 0). Zhang et al., *Threshold-Consistent Margin Loss for Open-World Deep
    Metric Learning* (2023).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers.
      lambda_plus: :math:`\\lambda_+` (default 1).
      lambda_minus: :math:`\\lambda_-` (default 1).
      margin_plus: :math:`m_+` (default 0.9).
      margin_minus: :math:`m_-` (default 0.5).
      reduction: ``'mean'`` (the formula, pml's value), ``'sum'`` (the two sums, weighted by the
        lambdas, without the divisions) or ``'none'`` (``(B, B)``: the weighted selected terms).

    Returns:
      A scalar, or the ``(B, B)`` pair terms for ``'none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import threshold_consistent_margin_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8], [0.6, 0.8]])
      >>> round(float(threshold_consistent_margin_loss(x, jnp.array([0, 0, 1, 1, 0]))), 4)
      0.3667

    Reference: Zhang et al. 2023; pytorch-metric-learning 2.9 ThresholdConsistentMarginLoss.
    """
    name = "threshold_consistent_margin_loss"
    lambda_plus = V.hyper(name, "lambda_plus", lambda_plus)
    lambda_minus = V.hyper(name, "lambda_minus", lambda_minus)
    margin_plus = V.hyper(name, "margin_plus", margin_plus)
    margin_minus = V.hyper(name, "margin_minus", margin_minus)
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    positive, negative = _pair_masks(labels)
    s = _cosine_matrix(embeddings)
    pos_sel = positive & (s <= margin_plus)
    neg_sel = negative & (s >= margin_minus)
    pos = jnp.where(pos_sel, margin_plus - s, 0)
    neg = jnp.where(neg_sel, s - margin_minus, 0)
    return _finish_parts(
        pos, pos_sel, neg, neg_sel, reduction, out_dtype, (lambda_plus, lambda_minus)
    )


@register(
    family="metric",
    reference=f"Deng et al. 2020 (sub-center ArcFace); {_PML} SubCenterArcFaceLoss",
    example=_soft_triple_example,
    diff=(0, 2),
)
def sub_center_arcface_loss(
    embeddings, labels, centers, *, margin=28.6, scale=64.0, reduction: str = "mean"
):
    """Sub-center ArcFace loss, pytorch-metric-learning's ``SubCenterArcFaceLoss``.

    :func:`arcface_loss` where the cosine to class ``c`` is the largest cosine to its ``K`` sub-centres,
    :math:`\\cos\\theta_{ic} = \\max_k \\cos(x_i, w_{ck})`. Deng et al., *Sub-center ArcFace: Boosting
    Face Recognition by Large-Scale Noisy Web Faces* (ECCV 2020).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` class indices in ``[0, C)``.
      centers: ``(C, K, D)`` sub-centres; pml's ``W`` of shape ``(D, C * K)`` is ``W.T.reshape(C, K, D)``.
      margin: the angular margin **in degrees** (default 28.6), as :func:`arcface_loss`.
      scale: the logit scale (default 64).
      reduction: ``'mean'`` (over the batch, pml's ``MeanReducer``), ``'sum'`` or ``'none'``.

    Returns:
      A scalar, or the ``(B,)`` per-example losses for ``'none'``. The gradient of the ``max`` goes to
      the closest sub-centre (ties, a measure-zero event, split it).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import sub_center_arcface_loss
      >>> x = jnp.array([[1.0, 0.2], [0.1, 1.0]])
      >>> c = jnp.array([[[1.0, 0.0], [1.0, 0.5]], [[0.0, 1.0], [-0.3, 1.0]]])
      >>> round(float(sub_center_arcface_loss(x, jnp.array([0, 1]), c, scale=4.0)), 4)
      0.1839

    Reference: Deng et al. 2020 (sub-center ArcFace); pytorch-metric-learning 2.9 SubCenterArcFaceLoss.
    """
    name = "sub_center_arcface_loss"
    margin = V.hyper(name, "margin", margin, nonnegative=True)
    scale = V.hyper(name, "scale", scale, positive=True)
    embeddings, labels, centers, out_dtype = _prepare(
        name, reduction, embeddings, labels, in_range=True, centers=centers
    )
    cosine = jnp.max(_centre_cosines(embeddings, centers), axis=2)
    values = _margin_softmax_of_cosine(cosine, labels, scale, _arcface_target(margin))
    return _finish(values, reduction, None, out_dtype)


# ---------------------------------------------------------------------------------------------------------
# multiplicative angular margin (L-Softmax, SphereFace)


def _multiplicative_margin_loss(
    loss: str, reduction: str, embeddings, labels, weight, margin, scale, *, weight_norms: bool
) -> jax.Array:
    """pml's ``LargeMarginSoftmaxLoss`` (``weight_norms``) or ``SphereFaceLoss``, reduced.

    The target cosine :math:`c = \\cos\\theta` becomes :math:`\\psi(\\theta) = (-1)^k \\cos(m\\theta) - 2k`
    for :math:`\\theta \\in [k\\pi/m, (k+1)\\pi/m]`, with :math:`\\cos(m\\theta)` from the multiple-angle
    formula in :math:`c` (a polynomial: no ``acos`` in the gradient; :math:`k` is piecewise constant).
    Logits are ``scale * |x_i| * (|w_c| if weight_norms) * cos-or-psi``.
    """
    margin = _positive_int(loss, "margin", margin)
    scale = V.hyper(loss, "scale", scale, positive=True)
    embeddings, labels, weight, out_dtype = _prepare(
        loss, reduction, embeddings, labels, in_range=True, weight=weight
    )

    def target_logit(c):
        sin2 = 1 - c * c
        # Liu et al. eq. 7: cos(m theta) = sum_n (-1)^n C(m, 2n) c^(m - 2n) (1 - c^2)^n (integer powers)
        terms = [
            (-1) ** n * math.comb(margin, 2 * n) * c ** (margin - 2 * n) * sin2**n
            for n in range(margin // 2 + 1)
        ]
        cos_m_theta = sum(terms[1:], terms[0])
        theta = jnp.arccos(jnp.clip(lax.stop_gradient(c), -1, 1))
        k = jnp.floor(theta / (math.pi / margin))  # theta in [k pi / m, (k + 1) pi / m]
        sign = 1 - 2 * jnp.mod(k, 2)  # (-1)^k
        return sign * cos_m_theta - 2 * k

    cosine = _dot(_l2_normalize(embeddings), _l2_normalize(weight))  # (B, C)
    magnitude = _safe_sqrt(jnp.sum(embeddings * embeddings, axis=1))[:, None] * scale
    if weight_norms:
        magnitude = magnitude * _safe_sqrt(jnp.sum(weight * weight, axis=1))[None, :]
    values = _margin_softmax_of_cosine(cosine, labels, magnitude, target_logit)
    return _finish(values, reduction, None, out_dtype)


@register(
    family="metric",
    reference=f"Liu et al. 2016 (L-Softmax); {_PML} LargeMarginSoftmaxLoss",
    example=_classifier_example,
    diff=(0, 2),
    smooth=False,
)
def large_margin_softmax_loss(
    embeddings, labels, weight, *, margin: int = 4, scale=1.0, reduction: str = "mean"
):
    """Large-margin softmax (L-Softmax) loss, pytorch-metric-learning's ``LargeMarginSoftmaxLoss``.

    With :math:`\\theta_{ic}` the angle between embedding ``i`` and class centre ``c`` (a row of
    ``weight``) and an integer margin :math:`m`:

    .. math::

        \\ell_i = -\\log \\frac{e^{s \\|x_i\\| \\|w_{y_i}\\| \\psi(\\theta_{i y_i})}}
            {e^{s \\|x_i\\| \\|w_{y_i}\\| \\psi(\\theta_{i y_i})}
             + \\sum_{c \\ne y_i} e^{s \\|x_i\\| \\|w_c\\| \\cos\\theta_{ic}}}, \\quad
        \\psi(\\theta) = (-1)^k \\cos(m\\theta) - 2k, \\ \\theta \\in [\\tfrac{k\\pi}{m}, \\tfrac{(k+1)\\pi}{m}]

    Liu et al., *Large-Margin Softmax Loss for Convolutional Neural Networks* (ICML 2016).
    :math:`\\cos(m\\theta)` is the paper's multiple-angle polynomial in :math:`\\cos\\theta`, as pml.
    pml's optional weight regulariser is not part of the loss (add it to yours).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` class indices in ``[0, C)``.
      weight: ``(C, D)`` class centres (pml's ``W`` of shape ``(D, C)`` is its transpose).
      margin: :math:`m`, a positive int (pml's default 4; 1 is the plain softmax of
        :math:`s\\|x\\|\\|w\\|\\cos\\theta`).
      scale: :math:`s` (pml's default 1).
      reduction: ``'mean'`` (over the batch, pml's default ``MeanReducer``), ``'sum'`` or ``'none'``.

    Returns:
      A scalar, or the ``(B,)`` per-example losses for ``'none'``. The gradient is pml's away from
      :math:`\\theta = k\\pi/m` (where :math:`\\psi` is continuous but has a kink); it is finite for a zero
      embedding (norm gradient 0 where torch's is ``nan``).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import large_margin_softmax_loss
      >>> x = jnp.array([[1.0, 0.2], [0.1, 1.0]])
      >>> w = jnp.array([[1.0, 0.0], [0.0, 1.0]])
      >>> round(float(large_margin_softmax_loss(x, jnp.array([0, 1]), w, margin=2)), 4)
      0.3676

    Reference: Liu et al. 2016 (L-Softmax); pytorch-metric-learning 2.9 LargeMarginSoftmaxLoss.
    """
    return _multiplicative_margin_loss(
        "large_margin_softmax_loss",
        reduction,
        embeddings,
        labels,
        weight,
        margin,
        scale,
        weight_norms=True,
    )


@register(
    family="metric",
    reference=f"Liu et al. 2017 (SphereFace); {_PML} SphereFaceLoss",
    example=_classifier_example,
    diff=(0, 2),
    smooth=False,
)
def sphereface_loss(
    embeddings, labels, weight, *, margin: int = 4, scale=1.0, reduction: str = "mean"
):
    """SphereFace (A-Softmax) loss, pytorch-metric-learning's ``SphereFaceLoss``.

    :func:`large_margin_softmax_loss` with normalised class centres: the logits are
    :math:`s \\|x_i\\| \\cos\\theta_{ic}`, the target's :math:`s \\|x_i\\| \\psi(\\theta_{i y_i})`.
    Liu et al., *SphereFace: Deep Hypersphere Embedding for Face Recognition* (CVPR 2017).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` class indices in ``[0, C)``.
      weight: ``(C, D)`` class centres (only their directions matter; the transpose of pml's ``W``).
      margin: :math:`m`, a positive int (pml's default 4).
      scale: :math:`s` (pml's default 1).
      reduction: ``'mean'`` (over the batch, pml's default ``MeanReducer``), ``'sum'`` or ``'none'``.

    Returns:
      A scalar, or the ``(B,)`` per-example losses for ``'none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import sphereface_loss
      >>> x = jnp.array([[1.0, 0.2], [0.1, 1.0]])
      >>> w = jnp.array([[2.0, 0.0], [0.0, 3.0]])
      >>> round(float(sphereface_loss(x, jnp.array([0, 1]), w, margin=2)), 4)
      0.3676

    Reference: Liu et al. 2017 (SphereFace); pytorch-metric-learning 2.9 SphereFaceLoss.
    """
    return _multiplicative_margin_loss(
        "sphereface_loss", reduction, embeddings, labels, weight, margin, scale, weight_norms=False
    )


# ---------------------------------------------------------------------------------------------------------
# triplets


@register(
    family="metric",
    reference=f"Weinberger & Saul 2009; Schroff et al. 2015; {_PML} TripletMarginLoss",
    example=_labelled_example,
    smooth=False,
)
def batch_all_triplet_margin_loss(
    embeddings,
    labels,
    *,
    margin=0.05,
    swap: bool = False,
    smooth_loss: bool = False,
    reduction: str = "mean",
):
    """Triplet margin loss over every triplet of a labelled batch, pml's ``TripletMarginLoss``.

    pml's ``triplets_per_anchor='all'``: with :math:`d` the Euclidean distance between L2-normalised rows
    (pml's default ``LpDistance``), over all triplets :math:`(a, p, n)` with :math:`y_p = y_a`,
    :math:`p \\ne a`, :math:`y_n \\ne y_a`:

    .. math::

        \\ell_{apn} = [d_{ap} - d_{an} + m]_+ \\quad (\\log(1 + e^{d_{ap} - d_{an} + m})
            \\text{ with smooth\\_loss})

    and with ``swap`` :math:`d_{an}` is replaced by :math:`\\min(d_{an}, d_{pn})`. Weinberger & Saul,
    *Distance Metric Learning for Large Margin Nearest Neighbor Classification* (JMLR 2009); Schroff et al.,
    *FaceNet* (CVPR 2015). Unlike :func:`triplet_margin_loss` (torch's, on given anchor/positive/negative
    rows) the triplets are formed from the labels. pml's random ``triplets_per_anchor=k`` sampling is not
    offered (pass a mask through ``reduction='none'`` instead).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers.
      margin: :math:`m` (pml's default 0.05).
      swap: use the positive-negative distance when it is smaller (pml's ``swap``, default False).
      smooth_loss: torch's ``softplus`` instead of the hinge (pml's ``smooth_loss``, default False).
      reduction: ``'mean'`` (pml's ``AvgNonZeroReducer``: the mean over the triplets with a positive loss,
        0 when there is none), ``'sum'`` or ``'none'`` (``(B, B, B)`` indexed ``[a, p, n]``, 0 off the
        valid triplets).

    Returns:
      A scalar, or the ``(B, B, B)`` triplet losses for ``'none'``. Identical rows are at distance 0 with a
      zero gradient (torch's ``cdist``).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import batch_all_triplet_margin_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8], [0.6, 0.8]])
      >>> round(float(batch_all_triplet_margin_loss(x, jnp.array([0, 0, 1, 1, 0]), margin=0.5)), 4)
      0.3471

    Reference: Weinberger & Saul 2009; Schroff et al. 2015; pytorch-metric-learning 2.9 TripletMarginLoss.
    """
    name = "batch_all_triplet_margin_loss"
    margin = V.hyper(name, "margin", margin)
    for flag, value in (("swap", swap), ("smooth_loss", smooth_loss)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name}: {flag} must be a bool; got {value!r}")
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    d = _lp_distances(embeddings)
    positive, negative = _pair_masks(labels)
    valid = _triplet_mask(positive, negative)
    an = d[:, None, :]
    if swap:
        an = jnp.minimum(an, d[None, :, :])  # d_pn, as pml's LpDistance.smallest_dist
    violation = d[:, :, None] - an + margin
    values = _torch_softplus(violation) if smooth_loss else jax.nn.relu(violation)
    values = jnp.where(valid, values, 0)
    return _finish(values, reduction, valid & (values > 0), out_dtype)


# ---------------------------------------------------------------------------------------------------------
# self-supervised


def _two_views_example(rng: np.random.Generator):
    return (rng.standard_normal((6, 4)), rng.standard_normal((6, 4))), {}


@register(
    family="metric",
    reference=f"Bardes et al. 2022 (VICReg); {_PML} VICRegLoss",
    example=_two_views_example,
    diff=(0, 1),
    smooth=False,
)
def vicreg_loss(
    embeddings,
    ref_emb,
    *,
    invariance_lambda=25.0,
    variance_mu=25.0,
    covariance_v=1.0,
    eps=1e-4,
    reduction: str = "mean",
):
    """Variance-invariance-covariance regularisation (VICReg), pytorch-metric-learning's ``VICRegLoss``.

    For two views :math:`Z, Z'` of ``(B, D)`` embeddings (no labels):

    .. math::

        \\ell = \\lambda \\, \\frac{1}{B} \\sum_i \\frac{\\|z_i - z'_i\\|^2}{D}
            + \\frac{\\mu}{D} \\sum_j \\Big(\\tfrac{1}{2}[1 - \\sigma_j(Z)]_+ + \\tfrac{1}{2}[1 - \\sigma_j(Z')]_+\\Big)
            + \\nu \\Big(\\frac{1}{D} \\sum_{j \\ne k} C(Z)_{jk}^2 + \\frac{1}{D} \\sum_{j \\ne k} C(Z')_{jk}^2\\Big)

    with :math:`\\sigma_j = \\sqrt{\\mathrm{Var}(z_{\\cdot j}) + \\epsilon}` and :math:`C` the covariance
    matrix (both unbiased, over the batch). Bardes et al., *VICReg: Variance-Invariance-Covariance
    Regularization for Self-Supervised Learning* (ICLR 2022). pml's default reducer (``MeanReducer`` on the
    invariance and variance terms; the covariance term is already reduced) is ``'mean'`` here.

    Args:
      embeddings: ``(B, D)`` floats, the first view (``B >= 2``).
      ref_emb: ``(B, D)`` floats, the second view (pml's ``ref_emb``).
      invariance_lambda: :math:`\\lambda` (pml's default 25).
      variance_mu: :math:`\\mu` (pml's default 25).
      covariance_v: :math:`\\nu` (pml's default 1).
      eps: :math:`\\epsilon` inside the standard deviation (pml's default 1e-4).
      reduction: ``'mean'`` (the formula, pml's ``MeanReducer``) or ``'sum'`` (pml's ``SumReducer``: the
        invariance and variance terms summed instead of averaged over rows and dimensions). There is no
        ``'none'``: the terms have different shapes.

    Returns:
      A scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import vicreg_loss
      >>> z = jnp.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.5]])
      >>> round(float(vicreg_loss(z, z + 0.1)), 4)
      6.6238

    Reference: Bardes et al. 2022 (VICReg); pytorch-metric-learning 2.9 VICRegLoss.
    """
    name = "vicreg_loss"
    R.validate_reduction(name, reduction, ("mean", "sum"))
    invariance_lambda = V.hyper(name, "invariance_lambda", invariance_lambda)
    variance_mu = V.hyper(name, "variance_mu", variance_mu)
    covariance_v = V.hyper(name, "covariance_v", covariance_v)
    eps = V.hyper(name, "eps", eps, nonnegative=True)
    z, z2, out_dtype = paired_views(name, "embeddings", embeddings, "ref_emb", ref_emb)
    batch, dim = z.shape
    if batch < 2:
        raise ValueError(
            f"{name}: embeddings needs at least 2 rows (the variances are unbiased); got {batch}"
        )
    reduce = jnp.mean if reduction == "mean" else jnp.sum
    invariance = invariance_lambda * reduce(jnp.mean(jnp.square(z - z2), axis=1))
    off_diagonal = ~jnp.eye(dim, dtype=bool)

    def variance_and_covariance(x):
        centred = x - jnp.mean(x, axis=0, keepdims=True)
        cov = jnp.matmul(centred.T, centred, precision=_HIGHEST) / (batch - 1)
        std = jnp.sqrt(jnp.diagonal(cov) + eps)  # unbiased variance, as torch's var()
        variance = reduce(jax.nn.relu(1 - std) / 2)
        covariance = jnp.sum(jnp.where(off_diagonal, jnp.square(cov), 0)) / dim
        return variance, covariance

    var1, cov1 = variance_and_covariance(z)
    var2, cov2 = variance_and_covariance(z2)
    out = invariance + variance_mu * var1 + variance_mu * var2 + covariance_v * (cov1 + cov2)
    return out.astype(out_dtype)


# ---------------------------------------------------------------------------------------------------------
# histogram


def _histogram_density(values: jax.Array, mask: jax.Array, n_bins: int) -> jax.Array:
    """pml's ``HistogramLoss.compute_density``: ``(n_bins + 1,)`` linearly interpolated histogram of the
    masked ``values`` in ``[-1, 1]`` (nodes ``-1 + r delta``), divided by the number of masked values."""
    delta = 2.0 / n_bins
    shifted = (values + 1) / delta
    # the bin index is piecewise constant; clipped so that a cosine of exactly 1 stays in the last bin
    r = jnp.clip(jnp.floor(lax.stop_gradient(shifted)), 0, n_bins - 1)
    upper = (values + 1 - r * delta) / delta  # weight of the bin's end node, as pml's delta_ijr_a
    lower = ((r + 1) * delta - 1 - values) / delta  # weight of its start node (delta_ijr_b)
    r = r.astype(jnp.int32)
    density = jnp.zeros(n_bins + 1, values.dtype)
    density = density.at[r + 1].add(jnp.where(mask, upper, 0))
    density = density.at[r].add(jnp.where(mask, lower, 0))
    return density / jnp.maximum(jnp.sum(mask), 1).astype(values.dtype)


@register(
    family="metric",
    reference=f"Ustinova & Lempitsky 2016; {_PML} HistogramLoss",
    example=_labelled_example,
    smooth=False,
)
def histogram_loss(embeddings, labels, *, n_bins: int = 100, reduction: str = "mean"):
    """Histogram loss, pytorch-metric-learning's ``HistogramLoss``.

    The cosine similarities of the positive pairs and of the negative pairs (unordered pairs that belong to
    some triplet of the batch) are histogrammed with linear interpolation onto the ``n_bins + 1`` nodes
    :math:`t_r = -1 + 2r/n` (densities :math:`p^+`, :math:`p^-`); the loss is the probability that a
    random negative pair is more similar than a random positive one:

    .. math::

        \\ell = \\sum_r p^-_r \\, \\Phi^+_r, \\quad \\Phi^+_r = \\sum_{q \\le r} p^+_q

    Ustinova & Lempitsky, *Learning Deep Embeddings with Histogram Loss* (NeurIPS 2016).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers.
      n_bins: the number of bins (a positive int, pml's default 100; pml's ``delta`` is ``2 / n_bins``).
      reduction: ``'mean'`` or ``'sum'`` (both the loss, pml's value under any reducer) or ``'none'`` (the
        ``(n_bins + 1,)`` terms :math:`p^-_r \\Phi^+_r`, which sum to it).

    Returns:
      A scalar (0 when the batch has no triplet), or the ``(n_bins + 1,)`` terms for ``'none'``. The
      gradient flows through the interpolation weights; the bin of each similarity is piecewise constant.
      pml multiplies its integer bin indices by ``delta`` in torch's default float32, so its float64
      values carry errors up to about ``1e-6``; here the bin nodes are in the input's precision (a cosine
      of exactly 1, an index error in pml, falls in the last bin).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import histogram_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8], [0.6, 0.8]])
      >>> round(float(histogram_loss(x, jnp.array([0, 0, 1, 1, 0]), n_bins=10)), 4)
      0.175

    Reference: Ustinova & Lempitsky 2016; pytorch-metric-learning 2.9 HistogramLoss.
    """
    name = "histogram_loss"
    n_bins = _positive_int(name, "n_bins", n_bins)
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    positive, negative = _pair_masks(labels)
    has_positive = jnp.any(positive, axis=1)
    has_negative = jnp.any(negative, axis=1)
    upper = jnp.triu(jnp.ones(positive.shape, dtype=bool), 1)  # each unordered pair once
    # a positive pair is in a triplet when its anchor has a negative (then so has the other end);
    # a negative pair when either end has a positive (that end is the anchor)
    pos_pairs = positive & upper & has_negative[:, None]
    neg_pairs = negative & upper & (has_positive[:, None] | has_positive[None, :])
    s = _cosine_matrix(embeddings)
    phi = jnp.cumsum(_histogram_density(s, pos_pairs, n_bins))
    terms = _histogram_density(s, neg_pairs, n_bins) * phi
    terms = jnp.where(jnp.any(pos_pairs) & jnp.any(neg_pairs), terms, 0)  # no triplet: 0, as pml
    out = terms if reduction == "none" else jnp.sum(terms)
    return out.astype(out_dtype)


# ---------------------------------------------------------------------------------------------------------
# ranked list


def _ranked_list_example(rng: np.random.Generator):
    return (rng.standard_normal((6, 4)), np.array([0, 0, 1, 1, 2, 0])), {"margin": 0.4, "Tn": 1.0}


@register(
    family="metric",
    reference=f"Wang et al. 2019 (RLL); {_PML} RankedListLoss",
    example=_ranked_list_example,
    smooth=False,
)
def ranked_list_loss(
    embeddings,
    labels,
    *,
    margin,
    Tn,
    imbalance=0.5,
    alpha=None,
    Tp=0.0,
    reduction: str = "mean",
):
    """Ranked list loss (RLL), pytorch-metric-learning's ``RankedListLoss``.

    With :math:`d` the Euclidean distance between L2-normalised rows (pml's default ``LpDistance``), the
    violating positives :math:`P^*_i = \\{j \\ne i: y_j = y_i, d_{ij} > \\alpha - m\\}` and negatives
    :math:`N^*_i = \\{j: y_j \\ne y_i, d_{ij} < \\alpha\\}` (pairs at distance 0 excluded, as pml):

    .. math::

        \\ell_i = (1 - \\lambda) \\frac{\\sum_{P^*_i} w^+_{ij} (d_{ij} - \\alpha + m)}
            {\\sum_{P^*_i} w^+_{ij} + 10^{-5} B}
          + \\lambda \\frac{\\sum_{N^*_i} w^-_{ij} (\\alpha - d_{ij})}{\\sum_{N^*_i} w^-_{ij} + 10^{-5} B},
        \\quad w^+ = e^{T_p (d - \\alpha + m)}, \\ w^- = e^{T_n (\\alpha - d)}

    Wang et al., *Ranked List Loss for Deep Metric Learning* (CVPR 2019); ``Tp=0`` is the paper's
    RLL-Simpler. pml's ``10^{-5}`` per pair in the denominators is kept. The weights are differentiated through,
    as in pml.

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers.
      margin: :math:`m`, the gap between the positive and the negative boundaries (required, as in pml).
      Tn: :math:`T_n`, the negative weighting temperature (required, as in pml).
      imbalance: :math:`\\lambda \\in [0, 1]`, the weight of the negative term (pml's default 0.5).
      alpha: :math:`\\alpha`, the negative boundary (default ``1 + margin / 2``, as pml).
      Tp: :math:`T_p`, the positive weighting temperature (pml's default 0).
      reduction: ``'mean'`` (over the batch, pml's ``MeanReducer``), ``'sum'`` or ``'none'``.

    Returns:
      A scalar, or the ``(B,)`` per-anchor losses for ``'none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import ranked_list_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8], [0.6, 0.8]])
      >>> round(float(ranked_list_loss(x, jnp.array([0, 0, 1, 1, 0]), margin=0.4, Tn=1.0)), 4)
      0.1516

    Reference: Wang et al. 2019 (RLL); pytorch-metric-learning 2.9 RankedListLoss.
    """
    name = "ranked_list_loss"
    margin = V.hyper(name, "margin", margin)
    Tn = V.hyper(name, "Tn", Tn)
    Tp = V.hyper(name, "Tp", Tp)
    imbalance = V.hyper(name, "imbalance", imbalance)
    if isinstance(imbalance, float):
        V.check_option(name, "imbalance", imbalance, 0 <= imbalance <= 1, "in [0, 1]")
    alpha = 1 + margin / 2 if alpha is None else V.hyper(name, "alpha", alpha)
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    d = _lp_distances(embeddings)
    positive, negative = _pair_masks(labels)
    pos_sel = positive & (d > alpha - margin) & (d > 0)
    neg_sel = negative & (d < alpha) & (d > 0)
    w_pos = jnp.where(pos_sel, jnp.exp(Tp * (d - (alpha - margin))), 0)
    w_neg = jnp.where(neg_sel, jnp.exp(Tn * (alpha - d)), 0)
    pad = 1e-5 * d.shape[1]  # pml adds 1e-5 to every weight of the row, selected or not
    loss_pos = jnp.sum(jnp.where(pos_sel, w_pos * (d - (alpha - margin)), 0), axis=1) / (
        jnp.sum(w_pos, axis=1) + pad
    )
    loss_neg = jnp.sum(jnp.where(neg_sel, w_neg * (alpha - d), 0), axis=1) / (
        jnp.sum(w_neg, axis=1) + pad
    )
    values = (1 - imbalance) * loss_pos + imbalance * loss_neg
    return _finish(values, reduction, None, out_dtype)


# ---------------------------------------------------------------------------------------------------------
# PNP


_PNP_VARIANTS = ("Ds", "Dq", "Iu", "Ib", "O")


@register(
    family="metric",
    reference=f"Li et al. 2022 (PNP); {_PML} PNPLoss",
    example=_labelled_example,
    smooth=False,
)
def pnp_loss(
    embeddings,
    labels,
    *,
    b=2.0,
    alpha=1.0,
    anneal=0.01,
    variant: str = "O",
    reduction: str = "mean",
):
    """Rethinking-AP (PNP) loss, pytorch-metric-learning's ``PNPLoss``.

    For each anchor :math:`q` with a positive, and each :math:`j \\in P^+_q` (its positives and itself), a
    smoothed count of the negatives ranked above :math:`j`,

    .. math::

        R_{qj} = \\sum_{k:\\, y_k \\ne y_q} \\sigma\\Big(\\frac{s_{qk} - s_{qj}}{\\tau}\\Big), \\qquad
        \\ell_q = \\frac{1}{|P^+_q|} \\sum_{j \\in P^+_q} g(R_{qj})

    with cosine similarities :math:`s`, :math:`\\sigma` the logistic function (its exponent clamped to
    :math:`[-50, 50]`, as pml) and :math:`g` the variant: ``'O'`` :math:`R`, ``'Ds'`` :math:`\\log(1 + R)`,
    ``'Dq'`` :math:`1 - (1 + R)^{-\\alpha}`, ``'Iu'`` :math:`(1 + R)\\log(1 + R)`, ``'Ib'``
    :math:`(bR - \\log(1 + bR)) / b^2`. Li et al., *Rethinking the Optimization of Average Precision: Only
    Penalizing Negative Instances before Positive Ones is Enough* (AAAI 2022).

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers.
      b: :math:`b` of the ``'Ib'`` variant (pml's default 2).
      alpha: :math:`\\alpha` of the ``'Dq'`` variant (pml's default 1).
      anneal: the sigmoid temperature :math:`\\tau` (pml's default 0.01).
      variant: one of ``'O'`` (pml's default), ``'Ds'``, ``'Dq'``, ``'Iu'``, ``'Ib'``.
      reduction: ``'mean'`` (over the anchors with a positive, pml's value; 0 when no anchor has one),
        ``'sum'`` (the per-anchor losses summed) or ``'none'`` (``(B,)``, 0 for anchors without a positive).

    Returns:
      A scalar, or the ``(B,)`` per-anchor losses for ``'none'``. The ``(B, B, B)`` comparisons are
      materialised: memory grows as the cube of the batch.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import pnp_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8], [0.6, 0.8]])
      >>> round(float(pnp_loss(x, jnp.array([0, 0, 1, 1, 0]), anneal=0.1)), 4)
      0.1681

    Reference: Li et al. 2022 (PNP); pytorch-metric-learning 2.9 PNPLoss.
    """
    name = "pnp_loss"
    if variant not in _PNP_VARIANTS:
        raise ValueError(f"{name}: variant must be one of {_PNP_VARIANTS}; got {variant!r}")
    b = V.hyper(name, "b", b, positive=True)
    alpha = V.hyper(name, "alpha", alpha)
    anneal = V.hyper(name, "anneal", anneal, positive=True)
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    positive, negative = _pair_masks(labels)
    has_positive = jnp.any(positive, axis=1)
    relevant = positive | (jnp.eye(labels.shape[0], dtype=bool) & has_positive[:, None])  # P+_q
    s = _cosine_matrix(embeddings)
    # [q, j, k]: negative k of q ahead of j; pml's clamped temperature sigmoid
    exponent = jnp.clip(-(s[:, None, :] - s[:, :, None]) / anneal, -50, 50)
    ahead = jnp.where(negative[:, None, :], 1 / (1 + jnp.exp(exponent)), 0)
    rank = jnp.sum(ahead, axis=-1)  # (B, B)
    if variant == "Ds":
        rank = jnp.log1p(rank)
    elif variant == "Dq":
        rank = 1 - (1 + rank) ** (-alpha)  # pml's 1 - mean of (1 + R)^-alpha, anchor by anchor
    elif variant == "Iu":
        rank = (1 + rank) * jnp.log1p(rank)
    elif variant == "Ib":
        rank = (b * rank - jnp.log1p(b * rank)) / b**2
    count = jnp.sum(relevant, axis=1)
    values = jnp.sum(jnp.where(relevant, rank, 0), axis=1) / jnp.maximum(count, 1).astype(
        rank.dtype
    )
    values = jnp.where(has_positive, values, 0)
    return _finish(values, reduction, has_positive, out_dtype)


# ---------------------------------------------------------------------------------------------------------
# Smooth-AP


@register(
    family="metric",
    reference=f"Brown et al. 2020 (Smooth-AP); {_PML} SmoothAPLoss",
    example=_labelled_example,
)
def smooth_ap_loss(embeddings, labels, *, temperature=0.01, reduction: str = "mean"):
    """Smooth-AP: one minus a sigmoid-smoothed average precision, pytorch-metric-learning's ``SmoothAPLoss``.

    With cosine similarities :math:`s`, :math:`G_a` the rows of anchor ``a``'s class (``a`` included) and
    :math:`\\sigma_\\tau(t) = \\sigma(t / \\tau)`:

    .. math::

        \\ell_a = 1 - \\frac{1}{|G_a|} \\sum_{x \\in G_a}
            \\frac{1 + \\sum_{k \\in G_a, k \\ne x} \\sigma_\\tau(s_{ak} - s_{ax})}
                 {1 + \\sum_{k \\ne x} \\sigma_\\tau(s_{ak} - s_{ax})}

    Brown et al., *Smooth-AP: Smoothing the Path Towards Large-Scale Image Retrieval* (ECCV 2020). pml
    requires the batch sorted by label with the same number of rows per class, and takes each class as a
    block of consecutive rows whose length is the number of classes, which is the class size only when
    the two agree (e.g. 4 classes of 4); it also stores the precisions in float32. Here the classes come
    from the labels, so any batch works; on the batches pml's layout describes, the values are pml's.

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers.
      temperature: :math:`\\tau` (pml's default 0.01).
      reduction: ``'mean'`` (over the batch, pml's ``MeanReducer``), ``'sum'`` or ``'none'``.

    Returns:
      A scalar, or the ``(B,)`` per-anchor losses for ``'none'`` (a singleton class gives 0). The
      ``(B, B, B)`` comparisons are materialised: memory grows as the cube of the batch.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import smooth_ap_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
      >>> round(float(smooth_ap_loss(x, jnp.array([0, 0, 1, 1]), temperature=0.1)), 4)
      0.019

    Reference: Brown et al. 2020 (Smooth-AP); pytorch-metric-learning 2.9 SmoothAPLoss.
    """
    name = "smooth_ap_loss"
    temperature = V.hyper(name, "temperature", temperature, positive=True)
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    same = labels[:, None] == labels[None, :]  # G_a, the anchor included
    others = ~jnp.eye(labels.shape[0], dtype=bool)
    s = _cosine_matrix(embeddings)
    # [a, x, k]: k ranked above x for anchor a; k = x itself is left out
    ahead = jax.nn.sigmoid((s[:, None, :] - s[:, :, None]) / temperature)
    ahead = jnp.where(others[None, :, :], ahead, 0)
    all_rank = 1 + jnp.sum(ahead, axis=-1)  # (B, B)
    pos_rank = 1 + jnp.sum(jnp.where(same[:, None, :], ahead, 0), axis=-1)
    count = jnp.sum(same, axis=1).astype(s.dtype)
    ap = jnp.sum(jnp.where(same, pos_rank / all_rank, 0), axis=1) / count
    return _finish(1 - ap, reduction, None, out_dtype)


# ---------------------------------------------------------------------------------------------------------
# manifold (random-walk similarity to proxies)


def _manifold_example(rng: np.random.Generator):
    return (
        rng.standard_normal((6, 4)),
        np.array([0, 1, 2, 1, 0, 2]),
        rng.standard_normal((3, 4)),
    ), {}


def _hinged_log_sum(scores: jax.Array, own: jax.Array, margin) -> jax.Array:
    """pml's ManifoldLoss term: ``mean_i log(1 + sum_{k != own_i, v >= 0} exp(v))``, ``v = s_ik - s_i,own + m``."""
    onehot = _onehot(own, scores.shape[1])
    v = scores - jnp.sum(jnp.where(onehot, scores, 0), axis=1, keepdims=True) + margin
    keep = ~onehot & (
        v >= 0
    )  # pml sets the own proxy and negative margins to -inf: no loss, no gradient
    return jnp.mean(jnp.log1p(jnp.sum(jnp.where(keep, jnp.exp(jnp.where(keep, v, 0)), 0), axis=1)))


@register(
    family="metric",
    reference=f"Aziere & Todorovic 2019; {_PML} ManifoldLoss",
    example=_manifold_example,
    diff=(0, 2),
    smooth=False,
)
def manifold_loss(
    embeddings,
    meta_classes,
    proxies,
    *,
    lambdaC=1.0,
    alpha=0.8,
    margin=5e-4,
    reduction: str = "mean",
):
    """Ensemble deep manifold similarity loss, pytorch-metric-learning's ``ManifoldLoss``.

    The embeddings and the ``K`` proxies are the nodes of a graph with affinities
    :math:`S = e^{2 [\\cos]_+}` (zero diagonal), normalised :math:`\\bar S = D^{-1/2} S D^{-1/2}`; a random
    walk gives the manifold similarities :math:`F = (1 - \\alpha)(I - \\alpha \\bar S)^{-1}`. With
    :math:`c_i` the meta class (proxy) of embedding ``i``, an intrinsic term on :math:`F_{ik}` (embedding
    ``i`` to proxy ``k``) and a context term on the cosine between the rows :math:`F_i` and :math:`F_k`:

    .. math::

        \\ell = \\frac{1}{N} \\sum_i \\log\\Big(1 + \\sum_{k \\ne c_i,\\, v_{ik} \\ge 0} e^{v_{ik}}\\Big)
            + \\lambda_C \\frac{1}{N} \\sum_i \\log\\Big(1 + \\sum_{k \\ne c_i,\\, u_{ik} \\ge 0} e^{u_{ik}}\\Big),
        \\quad v_{ik} = F_{ik} - F_{i c_i} + m, \\ u_{ik} = \\cos(F_i, F_k) - \\cos(F_i, F_{c_i}) + m

    Aziere & Todorovic, *Ensemble Deep Manifold Similarity Learning using Hard Proxies* (CVPR 2019).
    The meta classes are an argument: pml draws them at random (every proxy once, the rest uniform) unless
    they are passed as its ``indices_tuple``. pml inverts :math:`I - \\alpha \\bar S` in float32 whatever
    the input dtype; here it is inverted in the input's precision.

    Args:
      embeddings: ``(N, D)`` floats.
      meta_classes: ``(N,)`` proxy indices in ``[0, K)``.
      proxies: ``(K, D)`` floats (pml's learnable ``proxies``).
      lambdaC: :math:`\\lambda_C \\ge 0`, the weight of the context term (pml's default 1; a finite number).
      alpha: :math:`\\alpha \\in (0, 1)`, the random walk's propagation (pml's default 0.8).
      margin: :math:`m` (pml's default 5e-4).
      reduction: ``'mean'`` or ``'sum'``: both give pml's value (the formula); there is no ``'none'``.

    Returns:
      A scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import manifold_loss
      >>> x = jnp.array([[1.0, 0.2], [0.1, 1.0], [0.9, -0.1]])
      >>> p = jnp.array([[1.0, 0.0], [0.0, 1.0]])
      >>> round(float(manifold_loss(x, jnp.array([1, 0, 0]), p)), 4)
      1.0157

    Reference: Aziere & Todorovic 2019; pytorch-metric-learning 2.9 ManifoldLoss.
    """
    name = "manifold_loss"
    lambdaC = V.hyper(name, "lambdaC", lambdaC, nonnegative=True)
    alpha = V.hyper(name, "alpha", alpha)
    margin = V.hyper(name, "margin", margin)
    x, own, p, out_dtype = _prepare(
        name,
        reduction,
        embeddings,
        meta_classes,
        labels_name="meta_classes",
        in_range=True,
        reductions=("mean", "sum"),
        proxies=proxies,
    )
    n, k = x.shape[0], p.shape[0]
    nodes = jnp.concatenate([x, p], axis=0)
    eye = jnp.eye(n + k, dtype=x.dtype)
    s = jnp.exp(jnp.maximum(_cosine_matrix(nodes), 0) / 0.5)
    s = s - s * eye
    d_inv_half = jnp.sum(s, axis=1) ** -0.5
    s_bar = d_inv_half[:, None] * s * d_inv_half[None, :]
    f = (1 - alpha) * jnp.linalg.inv(eye - alpha * s_bar)
    f_e, f_p = f[:n], f[n:]
    intrinsic = _hinged_log_sum(f_e[:, n:], own, margin)
    context = _hinged_log_sum(_cosine_matrix(f_e, f_p), own, margin)
    return (intrinsic + lambdaC * context).astype(out_dtype)


# ---------------------------------------------------------------------------------------------------------
# dynamic soft margin (a running histogram of d_pos - d_neg)


@register(
    family="metric",
    reference=f"Zhang & Rusinkiewicz 2019; {_PML} DynamicSoftMarginLoss",
    example=_labelled_example,
    smooth=False,
)
def dynamic_soft_margin_loss(
    embeddings,
    labels,
    histogram=None,
    *,
    min_val=-2.0,
    num_bins: int = 10,
    momentum=0.01,
    return_histogram: bool = False,
    reduction: str = "mean",
):
    """CDF-based dynamic soft margin loss, pytorch-metric-learning's ``DynamicSoftMarginLoss``.

    For every triplet :math:`(a, p, n)` of the batch (:math:`y_p = y_a`, :math:`p \\ne a`,
    :math:`y_n \\ne y_a`), :math:`t = d_{ap} - d_{an}` with Euclidean distances between L2-normalised rows.
    The running histogram :math:`h` of :math:`t` over ``num_bins`` bins of width
    :math:`\\delta = 2|t_{min}| / n` from ``min_val`` is updated with the batch's linearly interpolated
    counts, :math:`h \\leftarrow \\mathrm{normalise}((1 - \\mu) h + \\mu\\, \\mathrm{hist}(t))` (:math:`\\mu = 1`
    while :math:`h` is all zero), and

    .. math::

        \\ell = \\frac{1}{|T|} \\sum_{T} \\mathrm{CDF}_h(t)\\, t

    Zhang & Rusinkiewicz, *Learning Local Descriptors with a CDF-Based Dynamic Soft Margin* (ICCV 2019).
    pml keeps :math:`h` in the module; here it is an argument and, with ``return_histogram=True``, a
    result: thread it through the training state. The gradient flows through the updated histogram, as in
    pml. pml's label-free mode (rows paired by index) is not offered.

    Args:
      embeddings: ``(B, D)`` floats.
      labels: ``(B,)`` integers.
      histogram: ``(num_bins,)`` the running histogram (``None``: zeros, pml's initial state).
      min_val: :math:`t_{min} < 0`, the left end of the histogram (pml's default -2).
      num_bins: the number of bins (a positive int, pml's default 10).
      momentum: :math:`\\mu`, the weight of the batch's histogram (pml's default 0.01).
      return_histogram: also return the updated histogram (unchanged when the batch has no triplet).
      reduction: ``'mean'`` (pml's value; 0 without triplets), ``'sum'`` or ``'none'`` (``(B, B, B)``
        indexed ``[a, p, n]``, 0 off the triplets).

    Returns:
      The loss, or ``(loss, histogram)`` with ``return_histogram``. A value of :math:`t` in the last bin
      makes pml index past its histogram (an error); here that bin's upper node is dropped.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import dynamic_soft_margin_loss
      >>> x = jnp.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8], [0.6, 0.8]])
      >>> loss, h = dynamic_soft_margin_loss(x, jnp.array([0, 0, 1, 1, 0]), return_histogram=True)
      >>> round(float(loss), 4), h.shape
      (-0.2412, (10,))

    Reference: Zhang & Rusinkiewicz 2019; pytorch-metric-learning 2.9 DynamicSoftMarginLoss.
    """
    name = "dynamic_soft_margin_loss"
    min_val = V.hyper(name, "min_val", min_val)
    if isinstance(min_val, float):
        V.check_option(name, "min_val", min_val, min_val < 0, "< 0")
    num_bins = _positive_int(name, "num_bins", num_bins)
    momentum = V.hyper(name, "momentum", momentum)
    embeddings, labels, out_dtype = _prepare(name, reduction, embeddings, labels)
    cdt = embeddings.dtype
    if histogram is None:
        histogram = jnp.zeros(num_bins, cdt)
    else:
        histogram = V.as_float(name, "histogram", histogram)
        if histogram.shape != (num_bins,):
            raise ValueError(
                f"{name}: histogram has shape {tuple(histogram.shape)}; it must be ({num_bins},)"
            )
        histogram = histogram.astype(cdt)
    delta = 2 * abs(min_val) / num_bins
    d = _lp_distances(embeddings)
    positive, negative = _pair_masks(labels)
    valid = _triplet_mask(positive, negative)
    t = d[:, :, None] - d[:, None, :]
    position = (jnp.where(valid, t, 0) - min_val) / delta
    index = lax.stop_gradient(jnp.floor(position))
    frac = position - jnp.trunc(lax.stop_gradient(position))  # torch.frac, gradient 1
    index = jnp.clip(index, 0, num_bins - 1).astype(jnp.int32)
    rate = jnp.where(jnp.sum(histogram) != 0, momentum, 1.0)
    updated = (
        ((1 - rate) * histogram)
        .at[index.ravel()]
        .add(jnp.where(valid, rate * (1 - frac), 0).ravel())
    )
    upper = index + 1  # the last bin's upper node is past the histogram: dropped
    updated = updated.at[upper.ravel()].add(jnp.where(valid, rate * frac, 0).ravel(), mode="drop")
    total = jnp.sum(updated)
    updated = updated / jnp.where(total != 0, total, 1)  # 0 only without triplets (then unused)
    any_triplet = jnp.any(valid)
    updated = jnp.where(any_triplet, updated, histogram)  # no triplet: pml returns before updating
    values = jnp.where(valid, jnp.cumsum(updated)[index] * t, 0)
    loss = _finish(values, reduction, valid, out_dtype)
    return (loss, updated.astype(out_dtype)) if return_histogram else loss


# ----------------------------------------------------------------------------------------- optax faces
# jaxloss.optax_losses binds each optax_<name> below as <name>.


@OX.register(
    "ntxent",
    family="metric",
    example=lambda rng: ((rng.standard_normal((4, 3)), np.array([0, 0, 1, 1])), {}),
)
def optax_ntxent(embeddings, labels, temperature=0.07):
    """Normalized temperature-scaled cross-entropy (NT-Xent, SimCLR), averaged over the positive pairs.

    For each positive pair ``(i, j)`` (same label, ``i != j``) with cosine similarities ``c``:
    ``-log(exp(c_ij / T) / (exp(c_ij / T) + sum_{k: label_k != label_i} exp(c_ik / T)))``.

    Args:
      embeddings: ``(B, D)``.
      labels: ``(B,)`` group ids; equal ids are positive pairs.
      temperature: the temperature ``T``.

    Returns:
      A scalar; ``0`` (with zero gradient) when there is no positive pair (optax: ``nan``).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import ntxent
      >>> e = jnp.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.1, 1.0]])
      >>> print(round(float(ntxent(e, jnp.array([0, 0, 1, 1]))), 4))
      0.0

    Reference: Chen et al., "A Simple Framework for Contrastive Learning", 2020; optax 0.2.8.
    """
    name = "ntxent"
    embeddings = V.as_float(name, "embeddings", embeddings)
    labels = V.as_array(name, "labels", labels)
    if labels.shape[0] != embeddings.shape[0]:
        raise ValueError(
            f"{name}: labels has {labels.shape[0]} rows; it must have one per embedding "
            f"({embeddings.shape[0]})"
        )
    eps = jnp.finfo(embeddings.dtype).eps  # optax clips the squared norms at the input dtype's eps
    per_pair, positives = _ntxent_pairs(embeddings, labels, temperature, eps)
    # no positive pair: 0 / 1, not optax's 0 / 0
    return jnp.sum(per_pair) / jnp.maximum(jnp.sum(positives), 1)
