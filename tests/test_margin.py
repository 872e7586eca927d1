"""Margin and embedding losses against torch 2.13 (values and VJPs, computed in this run).

Eager calls on repeated shapes are cheap (per-op compile caches); each shape/option change is checked once
compiled as well, so every loss runs eager and under ``jit`` in float64 and float32.
"""

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from jaxloss._src.core.registry import CATALOGUE
from jaxloss._src.core.validation import checked
from jaxloss._src.families.distance import cosine_similarity
from jaxloss._src.families.margin import (
    _triplet_margin,
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from tests.torch_parity import compare

DTYPES = [np.float64, np.float32]
REDUCTIONS = ["none", "mean", "sum"]
# (size_average, reduce) pairs; torch maps each to a reduction (reduce=False wins, a missing flag is True)
LEGACY = [
    (None, False),
    (False, None),
    (True, None),
    (None, True),
    (True, True),
    (False, True),
    (True, False),
]


def _signs(rng, shape):
    return rng.choice(np.array([-1.0, 1.0]), size=shape)


def _legacy(jax_fn, torch_fn, args, diff, kwargs=None):
    for size_average, reduce in LEGACY:
        kw = dict(kwargs or {}, size_average=size_average, reduce=reduce)
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", "size_average and reduce args will be deprecated", UserWarning
            )
            with pytest.warns(DeprecationWarning, match=jax_fn.__name__):
                compare(jax_fn, torch_fn, args, kwargs=kw, diff=diff)


# ------------------------------------------------------------------------------------------------ ranking


@pytest.mark.parametrize("dtype", DTYPES)
def test_margin_ranking(rng, dtype):
    x1, x2 = rng.standard_normal((2, 7))
    y = _signs(rng, 7)
    # every option on the per-element values, then every reduction
    for margin in (0, 0.5, -0.3, 2.0):
        kw = {"margin": margin, "reduction": "none"}
        compare(
            margin_ranking_loss,
            F.margin_ranking_loss,
            [x1, x2, y],
            kwargs=kw,
            diff=(0, 1, 2),
            dtype=dtype,
        )
    for reduction in REDUCTIONS:
        kw = {"margin": 0.5, "reduction": reduction}
        compare(
            margin_ranking_loss,
            F.margin_ranking_loss,
            [x1, x2, y],
            kwargs=kw,
            diff=(0, 1, 2),
            dtype=dtype,
        )
    kw = {"margin": 0.5, "reduction": "none"}
    compare(
        margin_ranking_loss,
        F.margin_ranking_loss,
        [x1, x2, y],
        kwargs=kw,
        diff=(0, 1, 2),
        dtype=dtype,
        jit=True,
    )
    compare(
        margin_ranking_loss,
        F.margin_ranking_loss,
        [x1, x2, y, 0.1, None, None, "sum"],
        diff=(0, 1, 2),
        dtype=dtype,
        jit=True,
    )


def test_margin_ranking_shapes_targets_and_kink(rng):
    f, tf = margin_ranking_loss, F.margin_ranking_loss
    # broadcasting among the three (same number of dimensions), 0-d inputs, integer targets
    compare(
        f,
        tf,
        [rng.standard_normal((3, 1)), rng.standard_normal((1, 4)), _signs(rng, (3, 4))],
        kwargs={"reduction": "none"},
        diff=(0, 1, 2),
        jit=True,
    )
    compare(
        f,
        tf,
        [np.array(0.3), np.array(-0.2), np.array(-1.0)],
        kwargs={"reduction": "none", "margin": 0.4},
        diff=(0, 1, 2),
        jit=True,
    )
    compare(
        f,
        tf,
        [rng.standard_normal(5), rng.standard_normal(5), np.array([1, -1, 1, 1, -1])],
        diff=(0, 1),
        jit=True,
    )
    compare(
        f,
        tf,
        [rng.standard_normal(5), rng.standard_normal(5), np.array([1, -1, 1, 1, -1])],
        diff=(0, 1),
        dtype=np.float32,
        jit=True,
    )
    # a target other than +-1 is just a number in the formula
    compare(
        f,
        tf,
        [rng.standard_normal(4), rng.standard_normal(4), np.array([0.5, 2.0, 0.0, -3.0])],
        kwargs={"margin": 0.2},
        diff=(0, 1, 2),
        jit=True,
    )
    # the kink: -y (x1 - x2) + margin == 0 exactly; torch's clamp_min passes gradient 1 there
    x = np.array([1.0, 2.0, -0.5])
    compare(
        f,
        tf,
        [x, x.copy(), np.array([1.0, -1.0, 1.0])],
        kwargs={"reduction": "sum"},
        diff=(0, 1, 2),
        jit=True,
    )
    # empty: mean is nan
    compare(f, tf, [np.zeros(0), np.zeros(0), np.zeros(0)], diff=(0, 1, 2), jit=True)
    # (the shapes of test_margin_ranking: eager calls reuse its compiled ops)
    _legacy(f, tf, [rng.standard_normal(7), rng.standard_normal(7), _signs(rng, 7)], diff=(0, 1, 2))


