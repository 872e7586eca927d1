"""Binary (per-element two-class) losses: torch's ``binary_cross_entropy``,
``binary_cross_entropy_with_logits``, ``soft_margin_loss`` and ``multilabel_soft_margin_loss``.

Kernels other faces reuse: ``_bce(input, target)`` (probabilities, torch's clamped logs and
gradients) and ``_sigmoid_bce(logits, labels, pos_weight=None)`` (logits, stable).

Shape legend: ``N`` batch, ``C`` classes (labels), ``*`` any further dimensions.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_derivatives import SymbolicZero

from jaxloss._src.core import optax_conventions as OX
from jaxloss._src.core import reduction as R
from jaxloss._src.core import validation as V
from jaxloss._src.core.compat import optimization_barrier
from jaxloss._src.core.kernels import _one_pass_kernel, _same_kind, _signed_sum
from jaxloss._src.core.registry import register

#: torch clamps each log of ``binary_cross_entropy`` at this value (aten ``binary_cross_entropy``).
_LOG_CLAMP = -100.0
#: torch's floor of ``input * (1 - input)`` in the backward of ``binary_cross_entropy``: a C++ ``float``
#: constant ``1e-12``, so ``9.99999996e-13`` even in float64.
_BCE_GRAD_EPS = float(np.float32(1e-12))


def _probability_example(rng: np.random.Generator):
    return (rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(0.0, 1.0, (4, 3))), {}


def _logits_example(rng: np.random.Generator):
    x = rng.standard_normal((4, 3))
    return (x, rng.uniform(0.0, 1.0, (4, 3))), {"pos_weight": rng.uniform(0.5, 2.0, (3,))}


def _sign_example(rng: np.random.Generator):
    return (rng.standard_normal((4, 3)), np.sign(rng.standard_normal((4, 3)))), {}


def _multilabel_example(rng: np.random.Generator):
    return (rng.standard_normal((4, 3)), rng.integers(0, 2, (4, 3)).astype(np.float64)), {}


# --------------------------------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------------------------------


@jax.custom_jvp
def _bce(input: jax.Array, target: jax.Array) -> jax.Array:
    """Elementwise ``-(t log x + (1 - t) log(1 - x))`` with each log clamped at ``-100``, as torch.

    ``input`` and ``target`` have the same shape. The derivatives are torch's, not those of the
    clamped expression: ``(x - t) / max(x (1 - x), 1e-12)`` for ``input`` (finite at ``x = 0`` and
    ``x = 1``) and ``log(1 - x) - log(x)`` (``-logit(x)``, unclamped, so infinite at ``x = 0`` or
    ``1``) for ``target``.
    """
    # clamped logs: a probability of exactly 0 or 1 costs 100 per unit of target instead of inf
    log_x = jnp.maximum(jnp.log(input), _LOG_CLAMP)
    log_1mx = jnp.maximum(jnp.log1p(-input), _LOG_CLAMP)
    return (target - 1) * log_1mx - target * log_x


def _bce_jvp(primals, tangents):
    input, target = primals
    input_dot, target_dot = tangents
    out = _bce(input, target)
    tangent = jnp.zeros_like(out)
    # symbolic zeros are skipped so that target's infinite derivative at x = 0 or 1 never meets a
    # zero tangent (inf * 0 = nan) when only input is differentiated
    if not isinstance(input_dot, SymbolicZero):
        tangent = tangent + input_dot * (input - target) / jnp.maximum(
            (1 - input) * input, _BCE_GRAD_EPS
        )
    if not isinstance(target_dot, SymbolicZero):
        tangent = tangent + target_dot * (jnp.log1p(-input) - jnp.log(input))
    return out, tangent


_bce.defjvp(_bce_jvp, symbolic_zeros=True)


def _softplus(z: jax.Array) -> jax.Array:
    """``jax.nn.softplus`` without its select: ``max(z, 0) + log1p(exp(-|z|))``, the same bits.

    ``jax.nn.softplus`` is ``logaddexp(z, 0)``, exactly this expression except that a select returns
    ``z + 0`` where ``z`` is ``nan`` (``max`` propagates the ``nan`` anyway). Select-free, the CPU
    reduction fuses it: the loss value is one pass over the inputs.
    """
    return jnp.maximum(z, 0) + jnp.log1p(jnp.exp(-jnp.abs(z)))


def _sigmoid_bce_reference(logits, labels, pos_weight=None):
    log_sigmoid = jax.nn.log_sigmoid(logits)  # -softplus(-x): finite for every finite logit
    if pos_weight is not None:
        log_sigmoid = log_sigmoid * ((pos_weight - 1) * labels + 1)
    return (1 - labels) * logits - log_sigmoid


def _sigmoid_bce_value(logits, labels, pos_weight=None):
    log_sigmoid = -_softplus(-logits)  # jax.nn.log_sigmoid's bits, select-free
    if pos_weight is not None:
        log_sigmoid = log_sigmoid * ((pos_weight - 1) * labels + 1)
    return (1 - labels) * logits - log_sigmoid


def _sigmoid(x: jax.Array) -> jax.Array:
    """``jax.nn.sigmoid``'s ``1 / (1 + exp(-x))`` (torch's formula too) for the derivative rules.

    The ``1`` goes through an ``optimization_barrier``: as a literal, XLA would share its broadcast
    with the loss value's ``1 - y`` and materialise it in memory for the value's reduction.
    """
    one = optimization_barrier(jnp.ones((), x.dtype))
    return one / (one + jnp.exp(-x))


def _sigmoid_bce_tangent(args, tangents):
    logits, labels, *pos_weight = args
    dlogits, dlabels, *dpos_weight = tangents
    parts = []
    if pos_weight:
        (p,), (dp,) = pos_weight, dpos_weight
        py = p * labels
        # torch's backward: ((p y + 1 - y) sigmoid(x) - p y) for the logits, (log(1 - s) - p log s)
        # for the labels, -y log s for pos_weight
        if dlogits is not None:
            parts.append(((py + 1 - labels) * _sigmoid(logits) - py, dlogits))
        if dlabels is not None:
            parts.append((-_softplus(logits) + p * _softplus(-logits), dlabels))
        if dp is not None:
            parts.append((labels * _softplus(-logits), dp))
    else:
        # torch's backward: sigmoid(x) - y for the logits, -x for the labels
        parts.append((_sigmoid(logits) - labels, dlogits))
        parts.append((-logits, dlabels))
    return _signed_sum(parts)


# (logits, labels[, pos_weight]): no default argument, custom_jvp would pass it as a primal
_sigmoid_bce_fast = _one_pass_kernel(lambda *args: _sigmoid_bce_value(*args), _sigmoid_bce_tangent)


def _sigmoid_bce(logits: jax.Array, labels: jax.Array, pos_weight=None) -> jax.Array:
    """Elementwise binary cross-entropy on logits, ``-(p y log s(x) + (1 - y) log(1 - s(x)))``.

    torch's stable form ``(1 - y) x - (1 + (p - 1) y) log_sigmoid(x)`` (``p = pos_weight``, ``1`` if
    ``None``): no ``exp`` overflows and it is exact for logits of any size. ``pos_weight``
    broadcasts with the other two; the result has their broadcast shape.
    """
    arrays = [logits, labels] + ([] if pos_weight is None else [pos_weight])
    shape = jnp.broadcast_shapes(*(a.shape for a in arrays))
    arrays = [jnp.broadcast_to(a, shape) for a in arrays]
    if _same_kind(*arrays):
        return _sigmoid_bce_fast(*arrays)
    return _sigmoid_bce_reference(*arrays)


def _soft_margin_tangent(args, tangents):
    input, target = args
    dinput, dtarget = tangents
    g = -_sigmoid(-input * target)  # d softplus(-x y) = -sigmoid(-x y) d(x y)
    return _signed_sum([(g * target, dinput), (g * input, dtarget)])


_soft_margin_fast = _one_pass_kernel(lambda x, y: _softplus(-x * y), _soft_margin_tangent)


def _soft_margin(input: jax.Array, target: jax.Array) -> jax.Array:
    """Elementwise ``log(1 + exp(-input * target))`` as ``softplus(-input * target)``.

    torch evaluates ``log1p(exp(.))``, which overflows to ``inf`` once ``-x y`` passes ~88 (float32)
    or ~709 (float64); the softplus form is the same number below that and finite above it.
    """
    if _same_kind(input, target):
        return _soft_margin_fast(input, target)
    return jax.nn.softplus(-input * target)


# --------------------------------------------------------------------------------------------------
# Argument handling
# --------------------------------------------------------------------------------------------------


def _broadcast_to_input(loss: str, name: str, x, shape) -> jax.Array:
    """``x`` must broadcast to ``shape`` without enlarging it (torch multiplies it in place)."""
    x = V.as_array(loss, name, x)
    try:
        ok = jnp.broadcast_shapes(x.shape, shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{loss}: {name} has shape {tuple(x.shape)}; it must broadcast to input's shape {tuple(shape)}"
        )
    return jnp.broadcast_to(x, shape)


def _prepare_same_shape(loss: str, input, target, extras: dict):
    """Convert ``input``/``target`` (same shape, as torch requires) and the optional ``extras`` arrays."""
    input = V.as_float(loss, "input", input)
    target = V.as_float(loss, "target", target)
    if target.shape != input.shape:
        raise ValueError(
            f"{loss}: target has shape {tuple(target.shape)}; it must have the same shape as input "
            f"{tuple(input.shape)}"
        )
    extras = {
        k: _broadcast_to_input(loss, k, v, input.shape) for k, v in extras.items() if v is not None
    }
    out_dtype = V.result_dtype(input, target, *extras.values())
    cdt = V.compute_dtype(out_dtype)
    extras = {k: v.astype(cdt) for k, v in extras.items()}
    return input.astype(cdt), target.astype(cdt), extras, out_dtype


def _reduce_weighted(values: jax.Array, extras: dict, reduction: str, out_dtype) -> jax.Array:
    """``values`` times the optional elementwise ``weight``, reduced."""
    if "weight" in extras:
        values = values * extras["weight"]
    return R.reduce(values, reduction).astype(out_dtype)


# --------------------------------------------------------------------------------------------------
# Public losses
# --------------------------------------------------------------------------------------------------


@register(
    family="classification",
    reference="torch.nn.functional.binary_cross_entropy (torch 2.13)",
    torch="binary_cross_entropy",
    example=_probability_example,
    diff=(0, 1),
)
def binary_cross_entropy(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean"
):
    """Binary cross-entropy on probabilities, torch's ``binary_cross_entropy``.

    .. math::
        \\ell_i = -w_i \\left(y_i \\max(\\log x_i, -100) + (1 - y_i) \\max(\\log(1 - x_i), -100)\\right)

    As torch: each log is clamped at ``-100`` (so ``x = 0`` or ``1`` gives a finite loss); the
    gradient with respect to ``input`` is ``w (x - y) / max(x (1 - x), 1e-12)`` (finite everywhere
    in ``[0, 1]``) and with respect to ``target`` is ``w (log(1 - x) - log x)`` (unclamped). Prefer
    :func:`binary_cross_entropy_with_logits` on logits.

    Args:
      input: probabilities in ``[0, 1]``, any shape.
      target: probabilities in ``[0, 1]``, ``input``'s shape.
      weight: optional rescaling weights, broadcastable to ``input``'s shape.
      size_average: deprecated, see ``reduction`` (``DeprecationWarning``).
      reduce: deprecated, see ``reduction``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``; ``'mean'`` is ``mean(w * loss)`` over the
        elements.

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Raises:
      ValueError: on concrete arrays, when an element of ``input`` or ``target`` is outside
        ``[0, 1]`` (or ``nan``), as torch; :func:`jaxloss.checked` reports it under ``jit``, where the
        unchecked loss is ``nan`` for ``input`` outside ``[0, 1]``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import binary_cross_entropy
      >>> loss = binary_cross_entropy(jnp.array([0.5, 0.0]), jnp.array([1.0, 1.0]), reduction="none")
      >>> [round(float(v), 6) for v in loss]
      [0.693147, 100.0]

    Reference: ``torch.nn.functional.binary_cross_entropy`` (torch 2.13).
    """
    name = "binary_cross_entropy"
    reduction = R.legacy_reduction(name, size_average, reduce, reduction)
    R.validate_reduction(name, reduction)
    input, target, extras, out_dtype = _prepare_same_shape(name, input, target, {"weight": weight})
    for arg, x in (("input", input), ("target", target)):
        V.data_check(
            name,
            lambda v: (v >= 0) & (v <= 1),
            f"all elements of {arg} should be between 0 and 1",
            x,
        )
    return _reduce_weighted(_bce(input, target), extras, reduction, out_dtype)


@register(
    family="classification",
    reference="torch.nn.functional.binary_cross_entropy_with_logits (torch 2.13)",
    torch="binary_cross_entropy_with_logits",
    example=_logits_example,
    diff=(0, 1),
)
def binary_cross_entropy_with_logits(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
):
    """Binary cross-entropy on logits, torch's ``binary_cross_entropy_with_logits``.

    .. math::
        \\ell_i = -w_i \\left(p_i y_i \\log \\sigma(x_i) + (1 - y_i) \\log(1 - \\sigma(x_i))\\right)

    Computed as ``w ((1 - y) x - (1 + (p - 1) y) log_sigmoid(x))``: stable for logits of any size.

    Args:
      input: logits, any shape.
      target: targets in ``[0, 1]`` (not checked, as torch), ``input``'s shape.
      weight: optional rescaling weights, broadcastable to ``input``'s shape.
      size_average: deprecated, see ``reduction`` (``DeprecationWarning``).
      reduce: deprecated, see ``reduction``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``; ``'mean'`` is ``mean(w * loss)`` over the
        elements.
      pos_weight: optional weight ``p`` of the positive term, broadcastable to ``input``'s shape
        (e.g. ``(C,)`` for ``(N, C)`` inputs, ``(C, 1, 1)`` for ``(N, C, H, W)``).

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import binary_cross_entropy_with_logits
      >>> round(float(binary_cross_entropy_with_logits(jnp.array([0.0, 100.0]), jnp.array([1.0, 0.0]))), 4)
      50.3466

    Reference: ``torch.nn.functional.binary_cross_entropy_with_logits`` (torch 2.13).
    """
    name = "binary_cross_entropy_with_logits"
    reduction = R.legacy_reduction(name, size_average, reduce, reduction)
    R.validate_reduction(name, reduction)
    input, target, extras, out_dtype = _prepare_same_shape(
        name, input, target, {"weight": weight, "pos_weight": pos_weight}
    )
    values = _sigmoid_bce(input, target, extras.get("pos_weight"))
    return _reduce_weighted(values, extras, reduction, out_dtype)


@register(
    family="classification",
    reference="torch.nn.functional.soft_margin_loss (torch 2.13)",
    torch="soft_margin_loss",
    example=_sign_example,
)
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Two-class logistic loss on ``{-1, 1}`` targets, torch's ``soft_margin_loss``.

    .. math:: \\ell_i = \\log(1 + e^{-y_i x_i})

    Computed as ``softplus(-y x)``: the same number as torch's ``log1p(exp(-y x))`` wherever that is
    finite, and finite where torch's overflows to ``inf`` (``-y x`` above ~88 in float32, ~709 in
    float64).

    Args:
      input: scores, any shape.
      target: labels (``-1`` or ``1``, not checked), broadcastable to ``input``'s shape.
      size_average: deprecated, see ``reduction`` (``DeprecationWarning``).
      reduce: deprecated, see ``reduction``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``.

    Returns:
      The loss; a scalar unless ``reduction='none'`` (then ``input``'s shape).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import soft_margin_loss
      >>> round(float(soft_margin_loss(jnp.array([0.0, 2.0]), jnp.array([1.0, -1.0]))), 6)
      1.410038

    Reference: ``torch.nn.functional.soft_margin_loss`` (torch 2.13).
    """
    name = "soft_margin_loss"
    reduction = R.legacy_reduction(name, size_average, reduce, reduction)
    R.validate_reduction(name, reduction)
    input = V.as_float(name, "input", input)
    target = _broadcast_to_input(name, "target", target, input.shape)
    out_dtype = V.result_dtype(input, target)
    cdt = V.compute_dtype(out_dtype)
    values = _soft_margin(input.astype(cdt), target.astype(cdt))
    return R.reduce(values, reduction).astype(out_dtype)


