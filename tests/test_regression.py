"""Regression losses against torch 2.13.0 (CPU) and Keras 3 (JAX backend), computed in the same run.

Pinball and Tweedie losses have no installed reference: they are checked against float64 numpy
formulas written out below (Koenker & Bassett 1978; XGBoost/LightGBM Tweedie NLL).
"""

from __future__ import annotations

import functools
import warnings

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from jaxloss._src.core.validation import checked
from jaxloss._src.families.regression import (
    _huber,
    _log_cosh,
    _squared_error,
    gaussian_nll_loss,
    huber_loss,
    l1_loss,
    log_cosh_loss,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    mse_loss,
    poisson_nll_loss,
    quantile_loss,
    smooth_l1_loss,
    tweedie_nll_loss,
)
from tests.torch_parity import TOL, compare

DTYPES = [np.float64, np.float32]
REDUCTIONS = ["none", "mean", "sum"]
# float64 eager (tight) and float32 under jit: both dtypes and both execution modes, at half the cost
CONFIGS = pytest.mark.parametrize(
    "dtype,jit", [(np.float64, False), (np.float32, True)], ids=["f64", "f32-jit"]
)
LEGACY = [(None, False), (True, False), (False, None), (False, True), (True, None), (None, True)]


def _legacy_reduction(size_average, reduce):
    """torch's legacy_get_string, written out for the expected warning text."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "none" if not reduce else ("mean" if size_average else "sum")


def _quiet(fn):
    """torch's own UserWarnings (size mismatch, legacy flags) are not under test."""

    def run(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return fn(*args, **kwargs)

    return run


# ------------------------------------------------------------------------------------------------
# l1_loss / mse_loss
# ------------------------------------------------------------------------------------------------

PAIR_LOSSES = [(l1_loss, F.l1_loss), (mse_loss, F.mse_loss)]


@pytest.mark.parametrize("ours,theirs", PAIR_LOSSES, ids=["l1", "mse"])
@CONFIGS
def test_l1_mse(rng, ours, theirs, dtype, jit):
    x, y, w = rng.standard_normal((3, 5, 4, 4))
    x[0, 0, :2] = y[0, 0, :2]  # d = 0: torch's sign(0) = 0 gradient
    for reduction in ("none", "mean"):
        compare(
            ours,
            theirs,
            [x, y],
            kwargs={"reduction": reduction},
            diff=(0, 1),
            dtype=dtype,
            jit=jit,
        )
    # weighted: 'mean' is sum(w * err) / sum(w); weight gradients too
    for reduction in ("mean", "sum"):
        compare(
            ours,
            theirs,
            [x, y, None, None, reduction, np.abs(w)],
            diff=(0, 1, 5),
            dtype=dtype,
            jit=jit,
        )


@pytest.mark.parametrize("ours,theirs", PAIR_LOSSES, ids=["l1", "mse"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_l1_mse_broadcast_and_weight_of_input_shape(rng, ours, theirs, reduction):
    # torch broadcasts (with a warning); weight must have input's own shape and 'mean' divides by its sum
    x, w = rng.standard_normal(4), rng.uniform(0.1, 1.0, 4)
    y = rng.standard_normal((3, 4))
    compare(ours, _quiet(theirs), [x, y], kwargs={"reduction": reduction}, diff=(0, 1))
    compare(ours, _quiet(theirs), [x, y, None, None, reduction, w], diff=(0, 1, 5))
    compare(ours, _quiet(theirs), [y, x], kwargs={"reduction": reduction}, diff=(0, 1))
    # 0-d (compare() needs at least 1-D arrays) and empty
    out = ours(np.float64(1.5), np.float64(-0.5), reduction=reduction)
    ref = theirs(
        torch.tensor(1.5, dtype=torch.float64),
        torch.tensor(-0.5, dtype=torch.float64),
        reduction=reduction,
    )
    assert out.shape == tuple(ref.shape) == ()
    np.testing.assert_allclose(out, ref.numpy(), rtol=1e-15)
    compare(ours, theirs, [np.zeros((0, 3)), np.zeros((0, 3))], kwargs={"reduction": reduction})


@pytest.mark.parametrize("ours,theirs", PAIR_LOSSES, ids=["l1", "mse"])
@pytest.mark.parametrize("size_average,reduce", LEGACY)
def test_l1_mse_legacy_flags(rng, ours, theirs, size_average, reduce):
    x, y = rng.standard_normal((2, 3, 4))
    expected = _legacy_reduction(size_average, reduce)
    with pytest.warns(DeprecationWarning, match=f"use reduction='{expected}'"):
        compare(ours, _quiet(theirs), [x, y, size_average, reduce, "sum"], diff=(0, 1))


@pytest.mark.parametrize(
    "ours", [l1_loss, mse_loss, smooth_l1_loss, poisson_nll_loss], ids=lambda f: f.__name__
)
def test_legacy_flags_override_reduction(ours):
    x = jnp.array([1.0, 2.0])
    with pytest.warns(DeprecationWarning):
        out = ours(x, x, reduce=False, reduction="sum")
    assert out.shape == (2,)


def test_l1_mse_errors():
    x = jnp.ones((2, 3))
    for fn in (l1_loss, mse_loss):
        name = fn.__name__
        with pytest.raises(ValueError, match=f"{name}: reduction must be one of"):
            fn(x, x, reduction="avg")
        with pytest.raises(
            ValueError, match=f"{name}: input of shape \\(2, 3\\) and target of shape \\(4,\\)"
        ):
            fn(x, jnp.ones(4))
        with pytest.raises(
            ValueError, match=f"{name}: weight has shape \\(3,\\); it must have input's shape"
        ):
            fn(x, x, weight=jnp.ones(3))
        with pytest.raises(TypeError, match=f"{name}: input or target must have a floating dtype"):
            fn(
                jnp.ones(3, jnp.int32), jnp.ones(3, jnp.int32)
            )  # torch refuses two integer tensors too


def test_half_precision_accumulates_in_float32(rng):
    x, y = rng.standard_normal((2, 4096)).astype(np.float16)
    out = mse_loss(jnp.asarray(x), jnp.asarray(y))
    assert out.dtype == jnp.float16
    ref = np.mean((x.astype(np.float32) - y.astype(np.float32)) ** 2)
    np.testing.assert_allclose(float(out), ref, rtol=1e-3)


def test_private_kernels(rng):
    x, y = rng.standard_normal((2, 7))
    np.testing.assert_allclose(_squared_error(x, y), (x - y) ** 2, rtol=1e-15)
    np.testing.assert_allclose(_log_cosh(x, y), np.log(np.cosh(x - y)), rtol=1e-12, atol=1e-15)
    # huber as optax writes it: 0.5 d^2 if |d| <= delta else delta (|d| - 0.5 delta)
    d = x - y
    ref = np.where(np.abs(d) <= 0.7, 0.5 * d * d, 0.7 * (np.abs(d) - 0.35))
    np.testing.assert_allclose(_huber(x, y, 0.7), ref, rtol=1e-15)
    assert np.isfinite(float(_log_cosh(jnp.array(1e4), jnp.array(0.0))))


# ------------------------------------------------------------------------------------------------
# huber_loss / smooth_l1_loss
# ------------------------------------------------------------------------------------------------


def _with_boundary(rng, threshold, shape=(6, 5)):
    """Random pairs plus pairs exactly at |d| = threshold (both signs) and at d = 0."""
    x, y = rng.standard_normal((2, *shape)) * 2
    y[0, :2] = x[0, :2] - threshold
    y[1, :2] = x[1, :2] + threshold
    y[2, :2] = x[2, :2]
    return x, y


@CONFIGS
@pytest.mark.parametrize("delta", [0.5, 1.0, 2.0])
def test_huber(rng, dtype, jit, delta):
    x, y = _with_boundary(rng, delta)
    w = rng.uniform(0.1, 2.0, x.shape)
    compare(huber_loss, F.huber_loss, [x, y, "none", delta], diff=(0, 1), dtype=dtype, jit=jit)
    # weighted 'mean' is mean(w * loss), not sum(w * loss) / sum(w)
    for reduction in ("mean", "sum"):
        compare(
            huber_loss,
            F.huber_loss,
            [x, y, reduction, delta, w],
            diff=(0, 1, 4),
            dtype=dtype,
            jit=jit,
        )


def test_huber_weighted_mean_is_plain_mean(rng):
    x, y = rng.standard_normal((2, 3, 4))
    w = rng.uniform(0.1, 2.0, (3, 4))
    got = huber_loss(x, y, weight=w)
    np.testing.assert_allclose(
        got, np.mean(np.asarray(huber_loss(x, y, reduction="none")) * w), rtol=1e-14
    )
    compare(huber_loss, _quiet(F.huber_loss), [x[0], y], kwargs={"reduction": "mean"}, diff=(0, 1))


def test_huber_errors():
    x = jnp.ones(3)
    for delta in (0.0, -1.0):
        with pytest.raises(ValueError, match="huber_loss: delta must be positive"):
            huber_loss(x, x, delta=delta)
    with pytest.raises(ValueError, match="huber_loss: reduction must be one of"):
        huber_loss(x, x, reduction="batchmean")
    with pytest.raises(ValueError, match="huber_loss: weight has shape"):
        huber_loss(x, x, weight=jnp.ones((1, 3)))


@CONFIGS
@pytest.mark.parametrize(
    "beta,reduction", [(0.0, "mean"), (0.5, "sum"), (1.0, "mean"), (2.0, "sum")]
)
def test_smooth_l1(rng, dtype, jit, beta, reduction):
    x, y = _with_boundary(rng, beta)
    for red in ("none", reduction):
        kw = {"reduction": red, "beta": beta}
        compare(
            smooth_l1_loss, F.smooth_l1_loss, [x, y], kwargs=kw, diff=(0, 1), dtype=dtype, jit=jit
        )


def test_smooth_l1_beta_zero_is_l1_and_broadcasts(rng):
    x, y = rng.standard_normal((2, 3, 4))
    np.testing.assert_array_equal(
        smooth_l1_loss(x, y, beta=0.0, reduction="none"), l1_loss(x, y, reduction="none")
    )
    compare(smooth_l1_loss, _quiet(F.smooth_l1_loss), [x[0], y], kwargs={"beta": 0.7}, diff=(0, 1))


@pytest.mark.parametrize("size_average,reduce", LEGACY)
def test_smooth_l1_legacy_flags(rng, size_average, reduce):
    x, y = rng.standard_normal((2, 3, 4))
    with pytest.warns(DeprecationWarning, match="smooth_l1_loss: size_average and reduce"):
        compare(
            smooth_l1_loss,
            _quiet(F.smooth_l1_loss),
            [x, y, size_average, reduce, "sum", 0.5],
            diff=(0, 1),
        )


def test_smooth_l1_errors():
    x = jnp.ones(3)
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be non-negative; got -1.0"):
        smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(ValueError, match="smooth_l1_loss: reduction must be one of"):
        smooth_l1_loss(x, x, reduction=None)


# ------------------------------------------------------------------------------------------------
# poisson_nll_loss
# ------------------------------------------------------------------------------------------------


def _counts(rng, shape=(5, 6)):
    t = rng.poisson(2.0, shape).astype(np.float64)
    t.flat[:4] = [0.0, 1.0, 0.5, 1.0 + 1e-9]  # the Stirling mask boundary: t <= 1 masked
    return t


@CONFIGS
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
def test_poisson(rng, dtype, jit, log_input, full):
    x = rng.standard_normal((5, 6)) if log_input else rng.uniform(0.0, 3.0, (5, 6))
    if not log_input:
        x[0, 0] = 0.0  # log(0 + eps)
    t = _counts(rng)
    kw = {"log_input": log_input, "full": full, "reduction": "none"}
    compare(
        poisson_nll_loss, F.poisson_nll_loss, [x, t], kwargs=kw, diff=(0,), dtype=dtype, jit=jit
    )
    # target gradients: torch's are nan at t = 0 under full=True (0 * log 0); compare the rest
    t_pos = np.where(t == 0, 3.0, t)
    kw["reduction"] = "sum" if full else "mean"
    compare(
        poisson_nll_loss,
        F.poisson_nll_loss,
        [x, t_pos],
        kwargs=kw,
        diff=(0, 1),
        dtype=dtype,
        jit=jit,
    )


def test_poisson_full_target_gradient_finite_at_zero():
    g = jax.grad(lambda t: poisson_nll_loss(jnp.array([0.3, 0.3]), t, full=True, reduction="sum"))(
        jnp.array([0.0, 1.0])
    )
    np.testing.assert_allclose(g, [-0.3, -0.3])


@pytest.mark.parametrize("eps", [1e-8, 0.5])
def test_poisson_eps_broadcast_integer_target(rng, eps):
    x = rng.uniform(0.0, 2.0, (3, 4))
    t = rng.poisson(3.0, (4,))
    kw = {"log_input": False, "eps": eps, "full": True}
    compare(poisson_nll_loss, F.poisson_nll_loss, [x, t.astype(np.float64)], kwargs=kw, diff=(0, 1))
    # integer counts are promoted (torch takes the Stirling log of an integer tensor in float32; jaxloss
    # in the result dtype, so it is compared with float counts)
    np.testing.assert_array_equal(
        poisson_nll_loss(x, t, **kw), poisson_nll_loss(x, t.astype(np.float64), **kw)
    )


@pytest.mark.parametrize("size_average,reduce", LEGACY)
def test_poisson_legacy_flags(rng, size_average, reduce):
    x, t = rng.standard_normal((3, 4)), _counts(rng, (3, 4))
    with pytest.warns(DeprecationWarning, match="poisson_nll_loss: size_average"):
        compare(
            poisson_nll_loss,
            _quiet(F.poisson_nll_loss),
            [x, t, True, True, size_average, 1e-8, reduce, "sum"],
        )


def test_poisson_errors():
    with pytest.raises(ValueError, match="poisson_nll_loss: reduction must be one of"):
        poisson_nll_loss(jnp.ones(2), jnp.ones(2), reduction="max")
    with pytest.raises(
        ValueError, match="poisson_nll_loss: input of shape \\(2,\\) and target of shape \\(3,\\)"
    ):
        poisson_nll_loss(jnp.ones(2), jnp.ones(3))
    with pytest.raises(
        TypeError, match="poisson_nll_loss: target must have a floating or integer dtype"
    ):
        poisson_nll_loss(jnp.ones(2), jnp.ones(2, bool))


# ------------------------------------------------------------------------------------------------
# gaussian_nll_loss
# ------------------------------------------------------------------------------------------------

GAUSSIAN_VAR_SHAPES = [
    ((4, 3, 5), (4, 3, 5)),  # heteroscedastic
    ((4, 3, 5), (4, 3)),  # one fewer dimension: unsqueezed
    ((4, 3, 5), (4, 3, 1)),  # last dimension 1
    ((4, 3, 5), (4, 1, 5)),  # one mismatched dimension of size 1
    ((5,), ()),  # 1-D input, 0-d var: input.shape[:-1] == ()
    ((5,), (1,)),
]


@pytest.mark.parametrize("shapes", GAUSSIAN_VAR_SHAPES, ids=str)
def test_gaussian(rng, shapes):
    in_shape, var_shape = shapes
    x, y = rng.standard_normal((2, *in_shape))
    var = rng.uniform(0.2, 2.0, var_shape)
    for full, reduction in ((False, "none"), (True, "mean"), (False, "sum")):
        kw = {"full": full, "reduction": reduction}
        compare(gaussian_nll_loss, gaussian_nll_loss_torch, [x, y, var], kwargs=kw, diff=(0, 1, 2))
    if var_shape in ((4, 3), (4, 1, 5)):  # float32 under jit, on the two reshaping branches
        kw = {"full": True, "reduction": "none"}
        compare(
            gaussian_nll_loss,
            gaussian_nll_loss_torch,
            [x, y, var],
            kwargs=kw,
            diff=(0, 1, 2),
            dtype=np.float32,
            jit=True,
        )


def gaussian_nll_loss_torch(input, target, var, **kwargs):
    return F.gaussian_nll_loss(input, target, var, **kwargs)


@CONFIGS
def test_gaussian_eps_clamp_passes_gradient(rng, dtype, jit):
    # entries below eps (0 included) are clamped in value; torch's gradient still reaches var
    x, y = rng.standard_normal((2, 3, 4))
    var = rng.uniform(0.2, 2.0, (3, 4))
    var[0] = [0.0, 1e-9, 1e-6, 5e-7]
    for eps in (1e-6, 0.5):
        compare(
            gaussian_nll_loss,
            gaussian_nll_loss_torch,
            [x, y, var],
            kwargs={"eps": eps},
            diff=(0, 1, 2),
            dtype=dtype,
            jit=jit,
        )


def test_gaussian_scalar_var_and_broadcast_target(rng):
    x = rng.standard_normal((3, 4))
    y = rng.standard_normal(4)
    for var in (0.7, 0.0, 2.0):
        compare(
            gaussian_nll_loss,
            gaussian_nll_loss_torch,
            [x, y, var],
            kwargs={"reduction": "none"},
            diff=(0, 1),
        )
    compare(
        gaussian_nll_loss,
        gaussian_nll_loss_torch,
        [x, y, rng.uniform(0.5, 1.0, (3, 4))],
        kwargs={"full": True},
        diff=(0, 1, 2),
    )


def test_gaussian_errors():
    x = jnp.ones((4, 3))
    with pytest.raises(ValueError, match="gaussian_nll_loss: var has negative entry/entries"):
        gaussian_nll_loss(x, x, -1.0)
    with pytest.raises(ValueError, match="gaussian_nll_loss: var has negative entry/entries"):
        gaussian_nll_loss(x, x, jnp.array([1.0, -0.1, 1.0, 1.0]))
    for bad in ((3,), (4, 2), (2, 2), (1, 1), (4, 3, 1)):
        with pytest.raises(ValueError, match=f"gaussian_nll_loss: var has shape \\({bad[0]},"):
            gaussian_nll_loss(x, x, jnp.ones(bad))
        with pytest.raises(ValueError, match="var is of incorrect size"):
            F.gaussian_nll_loss(torch.ones(4, 3), torch.ones(4, 3), torch.ones(bad))
    with pytest.raises(ValueError, match="gaussian_nll_loss: reduction must be one of"):
        gaussian_nll_loss(x, x, 1.0, reduction="batchmean")
    with pytest.raises(
        ValueError, match="gaussian_nll_loss: input .* target .* and var .* do not broadcast"
    ):
        gaussian_nll_loss(x, jnp.ones(5), jnp.ones((4, 3)))
    # under jit the check cannot raise; jaxloss.checked reports it
    err, _ = jax.jit(checked(gaussian_nll_loss))(x, x, -jnp.ones((4, 3)))
    assert "gaussian_nll_loss: var has negative entry/entries" in err.get()
    err, value = jax.jit(checked(gaussian_nll_loss))(x, x, jnp.ones((4, 3)))
    assert err.get() is None and float(value) == 0.0


# ------------------------------------------------------------------------------------------------
# Keras 3 losses: log_cosh, mean_absolute_percentage_error, mean_squared_logarithmic_error
# ------------------------------------------------------------------------------------------------


def _numpy_log_cosh(pred, true):
    d = pred - true
    return np.mean(d + np.logaddexp(0.0, -2.0 * d) - np.log(2.0), axis=-1)


def _numpy_mape(pred, true, eps=1e-7):
    return 100.0 * np.mean(np.abs((true - pred) / np.maximum(np.abs(true), eps)), axis=-1)


def _numpy_msle(pred, true, eps=1e-7):
    return np.mean(
        (np.log(np.maximum(pred, eps) + 1.0) - np.log(np.maximum(true, eps) + 1.0)) ** 2, axis=-1
    )


# (ours, Keras function, Keras class, Keras's formula written out in float64 numpy)
KERAS = [
    (log_cosh_loss, keras.losses.log_cosh, keras.losses.LogCosh, _numpy_log_cosh),
    (
        mean_absolute_percentage_error,
        keras.losses.mean_absolute_percentage_error,
        keras.losses.MeanAbsolutePercentageError,
        _numpy_mape,
    ),
    (
        mean_squared_logarithmic_error,
        keras.losses.mean_squared_logarithmic_error,
        keras.losses.MeanSquaredLogarithmicError,
        _numpy_msle,
    ),
]
KERAS_IDS = ["log_cosh", "mape", "msle"]
KERAS_REDUCTION = {"none": "none", "mean": "sum_over_batch_size", "sum": "sum"}


def keras_compare(case, x, y, dtype, jit, reduction):
    """Value and VJP of ``ours(x, y)`` against Keras 3 (``keras_fn(y_true, y_pred)`` per sample, ``keras_cls``
    for the reduced forms); Keras ops on the JAX backend are JAX functions, so ``jax.vjp`` runs through them.

    Keras 3.15's ``ops.mean`` on the JAX backend accumulates float64 in float32 (its ``result_type('float64',
    'float32')`` is float32), so Keras itself is float32-accurate: float64 values are also compared tightly
    with Keras's formula written out in numpy, and with Keras within float32 rounding."""
    ours, keras_fn, keras_cls, numpy_ref = case
    x, y = jnp.asarray(x, dtype), jnp.asarray(y, dtype)
    f = lambda a, b: ours(a, b, reduction=reduction)
    if reduction == "none":
        g = lambda a, b: keras_fn(b, a)
    else:
        loss_obj = keras_cls(reduction=KERAS_REDUCTION[reduction], dtype=np.dtype(dtype).name)
        g = lambda a, b: loss_obj(b, a)
    if jit:
        f = jax.jit(f)
    out, vjp = jax.vjp(f, x, y)
    with jax.numpy_rank_promotion("allow"):  # Keras relies on implicit rank promotion
        ref, ref_vjp = jax.vjp(g, x, y)
    assert out.shape == ref.shape and out.dtype == ref.dtype, (
        out.shape,
        ref.shape,
        out.dtype,
        ref.dtype,
    )
    keras_tol = TOL[np.float32]  # Keras is float32-accurate in either dtype (see above)
    np.testing.assert_allclose(out, ref, **keras_tol)
    if dtype == np.float64 and x.shape == y.shape:
        per_sample = numpy_ref(np.asarray(x), np.asarray(y))
        expect = {"none": per_sample, "mean": np.mean(per_sample), "sum": np.sum(per_sample)}[
            reduction
        ]
        np.testing.assert_allclose(out, expect, **TOL[dtype])
    cot = jnp.asarray(np.random.default_rng(1).standard_normal(out.shape), out.dtype)
    with jax.numpy_rank_promotion("allow"):
        ref_grads = ref_vjp(cot)
    for a, b in zip(vjp(cot), ref_grads):
        np.testing.assert_allclose(a, b, **keras_tol)


@pytest.mark.parametrize("case", KERAS, ids=KERAS_IDS)
@pytest.mark.parametrize(
    "dtype,jit,reduction",
    [
        (np.float64, False, "none"),
        (np.float64, False, "mean"),
        (np.float64, False, "sum"),
        (np.float32, True, "none"),
    ],
    ids=["f64-none", "f64-mean", "f64-sum", "f32-jit-none"],
)
def test_keras_losses(rng, case, dtype, jit, reduction):
    ours = case[0]
    x = rng.uniform(-1.0, 3.0, (4, 3, 5))
    y = rng.uniform(-1.0, 3.0, (4, 3, 5))
    if ours is mean_squared_logarithmic_error:
        x[0, 0, :2] = [-0.5, 0.0]  # below epsilon: clamped
        y[0, 1, :2] = [-0.5, 0.0]
    if ours is mean_absolute_percentage_error:
        y[0, 0, :2] = [0.0, 1e-9]  # |target| below epsilon
    keras_compare(case, x, y, dtype, jit, reduction)


@pytest.mark.parametrize(
    "case,x_shape,y_shape",
    [
        (KERAS[0], (6,), (6,)),
        (KERAS[0], (6, 1), (6,)),
        (KERAS[0], (6,), (6, 1)),
        (KERAS[0], (4, 3, 1), (4, 3)),
        (KERAS[0], (4, 3), (4, 3, 1)),
        (KERAS[0], (4, 3), (3,)),
        (KERAS[1], (6, 1), (6,)),
        (KERAS[2], (4, 3), (4, 3, 1)),
    ],
    ids=lambda v: KERAS_IDS[KERAS.index(v)] if v in KERAS else str(v),
)
def test_keras_rank_alignment(rng, case, x_shape, y_shape):
    x, y = rng.uniform(0.1, 3.0, x_shape), rng.uniform(0.1, 3.0, y_shape)
    keras_compare(case, x, y, np.float64, False, "none")


def test_log_cosh_large_errors_and_none_shape():
    x = jnp.array([[1e4, -1e4, 0.0]])
    out = log_cosh_loss(x, jnp.zeros((1, 3)), reduction="none")
    assert out.shape == (1,)
    np.testing.assert_allclose(out, [(2e4 - 2 * np.log(2.0)) / 3], rtol=1e-14)
    assert np.all(np.isfinite(jax.grad(lambda a: log_cosh_loss(a, jnp.zeros((1, 3))))(x)))


def test_keras_style_errors():
    for fn in (
        log_cosh_loss,
        mean_absolute_percentage_error,
        mean_squared_logarithmic_error,
        tweedie_nll_loss,
        quantile_loss,
    ):
        name = fn.__name__
        with pytest.raises(ValueError, match=f"{name}: reduction must be one of"):
            fn(jnp.ones((2, 3)), jnp.ones((2, 3)), reduction="sum_over_batch_size")
        with pytest.raises(
            ValueError, match=f"{name}: input and target must have at least 1 dimension"
        ):
            fn(jnp.array(1.0), jnp.array(2.0))
        with pytest.raises(
            ValueError, match=f"{name}: input of shape \\(2, 3\\) and target of shape \\(2, 4\\)"
        ):
            fn(jnp.ones((2, 3)), jnp.ones((2, 4)))
        with pytest.raises(TypeError):
            fn(jnp.ones((2, 3)), jnp.ones((2, 3)), "mean")  # hyper-parameters are keyword-only


# ------------------------------------------------------------------------------------------------
# quantile_loss: pinball loss (Koenker & Bassett 1978), float64 numpy reference
# ------------------------------------------------------------------------------------------------


def pinball_reference(pred, obs, q):
    """rho_q(u) = max(q u, (q - 1) u), u = obs - pred; mean over the last axis; and d/d(pred), d/d(obs)."""
    u = obs - pred
    loss = np.maximum(q * u, (q - 1) * u)
    slope = np.where(u < 0, q - 1, q)  # d loss / d u, with the u >= 0 piece at u = 0
    n = loss.shape[-1]
    return loss.mean(-1), -slope / n, slope / n


@CONFIGS
@pytest.mark.parametrize("quantiles", [0.1, 0.9, 0.0, (0.1, 0.5, 0.9), [0.25]], ids=str)
def test_quantile(rng, dtype, jit, quantiles):
    multi = not isinstance(quantiles, float)
    y = rng.standard_normal((4, 3))
    q = np.asarray(quantiles)
    x = rng.standard_normal((4, 3, q.size) if multi else (4, 3))
    x.reshape(-1)[:2] = (
        np.broadcast_to(y[..., None], x.shape).reshape(-1)[:2] if multi else y.reshape(-1)[:2]
    )  # u = 0
    obs = np.broadcast_to(y[..., None], x.shape) if multi else y
    per_sample, d_pred, d_obs = pinball_reference(x, obs, q)
    if multi:
        d_obs = d_obs.sum(-1)
    tol = TOL[dtype]
    for reduction in REDUCTIONS:
        f = functools.partial(quantile_loss, quantiles=quantiles, reduction=reduction)
        f = jax.jit(f) if jit and reduction == "none" else f
        out = f(jnp.asarray(x, dtype), jnp.asarray(y, dtype))
        assert out.dtype == dtype
        expect = {"none": per_sample, "mean": per_sample.mean(), "sum": per_sample.sum()}[reduction]
        np.testing.assert_allclose(out, expect, **tol)
    ga, gb = jax.grad(
        lambda a, b: quantile_loss(a, b, quantiles=quantiles, reduction="sum"), argnums=(0, 1)
    )(jnp.asarray(x, dtype), jnp.asarray(y, dtype))
    np.testing.assert_allclose(ga, d_pred, **tol)
    np.testing.assert_allclose(gb, d_obs, **tol)


def test_quantile_multi_broadcast_target_and_median_is_half_l1(rng):
    x = rng.standard_normal((4, 3, 2))
    y = rng.standard_normal(3)  # broadcast to (4, 3)
    ref, _, _ = pinball_reference(x, np.broadcast_to(y[:, None], x.shape), np.array([0.2, 0.8]))
    np.testing.assert_allclose(
        quantile_loss(x, y, quantiles=np.array([0.2, 0.8]), reduction="none"), ref, rtol=1e-14
    )
    a, b = rng.standard_normal((2, 5, 4))
    np.testing.assert_allclose(quantile_loss(a, b), 0.5 * l1_loss(a, b), rtol=1e-14)


def test_quantile_errors():
    x = jnp.ones((2, 3))
    for bad in (-0.1, 1.5, (), (0.5, 2.0), [[0.1, 0.2]], "0.5", None):
        with pytest.raises(
            ValueError, match="quantile_loss: quantiles must be a number in \\[0, 1\\]"
        ):
            quantile_loss(x, x, quantiles=bad)
    with pytest.raises(
        ValueError,
        match="quantile_loss: input has shape \\(2, 3\\); with 2 quantiles its last axis",
    ):
        quantile_loss(x, x, quantiles=(0.1, 0.9))
    with pytest.raises(
        ValueError,
        match="quantile_loss: target has shape \\(3,\\); it must broadcast to input's shape",
    ):
        quantile_loss(jnp.ones((2, 2)), jnp.ones(3), quantiles=(0.1, 0.9))


# ------------------------------------------------------------------------------------------------
# tweedie_nll_loss: XGBoost reg:tweedie / LightGBM tweedie NLL, float64 numpy reference
# ------------------------------------------------------------------------------------------------


def tweedie_reference(log_mu, y, p):
    """-y mu^(1-p)/(1-p) + mu^(2-p)/(2-p) (XGBoost's tweedie-nloglik, LightGBM's tweedie metric);
    mean over the last axis; gradients with respect to log(mu) and y."""
    a = np.exp((1 - p) * log_mu)
    b = np.exp((2 - p) * log_mu)
    n = y.shape[-1]
    return (-y * a / (1 - p) + b / (2 - p)).mean(-1), (-y * a + b) / n, -a / (1 - p) / n


@CONFIGS
@pytest.mark.parametrize("power", [1.01, 1.5, 1.9])
@pytest.mark.parametrize("log_input", [True, False])
def test_tweedie(rng, dtype, jit, power, log_input):
    f_log = rng.standard_normal((4, 3))
    y = rng.gamma(1.0, 2.0, (4, 3))
    y[0, :2] = 0.0  # exact zeros: the compound Poisson-gamma point mass
    per_sample, d_log, d_y = tweedie_reference(f_log, y, power)
    x = f_log if log_input else np.exp(f_log)
    d_x = d_log if log_input else d_log / x
    tol = dict(TOL[dtype])
    if dtype == np.float32:
        tol["rtol"] = 5e-5  # 1 / (1 - p) amplifies rounding at p = 1.01
    for reduction in REDUCTIONS:
        f = functools.partial(
            tweedie_nll_loss, power=power, log_input=log_input, reduction=reduction
        )
        f = jax.jit(f) if jit and reduction == "none" else f
        out = f(jnp.asarray(x, dtype), jnp.asarray(y, dtype))
        assert out.dtype == dtype
        expect = {"none": per_sample, "mean": per_sample.mean(), "sum": per_sample.sum()}[reduction]
        np.testing.assert_allclose(out, expect, **tol)
    ga, gb = jax.grad(
        lambda a, b: tweedie_nll_loss(a, b, power=power, log_input=log_input, reduction="sum"),
        argnums=(0, 1),
    )(jnp.asarray(x, dtype), jnp.asarray(y, dtype))
    np.testing.assert_allclose(ga, d_x, **tol)
    np.testing.assert_allclose(gb, d_y, **tol)


def test_tweedie_minimised_at_the_mean(rng):
    # the gradient in log(mu) vanishes at mu = y: the loss is a proper scoring rule for the mean
    y = rng.gamma(2.0, 1.0, (3, 4))
    g = jax.grad(lambda f: tweedie_nll_loss(f, y, power=1.3, reduction="sum"))(jnp.log(y))
    np.testing.assert_allclose(g, 0.0, atol=1e-13)


def test_tweedie_errors():
    x = jnp.ones((2, 3))
    for bad in (1.0, 2.0, 0.5, 3, "1.5", None):
        with pytest.raises(
            ValueError, match="tweedie_nll_loss: power must be a number in \\(1, 2\\)"
        ):
            tweedie_nll_loss(x, x, power=bad)