def test_margin_ranking_nan_and_dtype(rng):
    out = margin_ranking_loss(np.array([np.nan, 1.0]), np.zeros(2), np.ones(2), reduction="none")
    ref = F.margin_ranking_loss(
        torch.tensor([np.nan, 1.0]), torch.zeros(2), torch.ones(2), reduction="none"
    )
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ref.numpy()))
    x32 = rng.standard_normal(3).astype(np.float32)
    # a float64 target promotes, as in torch
    assert margin_ranking_loss(x32, x32, np.ones(3)).dtype == jnp.float64
    assert margin_ranking_loss(x32, x32, np.ones(3, np.int64)).dtype == jnp.float32


def test_margin_ranking_errors():
    with pytest.raises(
        ValueError,
        match=r"margin_ranking_loss: input1, input2, target must have the same number of dimensions; got input1 1-D \(3,\), input2 2-D \(3, 1\)",
    ):
        margin_ranking_loss(np.zeros(3), np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(
        ValueError,
        match=r"margin_ranking_loss: input1 of shape \(3,\), input2 of shape \(4,\), target of shape \(3,\) do not broadcast",
    ):
        margin_ranking_loss(np.zeros(3), np.zeros(4), np.zeros(3))
    with pytest.raises(
        ValueError,
        match="margin_ranking_loss: reduction must be one of 'none', 'mean', 'sum'; got 'avg'",
    ):
        margin_ranking_loss(np.zeros(3), np.zeros(3), np.zeros(3), reduction="avg")
    with pytest.raises(
        TypeError, match="margin_ranking_loss: input1 or input2 must have a floating dtype"
    ):
        margin_ranking_loss(np.zeros(3, int), np.zeros(3, int), np.zeros(3))


# ------------------------------------------------------------------------------------------------ hinge


@pytest.mark.parametrize("dtype", DTYPES)
def test_hinge_embedding(rng, dtype):
    x = rng.standard_normal((4, 5)) * 2
    # labels other than +-1 get both terms, exactly as torch computes them
    y = rng.choice(np.array([1.0, -1.0, 0.0, 2.0, 0.5]), size=(4, 5))
    for margin in (1.0, 0.0, 2.5, -0.5):
        kw = {"margin": margin, "reduction": "none"}
        compare(
            hinge_embedding_loss,
            F.hinge_embedding_loss,
            [x, y],
            kwargs=kw,
            diff=(0, 1),
            dtype=dtype,
        )
    for reduction in ("mean", "sum"):
        compare(
            hinge_embedding_loss,
            F.hinge_embedding_loss,
            [x, y],
            kwargs={"reduction": reduction},
            diff=(0, 1),
            dtype=dtype,
        )
    compare(
        hinge_embedding_loss,
        F.hinge_embedding_loss,
        [x, y, 0.7, None, None, "none"],
        diff=(0, 1),
        dtype=dtype,
        jit=True,
    )
    yi = np.array([1, -1, 0, 3, -1])
    compare(
        hinge_embedding_loss,
        F.hinge_embedding_loss,
        [x[0], yi],
        kwargs={"reduction": "none"},
        diff=(0,),
        dtype=dtype,
        jit=True,
    )


def test_hinge_embedding_shapes_kink_legacy(rng):
    f, tf = hinge_embedding_loss, F.hinge_embedding_loss
    compare(
        f,
        tf,
        [rng.standard_normal((3, 1)), np.array([1.0, -1.0, 0.0, -1.0])],
        kwargs={"reduction": "none"},
        diff=(0, 1),
        jit=True,
    )
    compare(
        f,
        tf,
        [rng.standard_normal(4), _signs(rng, (3, 4))],
        kwargs={"reduction": "none"},
        diff=(0, 1),
        jit=True,
    )
    compare(
        f, tf, [np.array(0.4), np.array(-1.0)], kwargs={"reduction": "none"}, diff=(0, 1), jit=True
    )
    # kink: margin - x == 0 (torch's clamp_min_ passes gradient 1 there), for labels -1 and 0
    compare(
        f,
        tf,
        [np.array([1.0, 1.0, 0.5, 1.0]), np.array([-1.0, 0.0, 2.0, 1.0])],
        kwargs={"reduction": "sum"},
        diff=(0, 1),
        jit=True,
    )
    compare(f, tf, [np.zeros(0), np.zeros(0)], diff=(0,), jit=True)  # empty: mean is nan
    _legacy(f, tf, [rng.standard_normal((4, 5)), _signs(rng, (4, 5))], diff=(0,))
    # the output dtype is input's (torch: where(..., margin_clamp, zeros_like(input)))
    x32 = rng.standard_normal(3).astype(np.float32)
    assert f(x32, np.ones(3)).dtype == jnp.float32
    assert tf(torch.from_numpy(x32), torch.ones(3, dtype=torch.float64)).dtype == torch.float32


def test_hinge_embedding_errors():
    with pytest.raises(
        ValueError,
        match=r"hinge_embedding_loss: input of shape \(3,\), target of shape \(4,\) do not broadcast",
    ):
        hinge_embedding_loss(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="hinge_embedding_loss: reduction must be one of"):
        hinge_embedding_loss(np.zeros(3), np.zeros(3), reduction="batchmean")


# ------------------------------------------------------------------------------------------------ cosine embedding


@pytest.mark.parametrize("dtype", DTYPES)
def test_cosine_embedding(rng, dtype):
    x1, x2 = rng.standard_normal((2, 6, 4))
    x1[4] = 0.0  # a zero vector: cos = 0 through torch's 1e-12, finite gradient
    x2[5] = 0.0
    y = np.array([1.0, -1.0, 0.0, 1.0, -1.0, 1.0])  # 0 contributes nothing, as in torch
    f, tf = cosine_embedding_loss, F.cosine_embedding_loss
    for margin in (0, 0.3, -0.5):
        compare(
            f,
            tf,
            [x1, x2, y],
            kwargs={"margin": margin, "reduction": "none"},
            diff=(0, 1, 2),
            dtype=dtype,
        )
    for reduction in ("mean", "sum"):
        compare(
            f,
            tf,
            [x1, x2, y],
            kwargs={"margin": 0.1, "reduction": reduction},
            diff=(0, 1, 2),
            dtype=dtype,
        )
    compare(
        f,
        tf,
        [x1, x2, y.astype(np.int64), 0.2, None, None, "none"],
        diff=(0, 1),
        dtype=dtype,
        jit=True,
    )
    # unbatched: 1-D inputs, 0-d target
    for label in (1.0, -1.0, 0.0):
        compare(
            f,
            tf,
            [x1[0], x2[0], np.array(label)],
            kwargs={"reduction": "none"},
            diff=(0, 1),
            dtype=dtype,
            jit=label != 1,
        )
    compare(
        f,
        tf,
        [x1[1], x2[1], np.array(-1.0)],
        kwargs={"margin": -0.2},
        diff=(0, 1),
        dtype=dtype,
        jit=True,
    )


def test_cosine_embedding_broadcast_legacy_dtype(rng):
    f, tf = cosine_embedding_loss, F.cosine_embedding_loss
    x1, x2 = rng.standard_normal((2, 5, 3))
    compare(
        f, tf, [x1[:1], x2, _signs(rng, 5)], kwargs={"reduction": "none"}, diff=(0, 1), jit=True
    )
    compare(f, tf, [x1, x2, np.array([-1.0])], kwargs={"reduction": "none"}, diff=(0, 1), jit=True)
    compare(
        f,
        tf,
        [x1[:1], x2[:1], np.array([1.0, -1.0, 1.0])],
        kwargs={"reduction": "none"},
        diff=(0, 1),
        jit=True,
    )
    empty = [np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0)]
    compare(f, tf, empty, diff=(0, 1), jit=True)  # empty: mean is nan
    _legacy(f, tf, [*rng.standard_normal((2, 6, 4)), _signs(rng, 6)], diff=(0, 1))
    x32 = x1.astype(np.float32)
    assert f(x32, x32, np.ones(5)).dtype == jnp.float32  # the target does not promote, as in torch
    assert f(x32, x2, np.ones(5)).dtype == jnp.float64