@register(
    family="classification",
    reference="torch.nn.functional.multilabel_soft_margin_loss (torch 2.13)",
    torch="multilabel_soft_margin_loss",
    example=_multilabel_example,
    diff=(0, 1),
)
def multilabel_soft_margin_loss(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean"
):
    """Multi-label one-versus-all logistic loss, torch's ``multilabel_soft_margin_loss``.

    .. math:: \\ell_n = -\\frac{1}{C} \\sum_{c} w_c \\left(y_{n,c} \\log \\sigma(x_{n,c})
              + (1 - y_{n,c}) \\log \\sigma(-x_{n,c})\\right)

    Each sample's loss is the weighted sum over the last (class) axis divided by ``C``;
    ``reduction`` then applies to the per-sample losses. The elementwise term is
    :func:`_sigmoid_bce` (stable).

    Args:
      input: logits, shape ``(N, C)`` or ``(C,)`` (any leading dimensions; the last is the class
        axis).
      target: targets in ``[0, 1]``, broadcastable with ``input``; a floating or integer dtype (integers
        are promoted, as torch promotes them).
      weight: optional per-class (or per-element) weights, broadcastable with ``input``.
      size_average: deprecated, see ``reduction`` (``DeprecationWarning``).
      reduce: deprecated, see ``reduction``.
      reduction: ``'none'`` | ``'mean'`` | ``'sum'``; ``'none'`` returns shape ``input.shape[:-1]``.

    Returns:
      The loss; a scalar unless ``reduction='none'``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.losses import multilabel_soft_margin_loss
      >>> round(float(multilabel_soft_margin_loss(jnp.zeros((2, 3)), jnp.ones((2, 3)))), 6)
      0.693147

    Reference: ``torch.nn.functional.multilabel_soft_margin_loss`` (torch 2.13).
    """
    name = "multilabel_soft_margin_loss"
    reduction = R.legacy_reduction(name, size_average, reduce, reduction)
    R.validate_reduction(name, reduction)
    input = V.as_float(name, "input", input)
    # an integer target is promoted to a float dtype, as torch's type promotion does (torch's own module
    # tests pass int64 targets); a bool target is refused, as torch refuses ``1 - bool``
    input, target = V.as_float_group(name, ("input", input), ("target", target))
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class axis (at least 1-D); got a 0-d array")
    arrays = {"input": input, "target": target}
    if weight is not None:
        arrays["weight"] = V.as_array(name, "weight", weight)
    try:
        shape = jnp.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError as err:
        shapes = ", ".join(f"{k} {tuple(a.shape)}" for k, a in arrays.items())
        raise ValueError(f"{name}: {shapes} do not broadcast") from err
    out_dtype = V.result_dtype(*arrays.values())
    cdt = V.compute_dtype(out_dtype)
    values = _sigmoid_bce(input.astype(cdt), jnp.broadcast_to(target, shape).astype(cdt))
    if weight is not None:
        values = values * jnp.broadcast_to(arrays["weight"], shape).astype(cdt)
    # torch sums over axis input.dim() - 1 and divides by input's size there (the class count C)
    class_axis = input.ndim - 1
    per_sample = jnp.sum(values, axis=class_axis) / input.shape[class_axis]
    return R.reduce(per_sample, reduction).astype(out_dtype)


