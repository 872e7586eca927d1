"""Training loops that use jaxloss in Flax NNX, Flax Linen and Haiku with optax; and a torch porting test.

Each loop trains a few hundred steps on a small synthetic problem on CPU and asserts the loss falls. The
porting test trains the same MLP from identical weights and data in torch (torch loss, torch SGD) and in
Flax (jaxloss loss, optax SGD) and asserts the two loss curves agree step by step to float32 precision.
"""

from __future__ import annotations

import flax.linen as linen
import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
from flax import nnx

import jaxloss
from jaxloss import losses as L
from jaxloss import nn as jnn
from jaxloss import optax_losses as OL


def _blobs(n=128, d=4, c=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((c, d)) * 2.0
    y = rng.integers(0, c, n)
    x = centers[y] + rng.standard_normal((n, d)) * 0.7
    return x.astype(np.float32), y.astype(np.int32)


X, Y = _blobs()


class NNXClassifier(nnx.Module):
    """An NNX module holding a jaxloss.nn loss object as a static field."""

    def __init__(self, rngs: nnx.Rngs, loss_fn=jnn.CrossEntropyLoss(label_smoothing=0.05)):
        self.l1 = nnx.Linear(4, 16, rngs=rngs)
        self.l2 = nnx.Linear(16, 3, rngs=rngs)
        self.loss_fn = loss_fn

    def __call__(self, x):
        return self.l2(jax.nn.relu(self.l1(x)))


def test_flax_nnx_loop_with_nn_object_as_static_field():
    model = NNXClassifier(nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)

    @nnx.jit
    def step(model, optimizer, x, y):
        def loss(model):
            return model.loss_fn(model(x), y)

        value, grads = nnx.value_and_grad(loss)(model)
        optimizer.update(model, grads)
        return value

    curve = [float(step(model, optimizer, X, Y)) for _ in range(150)]
    assert curve[-1] < 0.5 * curve[0]
    assert float(jnp.mean(jnp.argmax(model(X), -1) == Y)) > 0.9


class LinenMLP(linen.Module):
    loss_fn: jnn.MultiMarginLoss = jnn.MultiMarginLoss(margin=1.0)  # a static config field

    @linen.compact
    def __call__(self, x):
        return linen.Dense(3)(jax.nn.relu(linen.Dense(16)(x)))


def test_flax_linen_loop_with_functional_and_class_losses():
    model = LinenMLP()
    params = model.init(jax.random.PRNGKey(0), X)
    opt = optax.sgd(0.05, momentum=0.9)
    state = opt.init(params)

    @jax.jit
    def step(params, state):
        def loss(p):
            z = model.apply(p, X)
            return model.loss_fn(z, Y) + 0.1 * L.cross_entropy(z, Y)

        value, grads = jax.value_and_grad(loss)(params)
        updates, state = opt.update(grads, state)
        return optax.apply_updates(params, updates), state, value

    curve = []
    for _ in range(150):
        params, state, value = step(params, state)
        curve.append(float(value))
    assert curve[-1] < 0.5 * curve[0]


def test_haiku_loop_with_optax_face_and_masked_mean():
    def forward(x):
        return hk.nets.MLP([16, 3])(x)

    net = hk.without_apply_rng(hk.transform(forward))
    params = net.init(jax.random.PRNGKey(1), X)
    where = jnp.arange(len(Y)) % 5 != 0  # hold out every fifth example
    loss_fn = jaxloss.make_loss_fn(
        net.apply, lambda z, y: OL.softmax_cross_entropy_with_integer_labels(z, y)
    )
    opt = optax.adam(1e-2)
    state = opt.init(params)

    @jax.jit
    def step(params, state):
        value, grads = jax.value_and_grad(loss_fn)(params, (X, Y, where))
        updates, state = opt.update(grads, state)
        return optax.apply_updates(params, updates), state, value

    curve = []
    for _ in range(150):
        params, state, value = step(params, state)
        curve.append(float(value))
    assert curve[-1] < 0.3 * curve[0]


def test_lbfgs_and_reduce_on_plateau_with_value_fn():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 3))
    w_true = np.array([1.0, -2.0, 0.5])
    y = x @ w_true
    value_fn = jaxloss.make_value_fn(lambda w, x: x @ w, L.huber_loss, (x, y))
    opt = optax.lbfgs()
    params = jnp.zeros(3)
    state = opt.init(params)
    vg = optax.value_and_grad_from_state(value_fn)
    for _ in range(20):
        value, grad = vg(params, state=state)
        updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=value_fn)
        params = optax.apply_updates(params, updates)
    np.testing.assert_allclose(np.asarray(params), w_true, atol=1e-5)

    plateau = optax.chain(optax.sgd(0.1), optax.contrib.reduce_on_plateau(patience=2, factor=0.5))
    params = jnp.zeros(3)
    state = plateau.init(params)
    for _ in range(30):
        value, grad = jax.value_and_grad(value_fn)(params)
        updates, state = plateau.update(grad, state, params, value=value)
        params = optax.apply_updates(params, updates)
    assert float(value_fn(params)) < 0.5 * float(value_fn(jnp.zeros(3)))