def test_cosine_embedding_errors():
    f, name = cosine_embedding_loss, "cosine_embedding_loss"
    with pytest.raises(
        ValueError, match=rf"{name}: target must be 0-D or 1-D .*; got shape \(3, 1\)"
    ):
        f(np.zeros((3, 4)), np.zeros((3, 4)), np.ones((3, 1)))
    with pytest.raises(
        ValueError,
        match=rf"{name}: a 1-D target of shape \(1,\) needs 2-D input1 and input2; got input1 of shape \(4,\)",
    ):
        f(np.zeros(4), np.zeros(4), np.ones(1))
    with pytest.raises(
        ValueError,
        match=rf"{name}: a 0-D target of shape \(\) needs 1-D input1 and input2; got input1 of shape \(3, 4\)",
    ):
        f(np.zeros((3, 4)), np.zeros((3, 4)), np.ones(()))
    with pytest.raises(
        ValueError, match=rf"{name}: a 1-D target .* got input2 of shape \(3, 4, 1\)"
    ):
        f(np.zeros((3, 4)), np.zeros((3, 4, 1)), np.ones(3))
    with pytest.raises(
        ValueError,
        match=rf"{name}: input1 of shape \(3, 4\) and input2 of shape \(3, 5\) do not broadcast",
    ):
        f(np.zeros((3, 4)), np.zeros((3, 5)), np.ones(3))
    with pytest.raises(
        ValueError,
        match=rf"{name}: target has shape \(2,\); it must broadcast with the batch shape \(3,\)",
    ):
        f(np.zeros((3, 4)), np.zeros((3, 4)), np.ones(2))