# ----------------------------------------------------------------------------------------- optax faces
# jaxloss.optax_losses binds each optax_<name> below as <name>.


@OX.register(
    "sigmoid_binary_cross_entropy", family="classification", example=OX.ex_binary, diff=(0, 1)
)
def optax_sigmoid_binary_cross_entropy(logits, labels):
    """Elementwise sigmoid cross-entropy ``-y log sigmoid(x) - (1 - y) log sigmoid(-x)``.

    .. math:: \\ell = -y \\log \\sigma(x) - (1 - y) \\log \\sigma(-x)

    Args:
      logits: logits, any shape.
      labels: binary labels or probabilities broadcastable with the logits (a pair broadcasting to neither
        shape, such as ``(4, 1)`` with ``(4,)``, raises ``ValueError``; optax returns ``(4, 4)``).

    Returns:
      The elementwise loss.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss.optax_losses import sigmoid_binary_cross_entropy
      >>> print(sigmoid_binary_cross_entropy(jnp.array([0.0, 100.0]), jnp.array([1.0, 1.0])).round(4))
      [0.6931 0.    ]

    Reference: optax.losses.sigmoid_binary_cross_entropy (optax 0.2.8).
    """
    name = "sigmoid_binary_cross_entropy"
    logits = V.as_float(name, "logits", logits)
    labels = V.as_array(name, "labels", labels).astype(logits.dtype)
    logits, labels = OX.broadcast_no_outer(name, "logits", logits, "labels", labels)
    log_p = jax.nn.log_sigmoid(logits)
    log_not_p = jax.nn.log_sigmoid(-logits)  # log(1 - sigmoid(x)) = log_sigmoid(-x), stabler
    return -labels * log_p - (1.0 - labels) * log_not_p
