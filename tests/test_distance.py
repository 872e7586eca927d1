"""pairwise_distance and cosine_similarity against torch 2.13 (values and VJPs, computed in this run)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from jaxloss._src.core.registry import CATALOGUE
from jaxloss._src.families.distance import (
    _cosine_similarity,
    _pairwise_distance,
    cosine_similarity,
    pairwise_distance,
)
from tests.torch_parity import compare

DTYPES = [np.float64, np.float32]
P_VALUES = [2.0, 1.0, 0.0, math.inf, -math.inf, 0.5, 1.5, 3.0, -1.0, -0.5, 2.5, 4]


def _pd(*args, **kwargs):
    return F.pairwise_distance(*args, **kwargs)


def _pair(rng, shape=(6, 4)):
    x1, x2 = rng.standard_normal((2, *shape))
    return x1, x2


# ------------------------------------------------------------------------------------------------ pairwise


@pytest.mark.parametrize("p", P_VALUES)
def test_pairwise_distance_p(rng, p):
    x1, x2 = _pair(rng)
    for dtype, jit in ((np.float64, False), (np.float64, True), (np.float32, False)):
        compare(
            pairwise_distance, _pd, [x1, x2], kwargs={"p": p}, diff=(0, 1), dtype=dtype, jit=jit
        )


@pytest.mark.parametrize("p", P_VALUES)
def test_pairwise_distance_zero_difference_gradient(p):
    # eps=0 makes differences exactly zero: whole rows (zero vector) and single entries (p < 1 masking),
    # and exact ties of |difference| for p = +-inf. torch's norm backward fixes the gradient there.
    x1 = np.array(
        [[0.3, -1.2, 0.7, 2.0], [0.5, 0.5, -0.5, 0.25], [1.0, -1.0, 0.5, 1.0], [0.0, 0.0, 0.0, 0.0]]
    )
    x2 = np.array(
        [[0.3, -1.2, 0.7, 2.0], [0.5, 0.1, -0.5, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    )
    for dtype in DTYPES:
        compare(
            pairwise_distance, _pd, [x1, x2], kwargs={"p": p, "eps": 0.0}, diff=(0, 1), dtype=dtype
        )
    # the default eps keeps the gradient of equal rows finite and equal to torch's
    compare(pairwise_distance, _pd, [x1, x1.copy()], kwargs={"p": p}, diff=(0, 1))


@pytest.mark.parametrize(
    "shape1, shape2",
    [
        ((4,), (3, 4)),
        ((2, 1, 4), (3, 1)),
        ((4,), (4,)),
        ((), ()),
        ((3, 4), (3, 4)),
        ((3, 1), (1, 5)),
        ((2, 3, 4), (2, 3, 4)),
    ],
)
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance_shapes(rng, shape1, shape2, keepdim):
    x1, x2 = np.asarray(rng.standard_normal(shape1)), np.asarray(rng.standard_normal(shape2))
    for p in (2.0, 1.0, math.inf, 3.0):
        kwargs = {"p": p, "keepdim": keepdim, "eps": 1e-3}
        compare(
            pairwise_distance,
            _pd,
            [x1, x2],
            kwargs=kwargs,
            diff=(0, 1),
            jit=not (keepdim and p == 2.0),
        )


def test_pairwise_distance_positional_and_eps(rng):
    x1, x2 = _pair(rng)
    for eps in (0.0, 1e-6, 0.5, -0.3):
        compare(pairwise_distance, _pd, [x1, x2, 3.0, eps, True], diff=(0, 1))


def test_pairwise_distance_empty(rng):
    compare(pairwise_distance, _pd, [np.zeros((3, 0)), np.zeros((3, 0))], diff=(0, 1))
    compare(pairwise_distance, _pd, [np.zeros((0, 4)), np.zeros((0, 4))], diff=(0, 1))


def test_pairwise_distance_dtypes(rng):
    x1, x2 = _pair(rng)
    out = pairwise_distance(x1.astype(np.float32), x2)
    ref = F.pairwise_distance(torch.from_numpy(x1.astype(np.float32)), torch.from_numpy(x2))
    assert out.dtype == jnp.float64 and ref.dtype == torch.float64
    np.testing.assert_allclose(out, ref.numpy(), rtol=1e-12)
    # integer inputs are promoted (torch: long - long + eps is floating)
    i1, i2 = np.array([[1, 2, 3]]), np.array([[4, 0, 3]])
    ref = F.pairwise_distance(torch.from_numpy(i1), torch.from_numpy(i2)).numpy()
    out = pairwise_distance(i1, i2)
    assert jnp.issubdtype(out.dtype, jnp.floating)
    np.testing.assert_allclose(out, ref, rtol=1e-6)
    # half precision: computed in float32, returned in float16 (torch returns float16 too)
    h1, h2 = x1.astype(np.float16), x2.astype(np.float16)
    out = pairwise_distance(h1, h2)
    ref = F.pairwise_distance(torch.from_numpy(h1), torch.from_numpy(h2))
    assert out.dtype == jnp.float16 and ref.dtype == torch.float16
    np.testing.assert_allclose(np.asarray(out, np.float64), ref.double().numpy(), rtol=2e-3)


def test_pairwise_distance_transforms(rng):
    x1, x2 = _pair(rng)
    # forward mode (custom_jvp) agrees with reverse mode, and a second derivative is finite
    for p in (2.0, 1.5, 3.0, 0.5, math.inf):

        def total(a, p=p):
            return jnp.sum(pairwise_distance(a, x2, p=p))

        t = rng.standard_normal(x1.shape)
        _, jvp = jax.jit(lambda a, t, f=total: jax.jvp(f, (a,), (t,)))(x1, t)
        np.testing.assert_allclose(jvp, np.sum(jax.jit(jax.grad(total))(x1) * t), rtol=1e-10)
    h = jax.jit(jax.hessian(lambda a: jnp.sum(pairwise_distance(a, x2))))(x1)
    assert np.all(np.isfinite(h))
    batched = jax.vmap(lambda a, b: pairwise_distance(a, b, p=3.0))(x1, x2)
    np.testing.assert_allclose(batched, pairwise_distance(x1, x2, p=3.0), rtol=1e-12)


def test_pairwise_distance_kernel_is_the_face(rng):
    x1, x2 = _pair(rng)
    np.testing.assert_array_equal(
        _pairwise_distance(x1, x2, 1.5, 1e-6, True), pairwise_distance(x1, x2, 1.5, 1e-6, True)
    )


def test_pairwise_distance_errors():
    with pytest.raises(
        ValueError, match=r"pairwise_distance: x1 of shape \(3, 4\) and x2 of shape \(3, 5\)"
    ):
        pairwise_distance(np.zeros((3, 4)), np.zeros((3, 5)))
    with pytest.raises(TypeError, match="pairwise_distance: p must be a real number"):
        pairwise_distance(np.zeros((3, 4)), np.zeros((3, 4)), p="fro")
    with pytest.raises(TypeError, match="pairwise_distance: x1 must be an array"):
        pairwise_distance(None, np.zeros((3, 4)))


# ------------------------------------------------------------------------------------------------ cosine


def _cs(*args, **kwargs):
    return F.cosine_similarity(*args, **kwargs)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cosine_similarity(rng, dtype):
    x1, x2 = rng.standard_normal((2, 5, 4, 3))
    for dim in (1, 0, -1):  # eager once, compiled (cheaper than eager on new shapes) otherwise
        compare(
            cosine_similarity,
            _cs,
            [x1, x2],
            kwargs={"dim": dim},
            diff=(0, 1),
            dtype=dtype,
            jit=dim != 1,
        )
    compare(cosine_similarity, _cs, [x1[0], x2[0]], diff=(0, 1), dtype=dtype)  # default dim=1
    compare(cosine_similarity, _cs, [x1[0, 0], x2[0, 0], 0, 1e-3], diff=(0, 1), dtype=dtype)


@pytest.mark.parametrize(
    "shape1, shape2, dim",
    [
        ((4,), (3, 4), -1),
        ((2, 1, 4), (3, 4), 1),
        ((2, 1, 4), (3, 4), 2),
        ((3, 1), (1, 5), 0),
        ((), (), 0),
        ((), (), -1),
        ((1,), (3,), 0),
    ],
)
def test_cosine_similarity_broadcasting(rng, shape1, shape2, dim):
    x1, x2 = np.asarray(rng.standard_normal(shape1)), np.asarray(rng.standard_normal(shape2))
    compare(cosine_similarity, _cs, [x1, x2], kwargs={"dim": dim}, diff=(0, 1), jit=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cosine_similarity_zero_and_tiny_vectors(rng, dtype):
    y = rng.standard_normal((3, 4))
    zeros = np.zeros((3, 4))
    # zero vector against a non-zero one, and against a zero vector: value 0, finite torch gradient
    compare(cosine_similarity, _cs, [zeros, y], diff=(0, 1), dtype=dtype)
    compare(cosine_similarity, _cs, [zeros, zeros.copy()], diff=(0, 1), dtype=dtype)
    mixed = y.copy()
    mixed[1] = 0.0
    compare(
        cosine_similarity, _cs, [mixed, np.roll(y, 1, axis=0)], diff=(0, 1), dtype=dtype, jit=True
    )
    if dtype is np.float64:
        # ||x1|| = 1e-9 < eps and ||x2|| = 100: each norm is clamped (a clamped product would differ by 10x),
        # and the clamp is not differentiated (torch clamps in place under no_grad)
        x1 = y / np.linalg.norm(y, axis=1, keepdims=True) * 1e-9
        other = np.roll(y, 1, axis=0)  # not parallel to x1: no cancellation noise in the gradient
        x2 = other / np.linalg.norm(other, axis=1, keepdims=True) * 100
        compare(cosine_similarity, _cs, [x1, x2], diff=(0, 1), dtype=dtype)
        compare(cosine_similarity, _cs, [x1, x2], kwargs={"eps": 1e-12}, diff=(0, 1), dtype=dtype)
        compare(cosine_similarity, _cs, [y, other], kwargs={"eps": 5.0}, diff=(0, 1), dtype=dtype)


def test_cosine_similarity_gradient_at_zero_is_finite_under_jit():
    g = jax.jit(jax.grad(lambda a, b: jnp.sum(cosine_similarity(a, b)), argnums=(0, 1)))
    ga, gb = g(jnp.zeros((2, 3)), jnp.ones((2, 3)))
    assert np.all(np.isfinite(ga)) and np.all(gb == 0)


def test_cosine_similarity_dtypes(rng):
    x1, x2 = rng.standard_normal((2, 3, 4))
    assert cosine_similarity(x1.astype(np.float32), x2).dtype == jnp.float64
    # an integer input paired with a float is promoted, as torch does
    out = cosine_similarity(np.array([1, 2]), np.array([3.0, 5.0]), dim=0)
    ref = F.cosine_similarity(
        torch.tensor([1, 2]), torch.tensor([3.0, 5.0], dtype=torch.float64), dim=0
    )
    np.testing.assert_allclose(out, ref.numpy(), rtol=1e-12)
    h = cosine_similarity(x1.astype(np.float16), x2.astype(np.float16))
    ref = F.cosine_similarity(
        torch.from_numpy(x1.astype(np.float16)), torch.from_numpy(x2.astype(np.float16))
    )
    assert h.dtype == jnp.float16
    np.testing.assert_allclose(np.asarray(h, np.float64), ref.double().numpy(), atol=2e-3)


def test_cosine_similarity_kernel(rng):
    x1, x2 = rng.standard_normal((2, 3, 4))
    np.testing.assert_array_equal(
        _cosine_similarity(x1, x2, 0, 1e-8), cosine_similarity(x1, x2, dim=0)
    )


def test_cosine_similarity_errors():
    with pytest.raises(
        ValueError, match=r"cosine_similarity: dim must be an int in \[-1, 0\] .* \(4,\); got 1"
    ):
        cosine_similarity(np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match=r"cosine_similarity: dim must be an int in \[-2, 1\]"):
        cosine_similarity(np.zeros((2, 4)), np.zeros((2, 4)), dim=-3)
    with pytest.raises(
        TypeError, match="cosine_similarity: x1 .* and x2 .* must promote to a floating dtype"
    ):
        cosine_similarity(np.array([1, 2]), np.array([3, 5]), dim=0)
    with pytest.raises(
        ValueError, match=r"cosine_similarity: x1 of shape \(2, 4\) and x2 of shape \(3, 4\)"
    ):
        cosine_similarity(np.zeros((2, 4)), np.zeros((3, 4)))


# ------------------------------------------------------------------------------------------------ catalogue


@pytest.mark.parametrize("name", ["pairwise_distance", "cosine_similarity"])
def test_registered_examples_match_torch(name):
    spec = CATALOGUE[f"jaxloss.losses.{name}"]
    assert spec.family == "distance" and spec.torch == name
    args, kwargs = spec.example(np.random.default_rng(3))
    compare(spec.fn, getattr(F, spec.torch), list(args), kwargs=kwargs, diff=spec.diff)
