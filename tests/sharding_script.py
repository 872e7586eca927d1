"""Run with 8 CPU devices (XLA_FLAGS=--xla_force_host_platform_device_count=8); prints one line per check.

Every catalogue loss, jitted on inputs sharded over a (2, 4) mesh (axis 0 of each array split over 'data'
where it divides, else replicated), must give the single-device value and gradients. Then a shard_map
data-parallel step whose masked mean is reduced across devices must equal the unsharded global mean.
"""

from __future__ import annotations

import sys

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

jax.config.update("jax_enable_x64", True)

import jaxloss  # noqa: E402
from jaxloss import losses as L  # noqa: E402
from jaxloss._src.catalogue import entries  # noqa: E402

assert len(jax.devices()) == 8, jax.devices()
mesh = Mesh(np.array(jax.devices()).reshape(2, 4), ("data", "model"))
failures = []


def place(x):
    if not isinstance(x, np.ndarray) or x.ndim == 0:
        return x
    spec = P("data") if x.shape[0] % 2 == 0 else P()
    return jax.device_put(x, NamedSharding(mesh, spec))


def scalar(out):
    return sum(jnp.sum(jnp.asarray(x, jnp.float64)) for x in jax.tree_util.tree_leaves(out))


for spec in entries():
    args, kwargs = spec.example(np.random.default_rng(0))
    arrays = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]

    def f(*arr, spec=spec, args=args, kwargs=kwargs, arrays=arrays):
        full = list(args)
        for i, v in zip(arrays, arr):
            full[i] = v
        return spec.fn(*full, **kwargs)

    diff = tuple(arrays.index(i) for i in spec.diff)
    single = [jnp.asarray(args[i]) for i in arrays]
    sharded = [place(args[i]) for i in arrays]
    try:
        ref = f(*single)
        ref_g = jax.grad(lambda *a: scalar(f(*a)), argnums=diff)(*single)
        out = jax.jit(f)(*sharded)
        out_g = jax.jit(jax.grad(lambda *a: scalar(f(*a)), argnums=diff))(*sharded)
        for a, b in zip(
            jax.tree_util.tree_leaves((out, out_g)), jax.tree_util.tree_leaves((ref, ref_g))
        ):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-9, atol=1e-11)
        print("ok", spec.qualname)
    except Exception as err:
        failures.append(spec.qualname)
        print(
            "FAIL", spec.qualname, type(err).__name__, str(err).splitlines()[0] if str(err) else ""
        )

# Weighted / ignore_index means stay global under batch sharding.
rng = np.random.default_rng(1)
logits = rng.standard_normal((16, 5))
target = rng.integers(0, 5, 16)
target[:6] = -100  # most ignored entries sit on the first shard
weight = rng.uniform(0.5, 2.0, 5)
ref = L.cross_entropy(logits, target, weight=weight)
out = jax.jit(lambda z, t: L.cross_entropy(z, t, weight=jnp.asarray(weight)))(
    place(logits), place(target)
)
np.testing.assert_allclose(np.asarray(out), np.asarray(ref), rtol=1e-12)
print("ok global weighted mean with ignore_index under sharding")

# shard_map data parallelism: per-device per-example losses, masked_mean with axis_name = global mean.
x = rng.standard_normal((16, 3))
y = rng.standard_normal(16)
where = np.zeros(16, bool)
where[[0, 1, 2, 9]] = True  # uneven valid counts per device
w = jnp.array([0.5, -1.0, 2.0])


def local_loss(w, x, y, where):
    values = jaxloss.per_example(L.mse_loss)(x @ w, y)
    return jaxloss.masked_mean(values, where, axis_name="data")


dp_mesh = Mesh(np.array(jax.devices()), ("data",))
sm = jax.shard_map(
    jax.value_and_grad(local_loss),
    mesh=dp_mesh,
    in_specs=(P(), P("data"), P("data"), P("data")),
    out_specs=(P(), P()),
)
value, grad = jax.jit(sm)(w, x, y, where)
ref_v, ref_g = jax.value_and_grad(
    lambda w: jnp.sum(jnp.where(where, (x @ w - y) ** 2, 0)) / where.sum()
)(w)
# each device's gradient is of the global mean; psum of the per-device contributions is the full gradient
np.testing.assert_allclose(float(value), float(ref_v), rtol=1e-12)
np.testing.assert_allclose(np.asarray(grad), np.asarray(ref_g), rtol=1e-10)
print("ok shard_map global masked mean")

print(f"{len(failures)} failures")
sys.exit(1 if failures else 0)