# ------------------------------------------------------------------------------------------------ multilabel


MULTILABEL_TARGET = np.array(
    [
        [-1, 2, 3, 0, 1, 4],  # -1 first: no targets, loss 0
        [2, -1, 0, 0, 0, 0],  # one target; valid-looking indices after -1 are ignored
        [0, 3, 5, -1, 1, 1],  # terminator in the middle
        [1, 1, 4, -1, 2, 0],  # a repeated class counts twice
        [5, 4, 3, 2, 1, 0],  # every class a target: no terms, loss 0
        [3, 0, 2, 1, 4, -1],  # terminator last
    ]
)


@pytest.mark.parametrize("dtype", DTYPES)
def test_multilabel_margin(rng, dtype):
    x = rng.standard_normal((6, 6))
    f, tf = multilabel_margin_loss, F.multilabel_margin_loss
    for reduction in REDUCTIONS:
        compare(
            f, tf, [x, MULTILABEL_TARGET], kwargs={"reduction": reduction}, diff=(0,), dtype=dtype
        )
    compare(
        f,
        tf,
        [x, MULTILABEL_TARGET],
        kwargs={"reduction": "none"},
        diff=(0,),
        dtype=dtype,
        jit=True,
    )
    compare(
        f, tf, [x * 0.1, MULTILABEL_TARGET, None, None, "sum"], diff=(0,), dtype=dtype, jit=True
    )
    # unbatched: (C,) input and target; 0-d input with 0-d or (1,) target (C = 1: always 0)
    for row in (0, 2, 3):
        for reduction in REDUCTIONS:
            compare(
                f,
                tf,
                [x[row], MULTILABEL_TARGET[row]],
                kwargs={"reduction": reduction},
                diff=(0,),
                dtype=dtype,
            )
    for target in (np.array(0), np.array([0]), np.array(-1)):
        compare(
            f,
            tf,
            [np.array(0.7), target],
            kwargs={"reduction": "none"},
            diff=(0,),
            dtype=dtype,
            jit=True,
        )


