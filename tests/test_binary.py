"""Binary losses against torch 2.13.0 (CPU), computed in the same run on the same inputs."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from jaxloss._src.core.validation import checked
from jaxloss._src.families.binary import (
    _bce,
    _sigmoid_bce,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    multilabel_soft_margin_loss,
    soft_margin_loss,
)
from tests.torch_parity import compare

REDUCTIONS = ["none", "mean", "sum"]
CONFIGS = pytest.mark.parametrize(
    "dtype,jit", [(np.float64, False), (np.float32, True)], ids=["f64", "f32-jit"]
)
LEGACY = [(None, False), (True, None), (False, None), (False, True)]


def _legacy_reduction(size_average, reduce):
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "none" if not reduce else ("mean" if size_average else "sum")


def _quiet(fn):
    """torch's own UserWarnings (legacy flags) are not under test."""

    def run(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return fn(*args, **kwargs)

    return run


# ------------------------------------------------------------------------------------------------
# binary_cross_entropy
# ------------------------------------------------------------------------------------------------


def _probabilities(rng, shape=(4, 6)):
    x = rng.uniform(0.01, 0.99, shape)
    y = rng.uniform(0.0, 1.0, shape)
    # the clamp region: inputs exactly 0 and 1 against targets 0, 1 and in between
    x.flat[:6] = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    y.flat[:6] = [0.0, 1.0, 0.3, 0.0, 1.0, 0.7]
    return x, y


@CONFIGS
def test_bce(rng, dtype, jit):
    x, y = _probabilities(rng)
    for reduction in REDUCTIONS:
        # input and target gradients: torch's (x - y) / max(x (1 - x), 1e-12) and -logit(x) (inf at 0, 1)
        compare(
            binary_cross_entropy,
            F.binary_cross_entropy,
            [x, y],
            kwargs={"reduction": reduction},
            diff=(0, 1),
            dtype=dtype,
            jit=jit,
        )


@CONFIGS
@pytest.mark.parametrize("weight_shape", [(4, 6), (6,), (1, 6), (4, 1), ()], ids=str)
def test_bce_weight_broadcast(rng, dtype, jit, weight_shape):
    x, y = _probabilities(rng)
    w = rng.uniform(0.1, 2.0, weight_shape)
    for reduction in ("none", "mean"):  # 'mean' is mean(w * loss)
        compare(
            binary_cross_entropy,
            F.binary_cross_entropy,
            [x, y, w, None, None, reduction],
            diff=(0, 1),
            dtype=dtype,
            jit=jit,
        )


def test_bce_clamp_below_float_range():
    # log(1e-50) = -115 is clamped to -100 in value, but torch's gradients are not clamped
    x = np.array([1e-50, 1e-50, 1.0 - 1e-16, 0.5])
    y = np.array([1.0, 0.2, 0.0, 0.5])
    compare(
        binary_cross_entropy,
        F.binary_cross_entropy,
        [x, y],
        kwargs={"reduction": "none"},
        diff=(0, 1),
    )


@pytest.mark.parametrize("size_average,reduce", LEGACY)
def test_bce_legacy_flags(rng, size_average, reduce):
    x, y = _probabilities(rng)
    expected = _legacy_reduction(size_average, reduce)
    with pytest.warns(DeprecationWarning, match=f"binary_cross_entropy: .*reduction='{expected}'"):
        compare(
            binary_cross_entropy,
            _quiet(F.binary_cross_entropy),
            [x, y, None, size_average, reduce, "sum"],
            diff=(0,),
        )


def test_bce_forward_mode_and_hessian():
    x, y = jnp.array([0.2, 0.0, 0.7]), jnp.array([1.0, 0.0, 0.5])
    f = lambda a: binary_cross_entropy(a, y, reduction="sum")
    _, tangent = jax.jvp(f, (x,), (jnp.ones(3),))
    np.testing.assert_allclose(tangent, jnp.sum(jax.grad(f)(x)), rtol=1e-14)
    hess = jax.hessian(f)(jnp.array([0.2, 0.4, 0.7]))
    assert np.all(np.isfinite(hess))
    # grad of input only: the target tangent is a symbolic zero, so inf * 0 never appears
    assert np.all(np.isfinite(jax.grad(f)(x)))
    np.testing.assert_allclose(_bce(x, y), binary_cross_entropy(x, y, reduction="none"), rtol=1e-15)


def test_bce_errors():
    x = jnp.full((2, 3), 0.5)
    with pytest.raises(
        ValueError, match="binary_cross_entropy: all elements of input should be between 0 and 1"
    ):
        binary_cross_entropy(x.at[0, 0].set(1.5), x)
    with pytest.raises(
        ValueError, match="binary_cross_entropy: all elements of input should be between 0 and 1"
    ):
        binary_cross_entropy(x.at[0, 0].set(-0.1), x)
    with pytest.raises(
        ValueError, match="binary_cross_entropy: all elements of input should be between 0 and 1"
    ):
        binary_cross_entropy(x.at[0, 0].set(jnp.nan), x)
    with pytest.raises(
        ValueError, match="binary_cross_entropy: all elements of target should be between 0 and 1"
    ):
        binary_cross_entropy(x, x.at[1, 1].set(2.0))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(torch.tensor([1.5]), torch.tensor([0.5]))
    with pytest.raises(
        ValueError,
        match="binary_cross_entropy: target has shape \\(3,\\); it must have the same shape as input \\(2, 3\\)",
    ):
        binary_cross_entropy(x, jnp.full(3, 0.5))
    with pytest.raises(
        ValueError,
        match="binary_cross_entropy: weight has shape \\(2, 2, 3\\); it must broadcast to input's shape",
    ):
        binary_cross_entropy(x, x, jnp.ones((2, 2, 3)))
    with pytest.raises(ValueError, match="binary_cross_entropy: reduction must be one of"):
        binary_cross_entropy(x, x, reduction="batchmean")
    # under jit: no eager error, the unchecked loss is nan; jaxloss.checked reports the check
    assert np.isnan(float(jax.jit(binary_cross_entropy)(x.at[0, 0].set(1.5), x)))
    err, _ = jax.jit(checked(binary_cross_entropy))(x.at[0, 0].set(1.5), x)
    assert "all elements of input should be between 0 and 1" in err.get()


# ------------------------------------------------------------------------------------------------
# binary_cross_entropy_with_logits
# ------------------------------------------------------------------------------------------------


@CONFIGS
@pytest.mark.parametrize(
    "weight_shape,pos_weight_shape",
    [(None, None), ((4, 6), None), (None, (6,)), ((6,), (4, 6)), ((1, 6), (4, 1)), ((), ())],
    ids=str,
)
def test_bce_with_logits(rng, dtype, jit, weight_shape, pos_weight_shape):
    x = rng.standard_normal((4, 6)) * 3
    x.flat[:4] = [40.0, -40.0, 0.0, 15.0]  # far tails: exact, no overflow
    y = rng.uniform(0.0, 1.0, (4, 6))
    w = None if weight_shape is None else rng.uniform(0.1, 2.0, weight_shape)
    pw = None if pos_weight_shape is None else rng.uniform(0.2, 3.0, pos_weight_shape)
    for reduction in ("none", "mean"):  # torch does not differentiate weight and pos_weight
        compare(
            binary_cross_entropy_with_logits,
            F.binary_cross_entropy_with_logits,
            [x, y, w, None, None, reduction, pw],
            diff=(0, 1),
            dtype=dtype,
            jit=jit,
        )


def test_bce_with_logits_spatial_pos_weight_and_sum(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    y = rng.integers(0, 2, (2, 3, 4, 5)).astype(np.float64)
    pw = rng.uniform(
        0.5, 2.0, (3, 1, 1)
    )  # one positive weight per channel, as torch's docs suggest
    compare(
        binary_cross_entropy_with_logits,
        F.binary_cross_entropy_with_logits,
        [x, y, None, None, None, "sum", pw],
        diff=(0, 1),
    )


def test_bce_with_logits_extreme_logits():
    x = jnp.array([1e9, -1e9, 3.4e37, -3.4e37], jnp.float32)
    y = jnp.array([0.0, 1.0, 1.0, 0.0], jnp.float32)
    out = binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_array_equal(out, [1e9, 1e9, 0.0, 0.0])
    ref = F.binary_cross_entropy_with_logits(
        torch.tensor(np.asarray(x)), torch.tensor(np.asarray(y)), reduction="none"
    )
    np.testing.assert_array_equal(out, ref.numpy())
    assert np.all(np.isfinite(jax.grad(lambda a: binary_cross_entropy_with_logits(a, y))(x)))


@pytest.mark.parametrize("size_average,reduce", LEGACY)
def test_bce_with_logits_legacy_flags(rng, size_average, reduce):
    x, y = rng.standard_normal((3, 4)), rng.uniform(0, 1, (3, 4))
    with pytest.warns(
        DeprecationWarning, match="binary_cross_entropy_with_logits: size_average and reduce"
    ):
        compare(
            binary_cross_entropy_with_logits,
            _quiet(F.binary_cross_entropy_with_logits),
            [x, y, None, size_average, reduce, "sum"],
            diff=(0,),
        )


def test_sigmoid_bce_kernel(rng):
    x, y = rng.standard_normal((2, 3, 4))
    pw = rng.uniform(0.5, 2.0, 4)
    ref = -(pw * y * np.log(1 / (1 + np.exp(-x))) + (1 - y) * np.log(1 - 1 / (1 + np.exp(-x))))
    np.testing.assert_allclose(_sigmoid_bce(x, y, pw), ref, rtol=1e-12)
    np.testing.assert_allclose(
        _sigmoid_bce(x, y), binary_cross_entropy_with_logits(x, y, reduction="none"), rtol=1e-15
    )


def test_bce_with_logits_errors():
    x = jnp.zeros((2, 3))
    with pytest.raises(
        ValueError, match="binary_cross_entropy_with_logits: target has shape \\(2, 1\\)"
    ):
        binary_cross_entropy_with_logits(x, jnp.zeros((2, 1)))
    with pytest.raises(
        ValueError,
        match="binary_cross_entropy_with_logits: pos_weight has shape \\(2,\\); it must broadcast",
    ):
        binary_cross_entropy_with_logits(x, x, pos_weight=jnp.ones(2))
    with pytest.raises(
        ValueError, match="binary_cross_entropy_with_logits: weight has shape \\(4, 2, 3\\)"
    ):
        binary_cross_entropy_with_logits(x, x, weight=jnp.ones((4, 2, 3)))
    with pytest.raises(
        ValueError, match="binary_cross_entropy_with_logits: reduction must be one of"
    ):
        binary_cross_entropy_with_logits(x, x, reduction="elementwise_mean")
    with pytest.raises(
        TypeError, match="binary_cross_entropy_with_logits: target must have a floating dtype"
    ):
        binary_cross_entropy_with_logits(x, jnp.zeros((2, 3), jnp.int32))


# ------------------------------------------------------------------------------------------------
# soft_margin_loss / multilabel_soft_margin_loss
# ------------------------------------------------------------------------------------------------


@CONFIGS
def test_soft_margin(rng, dtype, jit):
    x = rng.standard_normal((4, 5)) * 3
    y = np.sign(rng.standard_normal((4, 5)))
    for reduction in REDUCTIONS:
        compare(
            soft_margin_loss,
            F.soft_margin_loss,
            [x, y],
            kwargs={"reduction": reduction},
            dtype=dtype,
            jit=jit,
        )
    # target broadcast to input's shape
    compare(
        soft_margin_loss,
        F.soft_margin_loss,
        [x, y[0]],
        kwargs={"reduction": "none"},
        dtype=dtype,
        jit=jit,
    )


def test_soft_margin_stable_where_torch_overflows():
    x, y = jnp.array([-100.0, 100.0], jnp.float32), jnp.array([1.0, 1.0], jnp.float32)
    out = soft_margin_loss(x, y, reduction="none")
    ref = F.soft_margin_loss(
        torch.tensor([-100.0, 100.0]), torch.tensor([1.0, 1.0]), reduction="none"
    )
    assert np.isinf(ref[0].item())  # torch's log1p(exp(100)) overflows in float32
    np.testing.assert_allclose(
        out, [100.0, ref[1].item()], rtol=1e-7, atol=1e-40
    )  # ref[1] is subnormal


@pytest.mark.parametrize("size_average,reduce", LEGACY)
def test_soft_margin_legacy_flags(rng, size_average, reduce):
    x, y = rng.standard_normal((3, 4)), np.sign(rng.standard_normal((3, 4)))
    with pytest.warns(DeprecationWarning, match="soft_margin_loss: size_average and reduce"):
        compare(soft_margin_loss, _quiet(F.soft_margin_loss), [x, y, size_average, reduce, "sum"])


def test_soft_margin_errors():
    with pytest.raises(
        ValueError,
        match="soft_margin_loss: target has shape \\(3, 4\\); it must broadcast to input's shape \\(4,\\)",
    ):
        soft_margin_loss(jnp.zeros(4), jnp.ones((3, 4)))
    with pytest.raises(ValueError, match="soft_margin_loss: reduction must be one of"):
        soft_margin_loss(jnp.zeros(4), jnp.ones(4), reduction="avg")


@CONFIGS
@pytest.mark.parametrize("weight_shape", [None, (5,), (3, 5)], ids=str)
def test_multilabel_soft_margin(rng, dtype, jit, weight_shape):
    x = rng.standard_normal((3, 5)) * 2
    y = rng.integers(0, 2, (3, 5)).astype(np.float64)
    w = None if weight_shape is None else rng.uniform(0.1, 2.0, weight_shape)
    diff = (0, 1) if w is None else (0, 1, 2)
    for reduction in REDUCTIONS:  # per-sample sum over classes / C, then the reduction
        compare(
            multilabel_soft_margin_loss,
            F.multilabel_soft_margin_loss,
            [x, y, w, None, None, reduction],
            diff=diff,
            dtype=dtype,
            jit=jit,
        )


def test_multilabel_soft_margin_shapes(rng):
    # unbatched (C,): a 0-d per-sample loss; K-dim (N, d1, C): the class axis is the last one
    x1, y1 = rng.standard_normal(5), rng.uniform(0, 1, 5)
    compare(
        multilabel_soft_margin_loss,
        F.multilabel_soft_margin_loss,
        [x1[None], y1[None]],
        kwargs={"reduction": "none"},
        diff=(0, 1),
    )
    out = multilabel_soft_margin_loss(x1, y1, reduction="none")
    ref = F.multilabel_soft_margin_loss(torch.tensor(x1), torch.tensor(y1), reduction="none")
    assert out.shape == tuple(ref.shape) == ()
    np.testing.assert_allclose(out, ref.numpy(), rtol=1e-12)
    x, y = rng.standard_normal((2, 3, 4)), rng.uniform(0, 1, (2, 3, 4))
    compare(
        multilabel_soft_margin_loss,
        F.multilabel_soft_margin_loss,
        [x, y, rng.uniform(0.5, 1.0, 4)],
        kwargs={"reduction": "none"},
        diff=(0, 1),
    )


@pytest.mark.parametrize("size_average,reduce", LEGACY)
def test_multilabel_soft_margin_legacy_flags(rng, size_average, reduce):
    x, y = rng.standard_normal((3, 4)), rng.integers(0, 2, (3, 4)).astype(np.float64)
    with pytest.warns(
        DeprecationWarning, match="multilabel_soft_margin_loss: size_average and reduce"
    ):
        compare(
            multilabel_soft_margin_loss,
            _quiet(F.multilabel_soft_margin_loss),
            [x, y, None, size_average, reduce, "sum"],
        )


def test_multilabel_soft_margin_errors():
    with pytest.raises(
        ValueError, match="multilabel_soft_margin_loss: input must have a class axis"
    ):
        multilabel_soft_margin_loss(jnp.array(1.0), jnp.array(1.0))
    with pytest.raises(
        ValueError,
        match="multilabel_soft_margin_loss: input \\(2, 3\\), target \\(2, 4\\) do not broadcast",
    ):
        multilabel_soft_margin_loss(jnp.zeros((2, 3)), jnp.zeros((2, 4)))
    with pytest.raises(ValueError, match="multilabel_soft_margin_loss: reduction must be one of"):
        multilabel_soft_margin_loss(jnp.zeros((2, 3)), jnp.zeros((2, 3)), reduction="batchmean")
