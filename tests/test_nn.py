"""jaxloss.nn classes against torch.nn's (torch 2.13.0, computed in this run on the same inputs)."""

from __future__ import annotations

import dataclasses
import inspect
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxloss import nn as jnn
from tests.torch_parity import compare

R = np.random.default_rng(42)


def _probs(*shape):
    return R.uniform(0.05, 0.95, shape)


def _labels(n, c):
    return R.integers(0, c, n)


W4 = R.uniform(0.5, 2.0, 4)
# (class name, constructor kwargs (numpy arrays allowed), call args, differentiable positions)
CASES = [
    ("L1Loss", {}, [R.standard_normal((3, 4)), R.standard_normal((3, 4))], (0, 1)),
    ("MSELoss", {"reduction": "sum"}, [R.standard_normal((3, 4)), R.standard_normal((3, 4))], (0, 1)),
    ("NLLLoss", {"weight": W4, "ignore_index": 1}, [np.log(_probs(5, 4)), _labels(5, 4)], (0,)),
    (
        "CrossEntropyLoss",
        {"weight": W4, "label_smoothing": 0.1},
        [R.standard_normal((5, 4)), _labels(5, 4)],
        (0,),
    ),
    ("PoissonNLLLoss", {"full": True}, [R.standard_normal((3, 4)), R.poisson(2.0, (3, 4)) * 1.0], (0,)),
    ("GaussianNLLLoss", {"full": True}, [R.standard_normal((3, 4)), R.standard_normal((3, 4)), _probs(3, 4)], (0, 1, 2)),
    ("KLDivLoss", {"reduction": "batchmean"}, [np.log(_probs(3, 4)), _probs(3, 4)], (0, 1)),
    ("BCELoss", {"weight": W4}, [_probs(3, 4), _probs(3, 4)], (0, 1)),
    ("BCEWithLogitsLoss", {"pos_weight": W4}, [R.standard_normal((3, 4)), _probs(3, 4)], (0, 1)),
    ("HingeEmbeddingLoss", {"margin": 0.5}, [R.standard_normal((3, 4)), R.choice([-1.0, 1.0], (3, 4))], (0,)),
    (
        "MultiLabelMarginLoss",
        {},
        [R.standard_normal((2, 4)), np.array([[3, 0, -1, 1], [1, 2, 3, -1]])],
        (0,),
    ),
    ("SmoothL1Loss", {"beta": 0.5}, [R.standard_normal((3, 4)), R.standard_normal((3, 4))], (0, 1)),
    ("HuberLoss", {"delta": 0.5}, [R.standard_normal((3, 4)), R.standard_normal((3, 4))], (0, 1)),
    ("SoftMarginLoss", {}, [R.standard_normal((3, 4)), R.choice([-1.0, 1.0], (3, 4))], (0,)),
    ("MultiLabelSoftMarginLoss", {"weight": W4}, [R.standard_normal((3, 4)), R.integers(0, 2, (3, 4)) * 1.0], (0,)),
    (
        "CosineEmbeddingLoss",
        {"margin": 0.2},
        [R.standard_normal((3, 4)), R.standard_normal((3, 4)), np.array([1.0, -1.0, 1.0])],
        (0, 1),
    ),
    (
        "MarginRankingLoss",
        {"margin": 0.1},
        [R.standard_normal(5), R.standard_normal(5), R.choice([-1.0, 1.0], 5)],
        (0, 1),
    ),
    ("MultiMarginLoss", {"p": 2, "margin": 0.7, "weight": W4}, [R.standard_normal((5, 4)), _labels(5, 4)], (0,)),
    (
        "TripletMarginLoss",
        {"margin": 0.5, "swap": True},
        [R.standard_normal((3, 4)), R.standard_normal((3, 4)), R.standard_normal((3, 4))],
        (0, 1, 2),
    ),
    (
        "TripletMarginWithDistanceLoss",
        {"margin": 2.0},
        [R.standard_normal((3, 4)), R.standard_normal((3, 4)), R.standard_normal((3, 4))],
        (0, 1, 2),
    ),
]


