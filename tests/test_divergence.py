"""kl_div against torch 2.13.0 (CPU), computed in the same run on the same inputs."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from jaxloss._src.families.divergence import _kl_pointwise, kl_div
from tests.torch_parity import compare

CONFIGS = pytest.mark.parametrize(
    "dtype,jit", [(np.float64, False), (np.float32, True)], ids=["f64", "f32-jit"]
)


def _torch_kl(*args, **kwargs):
    """torch's 'mean' and legacy-flag UserWarnings are not under test here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return F.kl_div(*args, **kwargs)


def _distributions(rng, shape=(4, 5)):
    log_q = rng.standard_normal(shape)
    log_q -= np.log(np.exp(log_q).sum(-1, keepdims=True))
    p = rng.uniform(0.05, 1.0, shape)
    return log_q, p / p.sum(-1, keepdims=True)


@CONFIGS
@pytest.mark.parametrize("reduction", ["none", "batchmean", "sum", "mean"])
def test_kl_div(rng, dtype, jit, reduction):
    log_q, p = _distributions(rng)
    ctx = (
        pytest.warns(UserWarning, match="kl_div: reduction='mean'")
        if reduction == "mean"
        else _nullcontext()
    )
    with ctx:
        compare(
            kl_div,
            _torch_kl,
            [log_q, p],
            kwargs={"reduction": reduction},
            diff=(0, 1),
            dtype=dtype,
            jit=jit,
        )
    with pytest.warns(UserWarning) if reduction == "mean" else _nullcontext():
        compare(
            kl_div,
            _torch_kl,
            [log_q, np.log(p)],
            kwargs={"reduction": reduction, "log_target": True},
            diff=(0, 1),
            dtype=dtype,
            jit=jit,
        )


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@CONFIGS
def test_kl_div_zero_targets(rng, dtype, jit):
    # xlogy(0, 0) = 0: values and input gradients match torch; torch's target gradient is nan at t = 0
    log_q, p = _distributions(rng)
    p[0, :2] = 0.0
    compare(
        kl_div, _torch_kl, [log_q, p], kwargs={"reduction": "sum"}, diff=(0,), dtype=dtype, jit=jit
    )
    g = jax.grad(lambda t: kl_div(jnp.asarray(log_q), t, reduction="sum"), argnums=0)(
        jnp.asarray(p)
    )
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(
        g[0, :2], -log_q[0, :2], rtol=1e-14
    )  # d(-t x)/dt; the xlogy term is flat at 0


def test_kl_div_negative_target_is_nan_as_torch():
    x, t = np.array([-1.0, -2.0]), np.array([-0.1, 0.5])
    ours = kl_div(x, t, reduction="none")
    ref = F.kl_div(torch.tensor(x), torch.tensor(t), reduction="none").numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    np.testing.assert_allclose(ours[1], ref[1], rtol=1e-15)


def test_kl_div_broadcast_and_batchmean_divides_by_input_batch(rng):
    # torch divides 'batchmean' by input.size(0) even when target broadcasts input to more rows
    x = rng.standard_normal((1, 4))
    t = rng.uniform(0.1, 1.0, (3, 4))
    for reduction in ("batchmean", "sum", "none"):
        compare(kl_div, _torch_kl, [x, t], kwargs={"reduction": reduction}, diff=(0, 1))
        compare(kl_div, _torch_kl, [x[0], t], kwargs={"reduction": reduction}, diff=(0, 1))
    # 0-d input: batchmean divides by 1
    out = kl_div(np.float64(-1.0), np.float64(0.3), reduction="batchmean")
    ref = F.kl_div(
        torch.tensor(-1.0, dtype=torch.float64),
        torch.tensor(0.3, dtype=torch.float64),
        reduction="batchmean",
    )
    np.testing.assert_allclose(out, ref.numpy(), rtol=1e-15)
    out = kl_div(np.float64(-1.0), t, reduction="batchmean")
    ref = F.kl_div(torch.tensor(-1.0, dtype=torch.float64), torch.tensor(t), reduction="batchmean")
    np.testing.assert_allclose(out, ref.numpy(), rtol=1e-14)


def test_kl_div_k_dim_and_empty(rng):
    log_q, p = _distributions(rng, (2, 3, 4, 5))
    compare(kl_div, _torch_kl, [log_q, p], kwargs={"reduction": "batchmean"}, diff=(0, 1))
    compare(
        kl_div, _torch_kl, [np.zeros((0, 3)), np.zeros((0, 3))], kwargs={"reduction": "batchmean"}
    )
    compare(kl_div, _torch_kl, [np.zeros((0, 3)), np.zeros((0, 3))], kwargs={"reduction": "sum"})


@pytest.mark.parametrize(
    "size_average,reduce,expected",
    [(None, False, "none"), (True, None, "mean"), (False, None, "sum")],
)
def test_kl_div_legacy_flags(rng, size_average, reduce, expected):
    log_q, p = _distributions(rng)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare(kl_div, _torch_kl, [log_q, p, size_average, reduce, "sum"], diff=(0, 1))
        # torch quirk, reproduced: a 'batchmean' replaced by the legacy flags still divides by the batch
        compare(kl_div, _torch_kl, [log_q, p, size_average, reduce, "batchmean"], diff=(0, 1))
    ours = [w for w in caught if "kl_div" in str(w.message)]
    assert len(ours) == 2 and all(
        w.category is DeprecationWarning for w in ours
    )  # no 'mean' UserWarning on this path
    assert f"reduction='{expected}'" in str(ours[0].message)


def test_kl_pointwise_kernel(rng):
    log_q, p = _distributions(rng)
    np.testing.assert_allclose(_kl_pointwise(log_q, p, False), p * (np.log(p) - log_q), rtol=1e-13)
    np.testing.assert_allclose(
        _kl_pointwise(log_q, np.log(p), True), p * (np.log(p) - log_q), rtol=1e-13
    )
    assert float(_kl_pointwise(jnp.array(-3.0), jnp.array(0.0), False)) == 0.0


def test_kl_div_errors():
    x = jnp.zeros((2, 3))
    with pytest.raises(
        ValueError,
        match="kl_div: reduction must be one of 'none', 'batchmean', 'sum', 'mean'; got 'avg'",
    ):
        kl_div(x, x, reduction="avg")
    with pytest.raises(
        ValueError, match="kl_div: input of shape \\(2, 3\\) and target of shape \\(2,\\)"
    ):
        kl_div(x, jnp.zeros(2), reduction="sum")
    with pytest.raises(TypeError, match="kl_div: target must have a floating dtype"):
        kl_div(x, jnp.zeros((2, 3), jnp.int32), reduction="sum")