def test_multilabel_margin_kink_empty_legacy(rng):
    f, tf = multilabel_margin_loss, F.multilabel_margin_loss
    # z = 1 - x[y] + x[j] == 0 exactly: torch only adds z > 0, so the gradient there is 0
    compare(
        f,
        tf,
        [np.array([[0.0, 1.0, 0.0], [0.5, 1.5, 0.5]]), np.array([[1, -1, 0], [1, 0, -1]])],
        kwargs={"reduction": "sum"},
        diff=(0,),
        jit=True,
    )
    # an empty batch: 'none' and 'sum' as torch; 'mean' is nan (torch 2.13 returns uninitialised memory)
    for reduction in ("none", "sum"):
        compare(
            f,
            tf,
            [np.zeros((0, 4)), np.zeros((0, 4), np.int64)],
            kwargs={"reduction": reduction},
            diff=(0,),
            jit=True,
        )
    assert np.isnan(f(np.zeros((0, 4)), np.zeros((0, 4), np.int64)))
    _legacy(f, tf, [rng.standard_normal((6, 6)), MULTILABEL_TARGET], diff=(0,))


def test_multilabel_margin_vmap_matches_batch(rng):
    x = rng.standard_normal((6, 6))
    per_sample = jax.vmap(lambda a, t: multilabel_margin_loss(a, t, reduction="none"))(
        x, MULTILABEL_TARGET
    )
    np.testing.assert_allclose(
        per_sample, multilabel_margin_loss(x, MULTILABEL_TARGET, reduction="none"), rtol=1e-14
    )


def test_multilabel_margin_errors():
    f, name = multilabel_margin_loss, "multilabel_margin_loss"
    x = np.zeros((2, 4))
    for bad in (
        np.array([[0, -2, -1, 1], [0, 1, 2, 3]]),
        np.array([[0, 4, -1, 1], [0, 1, 2, 3]]),
        np.array([[0, -1, 7, 1], [0, 1, 2, 3]]),
    ):
        with pytest.raises(ValueError, match=rf"{name}: target values must be in \[-1, 3\]"):
            f(x, bad)
        err, _ = jax.jit(checked(f))(x, bad)
        assert err.get() is not None and "target values must be in [-1, 3]" in err.get()
        assert np.isfinite(jax.jit(f)(x, bad))  # unchecked under jit: clipped, no error
    err, _ = jax.jit(checked(f))(x, np.array([[0, -1, 1, 1], [0, 1, 2, 3]]))
    assert err.get() is None
    with pytest.raises(
        ValueError,
        match=rf"{name}: target has shape \(2, 3\); for input of shape \(2, 4\) it must have input's shape",
    ):
        f(x, np.zeros((2, 3), int))
    with pytest.raises(
        ValueError, match=rf"{name}: target has shape \(1, 4\); for input of shape \(4,\)"
    ):
        f(np.zeros(4), np.zeros((1, 4), int))
    with pytest.raises(
        ValueError,
        match=rf"{name}: input must be 0-D, \(C,\) or \(N, C\) with C > 0 .*got shape \(2, 3, 4\)",
    ):
        f(np.zeros((2, 3, 4)), np.zeros((2, 3, 4), int))
    with pytest.raises(ValueError, match=rf"{name}: input must be .*got shape \(2, 0\)"):
        f(np.zeros((2, 0)), np.zeros((2, 0), int))
    with pytest.raises(TypeError, match=rf"{name}: target must have an integer dtype"):
        f(x, np.zeros((2, 4)))


# ------------------------------------------------------------------------------------------------ multi-margin