def _to_torch_kwargs(kwargs):
    return {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


@pytest.mark.parametrize("name,kwargs,args,diff", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_class_matches_torch(name, kwargs, args, diff, dtype):
    cast = {k: v.astype(dtype) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v for k, v in kwargs.items()}
    ours = getattr(jnn, name)(**{k: jnp.asarray(v) if isinstance(v, np.ndarray) else v for k, v in cast.items()})
    ref = getattr(torch.nn, name)(**_to_torch_kwargs(cast))
    compare(lambda *a: ours(*a), lambda *a: ref(*a), args, diff=diff, dtype=dtype, jit=True)


def test_ctc_class_matches_torch():
    t, n, c, s = 12, 3, 5, 4
    logp = np.log(R.dirichlet(np.ones(c), (t, n)))
    targets = R.integers(1, c, (n, s))
    in_len = np.array([12, 10, 9])
    tgt_len = np.array([4, 2, 3])
    ours = jnn.CTCLoss(blank=0, reduction="sum", zero_infinity=True)
    ref = torch.nn.CTCLoss(blank=0, reduction="sum", zero_infinity=True)
    compare(lambda *a: ours(*a), lambda *a: ref(*a), [logp, targets, in_len, tgt_len], diff=(0,))


def test_linear_cross_entropy_class_takes_weight_at_call_time():
    x, w, b = R.standard_normal((6, 5)), R.standard_normal((7, 5)), R.standard_normal(7)
    y = _labels(6, 7)
    ours = jnn.LinearCrossEntropyLoss(label_smoothing=0.2, reduction="sum")
    ref = lambda x, w, y, b: torch.nn.functional.linear_cross_entropy(  # noqa: E731
        x, w, y, linear_bias=b, label_smoothing=0.2, reduction="sum"
    )
    compare(lambda *a: ours(*a), ref, [x, w, y, b], diff=(0, 1, 3))


def test_objects_are_immutable_hashable_and_static_jit_args():
    a = jnn.CrossEntropyLoss(label_smoothing=0.1)
    b = jnn.CrossEntropyLoss(label_smoothing=0.1)
    assert a == b and hash(a) == hash(b)
    assert a != jnn.CrossEntropyLoss(label_smoothing=0.2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.label_smoothing = 0.3  # type: ignore[misc]
    w = jnp.ones(3)
    c = jnn.NLLLoss(weight=w)
    assert hash(c) == hash(jnn.NLLLoss(weight=w))  # arrays compare by identity
    traces = []

    @jax.jit
    def run(x, y):
        return jax.jit(lambda fn, x, y: (traces.append(1), fn(x, y))[1], static_argnums=0)(a, x, y)

    x, y = jnp.zeros((2, 3)), jnp.array([0, 1])
    run(x, y)
    run(x + 1, y)
    assert len(traces) == 1


def test_legacy_flags_map_to_reduction_with_warning():
    with pytest.warns(DeprecationWarning, match="size_average and reduce are deprecated"):
        loss = jnn.MSELoss(size_average=False)
    assert loss.reduction == "sum" and loss.size_average is None
    with pytest.warns(DeprecationWarning):
        assert jnn.L1Loss(reduce=False).reduction == "none"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert jnn.L1Loss().reduction == "mean"


@pytest.mark.parametrize(
    "factory,match",
    [
        (lambda: jnn.MSELoss(reduction="avg"), "MSELoss: reduction must be one of"),
        (lambda: jnn.MultiMarginLoss(p=3), "MultiMarginLoss: p must be 1 or 2"),
        (lambda: jnn.KLDivLoss(reduction="batch"), "KLDivLoss: reduction must be one of"),
    ],
)
def test_bad_options_raise(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


def test_constructor_signatures_match_torch():
    for name in jnn.__all__:
        if name == "LinearCrossEntropyLoss":
            continue  # torch's owns the layer's parameters; ours takes them at call time
        if not hasattr(torch.nn, name):
            continue  # not a torch class (pml's and rax's losses; tested beside their functions)
        ours = inspect.signature(getattr(jnn, name)).parameters
        theirs = dict(inspect.signature(getattr(torch.nn, name).__init__).parameters)
        theirs.pop("self")
        assert list(ours) == list(theirs), name
        for p in theirs.values():
            assert ours[p.name].default == p.default, (name, p.name)
            assert ours[p.name].kind == p.kind, (name, p.name)


def test_kldiv_batchmean_allowed():
    assert jnn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
