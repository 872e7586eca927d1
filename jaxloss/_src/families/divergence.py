"""Divergences: torch's ``kl_div`` and its pointwise kernel ``_kl_pointwise(input, target, log_target)``."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from jaxloss._src.core import optax_conventions as OX
from jaxloss._src.core import reduction as R
from jaxloss._src.core import validation as V
from jaxloss._src.core.kernels import _jvp_tangent, _one_pass_kernel, _same_kind
from jaxloss._src.core.registry import fill_docs, register

KL_REDUCTIONS = ("none", "batchmean", "sum", "mean")


def _kl_example(rng: np.random.Generator):
    log_q = rng.standard_normal((4, 5))
    log_q = log_q - np.log(np.sum(np.exp(log_q), axis=-1, keepdims=True))
    p = rng.uniform(0.1, 1.0, (4, 5))
    return (log_q, p / p.sum(axis=-1, keepdims=True)), {"reduction": "batchmean"}


def _kl_reference(input: jax.Array, target: jax.Array) -> jax.Array:
    zero = target == 0
    # double where: log(1) where t == 0 keeps the target gradient finite there (log t - x + 1 is
    # -inf one-sided; torch's is nan); xlogy(0, 0) = 0 by convention
    safe = jnp.where(zero, jnp.ones_like(target), target)
    return jnp.where(zero, jnp.zeros_like(target), target * jnp.log(safe)) - target * input


def _kl_select_free(input: jax.Array, target: jax.Array) -> jax.Array:
    # the bits of _kl_reference without a select (which the CPU reduction cannot fuse): log t is
    # floored at the lowest finite number, so t = 0 gives 0 * finite = 0 while every t > 0 (even
    # subnormal, log >= -745) keeps its log; a negative or nan t still gives nan (max keeps nan)
    log_t = jnp.maximum(jnp.log(target), jnp.finfo(target.dtype).min)
    return target * log_t - target * input


# value without a select; derivatives those of the double-where reference (see _one_pass_kernel)
_kl_fast = _one_pass_kernel(_kl_select_free, _jvp_tangent(_kl_reference))
_kl_log_target_fast = _one_pass_kernel(lambda input, target: jnp.exp(target) * (target - input))


def _kl_pointwise(input: jax.Array, target: jax.Array, log_target: bool) -> jax.Array:
    """Elementwise ``target * (log(target) - input)``: torch's ``kl_div`` term, ``input`` a log-probability.

    ``log_target=False``: ``xlogy(t, t) - t * x``, ``0`` where ``t == 0`` (a negative ``t`` gives
    ``nan``, as torch). ``log_target=True``: ``exp(t) * (t - x)`` with ``t`` a log-probability.
    Broadcasts its inputs.
    """
    shape = jnp.broadcast_shapes(input.shape, target.shape)
    input, target = jnp.broadcast_to(input, shape), jnp.broadcast_to(target, shape)
    if _same_kind(input, target):
        return (_kl_log_target_fast if log_target else _kl_fast)(input, target)
    if log_target:
        return jnp.exp(target) * (target - input)
    return _kl_reference(input, target)


@register(
    family="divergence",
    reference="torch.nn.functional.kl_div (torch 2.13)",
    torch="kl_div",
    example=_kl_example,
    diff=(0, 1),
)
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence loss, torch's ``kl_div``.

    .. math:: \\ell_i = y_i (\\log y_i - x_i) \\quad (0 \\text{ where } y_i = 0), \\qquad
              \\ell_i = e^{y_i} (y_i - x_i) \\text{ if log\\_target}

    ``input`` holds log-probabilities of the model ``q``, ``target`` probabilities (or
    log-probabilities) of ``p``; ``sum`` over a distribution gives ``KL(p || q)``.

    Args:
      input: log-probabilities, any shape.
      target: probabilities (log-probabilities with ``log_target=True``), broadcastable with
        ``input``.
      size_average: deprecated, see ``reduction`` (``DeprecationWarning``; then ``'mean'`` is the
        element mean and no ``'mean'`` warning is given, as torch).
      reduce: deprecated, see ``reduction``.
      reduction: ``'none'`` | ``'batchmean'`` | ``'sum'`` | ``'mean'``. ``'batchmean'`` divides the
        sum by ``input.shape[0]`` (by 1 for a 0-d input): the true KL divergence per sample (as
        torch, that division also follows the legacy flags' reduction when they override it).
        ``'mean'`` divides by the number of elements, which is not the KL divergence; as torch, it
        emits a ``UserWarning``.
      log_target: whether ``target`` is given as log-probabilities.

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import kl_div
      >>> p = jnp.array([[0.5, 0.5]])
      >>> round(float(kl_div(jnp.log(jnp.array([[0.25, 0.75]])), p, reduction="batchmean")), 6)
      0.143841

    Reference: ``torch.nn.functional.kl_div`` (torch 2.13); Kullback & Leibler, "On Information and
    Sufficiency", Ann. Math. Statist. 22 (1951).
    """
    name = "kl_div"
    requested = reduction
    legacy = size_average is not None or reduce is not None
    if legacy:
        reduction = R.legacy_reduction(name, size_average, reduce, reduction)
    else:
        R.validate_reduction(name, reduction, KL_REDUCTIONS)
        if reduction == "mean":
            warnings.warn(
                "kl_div: reduction='mean' divides the total loss by both the batch size and the support "
                "size; 'batchmean' divides only by the batch size and gives the KL divergence (torch warns "
                "the same and plans to make 'mean' behave as 'batchmean').",
                UserWarning,
                stacklevel=2,
            )
    input = V.as_float(name, "input", input)
    target = V.as_float(name, "target", target)
    out_dtype = V.result_dtype(input, target)
    input_shape = input.shape
    input, target = V.broadcast_pair(name, "input", input, "target", target)
    cdt = V.compute_dtype(out_dtype)
    values = _kl_pointwise(input.astype(cdt), target.astype(cdt), bool(log_target))
    if reduction == "batchmean" and input_shape[:1] == values.shape[:1]:
        return R.batchmean(values).astype(out_dtype)
    out = R.reduce(values, "sum" if reduction == "batchmean" else reduction)
    if requested == "batchmean" and input_shape:
        # torch divides by input's own first size even when target broadcast it larger, and even after
        # the legacy flags replaced 'batchmean' by another reduction
        out = out / input_shape[0]
    return out.astype(out_dtype)


