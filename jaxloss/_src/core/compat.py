"""Compatibility with the oldest jax the bounds in pyproject.toml allow (jax 0.4.30).

``jax.lax.optimization_barrier`` became public after 0.4.30; there the same primitive is reachable as
``jax._src.ad_checkpoint._optimization_barrier``, without a batching rule. Old versions get the rule the
later ones ship (the barrier is applied to the batched operands, batch dimensions unchanged). Checked by
``bash .ci/oldest``.
"""

from __future__ import annotations

import jax

try:
    optimization_barrier = jax.lax.optimization_barrier
except AttributeError:  # jax < 0.4.31
    from jax._src import ad_checkpoint as _ac
    from jax.interpreters import batching as _batching

    optimization_barrier = _ac._optimization_barrier

    if _ac.optimization_barrier_p not in _batching.primitive_batchers:

        def _barrier_batcher(args, dims):
            return _ac.optimization_barrier_p.bind(*args), dims

        _batching.primitive_batchers[_ac.optimization_barrier_p] = _barrier_batcher

__all__ = ["optimization_barrier"]
