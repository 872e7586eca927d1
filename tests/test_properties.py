"""Property tests: every torch loss against torch 2.13 on hypothesis-drawn shapes, options and dtypes.

For each name in ``jaxloss.losses.TORCH_FUNCTIONS`` hypothesis draws a shape (unbatched, size-1 and
K-dimensional where torch allows them), the options (reduction, weights, ignore_index, label_smoothing, p,
margin, swap, log_target, full, beta/delta, blank/zero_infinity, ...) and a dtype (float32 or float64); the
values are drawn from a numpy generator seeded by hypothesis, so they avoid kinks with probability one.
Checked on every example:

* value, dtype, shape and vector-Jacobian product equal torch's (``tests/torch_parity.compare``, eager):
  float64 rtol 1e-9, float32 rtol 1e-5 / atol 1e-6;
* ``reduction='sum'`` equals ``reduction='none'`` summed;
* ``reduction='mean'`` equals the sum over the reduction's denominator (a plain mean; for weighted
  cross_entropy/nll_loss/linear_cross_entropy the sum of the weights of the non-ignored targets; for weighted
  mse/l1 the sum of the weights; for ctc the batch mean of the per-sample loss over its target length);
* non-negativity where the loss is non-negative;
* invariance under a permutation of the batch (``'none'`` is permuted the same way).

The references are torch's own functions, computed in the same run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import jaxloss.losses as L
from tests.torch_parity import compare

F32_TOL = {"rtol": 1e-5, "atol": 1e-6}
INV_TOL = {"rtol": 1e-10, "atol": 1e-12}  # the invariants are checked in float64


@dataclasses.dataclass
class Case:
    args: list
    kwargs: dict
    diff: tuple = (0,)
    torch_kwargs: dict | None = None  # when torch needs other keyword values (callables)
    reductions: tuple | None = ("none", "mean", "sum")  # None: no reduction argument
    mean: Callable[[np.ndarray], float] | None = None  # expected 'mean' from the 'none' output
    nonneg: bool = True
    perm: tuple = ()  # (position or keyword, axis) permuted together along the batch
    out_axis: int | None = 0  # batch axis of the 'none' output
    batch: int = 0  # batch size (0: nothing to permute)
    extra_reductions: tuple = ()


# ----------------------------------------------------------------------------------------------- helpers


def _shape(draw, min_dims=0, max_dims=3, max_side=4):
    return tuple(draw(st.lists(st.integers(1, max_side), min_size=min_dims, max_size=max_dims)))


def _signs(rng, shape):
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0)


def _log_softmax(x, axis):
    x = x - x.max(axis=axis, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


def _batch(shape):
    return shape[0] if len(shape) >= 1 else 0


def _pair_regression(name):
    """mse/l1/huber/smooth_l1/soft_margin: two same-shape arrays, element-wise loss."""

    def build(draw, rng):
        shape = _shape(draw)
        x = rng.standard_normal(shape) * 2
        y = _signs(rng, shape) if name == "soft_margin_loss" else rng.standard_normal(shape) * 2
        kwargs: dict[str, Any] = {}
        perm = [(0, 0), (1, 0)]
        mean = None
        if name == "huber_loss":
            kwargs["delta"] = draw(st.sampled_from([1.0, 0.5, 2.5, 1e-3]))
        if name == "smooth_l1_loss":
            kwargs["beta"] = draw(st.sampled_from([1.0, 0.0, 0.3, 4.0]))
        if name in ("mse_loss", "l1_loss", "huber_loss") and draw(st.booleans()):
            w = rng.uniform(0.1, 2.0, shape)
            kwargs["weight"] = w
            perm.append(("weight", 0))
            if name == "huber_loss":  # torch: weighted_loss.mean()
                mean = lambda none: none.mean()
            else:  # torch: sum(weight * loss) / sum(weight)
                mean = lambda none, w=w: none.sum() / w.sum()
        diff = (
            (0,) if name == "soft_margin_loss" else (0, 1)
        )  # torch: soft_margin's target is not differentiable
        return Case([x, y], kwargs, diff=diff, mean=mean, perm=tuple(perm), batch=_batch(shape))

    return build


def build_bce(draw, rng):
    shape = _shape(draw)
    x = rng.uniform(0.02, 0.98, shape)
    y = rng.uniform(0, 1, shape) if draw(st.booleans()) else (rng.random(shape) < 0.5).astype(float)
    kwargs, perm = {}, [(0, 0), (1, 0)]
    k = draw(st.integers(0, len(shape) + 1))
    if k <= len(shape):  # a weight of shape input.shape[k:], broadcast like torch does
        kwargs["weight"] = rng.uniform(0.1, 2.0, shape[k:])
        if k == 0:
            perm.append(("weight", 0))
    return Case([x, y], kwargs, diff=(0, 1), perm=tuple(perm), batch=_batch(shape))


def build_bce_logits(draw, rng):
    shape = _shape(draw)
    x = rng.standard_normal(shape) * 3
    y = rng.uniform(0, 1, shape) if draw(st.booleans()) else (rng.random(shape) < 0.5).astype(float)
    kwargs, perm = {}, [(0, 0), (1, 0)]
    k = draw(st.integers(0, len(shape) + 1))
    if k <= len(shape):
        kwargs["weight"] = rng.uniform(0.1, 2.0, shape[k:])
        if k == 0:
            perm.append(("weight", 0))
    if shape and draw(st.booleans()):
        kwargs["pos_weight"] = rng.uniform(0.1, 3.0, shape[-1:])
    return Case([x, y], kwargs, diff=(0, 1), perm=tuple(perm), batch=_batch(shape))


def build_kl_div(draw, rng):
    shape = _shape(draw, min_dims=0)
    axis = -1 if shape else None
    x = (
        _log_softmax(rng.standard_normal(shape), axis)
        if shape
        else -np.abs(rng.standard_normal(shape))
    )
    log_target = draw(st.booleans())
    t = (
        _log_softmax(rng.standard_normal(shape), axis)
        if shape
        else -np.abs(rng.standard_normal(shape))
    )
    y = t if log_target else np.exp(t)
    n = shape[0] if shape else 1
    return Case(
        [x, y],
        {"log_target": log_target},
        diff=(0, 1),
        reductions=("none", "mean", "sum", "batchmean"),
        extra_reductions=(("batchmean", lambda none, n=n: none.sum() / n),),
        nonneg=False,
        perm=((0, 0), (1, 0)),
        batch=_batch(shape),
    )


def build_gaussian_nll(draw, rng):
    shape = _shape(draw, min_dims=0)
    x = rng.standard_normal(shape)
    y = rng.standard_normal(shape)
    kind = draw(st.sampled_from(["same", "float"] + (["keep1", "drop1"] if shape else [])))
    perm = [(0, 0), (1, 0)]
    if kind == "same":
        var = rng.uniform(0.1, 2.0, shape)
        perm.append((2, 0))
    elif kind == "keep1":
        var = rng.uniform(0.1, 2.0, shape[:-1] + (1,))
        if len(shape) >= 2:
            perm.append((2, 0))
    elif kind == "drop1":
        var = rng.uniform(0.1, 2.0, shape[:-1])
        if len(shape) >= 2:
            perm.append((2, 0))
    else:
        var = float(rng.uniform(0.1, 2.0))
    kwargs = {"full": draw(st.booleans()), "eps": draw(st.sampled_from([1e-6, 1e-2]))}
    diff = (0, 1, 2) if isinstance(var, np.ndarray) else (0, 1)
    return Case([x, y, var], kwargs, diff=diff, nonneg=False, perm=tuple(perm), batch=_batch(shape))


def build_poisson_nll(draw, rng):
    shape = _shape(draw)
    log_input = draw(st.booleans())
    x = rng.standard_normal(shape) if log_input else rng.uniform(0.1, 3.0, shape)
    y = rng.poisson(2.0, shape).astype(
        float
    )  # counts: 0, 1 and > 1 reach every branch of full=True
    full = draw(st.booleans())
    kwargs = {"log_input": log_input, "full": full, "eps": draw(st.sampled_from([1e-8, 1e-2]))}
    # torch's target gradient is nan at target == 0 with full=True (0 * log 0 in the masked Stirling term)
    diff = (0,) if full else (0, 1)
    return Case([x, y], kwargs, diff=diff, nonneg=False, perm=((0, 0), (1, 0)), batch=_batch(shape))


def build_hinge_embedding(draw, rng):
    shape = _shape(draw)
    x = rng.standard_normal(shape) * 2
    y = _signs(rng, shape)
    kwargs = {"margin": draw(st.sampled_from([1.0, 0.0, 0.5, 2.0, -0.5]))}
    return Case([x, y], kwargs, diff=(0,), nonneg=False, perm=((0, 0), (1, 0)), batch=_batch(shape))


def build_margin_ranking(draw, rng):
    shape = _shape(draw, max_dims=2)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    y = _signs(rng, shape)
    kwargs = {"margin": draw(st.sampled_from([0.0, 0.5, -0.3, 1.0]))}
    return Case([a, b, y], kwargs, diff=(0, 1), perm=((0, 0), (1, 0), (2, 0)), batch=_batch(shape))


def build_cosine_embedding(draw, rng):
    batched = draw(st.booleans())
    n, d = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    shape = (n, d) if batched else (d,)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    y = _signs(rng, (n,) if batched else ())
    kwargs = {"margin": draw(st.sampled_from([0.0, 0.5, -0.3, 0.9]))}
    return Case(
        [a, b, y], kwargs, diff=(0, 1), perm=((0, 0), (1, 0), (2, 0)), batch=n if batched else 0
    )


def build_cosine_similarity(draw, rng):
    shape = _shape(draw, min_dims=1, max_dims=3)
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    shape2 = list(shape)
    if draw(st.booleans()):  # broadcast one axis of x2
        shape2[draw(st.integers(0, len(shape) - 1))] = 1
    a, b = rng.standard_normal(shape), rng.standard_normal(tuple(shape2))
    kwargs = {"dim": dim, "eps": draw(st.sampled_from([1e-8, 1e-3]))}
    return Case([a, b], kwargs, diff=(0, 1), reductions=None, nonneg=False)


def build_pairwise_distance(draw, rng):
    batched = draw(st.booleans())
    n, d = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    shape = (n, d) if batched else (d,)
    shape2 = (1, d) if batched and draw(st.booleans()) else shape
    a, b = rng.standard_normal(shape), rng.standard_normal(shape2)
    kwargs = {
        "p": draw(st.sampled_from([2.0, 1.0, 3.0, 1.5, float("inf")])),
        "eps": draw(st.sampled_from([1e-6, 0.1])),
        "keepdim": draw(st.booleans()),
    }
    return Case([a, b], kwargs, diff=(0, 1), reductions=None)


def _class_shapes(draw):
    """(input shape, index-target shape, C, class axis)."""
    c = draw(st.integers(2, 5))
    kind = draw(st.sampled_from(["unbatched", "batched", "kdim"]))
    if kind == "unbatched":
        return (c,), (), c, 0
    n = draw(st.integers(1, 4))
    if kind == "batched":
        return (n, c), (n,), c, 1
    extra = _shape(draw, min_dims=1, max_dims=2, max_side=3)
    return (n, c) + extra, (n,) + extra, c, 1


def _index_target(draw, rng, tshape, c, kwargs):
    target = rng.integers(0, c, tshape)
    ignore = draw(st.sampled_from([None, -100, 0, 1]))
    if ignore is not None:
        kwargs["ignore_index"] = ignore
        if tshape:
            flat = target.reshape(-1)
            flat[rng.random(flat.shape) < 0.3] = ignore
            flat[0] = (ignore + 1) % c if ignore >= 0 else 0  # at least one target counts
            target = flat.reshape(tshape)
    return target, ignore


def _weighted_mean(target, weight, ignore, c):
    w = np.ones(c) if weight is None else weight
    t = np.asarray(target)
    keep = t != (ignore if ignore is not None else -100)
    return lambda none: none.sum() / w[np.where(keep, t, 0)][keep].sum()


def build_cross_entropy(draw, rng):
    ishape, tshape, c, axis = _class_shapes(draw)
    x = rng.standard_normal(ishape) * 2
    kwargs: dict[str, Any] = {}
    weight = rng.uniform(0.2, 2.0, (c,)) if draw(st.booleans()) else None
    if weight is not None:
        kwargs["weight"] = weight
    kwargs["label_smoothing"] = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    if draw(st.booleans()):  # class probabilities
        target = np.moveaxis(
            np.exp(
                _log_softmax(rng.standard_normal(np.moveaxis(np.empty(ishape), axis, -1).shape), -1)
            ),
            -1,
            axis,
        )
        mean = None
        diff = (0, 1)
    else:
        target, ignore = _index_target(draw, rng, tshape, c, kwargs)
        mean = _weighted_mean(target, weight, ignore, c)
        diff = (0,)
    batched = len(ishape) >= 2
    return Case(
        [x, target],
        kwargs,
        diff=diff,
        mean=mean,
        perm=((0, 0), (1, 0)),
        batch=ishape[0] if batched else 0,
    )


def build_nll(draw, rng):
    ishape, tshape, c, axis = _class_shapes(draw)
    x = _log_softmax(rng.standard_normal(ishape), axis)
    kwargs: dict[str, Any] = {}
    weight = rng.uniform(0.2, 2.0, (c,)) if draw(st.booleans()) else None
    if weight is not None:
        kwargs["weight"] = weight
    target, ignore = _index_target(draw, rng, tshape, c, kwargs)
    batched = len(ishape) >= 2
    return Case(
        [x, target],
        kwargs,
        diff=(0,),
        mean=_weighted_mean(target, weight, ignore, c),
        perm=((0, 0), (1, 0)),
        batch=ishape[0] if batched else 0,
    )


def build_linear_cross_entropy(draw, rng):
    h, c = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    batched = draw(st.booleans())
    n = draw(st.integers(1, 4))
    out = (draw(st.integers(1, 3)),) if batched and draw(st.booleans()) else ()
    x = rng.standard_normal((n, h) if batched else (h,))
    lw = rng.standard_normal((c,) + out + (h,))
    kwargs: dict[str, Any] = {}
    if draw(st.booleans()):
        kwargs["linear_bias"] = rng.standard_normal((c,) + out)
    weight = rng.uniform(0.2, 2.0, (c,)) if draw(st.booleans()) else None
    if weight is not None:
        kwargs["weight"] = weight
    kwargs["label_smoothing"] = draw(st.sampled_from([0.0, 0.2, 1.0]))
    lead = (n,) if batched else ()
    if draw(st.booleans()):  # probabilities over the logits' class axis
        logits_shape = lead + (c,) + out
        axis = len(lead)
        target = np.moveaxis(
            np.exp(
                _log_softmax(
                    rng.standard_normal(np.moveaxis(np.empty(logits_shape), axis, -1).shape), -1
                )
            ),
            -1,
            axis,
        )
        mean = None
    else:
        target, _ignore = _index_target(draw, rng, lead + out, c, kwargs)
        mean = _weighted_mean(target, weight, kwargs.get("ignore_index"), c)
    return Case(
        [x, lw, target],
        kwargs,
        diff=(0, 1),
        mean=mean,
        perm=((0, 0), (2, 0)),
        batch=n if batched else 0,
    )


def build_multi_margin(draw, rng):
    c = draw(st.integers(1, 5))
    batched = draw(st.booleans())
    n = draw(st.integers(1, 4))
    x = rng.standard_normal((n, c) if batched else (c,))
    y = rng.integers(0, c, (n,) if batched else ())
    kwargs: dict[str, Any] = {
        "p": draw(st.sampled_from([1, 2])),
        "margin": draw(st.sampled_from([1.0, 0.3, 2.0, -0.5])),
    }
    if draw(st.booleans()):
        kwargs["weight"] = rng.uniform(0.2, 2.0, (c,))
    return Case([x, y], kwargs, diff=(0,), perm=((0, 0), (1, 0)), batch=n if batched else 0)


def build_multilabel_margin(draw, rng):
    c = draw(st.integers(1, 5))
    batched = draw(st.booleans())
    n = draw(st.integers(1, 4))
    x = rng.standard_normal((n, c) if batched else (c,))
    rows = []
    for _ in range(n if batched else 1):
        k = int(rng.integers(0, c + 1))
        row = list(rng.permutation(c)[:k])
        if k < c:  # -1 ends the label list; torch ignores what follows it
            row += [-1] + list(rng.integers(-1, c, c - k - 1))
        rows.append(row)
    y = np.asarray(rows, dtype=np.int64).reshape(x.shape)
    return Case([x, y], {}, diff=(0,), perm=((0, 0), (1, 0)), batch=n if batched else 0)


def build_multilabel_soft_margin(draw, rng):
    shape = _shape(draw, min_dims=1, max_dims=3)
    x = rng.standard_normal(shape) * 2
    y = (rng.random(shape) < 0.5).astype(float) if draw(st.booleans()) else rng.uniform(0, 1, shape)
    kwargs = {}
    if draw(st.booleans()):
        kwargs["weight"] = rng.uniform(0.2, 2.0, shape[-1:])
    batched = len(shape) >= 2
    return Case(
        [x, y], kwargs, diff=(0, 1), perm=((0, 0), (1, 0)), batch=shape[0] if batched else 0
    )


def build_triplet(draw, rng):
    batched = draw(st.booleans())
    n, d = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    shape = (n, d) if batched else (d,)
    a, p, q = (rng.standard_normal(shape) for _ in range(3))
    kwargs = {
        "margin": draw(st.sampled_from([1.0, 0.2, 3.0])),
        "p": draw(st.sampled_from([2, 1, 3, 1.5])),
        "eps": draw(st.sampled_from([1e-6, 0.1])),
        "swap": draw(st.booleans()),
    }
    return Case(
        [a, p, q], kwargs, diff=(0, 1, 2), perm=((0, 0), (1, 0), (2, 0)), batch=n if batched else 0
    )


def build_triplet_distance(draw, rng):
    batched = draw(st.booleans())
    n, d = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    shape = (n, d) if batched else (d,)
    a, p, q = (rng.standard_normal(shape) for _ in range(3))
    kwargs = {"margin": draw(st.sampled_from([1.0, 0.2, 3.0])), "swap": draw(st.booleans())}
    torch_kwargs = dict(kwargs)
    which = draw(st.sampled_from(["default", "cosine", "l1"]))
    if which == "cosine":
        kwargs["distance_function"] = lambda u, v: 1.0 - L.cosine_similarity(u, v, dim=-1)
        torch_kwargs["distance_function"] = lambda u, v: 1.0 - TF.cosine_similarity(u, v, dim=-1)
    elif which == "l1":
        kwargs["distance_function"] = lambda u, v: jnp.sum(jnp.abs(u - v), axis=-1)
        torch_kwargs["distance_function"] = lambda u, v: torch.sum(torch.abs(u - v), dim=-1)
    return Case(
        [a, p, q],
        kwargs,
        diff=(0, 1, 2),
        torch_kwargs=torch_kwargs,
        perm=((0, 0), (1, 0), (2, 0)),
        batch=n if batched else 0,
    )


def build_ctc(draw, rng):
    t, c, s = draw(st.integers(1, 7)), draw(st.integers(2, 5)), draw(st.integers(1, 3))
    batched = draw(st.booleans())
    n = draw(st.integers(1, 3)) if batched else 1
    blank = draw(st.sampled_from([0, c - 1]))
    labels = [k for k in range(c) if k != blank]
    lp = _log_softmax(rng.standard_normal((t, n, c)), -1)
    targets = rng.choice(labels, (n, s))
    tl = rng.integers(0, s + 1, n)
    il = rng.integers(1, t + 1, n)
    zero_infinity = draw(st.booleans())
    needed = np.array(
        [tl[i] + np.sum(targets[i, 1 : tl[i]] == targets[i, : max(tl[i] - 1, 0)]) for i in range(n)]
    )
    if not zero_infinity:  # keep every alignment possible so the loss is finite
        il = np.clip(np.maximum(il, needed), 1, t)
        feasible = needed <= il
        tl = np.where(feasible, tl, 0)
    kwargs = {"blank": blank, "zero_infinity": zero_infinity}
    fmt = draw(st.sampled_from(["padded", "concatenated", "tuple"])) if batched else "unbatched"
    perm: tuple = ()
    if fmt == "unbatched":
        # unbatched 1-D targets are torch's concatenated form: exactly target_length entries
        args = [lp[:, 0], targets[0, : tl[0]], np.asarray(il[0]), np.asarray(tl[0])]
    elif fmt == "concatenated":
        flat = np.concatenate([targets[i, : tl[i]] for i in range(n)]).astype(np.int64)
        args = [lp, flat, il, tl]
    elif fmt == "tuple":
        args = [lp, targets, tuple(int(v) for v in il), tuple(int(v) for v in tl)]
    else:
        args = [lp, targets, il, tl]
        perm = ((0, 1), (1, 0), (2, 0), (3, 0))
    tl_ = np.maximum(np.asarray(tl, float), 1.0)
    return Case(
        args,
        kwargs,
        diff=(0,),
        mean=lambda none, tl_=tl_: np.mean(none / (tl_ if none.ndim else tl_[0])),
        perm=perm,
        batch=n if fmt == "padded" else 0,
    )


BUILDERS: dict[str, Callable] = {
    "binary_cross_entropy": build_bce,
    "binary_cross_entropy_with_logits": build_bce_logits,
    "cosine_embedding_loss": build_cosine_embedding,
    "cosine_similarity": build_cosine_similarity,
    "cross_entropy": build_cross_entropy,
    "ctc_loss": build_ctc,
    "gaussian_nll_loss": build_gaussian_nll,
    "hinge_embedding_loss": build_hinge_embedding,
    "huber_loss": _pair_regression("huber_loss"),
    "kl_div": build_kl_div,
    "l1_loss": _pair_regression("l1_loss"),
    "linear_cross_entropy": build_linear_cross_entropy,
    "margin_ranking_loss": build_margin_ranking,
    "mse_loss": _pair_regression("mse_loss"),
    "multi_margin_loss": build_multi_margin,
    "multilabel_margin_loss": build_multilabel_margin,
    "multilabel_soft_margin_loss": build_multilabel_soft_margin,
    "nll_loss": build_nll,
    "pairwise_distance": build_pairwise_distance,
    "poisson_nll_loss": build_poisson_nll,
    "smooth_l1_loss": _pair_regression("smooth_l1_loss"),
    "soft_margin_loss": _pair_regression("soft_margin_loss"),
    "triplet_margin_loss": build_triplet,
    "triplet_margin_with_distance_loss": build_triplet_distance,
}


def test_every_torch_loss_has_a_builder():
    assert sorted(BUILDERS) == sorted(L.TORCH_FUNCTIONS)


# ------------------------------------------------------------------------------------------------- tests


def _cast(x, dtype):
    return (
        x.astype(dtype) if isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating) else x
    )


def _torch_value(x):
    if isinstance(x, np.ndarray):
        return torch.from_numpy(np.array(x))  # np.ascontiguousarray would make 0-d arrays 1-d
    return x


def _permute(case: Case, perm: np.ndarray):
    args, kwargs = list(case.args), dict(case.kwargs)
    for key, axis in case.perm:
        box = args if isinstance(key, int) else kwargs
        if isinstance(box[key], np.ndarray):
            box[key] = np.take(box[key], perm, axis=axis)
    return args, kwargs


def _arrays(case: Case) -> Case:
    """numpy scalars (what a generator returns for shape ()) become 0-d arrays."""
    fix = lambda v: np.asarray(v) if isinstance(v, np.generic) else v
    case.args = [fix(a) for a in case.args]
    case.kwargs = {k: fix(v) for k, v in case.kwargs.items()}
    return case


def _f64(x):
    return np.asarray(x, np.float64)


def _check_invariants(fn, case: Case):
    """Reduction consistency, non-negativity and batch-permutation invariance, in float64, eager."""
    args, kwargs = case.args, case.kwargs
    if case.reductions is None:
        out = _f64(fn(*args, **kwargs))
        if case.nonneg:
            assert np.all(out >= 0), out
        return
    none = _f64(fn(*args, **kwargs, reduction="none"))
    total = _f64(fn(*args, **kwargs, reduction="sum"))
    mean = _f64(fn(*args, **kwargs, reduction="mean"))
    np.testing.assert_allclose(total, none.sum(), **INV_TOL, err_msg="sum != none.sum()")
    expected_mean = case.mean(none) if case.mean is not None else none.mean()
    np.testing.assert_allclose(
        mean, expected_mean, **INV_TOL, err_msg="mean != its denominator rule"
    )
    for red, rule in case.extra_reductions:
        np.testing.assert_allclose(
            _f64(fn(*args, **kwargs, reduction=red)), rule(none), **INV_TOL, err_msg=red
        )
    if case.nonneg:
        assert np.all(none >= 0), none
    if case.batch >= 2 and case.perm:
        perm = np.random.default_rng(case.batch).permutation(case.batch)
        p_args, p_kwargs = _permute(case, perm)
        p_none = _f64(fn(*p_args, **p_kwargs, reduction="none"))
        np.testing.assert_allclose(
            p_none, np.take(none, perm, axis=case.out_axis), **INV_TOL, err_msg="permuted none"
        )
        np.testing.assert_allclose(
            _f64(fn(*p_args, **p_kwargs, reduction="sum")), total, **INV_TOL, err_msg="permuted sum"
        )


@pytest.mark.parametrize("name", L.TORCH_FUNCTIONS)
@settings(max_examples=8, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_matches_torch_and_invariants(name, data):
    dtype = data.draw(st.sampled_from([np.float64, np.float32]), label="dtype")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    case = _arrays(BUILDERS[name](data.draw, rng))
    fn = getattr(L, name)
    kwargs = {k: _cast(v, dtype) for k, v in case.kwargs.items()}
    t_kwargs = {k: _torch_value(v) for k, v in kwargs.items()}
    t_kwargs.update(case.torch_kwargs or {})  # torch-side callables (distance_function)
    if case.reductions is not None:
        reduction = data.draw(st.sampled_from(case.reductions), label="reduction")
        kwargs["reduction"] = t_kwargs["reduction"] = reduction
    tol = F32_TOL if dtype == np.float32 else {}
    shapes = [np.shape(a) if isinstance(a, np.ndarray) else None for a in case.args]

    torch_fn = getattr(TF, name)

    def t_fn(*args, **kw):
        # tests/torch_parity.py hands 0-d arrays to torch as shape (1,) (np.ascontiguousarray); undo that
        args = [a.reshape(s) if s is not None else a for a, s in zip(args, shapes)]
        return torch_fn(*args, **kw)

    compare(
        fn,
        t_fn,
        case.args,
        kwargs=kwargs,
        torch_kwargs=t_kwargs,
        diff=case.diff,
        dtype=dtype,
        **tol,
    )
    _check_invariants(fn, case)