# ----------------------------------------------------------------------------------------- optax faces
# jaxloss.optax_losses binds each optax_<name> below as <name>.


def _optax_log_probs_example(rng: np.random.Generator):
    (logits, labels), _ = OX.ex_probs(rng)
    return (logits - np.log(np.exp(logits).sum(-1, keepdims=True)), labels), {}


def _optax_log_pair_example(rng: np.random.Generator):
    return (_optax_log_probs_example(rng)[0][0], _optax_log_probs_example(rng)[0][0]), {}


def _optax_kl(
    loss, targets_name, log_predictions, targets, axis, where, *, log_target, generalized=False
):
    """optax's KL divergences over ``axis``: ``sum t (log t - log p)`` from :func:`_kl_pointwise` (``t``
    given as ``log t`` when ``log_target``), plus ``sum (p - t)`` when ``generalized``."""
    log_predictions = V.as_float(loss, "log_predictions", log_predictions)
    targets = V.as_float(loss, targets_name, targets)
    log_predictions, targets = OX.broadcast_all(log_predictions, targets)
    where = OX.broadcast_where(where, targets.shape)
    kl = jnp.sum(_kl_pointwise(log_predictions, targets, log_target), axis=axis, where=where)
    if generalized:
        kl = kl + jnp.sum(jnp.exp(log_predictions) - targets, axis=axis, where=where)
    return kl


_OPTAX_AXIS_WHERE = """axis: axis or axes to sum over.
      where: elements to include.

    Returns:
      Divergences of shape ``(*B,)``."""


@OX.register("kl_divergence", family="divergence", example=_optax_log_probs_example, diff=(0, 1))
def optax_kl_divergence(log_predictions, targets, axis=-1, where=None):
    """Kullback-Leibler divergence of the predictions from the targets, ``sum t (log t - log p)``.

    .. math:: D(t \\| p) = \\sum_i t_i (\\log t_i - \\log p_i)

    Args:
      log_predictions: log-probabilities ``(*B, D)``.
      targets: probabilities of the same shape (``0 log 0 = 0``).
      {axis_where}

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import kl_divergence
      >>> print(round(float(kl_divergence(jnp.log(jnp.array([0.5, 0.5])), jnp.array([1.0, 0.0]))), 4))
      0.6931

    Reference: optax.losses.kl_divergence (optax 0.2.8).
    """
    return _optax_kl(
        "kl_divergence", "targets", log_predictions, targets, axis, where, log_target=False
    )


