"""optax-style wrappers: per-example losses, masked means and the value functions optax optimisers expect.

Any loss of :mod:`jaxloss.losses` becomes an optax-style per-example loss with :func:`per_example`; the
batch mean is taken with :func:`masked_mean` (``0``, not ``nan``, when everything is masked; global across
devices when given the ``shard_map`` axis name); :func:`make_value_fn` and :func:`make_loss_fn` bind a model's
apply function, a loss and a batch into the ``params -> scalar`` function that ``jax.value_and_grad``,
``optax.value_and_grad_from_state`` / ``optax.lbfgs`` and ``optax.contrib.reduce_on_plateau(value=...)`` use.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax


def _takes_reduction(loss_fn: Callable[..., Any]) -> bool:
    try:
        return "reduction" in inspect.signature(loss_fn).parameters
    except (TypeError, ValueError):  # builtins, objects without a signature
        return False


def per_example(loss_fn: Callable[..., Any], *, axis: int | Sequence[int] | None = None):
    """Turn a loss into an optax-style per-example loss with an optional ``where`` mask.

    The wrapped function calls ``loss_fn(..., reduction='none')`` (for losses with a ``reduction``
    argument; :mod:`jaxloss.nn` objects are called as they are) and returns the unreduced values. With
    ``axis``, the values are summed over those axes (e.g. ``axis=-1`` turns an elementwise ``(B, D)`` squared
    error into one value per example). ``where`` (broadcastable to the result) zeroes masked entries, with a
    zero gradient through them, even where the loss is ``inf`` or ``nan``.

    Args:
      loss_fn: any jaxloss loss (or any function with a ``reduction`` keyword).
      axis: axes summed after the elementwise loss, or ``None``.

    Returns:
      ``fn(*args, where=None, **kwargs) -> jax.Array``.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss import per_example
      >>> from jaxloss.losses import mse_loss
      >>> sq = per_example(mse_loss, axis=-1)
      >>> sq(jnp.ones((2, 3)), jnp.zeros((2, 3)), where=jnp.array([True, False])).tolist()
      [3.0, 0.0]
    """
    with_reduction = _takes_reduction(loss_fn)

    @functools.wraps(loss_fn)
    def wrapped(*args: Any, where: Any = None, **kwargs: Any) -> jax.Array:
        if with_reduction:
            kwargs["reduction"] = "none"
        values = jnp.asarray(loss_fn(*args, **kwargs))
        if axis is not None:
            values = jnp.sum(values, axis=axis)
        if where is None:
            return values
        where = jnp.broadcast_to(jnp.asarray(where, dtype=bool), values.shape)
        return jnp.where(where, values, jnp.zeros((), values.dtype))

    return wrapped


def masked_mean(
    values: Any,
    where: Any = None,
    *,
    axis: int | Sequence[int] | None = None,
    axis_name: str | Sequence[str] | None = None,
) -> jax.Array:
    """Mean of ``values`` over ``where``: ``0`` (with zero gradient) when nothing is selected.

    Under ``jit`` with sharded inputs the sums are global already. Inside ``shard_map`` (or ``pmap``) pass the
    mapped ``axis_name``: numerator and count are summed across devices before dividing, so the result is the
    global mean, not a mean of per-device means (which is wrong when shards hold different numbers of valid
    entries).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxloss import masked_mean
      >>> float(masked_mean(jnp.array([1.0, 2.0, 6.0]), jnp.array([True, True, False])))
      1.5
      >>> float(masked_mean(jnp.array([1.0, jnp.nan]), jnp.array([False, False])))
      0.0
    """
    values = jnp.asarray(values)
    if where is None:
        where = jnp.ones(values.shape, dtype=bool)
    where = jnp.broadcast_to(jnp.asarray(where, dtype=bool), values.shape)
    acc = jnp.promote_types(values.dtype, jnp.float32)
    total = jnp.sum(jnp.where(where, values, 0).astype(acc), axis=axis)
    count = jnp.sum(where, axis=axis).astype(acc)
    if axis_name is not None:
        total = lax.psum(total, axis_name)
        count = lax.psum(count, axis_name)
    out_dtype = values.dtype if jnp.issubdtype(values.dtype, jnp.floating) else acc
    return (total / jnp.maximum(count, 1)).astype(out_dtype)


def _split_batch(batch: Any) -> tuple[Any, Any, Any]:
    if isinstance(batch, dict):
        return batch["inputs"], batch["targets"], batch.get("where")
    if len(batch) == 3:
        inputs, targets, where = batch
        return inputs, targets, where
    inputs, targets = batch
    return inputs, targets, None


def make_loss_fn(
    apply_fn: Callable[[Any, Any], Any],
    loss_fn: Callable[..., Any],
    *,
    axis_name: str | Sequence[str] | None = None,
) -> Callable[[Any, Any], jax.Array]:
    """Bind a model and a loss into ``fn(params, batch) -> scalar``.

    ``batch`` is ``(inputs, targets)``, ``(inputs, targets, where)`` or a dict with keys ``'inputs'``,
    ``'targets'`` and optionally ``'where'``. A loss that returns per-example values (``reduction='none'``,
    :func:`per_example`, an optax face) is averaged with :func:`masked_mean` (global with ``axis_name``); a
    loss that already returns a scalar is returned as it is.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from jaxloss import make_loss_fn
      >>> from jaxloss.losses import mse_loss
      >>> f = make_loss_fn(lambda w, x: x @ w, mse_loss)
      >>> float(f(jnp.ones(2), (jnp.eye(2), jnp.zeros(2))))
      1.0
    """

    def fn(params: Any, batch: Any) -> jax.Array:
        inputs, targets, where = _split_batch(batch)
        value = jnp.asarray(loss_fn(apply_fn(params, inputs), targets))
        if value.ndim == 0 and where is None and axis_name is None:
            return value
        return masked_mean(value, where, axis_name=axis_name)

    return fn


def make_value_fn(
    apply_fn: Callable[[Any, Any], Any],
    loss_fn: Callable[..., Any],
    batch: Any,
    *,
    axis_name: str | Sequence[str] | None = None,
) -> Callable[[Any], jax.Array]:
    """Bind a model, a loss and a fixed batch into the ``params -> scalar`` value function optax expects.

    Use it with ``jax.value_and_grad``, with ``optax.value_and_grad_from_state`` and ``optax.lbfgs`` (whose
    line search calls it again on new parameters), and to compute ``value=`` for
    ``optax.contrib.reduce_on_plateau``.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> from jaxloss import make_value_fn
      >>> from jaxloss.losses import mse_loss
      >>> x = jnp.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]); y = jnp.array([1.0, -1.0, 0.0])
      >>> value_fn = make_value_fn(lambda w, x: x @ w, mse_loss, (x, y))
      >>> opt = optax.lbfgs()
      >>> params = jnp.zeros(2); state = opt.init(params)
      >>> vg = optax.value_and_grad_from_state(value_fn)
      >>> for _ in range(5):
      ...     value, grad = vg(params, state=state)
      ...     updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=value_fn)
      ...     params = optax.apply_updates(params, updates)
      >>> round(float(value_fn(params)), 6)
      0.0
    """
    fn = make_loss_fn(apply_fn, loss_fn, axis_name=axis_name)

    def value_fn(params: Any) -> jax.Array:
        return fn(params, batch)

    return value_fn
