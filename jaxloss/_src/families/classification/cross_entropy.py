"""Classification losses: torch's ``nll_loss`` and ``cross_entropy``.

Shape letters: ``N`` batch, ``C`` classes (``V`` when they are a vocabulary), ``H`` features,
``d1..dK`` extra (spatial) dimensions. The class axis is axis 1 of a batched input and axis 0 of an
unbatched ``(C,)`` one, as in torch.

Private kernels other faces reuse (optax's ``softmax_cross_entropy[_with_integer_labels]``):

* :func:`_cross_entropy_indices` ``(logits, labels, axis=-1)``: ``-log_softmax(logits)[label]`` per example;
* :func:`_cross_entropy_probs` ``(logits, probs, axis=-1)``: ``-sum(probs * log_softmax(logits))`` per example.

Neither kernel materialises a one-hot or a ``log_softmax`` array: the log-normaliser is a reduction and the
target's logit a gather, so under ``jit`` XLA fuses the whole loss and its gradient into a few passes over the
logits. ``linear_cross_entropy`` (``jaxloss/_linear_cross_entropy.py``) reuses :func:`_cross_entropy` and the
checks below.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxloss._src.core import optax_conventions as OX
from jaxloss._src.core import reduction as R
from jaxloss._src.core import validation as V
from jaxloss._src.core.compat import optimization_barrier
from jaxloss._src.core.numerics import lax_apply, lax_max, lax_sum, select
from jaxloss._src.core.registry import register

__all__ = [
    "cross_entropy",
    "nll_loss",
]


# --------------------------------------------------------------------------------------------------------------
# Per-example kernels
# --------------------------------------------------------------------------------------------------------------


def _normalise_axes(logits: jax.Array, axis) -> tuple[jax.Array, int]:
    """Return ``(logits, axis)`` with a tuple of class axes flattened into one trailing axis."""
    if isinstance(axis, int):
        return logits, axis % logits.ndim
    axes = tuple(a % logits.ndim for a in axis)
    rest = tuple(a for a in range(logits.ndim) if a not in axes)
    logits = jnp.transpose(logits, rest + axes)
    return logits.reshape(logits.shape[: len(rest)] + (-1,)), len(rest)


def _log_normaliser(logits: jax.Array, axis: int) -> tuple[jax.Array, jax.Array]:
    """``(m, log_s)`` with ``log_softmax = (logits - m) - log_s`` (both keep the class axis).

    ``logits - m`` (``m`` the max) is exact near the maximum (Sterbenz), so ``log_s - (logits - m)`` loses
    nothing to cancellation for large logits, as torch's ``log_softmax``. ``m`` carries no gradient: it cancels.
    """
    m, log_s, _ = _row_stats(logits, jnp.zeros((), logits.dtype), axis, "lse")
    return m, log_s


def _row_stats_value(x, v, axis: int, mode: str):
    # lax, not jnp: a first call traces this (and the rule below) on every new shape (see lax_apply)
    m = lax_max(x, axis, keepdims=True)
    log_s = lax.log(lax_sum(lax.exp(lax_apply(lax.sub, x, m)), axis, keepdims=True))
    if mode == "lse":
        return m, log_s, None
    # Its own pass over the logits: behind the barrier XLA cannot share (x - m) with the sum of exp above,
    # so neither materialises it; each reduction reads the logits once and fuses its arithmetic.
    xb, mb, vb = optimization_barrier((x, m, v))
    z = lax_apply(lax.sub, xb, mb)
    return m, log_s, lax_sum(z if mode == "sum" else lax_apply(lax.mul, vb, z), axis, keepdims=True)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2, 3))
def _row_stats(x: jax.Array, v: jax.Array, axis: int, mode: str):
    """Per-row statistics of logits ``x`` along ``axis``, an int or a tuple of axes (all three keep them).

    Returns ``(m, log_s, d)``: ``m`` the max (no gradient, it cancels), ``log_s = log(sum(exp(x - m)))``
    and, for the smoothing term, ``d = sum(x - m)`` (``mode='sum'``) or ``sum(v * (x - m))``
    (``mode='weighted'``, ``v`` the class weights shaped to broadcast); ``d`` is ``None`` for ``mode='lse'``.
    Then ``-log_softmax(x) = log_s - (x - m)`` and ``sum_c v_c (-log_softmax(x)_c) = sum(v) log_s - d``, a
    sum of two non-negative terms (no cancellation).

    Performance (forward + backward under ``jit``): each statistic is one fused reduction that reads the
    logits, and the gradient ``softmax * ct_log_s + v * ct_d`` is recomputed from the logits behind an
    ``optimization_barrier``, so it is one elementwise pass (read logits, write gradient): no ``exp(x - m)``
    or ``x - m`` array is ever stored. Higher derivatives differentiate this rule.
    """
    return _row_stats_value(x, v, axis, mode)


@functools.partial(_row_stats.defjvp, symbolic_zeros=True)
def _row_stats_jvp(axis, mode, primals, tangents):
    x, v = primals
    dx, dv = (None if isinstance(t, jax.custom_derivatives.SymbolicZero) else t for t in tangents)
    m, log_s, _d = out = _row_stats(x, v, axis, mode)
    xb, mb, lb, vb = optimization_barrier((x, m, log_s, v))
    zero = lax.full_like(m, 0)
    if dx is None:
        d_log_s = zero
    else:
        softmax = lax.exp(lax_apply(lax.sub, lax_apply(lax.sub, xb, mb), lb))
        d_log_s = lax_sum(lax_apply(lax.mul, softmax, dx), axis, keepdims=True)
    if mode == "lse":
        return out, (zero, d_log_s, None)
    terms = []
    if dx is not None:
        terms.append(dx if mode == "sum" else lax_apply(lax.mul, vb, dx))
    if mode == "weighted" and dv is not None:
        terms.append(lax_apply(lax.mul, dv, lax_apply(lax.sub, xb, mb)))
    dd = zero
    for t in terms:
        dd = lax_apply(lax.add, dd, lax_sum(t, axis, keepdims=True))
    return out, (zero, d_log_s, dd)


def _class_block(num_classes: int) -> int:
    """Block size ``k`` for viewing ``C`` classes as ``(C // k, k)`` in the weighted statistics, or 0 for none.

    XLA:CPU handles a per-class vector broadcast along the rows of an ``(N, C)`` array badly: the weighted
    smoothing sum ``sum(v (x - m))`` (a YNNPACK reduction) and the gradient pass that adds ``v * ct_d`` (a loop
    fusion, about 10x fewer vector instructions in its LLVM IR) run about 2x and 1.3 to 2x slower than on an
    ``(N, C // 128, 128)`` view of the same buffer (a bitcast). Measured at N=8192, C=4096 (see
    ``docs/performance.md``). The unweighted sums have no such broadcast and keep the 2-D form. Only on CPU:
    elsewhere the split is not needed (and on TPU it would change the tiled layout).
    """
    if jax.default_backend() != "cpu":
        return 0
    k = min(num_classes & -num_classes, 128)  # the largest power of two dividing C, at most 128
    return k if 8 <= k < num_classes else 0


def _weighted_row_stats(x: jax.Array, v: jax.Array, index: jax.Array):
    """:func:`_row_stats` of ``(N, C)`` logits along axis 1 in ``mode='weighted'`` (``v`` shaped ``(1, C)``)
    and the logits at ``index`` ``(N,)``, computed on the ``(N, C // k, k)`` view of :func:`_class_block` when
    there is one: ``(m, log_s, d, x[n, index[n]])``."""
    n, c = x.shape
    k = _class_block(c)
    if not k:
        return _row_stats(x, v, 1, "weighted") + (_gather(x, index, 1),)
    x3 = x.reshape(n, c // k, k)
    m, log_s, d = _row_stats(x3, v.reshape(1, c // k, k), (1, 2), "weighted")
    # gathered from the view too: the gradient's scatter then stays 3-D and so does the fused pass before it
    # (out-of-range indices: NaN, as take_along_axis in _gather)
    x_t = x3.at[jnp.arange(n), index // k, index % k].get(mode="fill", fill_value=jnp.nan)
    return m.reshape(n, 1), log_s.reshape(n, 1), d.reshape(n, 1), x_t


# Largest logits (elements) whose gradient takes the target's part as a one-hot select (see _gather)
_ONE_HOT_GRADIENT_MAX = 1 << 20


def _gather(x: jax.Array, index: jax.Array, axis: int, wrap: bool = True) -> jax.Array:
    """``x[..., index, ...]`` along ``axis`` for an ``index`` with ``x``'s shape minus that axis.

    Out-of-range indices give NaN; negative ones count from the end (``wrap=True``, as
    ``jnp.take_along_axis`` and optax) or are out of range (``wrap=False``, for torch's faces, which reject
    them eagerly). An out-of-range index has a zero gradient.

    The gradient is the transpose of a gather, a scatter into the rest of the gradient. Up to
    ``_ONE_HOT_GRADIENT_MAX`` elements it is instead a one-hot select that XLA fuses into the pass writing the
    rest of the gradient (:func:`_gather_one_hot`): three kernels fewer to compile, which is most of a small
    loss's first call (``cross_entropy`` with label smoothing, B=256, C=512: compiled in 88 against 120 ms).
    On large logits the select costs more than the scatter, as XLA:CPU's loop computes the iota's column
    index per element (N=8192, C=4096: 74-78 against 56-59 ms).
    """
    if x.size <= _ONE_HOT_GRADIENT_MAX:
        return _gather_one_hot(x, index, axis, wrap)
    return _take(x, index, axis, wrap)


def _from_end(index: jax.Array, size: int, wrap: bool = True) -> jax.Array:
    """Negative indices counted from the end (``wrap``), or moved out of range (to ``size``)."""
    return select(
        lax_apply(lax.lt, index, 0), lax_apply(lax.add, index, size) if wrap else size, index
    )


def _take(x: jax.Array, index: jax.Array, axis: int, wrap: bool) -> jax.Array:
    size = x.shape[axis]
    # negative indices count from the end (wrap), or are out of range, as the gather takes them (NaN)
    if wrap:
        index = _from_end(index, size)
    try:  # one gather along axis, batched over the others (jax >= 0.4.31): less to trace than take_along_axis
        batch = tuple(d for d in range(x.ndim) if d != axis)
        dnums = lax.GatherDimensionNumbers(
            offset_dims=(),
            collapsed_slice_dims=(axis,),
            start_index_map=(axis,),
            operand_batching_dims=batch,
            start_indices_batching_dims=tuple(range(index.ndim)),
        )
    except TypeError:  # older jax: no batching dimensions
        if not wrap:  # out of range (NaN), where take_along_axis would count from the end
            index = _from_end(index, size, wrap=False)
        return jnp.take_along_axis(x, jnp.expand_dims(index, axis), axis=axis).squeeze(axis)
    return lax.gather(
        x,
        lax.expand_dims(index, (index.ndim,)),
        dnums,
        slice_sizes=(1,) * x.ndim,
        mode=lax.GatherScatterMode.FILL_OR_DROP,
        fill_value=jnp.nan,
    )


@functools.partial(jax.custom_jvp, nondiff_argnums=(2, 3))
def _gather_one_hot(x: jax.Array, index: jax.Array, axis: int, wrap: bool) -> jax.Array:
    """:func:`_take` with the one-hot tangent ``sum(where(iota == index, dx, 0))``, whose transpose is a select."""
    return _take(x, index, axis, wrap)


@functools.partial(_gather_one_hot.defjvp, symbolic_zeros=True)
def _gather_one_hot_jvp(axis, wrap, primals, tangents):
    x, index = primals
    dx = tangents[0]
    out = _take(x, index, axis, wrap)
    if isinstance(dx, jax.custom_derivatives.SymbolicZero):
        return out, jnp.zeros_like(out)
    if wrap:
        index = _from_end(index, x.shape[axis])
    hit = lax.eq(
        lax.broadcasted_iota(index.dtype, x.shape, axis),
        lax.broadcast_in_dim(index, x.shape, tuple(d for d in range(x.ndim) if d != axis)),
    )
    return out, lax_sum(select(hit, dx, 0), axis)


def _cross_entropy_indices(logits: jax.Array, labels: jax.Array, axis=-1) -> jax.Array:
    """Per-example ``-log_softmax(logits)[label]`` along ``axis`` (an int or a tuple of axes).

    With a tuple of axes the label is a flat index into those axes (row-major), as in optax. Labels must
    lie in range: an out-of-range label gives an unspecified (clamped) value.
    """
    logits, axis = _normalise_axes(jnp.asarray(logits), axis)
    m, log_s = _log_normaliser(logits, axis)
    # (logit - max) after the gather: the same arithmetic as gathering from the shifted logits, without
    # materialising them for the gather
    return log_s.squeeze(axis) - (_gather(logits, jnp.asarray(labels), axis) - m.squeeze(axis))


def _cross_entropy_probs(logits: jax.Array, probs: jax.Array, axis=-1) -> jax.Array:
    """Per-example ``-sum(probs * log_softmax(logits))`` along ``axis`` (an int or a tuple of axes)."""
    logits = jnp.asarray(logits)
    probs = jnp.asarray(probs)
    if not isinstance(axis, int):
        probs, _ = _normalise_axes(probs, axis)
    logits, axis = _normalise_axes(logits, axis)
    m, log_s = _log_normaliser(logits, axis)
    return jnp.sum(probs * (log_s - (logits - m)), axis=axis)


def _index_terms(
    log_probs_or_logits: jax.Array,
    target: jax.Array,
    weight: jax.Array | None,
    ignore_index: int,
    label_smoothing: float,
    from_logits: bool,
) -> tuple[jax.Array, jax.Array]:
    """torch's class-index loss, per element, and its ``'mean'`` denominator per element.

    For target class ``t`` (class axis 1), weight ``w`` and smoothing ``e`` over ``C`` classes:
    ``loss = (1 - e) * w[t] * (-logp[t]) + e / C * sum_c w[c] * (-logp[c])``, zero where ``t == ignore_index``;
    the denominator is ``w[t]``, zero where ignored (without weights: the mask of kept targets). ``logp`` is
    either the input (``nll_loss``) or ``log_softmax`` of it (``cross_entropy``, computed without materialising
    it).
    """
    x = log_probs_or_logits
    num_classes = x.shape[1]
    class_shape = (1, num_classes) + (1,) * (x.ndim - 2)
    keep = lax_apply(lax.ne, target, ignore_index)
    # the gathers take the target as given (an ignored or out-of-range one gives NaN, masked out below by
    # a select): an index computed from it would be recomputed for every element of the gradient pass.
    # The class weights are looked up at an in-range stand-in.
    safe = target if weight is None else select(keep, target, 0)
    if from_logits:
        if label_smoothing > 0.0:
            mode = "sum" if weight is None else "weighted"
            v = jnp.zeros((), x.dtype) if weight is None else weight.reshape(class_shape)
        else:
            mode, v = "lse", jnp.zeros((), x.dtype)
        if mode == "weighted" and x.ndim == 2:
            m, log_s, d, x_t = _weighted_row_stats(x, v, safe)
        else:
            m, log_s, d = _row_stats(x, v, 1, mode)
            x_t = _gather(x, target, 1, False)
        # gather before shifting: no copy
        nll = lax_apply(
            lax.sub, lax.squeeze(log_s, (1,)), lax_apply(lax.sub, x_t, lax.squeeze(m, (1,)))
        )
    else:
        nll = -_gather(x, target, 1, False)
    if weight is None:
        # the denominator as a mask, which ignored_weighted_reduce counts
        w_t = keep
        loss = nll
    else:
        w_t = jnp.where(keep, weight[safe], 0).astype(x.dtype)
        loss = w_t * nll
    if label_smoothing > 0.0:
        if from_logits:
            # sum_c w_c (log_s - (x_c - m)) = sum(w) log_s - sum_c w_c (x_c - m): two reductions, no
            # (N, C) array (see _row_stats)
            total_w = num_classes if weight is None else lax_sum(weight, None)
            smooth = lax.squeeze(lax_apply(lax.sub, lax_apply(lax.mul, total_w, log_s), d), (1,))
        else:
            neg_logp = -x if weight is None else -x * weight.reshape(class_shape)
            smooth = jnp.sum(neg_logp, axis=1)
        loss = lax_apply(
            lax.add,
            lax_apply(lax.mul, 1.0 - label_smoothing, loss),
            lax_apply(lax.mul, label_smoothing / num_classes, smooth),
        )
    # ignored targets (their gathered logits may be NaN) contribute neither loss nor gradient
    return select(keep, loss, 0), w_t


def _prob_terms(
    logits: jax.Array, target: jax.Array, weight: jax.Array | None, label_smoothing: float
) -> jax.Array:
    """torch's class-probability loss per example: ``-sum_c w[c] * y'[c] * logp[c]`` over class axis 1,
    with ``y' = (1 - e) * y + e / C``."""
    num_classes = logits.shape[1]
    if label_smoothing > 0.0:
        target = target * (1.0 - label_smoothing) + label_smoothing / num_classes
    if weight is not None:
        target = target * weight.reshape((1, num_classes) + (1,) * (logits.ndim - 2))
    m, log_s = _log_normaliser(logits, 1)
    return jnp.sum(target * (log_s - (logits - m)), axis=1)


# --------------------------------------------------------------------------------------------------------------
# Argument checking shared by the faces
# --------------------------------------------------------------------------------------------------------------


def _shape(x) -> tuple[int, ...]:
    return tuple(int(d) for d in x.shape)


def _index_target_shape(input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The class-index target shape for an input: drop the class axis (1, or 0 when unbatched)."""
    if len(input_shape) == 1:
        return ()
    return input_shape[:1] + input_shape[2:]


def _check_input(loss: str, input: jax.Array) -> None:
    if input.ndim < 1:
        raise ValueError(
            f"{loss}: input must be (C,), (N, C) or (N, C, d1, ..., dK); got a 0-D array"
        )


def _check_weight(loss: str, weight, num_classes: int, dtype, input_dtype) -> jax.Array | None:
    """Class weights as ``dtype``. A typed array must have ``input_dtype``, as torch requires (``expected
    scalar type Double but found Float``); a Python sequence takes the input's dtype."""
    if weight is None:
        return None
    typed = hasattr(weight, "dtype")
    weight = V.as_float(loss, "weight", weight)
    if typed and weight.dtype != jnp.dtype(input_dtype):
        raise TypeError(
            f"{loss}: weight has dtype {weight.dtype}; it must have the input's dtype {jnp.dtype(input_dtype)}"
            " (torch refuses mixed dtypes too)"
        )
    if weight.shape != (num_classes,):
        raise ValueError(
            f"{loss}: weight has shape {_shape(weight)}; it must be ({num_classes},) (one weight per class)"
        )
    return weight.astype(dtype)


def _check_smoothing(loss: str, label_smoothing) -> float:
    ok = isinstance(label_smoothing, (int, float)) and 0.0 <= float(label_smoothing) <= 1.0
    V.check_option(loss, "label_smoothing", label_smoothing, ok, "a float in [0, 1]")
    return float(label_smoothing)


def _check_indices(loss: str, target: jax.Array, num_classes: int, ignore_index: int) -> None:
    """torch's run-time ``Target k is out of bounds`` check, as a data check (a concrete target closed over
    by a jitted function is checked at trace time: :func:`jaxloss._src.core.validation.data_check` evaluates real
    values with ``ensure_compile_time_eval``)."""
    V.data_check(
        loss,
        lambda t: ((t >= 0) & (t < num_classes)) | (t == ignore_index),
        f"target values must be in [0, {num_classes}) or equal ignore_index={ignore_index}",
        target,
    )


def _classify_target(
    loss: str, input: jax.Array, target, *, allow_probs: bool
) -> tuple[jax.Array, bool]:
    """Convert ``target`` and decide class indices (``False``) or probabilities (``True``), as torch does:
    probabilities exactly when the target has the input's shape."""
    target = V.as_array(loss, "target", target)
    in_shape = _shape(input)
    idx_shape = _index_target_shape(in_shape)
    is_probs = allow_probs and _shape(target) == in_shape
    if is_probs:
        if not jnp.issubdtype(target.dtype, jnp.floating):
            raise TypeError(
                f"{loss}: target of shape {_shape(target)} holds class probabilities and must have a "
                f"floating dtype; got {target.dtype}"
            )
        return target, True
    if _shape(target) != idx_shape:
        expected = f"{idx_shape} (class indices)"
        if allow_probs:
            expected += f" or {in_shape} (probabilities)"
        raise ValueError(
            f"{loss}: target has shape {_shape(target)}; for input {in_shape} it must be {expected}"
        )
    if not jnp.issubdtype(target.dtype, jnp.integer):
        raise TypeError(
            f"{loss}: target holds class indices and must have an integer dtype; got {target.dtype}"
        )
    return target, False


def _batched(x: jax.Array, unbatched: bool) -> jax.Array:
    return x[None] if unbatched else x


# --------------------------------------------------------------------------------------------------------------
# nll_loss, cross_entropy
# --------------------------------------------------------------------------------------------------------------


def _nll_example(rng: np.random.Generator):
    logp = np.log(rng.dirichlet(np.ones(5), size=4))
    target = np.array([0, 3, -100, 4])
    return (logp, target), {"weight": rng.uniform(0.5, 2.0, 5)}


@register(
    family="classification",
    reference="torch.nn.functional.nll_loss (torch 2.13)",
    torch="nll_loss",
    example=_nll_example,
)
def nll_loss(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
):
    """Negative log-likelihood of class indices under given log-probabilities, torch's ``nll_loss``.

    .. math:: \\ell_n = -w_{y_n} x_{n, y_n} \\cdot [y_n \\ne \\text{ignore\\_index}]

    ``'mean'`` divides the sum by :math:`\\sum_n w_{y_n} [y_n \\ne \\text{ignore\\_index}]` (torch's
    weighted mean); when every target is ignored that is ``0 / 0 = nan``, as in torch (``'sum'`` gives 0).

    Args:
      input: log-probabilities ``(C,)``, ``(N, C)`` or ``(N, C, d1, ..., dK)`` (class axis 1, or 0 unbatched).
      target: integer class indices ``()``, ``(N,)`` or ``(N, d1, ..., dK)``, each in ``[0, C)`` or equal to
        ``ignore_index``. Out-of-range values raise ``ValueError`` on concrete arrays and under
        :func:`jaxloss.checked`; under plain ``jit`` they are clamped (unspecified value).
      weight: optional ``(C,)`` class weights.
      size_average: deprecated, see ``reduction`` (mapped exactly as torch maps it).
      ignore_index: target value that contributes neither loss nor gradient.
      reduce: deprecated, see ``reduction``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``.

    Returns:
      The loss; a scalar unless ``reduction='none'`` (then ``target``'s shape).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import nll_loss
      >>> logp = jnp.log(jnp.array([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]]))
      >>> round(float(nll_loss(logp, jnp.array([0, 1]))), 6)  # torch 2.13.0: 0.458145
      0.458145

    Reference: torch.nn.functional.nll_loss (torch 2.13).
    """
    name = "nll_loss"
    reduction = R.legacy_reduction(name, size_average, reduce, reduction)
    R.validate_reduction(name, reduction)
    input = V.as_float(name, "input", input)
    _check_input(name, input)
    target, _ = _classify_target(name, input, target, allow_probs=False)
    out_dtype = V.result_dtype(input)
    cdt = V.compute_dtype(out_dtype)
    num_classes = input.shape[0 if input.ndim == 1 else 1]
    weight = _check_weight(name, weight, num_classes, cdt, input.dtype)
    _check_indices(name, target, num_classes, ignore_index)
    unbatched = input.ndim == 1
    loss, denom = _index_terms(
        _batched(input.astype(cdt), unbatched),
        _batched(target, unbatched),
        weight,
        ignore_index,
        0.0,
        False,
    )
    if unbatched:
        loss, denom = loss[0], denom[0]
    return R.ignored_weighted_reduce(loss, denom, reduction).astype(out_dtype)


def _ce_example(rng: np.random.Generator):
    logits = rng.standard_normal((4, 5))
    target = np.array([0, 3, -100, 4])
    return (logits, target), {"weight": rng.uniform(0.5, 2.0, 5), "label_smoothing": 0.1}


def _cross_entropy(
    name: str,
    logits: jax.Array,
    target: jax.Array,
    is_probs: bool,
    weight,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
    out_dtype,
) -> jax.Array:
    """cross_entropy on validated arrays (``logits`` already in the compute dtype)."""
    num_classes = logits.shape[0 if logits.ndim == 1 else 1]
    weight = _check_weight(name, weight, num_classes, logits.dtype, out_dtype)
    unbatched = logits.ndim == 1
    logits = _batched(logits, unbatched)
    target = _batched(target, unbatched)
    if is_probs:
        loss = _prob_terms(logits, target.astype(logits.dtype), weight, label_smoothing)
        loss = loss[0] if unbatched else loss
        return R.reduce(loss, reduction).astype(out_dtype)
    _check_indices(name, target, num_classes, ignore_index)
    loss, denom = _index_terms(logits, target, weight, ignore_index, label_smoothing, True)
    if unbatched:
        loss, denom = loss[0], denom[0]
    return R.ignored_weighted_reduce(loss, denom, reduction).astype(out_dtype)


@register(
    family="classification",
    reference="torch.nn.functional.cross_entropy (torch 2.13)",
    torch="cross_entropy",
    example=_ce_example,
)
def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
    label_smoothing=0.0,
):
    """Softmax cross entropy with class indices or class probabilities, torch's ``cross_entropy``.

    With logits :math:`x`, :math:`\\log p = \\operatorname{log\\_softmax}(x)` over the class axis, class weights
    :math:`w` and smoothing :math:`\\varepsilon` over :math:`C` classes:

    * class indices :math:`y_n`:
      :math:`\\ell_n = (1 - \\varepsilon) w_{y_n} (-\\log p_{n, y_n})
      + \\tfrac{\\varepsilon}{C} \\sum_c w_c (-\\log p_{n,c})`, zero where :math:`y_n` is ``ignore_index``;
      ``'mean'`` divides by :math:`\\sum_n w_{y_n}` over non-ignored targets (``nan`` when all are ignored);
    * class probabilities :math:`q` (a floating target with the input's shape):
      :math:`\\ell_n = -\\sum_c w_c q'_{n,c} \\log p_{n,c}`, :math:`q' = (1 - \\varepsilon) q + \\varepsilon / C`;
      ``'mean'`` divides by the number of examples (``N d_1 \\cdots d_K``).

    No one-hot and no ``log_softmax`` array is formed; the gradient is ``softmax`` minus the (smoothed,
    weighted) target, which XLA fuses into one pass over the logits.

    Args:
      input: logits ``(C,)``, ``(N, C)`` or ``(N, C, d1, ..., dK)`` (class axis 1, or 0 unbatched).
      target: integer class indices of ``input``'s shape without the class axis, or floating class
        probabilities of ``input``'s shape. Out-of-range indices raise ``ValueError`` on concrete arrays and
        under :func:`jaxloss.checked`; under plain ``jit`` they are clamped (unspecified value).
      weight: optional ``(C,)`` class weights (torch does not differentiate them; jaxloss does).
      size_average: deprecated, see ``reduction`` (mapped exactly as torch maps it).
      ignore_index: class-index target value that contributes neither loss nor gradient. With probability
        targets it must be negative (torch's rule; it has no effect then).
      reduce: deprecated, see ``reduction``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
      label_smoothing: :math:`\\varepsilon \\in [0, 1]`.

    Returns:
      The loss; a scalar unless ``reduction='none'`` (then ``input``'s shape without the class axis).
      Half-precision inputs are computed in float32 and the result cast back.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import cross_entropy
      >>> logits = jnp.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
      >>> round(float(cross_entropy(logits, jnp.array([0, 1]))), 6)  # torch 2.13.0: 0.395495
      0.395495
      >>> round(float(cross_entropy(logits, jnp.array([0, 1]), label_smoothing=0.1)), 6)  # torch: 0.495495
      0.495495

    Reference: torch.nn.functional.cross_entropy (torch 2.13).
    """
    name = "cross_entropy"
    reduction = R.legacy_reduction(name, size_average, reduce, reduction)
    R.validate_reduction(name, reduction)
    label_smoothing = _check_smoothing(name, label_smoothing)
    input = V.as_float(name, "input", input)
    _check_input(name, input)
    target, is_probs = _classify_target(name, input, target, allow_probs=True)
    if is_probs and ignore_index >= 0:
        raise ValueError(
            f"{name}: ignore_index is not supported for probability targets; it must be negative, "
            f"got {ignore_index}"
        )
    out_dtype = V.result_dtype(input)
    cdt = V.compute_dtype(out_dtype)
    return _cross_entropy(
        name,
        input.astype(cdt),
        target,
        is_probs,
        weight,
        ignore_index,
        reduction,
        label_smoothing,
        out_dtype,
    )


# ----------------------------------------------------------------------------------------- optax faces
# jaxloss.optax_losses binds each optax_<name> below as <name>.


@OX.register("softmax_cross_entropy", family="classification", example=OX.ex_probs, diff=(0, 1))
def optax_softmax_cross_entropy(logits, labels, axis=-1, where=None):
    """Softmax cross-entropy with probability labels, ``-sum_c y_c log softmax(x)_c``.

    .. math:: \\ell = -\\sum_c y_c \\log \\operatorname{softmax}(x)_c

    Args:
      logits: ``(*B, C)``.
      labels: probabilities broadcastable to the logits.
      axis: class axis or axes (``None``: all).
      where: elements to include, ``(*B, C)`` or ``(*B,)``; masked classes get a zero gradient for their
        labels (optax: ``nan``).

    Returns:
      Losses of shape ``(*B,)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import softmax_cross_entropy
      >>> logits = jnp.array([[1.2, -0.8, -0.5], [0.9, -1.2, 1.1]])
      >>> labels = jnp.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
      >>> print(softmax_cross_entropy(logits, labels).round(4))
      [0.27609998 2.9517999 ]

    Reference: optax.losses.softmax_cross_entropy (optax 0.2.8).
    """
    logits = V.as_float("softmax_cross_entropy", "logits", logits)
    labels = V.as_array("softmax_cross_entropy", "labels", labels)
    logits, labels = OX.broadcast_all(logits, labels)
    if where is None:
        axes = tuple(range(logits.ndim)) if axis is None else axis
        return _cross_entropy_probs(logits, labels, axes)
    where = OX.expand_where(where, logits, axis)
    log_probs = jax.nn.log_softmax(logits, axis, where)
    log_probs = jnp.where(where, log_probs, 0)  # masked -inf would make the labels' gradient nan
    return -(labels * log_probs).sum(axis, where=where)


@OX.register(
    "softmax_cross_entropy_with_integer_labels", family="classification", example=OX.ex_int_labels
)
def optax_softmax_cross_entropy_with_integer_labels(logits, labels, axis=-1, where=None):
    """Softmax cross-entropy with integer labels, ``logsumexp(x) - x_y``.

    .. math:: \\ell = \\log \\sum_c e^{x_c} - x_y

    Args:
      logits: ``(*B, C)``; with a tuple ``axis`` the class axes are flattened (C-order) and a label is a flat
        index into them.
      labels: integer labels ``(*B,)``.
      axis: class axis (int) or axes (tuple).
      where: elements to include, ``(*B, C)`` or ``(*B,)``; fully masked rows give ``0``.

    Returns:
      Losses of shape ``(*B,)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import softmax_cross_entropy_with_integer_labels as ce
      >>> print(ce(jnp.array([[1.2, -0.8, -0.5], [0.9, -1.2, 1.1]]), jnp.array([0, 1])).round(4))
      [0.27609998 2.9517999 ]

    Reference: optax.losses.softmax_cross_entropy_with_integer_labels (optax 0.2.8).
    """
    name = "softmax_cross_entropy_with_integer_labels"
    logits = V.as_float(name, "logits", logits)
    labels = V.as_int(name, "labels", labels)
    OX.check_axis(name, axis, logits.ndim)
    if where is None:
        return _cross_entropy_indices(logits, labels, axis)
    where = OX.expand_where(where, logits, axis)
    if isinstance(axis, tuple):
        logits_shape = logits.shape
        class_axes = tuple(int(a) % logits.ndim for a in axis)
        batch_axes = tuple(a for a in range(logits.ndim) if a not in class_axes)
        perm = batch_axes + class_axes
        batch_shape = tuple(logits.shape[a] for a in batch_axes)
        logits = logits.transpose(perm).reshape(batch_shape + (-1,))
        if where is not None:
            where = jnp.broadcast_to(where, tuple(logits_shape))
            where = where.transpose(perm).reshape(batch_shape + (-1,))
        axis = len(batch_axes)
    else:
        axis = int(axis) % logits.ndim
    label_logits = jnp.take_along_axis(logits, jnp.expand_dims(labels, axis), axis=axis).take(
        0, axis=axis
    )
    log_normalizers = jax.nn.logsumexp(logits, axis=axis, where=where)
    out = log_normalizers - label_logits
    if where is not None:
        out = jnp.where(jnp.any(where, axis), out, 0.0)
    return out


@OX.register("poly_loss_cross_entropy", family="classification", example=OX.ex_probs, diff=(0, 1))
def optax_poly_loss_cross_entropy(logits, labels, *, epsilon=2.0, axis=-1, where=None):
    """Poly-1 loss: softmax cross-entropy plus ``epsilon`` times ``sum y (1 - p)``.

    .. math::

        \\ell = -\\sum_c y_c \\log p_c + \\epsilon \\sum_c y_c (1 - p_c),
        \\quad p = \\operatorname{softmax}(x)

    Args:
      logits: ``(*B, C)``.
      labels: probabilities broadcastable to the logits.
      epsilon: coefficient of the first polynomial term.
      axis: class axis or axes.
      where: elements to include (``(*B, C)``, or ``(*B,)`` in :func:`softmax_cross_entropy`).

    Returns:
      Losses of shape ``(*B,)``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import poly_loss_cross_entropy
      >>> print(round(float(poly_loss_cross_entropy(jnp.zeros(2), jnp.array([1.0, 0.0]))), 4))
      1.6931

    Reference: Leng et al., "PolyLoss", ICLR 2022; optax 0.2.8.
    """
    logits = V.as_float("poly_loss_cross_entropy", "logits", logits)
    labels = V.as_float("poly_loss_cross_entropy", "labels", labels)
    logits, labels = OX.broadcast_all(logits, labels)
    where = OX.broadcast_where(where, logits.shape)
    probs = jax.nn.softmax(logits, axis=axis, where=where)
    one_minus_pt = jnp.sum(labels * (1 - probs), axis=axis, where=where)
    cross_entropy = optax_softmax_cross_entropy(logits, labels, axis=axis, where=where)
    return cross_entropy + epsilon * one_minus_pt


def optax_smooth_labels(labels, alpha, *, axis=-1, where=None):
    """Label smoothing: ``(1 - alpha) y + alpha / K`` with ``K`` the number of (selected) classes.

    .. math:: \\tilde y = (1 - \\alpha)\\, y + \\frac{\\alpha}{K}

    Args:
      labels: one-hot labels ``(*B, C)``.
      alpha: smoothing factor.
      axis: class axis or axes.
      where: selected classes; ``K`` counts them per row (a row with none counts ``1``, so it stays finite,
        where optax divides by ``0``).

    Returns:
      Smoothed labels of the same shape.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import smooth_labels
      >>> print(smooth_labels(jnp.array([0.0, 1.0]), 0.2))
      [0.1 0.9]

    Reference: optax.losses.smooth_labels (optax 0.2.8).
    """
    labels = V.as_float("smooth_labels", "labels", labels)
    if where is None:
        num_categories = jnp.size(labels, axis)
    else:
        num_categories = jnp.maximum(jnp.sum(where, axis, keepdims=True), 1)
    return (1.0 - alpha) * labels + alpha / num_categories