@OX.register(
    "kl_divergence_with_log_targets",
    family="divergence",
    example=_optax_log_pair_example,
    diff=(0, 1),
)
def optax_kl_divergence_with_log_targets(log_predictions, log_targets, axis=-1, where=None):
    """Kullback-Leibler divergence with targets in log space, ``sum exp(lt) (lt - lp)``.

    .. math:: D(t \\| p) = \\sum_i e^{\\log t_i} (\\log t_i - \\log p_i)

    Args:
      log_predictions: log-probabilities ``(*B, D)``.
      log_targets: log-probabilities of the targets, same shape.
      {axis_where}

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import kl_divergence_with_log_targets
      >>> lp = jnp.log(jnp.array([0.5, 0.5]))
      >>> print(float(kl_divergence_with_log_targets(lp, lp)))
      0.0

    Reference: optax.losses.kl_divergence_with_log_targets (optax 0.2.8).
    """
    return _optax_kl(
        "kl_divergence_with_log_targets",
        "log_targets",
        log_predictions,
        log_targets,
        axis,
        where,
        log_target=True,
    )


@OX.register(
    "generalized_kl_divergence", family="divergence", example=_optax_log_probs_example, diff=(0, 1)
)
def optax_generalized_kl_divergence(log_predictions, targets, axis=-1, where=None):
    """Generalized KL divergence for unnormalised distributions (Bregman divergence of ``x log x - x``).

    .. math:: D(t \\| p) = \\sum_i t_i (\\log t_i - \\log p_i) + p_i - t_i

    Args:
      log_predictions: log-probabilities (possibly unnormalised), ``(*B, D)``.
      targets: non-negative targets of the same shape.
      {axis_where}

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import generalized_kl_divergence
      >>> print(float(generalized_kl_divergence(jnp.log(jnp.array([1.0, 2.0])), jnp.array([1.0, 2.0]))))
      0.0

    Reference: optax.losses.generalized_kl_divergence (optax 0.2.8).
    """
    return _optax_kl(
        "generalized_kl_divergence",
        "targets",
        log_predictions,
        targets,
        axis,
        where,
        log_target=False,
        generalized=True,
    )


@OX.register(
    "convex_kl_divergence", family="divergence", example=_optax_log_probs_example, diff=(0, 1)
)
def optax_convex_kl_divergence(log_predictions, targets, axis=-1, where=None):
    """Deprecated alias of :func:`generalized_kl_divergence` (warns, as optax does).

    .. math:: D(t \\| p) = \\sum_i t_i (\\log t_i - \\log p_i) + p_i - t_i

    Args:
      log_predictions: log of the (possibly unnormalised) predictions, ``(*B, D)``.
      targets: non-negative targets, same shape.
      axis: the axis or axes summed.
      where: the elements included.

    Returns:
      :func:`generalized_kl_divergence`'s ``(*B,)`` divergences, after a ``DeprecationWarning``.

    Example:
      >>> import warnings, jax.numpy as jnp
      >>> from jaxloss.optax_losses import convex_kl_divergence
      >>> with warnings.catch_warnings():
      ...     warnings.simplefilter("ignore")
      ...     print(float(convex_kl_divergence(jnp.log(jnp.array([0.5, 0.5])), jnp.array([0.5, 0.5]))))
      0.0

    Reference: optax.losses.convex_kl_divergence (optax 0.2.8).
    """
    warnings.warn(
        "The function convex_kl_divergence is deprecated. Please use generalized_kl_divergence instead.",
        DeprecationWarning,
        stacklevel=2,
    )
    return optax_generalized_kl_divergence(log_predictions, targets, axis=axis, where=where)


fill_docs(
    (optax_kl_divergence, optax_kl_divergence_with_log_targets, optax_generalized_kl_divergence),
    axis_where=_OPTAX_AXIS_WHERE,
)
