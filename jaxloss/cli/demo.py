"""``jaxloss demo``: train a small MLP on a built-in toy data set with a chosen loss and plot the curve.

The data set is three interleaved spirals in 2-D, generated deterministically (no download). The model is a
two-hidden-layer MLP written in plain JAX, trained with optax's Adam on full batches.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

NUM_CLASSES = 3


def spirals(
    n_per_class: int = 200, noise: float = 0.15, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Three interleaved 2-D spirals: ``(x of shape (3n, 2) float32, y of shape (3n,) int32)``."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for c in range(NUM_CLASSES):
        r = np.linspace(0.05, 1.0, n_per_class)
        t = np.linspace(c * 4.2, (c + 1) * 4.2, n_per_class) + rng.normal(0, noise, n_per_class)
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        ys.append(np.full(n_per_class, c))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int32)


def _loss_choices() -> dict[str, Callable[[Any, Any], Any]]:
    from jaxloss import losses as L

    return {
        "cross_entropy": lambda z, y: L.cross_entropy(z, y),
        "label_smoothing": lambda z, y: L.cross_entropy(z, y, label_smoothing=0.1),
        "focal": lambda z, y: L.softmax_focal_loss(z, y, gamma=2.0),
        "poly1": lambda z, y: L.poly1_cross_entropy(z, y, epsilon=1.0),
        "multi_margin": lambda z, y: L.multi_margin_loss(z, y),
        "bi_tempered": lambda z, y: L.bi_tempered_logistic_loss(z, y, t1=0.8, t2=1.2),
        "sparsemax": lambda z, y: L.sparsemax_loss(z, y),
    }


LOSSES = (
    "cross_entropy",
    "label_smoothing",
    "focal",
    "poly1",
    "multi_margin",
    "bi_tempered",
    "sparsemax",
)


def _init_mlp(key, sizes):
    import jax
    import jax.numpy as jnp

    params = []
    for k, (m, n) in zip(jax.random.split(key, len(sizes) - 1), itertools.pairwise(sizes)):
        params.append((jax.random.normal(k, (m, n)) * jnp.sqrt(2.0 / m), jnp.zeros(n)))
    return params


def _apply_mlp(params, x):
    import jax

    for w, b in params[:-1]:
        x = jax.nn.relu(x @ w + b[None, :])
    w, b = params[-1]
    return x @ w + b[None, :]


def train(
    loss: str = "cross_entropy",
    steps: int = 300,
    learning_rate: float = 1e-2,
    seed: int = 0,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[list[float], float]:
    """Train the demo MLP; returns the loss curve and the final training accuracy."""
    import jax
    import jax.numpy as jnp
    import optax

    fn = _loss_choices()[loss]
    x_np, y_np = spirals(seed=seed)
    x, y = jnp.asarray(x_np), jnp.asarray(y_np)
    params = _init_mlp(jax.random.PRNGKey(seed), (2, 64, 64, NUM_CLASSES))
    opt = optax.adam(learning_rate)
    state = opt.init(params)

    @jax.jit
    def step(params, state):
        value, grads = jax.value_and_grad(lambda p: fn(_apply_mlp(p, x), y))(params)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, value

    curve = []
    for k in range(steps):
        params, state, value = step(params, state)
        curve.append(float(value))
        if progress and (k % 10 == 0 or k == steps - 1):
            progress(k + 1, steps, f"loss {curve[-1]:.4f}")
    accuracy = float(jnp.mean(jnp.argmax(_apply_mlp(params, x), -1) == y))
    return curve, accuracy


def plot(curves: dict[str, list[float]], path: str, title: str = "jaxloss demo") -> None:
    """Write the loss curves to a PNG (needs matplotlib: ``pip install 'jaxloss[demo]'``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for name, curve in curves.items():
        ax.plot(curve, label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