@pytest.mark.parametrize("dtype", DTYPES)
def test_multi_margin(rng, dtype):
    x = rng.standard_normal((7, 5))
    y = np.array([0, 4, 2, 2, 1, 3, 0])
    w = rng.uniform(0.2, 2.0, 5)
    f, tf = multi_margin_loss, F.multi_margin_loss
    for p in (1, 2):
        for margin in (1.0, 0.3, -0.5):
            for weight in (None, w):
                compare(
                    f, tf, [x, y, p, margin, weight, None, None, "none"], diff=(0,), dtype=dtype
                )
    for reduction in ("mean", "sum"):
        compare(f, tf, [x, y, 2, 1.0, w], kwargs={"reduction": reduction}, diff=(0,), dtype=dtype)
    compare(f, tf, [x, y, 2, 0.7, w], diff=(0,), dtype=dtype, jit=True)
    compare(f, tf, [x, y], kwargs={"p": 2.0, "reduction": "none"}, diff=(0,), dtype=dtype, jit=True)
    # unbatched: (C,) input with a (1,) or 0-d target ('none' keeps the target's shape); 0-d input
    for target in (np.array([3]), np.array(3)):
        for reduction in REDUCTIONS:
            compare(
                f,
                tf,
                [x[0], target],
                kwargs={"reduction": reduction},
                diff=(0,),
                dtype=dtype,
                jit=target.ndim == 0,
            )
    for target in (np.array(0), np.array([0])):
        compare(
            f,
            tf,
            [np.array(0.4), target],
            kwargs={"reduction": "none"},
            diff=(0,),
            dtype=dtype,
            jit=True,
        )


def test_multi_margin_kink_empty_legacy(rng):
    f, tf = multi_margin_loss, F.multi_margin_loss
    # z = margin - x[y] + x[j] == 0 exactly: torch only adds z > 0, so the gradient there is 0
    compare(
        f,
        tf,
        [np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.5]]), np.array([1, 1])],
        kwargs={"reduction": "sum"},
        diff=(0,),
        jit=True,
    )
    for reduction in ("none", "sum"):
        compare(
            f,
            tf,
            [np.zeros((0, 4)), np.zeros(0, np.int64)],
            kwargs={"reduction": reduction},
            diff=(0,),
            jit=True,
        )
    # torch 2.13 returns uninitialised memory here
    assert np.isnan(f(np.zeros((0, 4)), np.zeros(0, np.int64)))
    _legacy(
        f,
        tf,
        [rng.standard_normal((7, 5)), np.array([0, 4, 2, 2, 1, 3, 0])],
        diff=(0,),
        kwargs={"p": 2},
    )


def test_multi_margin_errors():
    f, name = multi_margin_loss, "multi_margin_loss"
    x, y = np.zeros((3, 4)), np.array([0, 1, 2])
    for p in (3, 0, 1.5, True):
        with pytest.raises(ValueError, match=rf"{name}: p must be 1 or 2; got {p!r}"):
            f(x, y, p=p)
    with pytest.raises(
        ValueError, match=rf"{name}: weight must be one-dimensional; got shape \(1, 4\)"
    ):
        f(x, y, weight=np.ones((1, 4)))
    with pytest.raises(
        ValueError,
        match=rf"{name}: weight has shape \(3,\); for input of shape \(3, 4\) it must be \(4,\)",
    ):
        f(x, y, weight=np.ones(3))
    with pytest.raises(
        ValueError,
        match=rf"{name}: target has shape \(1, 3\); for input of shape \(3, 4\) it must be \(3,\)",
    ):
        f(x, y[None])
    with pytest.raises(
        ValueError,
        match=rf"{name}: target has shape \(2,\); for input of shape \(4,\) it must be \(\) or \(1,\)",
    ):
        f(x[0], y[:2])
    with pytest.raises(ValueError, match=rf"{name}: input must be 0-D, \(C,\) or \(N, C\)"):
        f(np.zeros((3, 4, 2)), y)
    with pytest.raises(TypeError, match=rf"{name}: target must have an integer dtype"):
        f(x, y.astype(float))
    for bad in (np.array([0, -1, 2]), np.array([0, 4, 2])):
        with pytest.raises(ValueError, match=rf"{name}: target values must be in \[0, 4\)"):
            f(x, bad)
        err, _ = jax.jit(checked(f))(x, bad)
        assert "target values must be in [0, 4)" in err.get()


# ------------------------------------------------------------------------------------------------ triplet