# ---------------------------------------------------------------------------------------------------------
# Porting: torch (torch loss + torch SGD) vs Flax (jaxloss loss + optax SGD), from identical weights and data.


class TorchMLP(torch.nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.l1 = torch.nn.Linear(d_in, 8)
        self.l2 = torch.nn.Linear(8, d_out)

    def forward(self, x):
        return self.l2(torch.tanh(self.l1(x)))


class FlaxMLP(linen.Module):
    d_out: int

    @linen.compact
    def __call__(self, x):
        return linen.Dense(self.d_out, name="l2")(jnp.tanh(linen.Dense(8, name="l1")(x)))


def _flax_params_from_torch(tm):
    def layer(lin):
        return {
            "kernel": jnp.asarray(lin.weight.detach().numpy().T),
            "bias": jnp.asarray(lin.bias.detach().numpy()),
        }

    return {"params": {"l1": layer(tm.l1), "l2": layer(tm.l2)}}


CLASS_W = np.array([1.0, 2.0, 0.5], np.float32)
PORTING_CASES = {
    "cross_entropy_weight_smoothing": (
        3,
        lambda: torch.nn.CrossEntropyLoss(weight=torch.from_numpy(CLASS_W), label_smoothing=0.1),
        jnn.CrossEntropyLoss(weight=jnp.asarray(CLASS_W), label_smoothing=0.1),
        lambda y: (torch.from_numpy(y.astype(np.int64)), jnp.asarray(y)),
    ),
    "smooth_l1_regression": (
        1,
        lambda: torch.nn.SmoothL1Loss(beta=0.5),
        jnn.SmoothL1Loss(beta=0.5),
        lambda y: (
            torch.from_numpy(y[:, None].astype(np.float32)),
            jnp.asarray(y[:, None], jnp.float32),
        ),
    ),
    "multi_margin": (
        3,
        lambda: torch.nn.MultiMarginLoss(margin=0.5),
        jnn.MultiMarginLoss(margin=0.5),
        lambda y: (torch.from_numpy(y.astype(np.int64)), jnp.asarray(y)),
    ),
}


@pytest.mark.parametrize("case", list(PORTING_CASES))
def test_torch_and_flax_loss_curves_agree(case):
    d_out, torch_loss, jax_loss, targets = PORTING_CASES[case]
    torch.manual_seed(0)
    tm = TorchMLP(4, d_out)
    params = _flax_params_from_torch(tm)
    t_y, j_y = targets(Y)
    t_x = torch.from_numpy(X)
    t_opt = torch.optim.SGD(tm.parameters(), lr=0.1, momentum=0.9)
    t_loss = torch_loss()
    model = FlaxMLP(d_out)
    opt = optax.sgd(0.1, momentum=0.9)
    state = opt.init(params)

    @jax.jit
    def step(params, state):
        value, grads = jax.value_and_grad(lambda p: jax_loss(model.apply(p, X), j_y))(params)
        updates, state = opt.update(grads, state)
        return optax.apply_updates(params, updates), state, value

    torch_curve, jax_curve = [], []
    for _ in range(30):
        t_opt.zero_grad()
        loss = t_loss(tm(t_x), t_y)
        loss.backward()
        t_opt.step()
        torch_curve.append(loss.item())
        params, state, value = step(params, state)
        jax_curve.append(float(value))
    np.testing.assert_allclose(jax_curve, torch_curve, rtol=2e-5, atol=2e-6)
    assert jax_curve[-1] < jax_curve[0]
