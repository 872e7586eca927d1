"""Every reduction rule jaxloss uses, in one place.

Each loss states which rule it follows instead of repeating the arithmetic:

* ``reduce``: plain ``'none' | 'mean' | 'sum'`` (mean over every element).
* ``weighted_reduce``: ``'mean'`` divides the summed loss by the summed weights (torch's ``nll_loss`` and
  ``cross_entropy`` with ``weight``/``ignore_index``; all weights zero gives ``0 / 0 = nan`` as torch does).
* ``ignored_weighted_reduce``: the same for ``nll_loss``/``cross_entropy``, where every target may be ignored:
  ``nan`` then, as torch, but with torch's zero gradient.
* ``batchmean``: summed loss divided by the size of the first axis (``kl_div``).
* ``per_sample_mean``: each sample divided by its own length first, then the mean (CTC ``'mean'``).
* ``masked_mean``: optax-style mean over ``where`` that is ``0`` (not ``nan``) when everything is masked.

All sums are taken in at least float32 (half-precision inputs accumulate in float32); the caller casts the
result back to the reference's output dtype with :func:`jaxloss._src.core.validation.output_dtype`.
"""

from __future__ import annotations

import warnings

import jax.numpy as jnp
from jax import lax

from jaxloss._src.core.numerics import lax_apply, lax_sum, select

REDUCTIONS = ("none", "mean", "sum")


def validate_reduction(loss: str, reduction: str, allowed: tuple[str, ...] = REDUCTIONS) -> str:
    """Raise ``ValueError`` naming ``loss`` when ``reduction`` is not one of ``allowed``."""
    if not isinstance(reduction, str) or reduction not in allowed:
        raise ValueError(
            f"{loss}: reduction must be one of {', '.join(repr(a) for a in allowed)}; got {reduction!r}"
        )
    return reduction


def legacy_reduction(
    loss: str, size_average: bool | None, reduce: bool | None, reduction: str
) -> str:
    """Map torch's deprecated ``size_average``/``reduce`` pair to a reduction string, exactly as torch does.

    torch (``torch.nn._reduction.legacy_get_string``) replaces ``reduction`` whenever either flag is given:
    a missing flag counts as ``True``; ``reduce=False`` gives ``'none'`` whatever ``size_average`` says;
    otherwise ``size_average`` picks ``'mean'`` or ``'sum'``. Emits a ``DeprecationWarning`` as torch does.
    """
    if size_average is None and reduce is None:
        return reduction
    if size_average is None:
        size_average = True
    if reduce is None:
        reduce = True
    if size_average and reduce:
        result = "mean"
    elif reduce:
        result = "sum"
    else:
        result = "none"
    warnings.warn(
        f"{loss}: size_average and reduce are deprecated; use reduction={result!r} instead.",
        DeprecationWarning,
        stacklevel=3,
    )
    return result


def reduce(loss_values: jnp.ndarray, reduction: str) -> jnp.ndarray:
    """``'none'`` returns the values; ``'mean'`` averages every element; ``'sum'`` adds them."""
    if reduction == "none":
        return loss_values
    # lax, not jnp's jitted reductions, on a first call's path (see numerics.lax_apply): the same programs
    # in float32 and float64 (other dtypes go to jnp, which sums half precision in float32)
    on_lax = loss_values.dtype in (jnp.float32, jnp.float64)
    if reduction == "sum":
        return lax_sum(loss_values, None) if on_lax else jnp.sum(loss_values)
    if reduction == "mean":
        if on_lax:
            return lax_apply(lax.div, lax_sum(loss_values, None), loss_values.size)
        return jnp.mean(loss_values)
    raise ValueError(f"unknown reduction {reduction!r}")  # pragma: no cover - validated by callers


def weighted_reduce(loss_values: jnp.ndarray, weights: jnp.ndarray, reduction: str) -> jnp.ndarray:
    """torch's weighted mean: ``sum(loss) / sum(weights)`` (``nan`` when the weights sum to zero)."""
    if reduction == "mean":
        return jnp.sum(loss_values) / jnp.sum(weights)
    return reduce(loss_values, reduction)


def ignored_weighted_reduce(
    loss_values: jnp.ndarray, weights: jnp.ndarray, reduction: str
) -> jnp.ndarray:
    """torch's ``nll_loss``/``cross_entropy`` weighted mean ``sum(loss) / sum(weights)``: ``nan`` when nothing
    counts (every target ignored, or zero weights), with the zero gradient torch's backward gives there
    (double ``where``, so no ``0 / 0`` reaches the gradient)."""
    if reduction != "mean":
        return reduce(loss_values, reduction)
    # lax, not jnp: on a first call's path (see numerics.lax_apply)
    if weights.dtype == jnp.bool_:
        # a mask: its count. Summed in the loss's dtype while that is exact (fewer elements than the dtype's
        # integers reach, so every partial sum is exact): the same float sum as the loss's, which XLA:CPU
        # compiles once for both (smoothed cross-entropy, B=256, C=512: compiled in about 90 against 100 ms
        # with an integer count). Past that size, in integers.
        dtype = loss_values.dtype
        if weights.size < 2 ** (jnp.finfo(dtype).nmant + 1):
            total = lax_sum(lax.convert_element_type(weights, dtype), None)
        else:
            total = lax_sum(lax.convert_element_type(weights, jnp.int32), None)
            total = lax.convert_element_type(total, dtype)
    else:
        total = lax_sum(weights, None)
    empty = lax_apply(lax.eq, total, 0)
    mean = lax_apply(lax.div, lax_sum(loss_values, None), select(empty, 1, total))
    return select(empty, jnp.nan, mean)


def batchmean(loss_values: jnp.ndarray) -> jnp.ndarray:
    """``sum(loss) / loss.shape[0]`` (``kl_div``'s ``'batchmean'``; a 0-d loss divides by 1)."""
    batch = loss_values.shape[0] if loss_values.ndim > 0 else 1
    return jnp.sum(loss_values) / batch


def per_sample_mean(loss_values: jnp.ndarray, lengths: jnp.ndarray) -> jnp.ndarray:
    """Each sample divided by its own length clamped to at least 1, then the batch mean (CTC ``'mean'``)."""
    lengths = jnp.maximum(lengths, 1).astype(loss_values.dtype)
    return jnp.mean(loss_values / lengths)


def masked_mean(loss_values: jnp.ndarray, where: jnp.ndarray | None, axis=None) -> jnp.ndarray:
    """Mean over ``where``; ``0`` (not ``nan``) and zero gradient when nothing is selected."""
    if where is None:
        return jnp.mean(loss_values, axis=axis)
    where = jnp.broadcast_to(where, loss_values.shape)
    total = jnp.sum(jnp.where(where, loss_values, 0), axis=axis)
    count = jnp.sum(where, axis=axis)
    return total / jnp.maximum(count, 1).astype(total.dtype)