@pytest.mark.parametrize("dtype", DTYPES)
def test_triplet_margin(rng, dtype):
    a, p, n = rng.standard_normal((3, 6, 4))
    f, tf = triplet_margin_loss, F.triplet_margin_loss
    options = [(1.0, 1e-6), (0.3, 0.0), (2.0, 0.1)]  # (margin, eps), rotated through the norms
    for i, norm in enumerate((2, 1, math.inf, 0.5, 3.0)):
        for j, swap in enumerate((False, True)):
            margin, eps = options[(i + j) % 3]
            kw = {"margin": margin, "p": norm, "eps": eps, "swap": swap, "reduction": "none"}
            compare(f, tf, [a, p, n], kwargs=kw, diff=(0, 1, 2), dtype=dtype)
    for reduction in REDUCTIONS:
        compare(
            f,
            tf,
            [a, p, n],
            kwargs={"reduction": reduction, "swap": True},
            diff=(0, 1, 2),
            dtype=dtype,
            jit=reduction == "mean",
        )
    compare(
        f,
        tf,
        [a, p, n, 0.5, 1.5, 1e-3, True, None, None, "sum"],
        diff=(0, 1, 2),
        dtype=dtype,
        jit=True,
    )


@pytest.mark.parametrize(
    "shapes",
    [
        ((4,), (4,), (4,)),
        ((), (), ()),
        ((2, 3, 4), (2, 3, 4), (2, 3, 4)),
        ((1, 4), (5, 4), (5, 1)),
        ((5, 1), (5, 4), (1, 4)),
    ],
)
def test_triplet_margin_shapes(rng, shapes):
    args = [np.asarray(rng.standard_normal(s)) for s in shapes]
    for swap in (False, True):
        compare(
            triplet_margin_loss,
            F.triplet_margin_loss,
            args,
            kwargs={"swap": swap, "margin": 2.0, "reduction": "none"},
            diff=(0, 1, 2),
            jit=True,
        )


def test_triplet_margin_swap_tie_and_legacy(rng):
    # d(a, n) == d(p, n) exactly: torch.min shares the gradient evenly, as jnp.minimum does
    a, p, n = np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]]), np.array([[0.5, 3.0]])
    compare(
        triplet_margin_loss,
        F.triplet_margin_loss,
        [a, p, n],
        kwargs={"margin": 5.0, "eps": 0.0, "swap": True},
        diff=(0, 1, 2),
        jit=True,
    )
    # the hinge kink margin + d(a, p) - d(a, n) == 0: gradient 1 (clamp_min)
    n2 = np.array([[0.0, 2.0]])
    compare(
        triplet_margin_loss,
        F.triplet_margin_loss,
        [a, p, n2],
        kwargs={"margin": 1.0, "eps": 0.0},
        diff=(0, 1, 2),
        jit=True,
    )
    args = list(rng.standard_normal((3, 6, 4)))
    _legacy(triplet_margin_loss, F.triplet_margin_loss, args, diff=(0, 1, 2), kwargs={"swap": True})
    x32 = args[0].astype(np.float32)
    assert triplet_margin_loss(x32, args[1], x32).dtype == jnp.float64  # promotes, as torch


def test_triplet_kernel_per_example(rng):
    a, p, n = rng.standard_normal((3, 6, 4))
    per_example = _triplet_margin(a, p, n, 1.0, 2.0, 1e-6, True)
    np.testing.assert_array_equal(
        per_example, triplet_margin_loss(a, p, n, swap=True, reduction="none")
    )


def test_triplet_margin_errors():
    f, name = triplet_margin_loss, "triplet_margin_loss"
    x = np.zeros((3, 4))
    for margin in (0, -1.0):
        with pytest.raises(
            ValueError, match=rf"{name}: margin must be greater than 0; got {margin!r}"
        ):
            f(x, x, x, margin=margin)
    with pytest.raises(
        ValueError,
        match=rf"{name}: anchor, positive, negative must have the same number of dimensions; got anchor 1-D \(4,\), positive 2-D \(3, 4\), negative 2-D \(3, 4\)",
    ):
        f(x[0], x, x)
    with pytest.raises(
        ValueError,
        match=rf"{name}: anchor of shape \(3, 4\), positive of shape \(3, 5\), negative of shape \(3, 4\) do not broadcast",
    ):
        f(x, np.zeros((3, 5)), x)
    with pytest.raises(ValueError, match=rf"{name}: reduction must be one of"):
        f(x, x, x, reduction="xx")


# ------------------------------------------------------------------------------------------------ with distance


def _jax_cosine_distance(x, y):
    return 1.0 - cosine_similarity(x, y, dim=-1)


def _torch_cosine_distance(x, y):
    return 1.0 - F.cosine_similarity(x, y, dim=-1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_triplet_margin_with_distance(rng, dtype):
    a, p, n = rng.standard_normal((3, 6, 4))
    f, tf = triplet_margin_with_distance_loss, F.triplet_margin_with_distance_loss
    pairs = [
        (None, None),
        (_jax_cosine_distance, _torch_cosine_distance),
        (
            lambda x, y: jnp.sum(jnp.abs(x - y), axis=-1),
            lambda x, y: torch.sum(torch.abs(x - y), dim=-1),
        ),
    ]
    for jax_d, torch_d in pairs:
        for swap, margin in ((False, 1.0), (True, 0.2)):
            kw = {"distance_function": jax_d, "margin": margin, "swap": swap, "reduction": "none"}
            compare(
                f,
                tf,
                [a, p, n],
                kwargs=kw,
                torch_kwargs=dict(kw, distance_function=torch_d),
                diff=(0, 1, 2),
                dtype=dtype,
            )
        kw = {"distance_function": jax_d, "swap": True, "reduction": "sum"}
        compare(
            f,
            tf,
            [a, p, n],
            kwargs=kw,
            torch_kwargs=dict(kw, distance_function=torch_d),
            diff=(0, 1, 2),
            dtype=dtype,
            jit=True,
        )
    # the default reduction, 'mean'
    compare(f, tf, [a, p, n], kwargs={"margin": 0.5}, diff=(0, 1, 2), dtype=dtype)
    # unbatched 1-D triplet with the default distance
    compare(
        f,
        tf,
        [a[0], p[0], n[0]],
        kwargs={"reduction": "none", "swap": True},
        diff=(0, 1, 2),
        dtype=dtype,
        jit=True,
    )


def test_triplet_margin_with_distance_matches_triplet_margin(rng):
    a, p, n = rng.standard_normal((3, 6, 4))
    np.testing.assert_allclose(
        triplet_margin_with_distance_loss(a, p, n, swap=True, reduction="none"),
        triplet_margin_loss(a, p, n, swap=True, reduction="none"),
        rtol=1e-14,
    )


def test_triplet_margin_with_distance_errors():
    f, name = triplet_margin_with_distance_loss, "triplet_margin_with_distance_loss"
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match=rf"{name}: margin must be greater than 0; got 0"):
        f(x, x, x, margin=0)
    with pytest.raises(ValueError, match=rf"{name}: reduction must be one of"):
        f(x, x, x, reduction="xx")
    with pytest.raises(
        ValueError,
        match=rf"{name}: anchor, positive, negative must have the same number of dimensions",
    ):
        f(x, x[0], x)
    with pytest.raises(TypeError, match=rf"{name}: distance_function must be callable or None"):
        f(x, x, x, distance_function="euclidean")
    with pytest.raises(TypeError):
        f(x, x, x, None)  # distance_function is keyword-only, as in torch


# ------------------------------------------------------------------------------------------------ catalogue


MARGIN_LOSSES = [
    "margin_ranking_loss",
    "hinge_embedding_loss",
    "cosine_embedding_loss",
    "multilabel_margin_loss",
    "multi_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]


@pytest.mark.parametrize("name", MARGIN_LOSSES)
def test_registered_examples_match_torch(name):
    spec = CATALOGUE[f"jaxloss.losses.{name}"]
    assert spec.family == "margin" and spec.torch == name and not spec.smooth
    args, kwargs = spec.example(np.random.default_rng(5))
    torch_kwargs = {
        k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a valid example raises no warning
        compare(
            spec.fn,
            getattr(F, spec.torch),
            list(args),
            kwargs=kwargs,
            torch_kwargs=torch_kwargs,
            diff=spec.diff,
        )
