"""jaxloss.nn classes against torch.nn's (torch 2.13.0, computed in this run on the same inputs)."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxloss import losses as jl
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
    (
        "MSELoss",
        {"reduction": "sum"},
        [R.standard_normal((3, 4)), R.standard_normal((3, 4))],
        (0, 1),
    ),
    ("NLLLoss", {"weight": W4, "ignore_index": 1}, [np.log(_probs(5, 4)), _labels(5, 4)], (0,)),
    (
        "CrossEntropyLoss",
        {"weight": W4, "label_smoothing": 0.1},
        [R.standard_normal((5, 4)), _labels(5, 4)],
        (0,),
    ),
    (
        "PoissonNLLLoss",
        {"full": True},
        [R.standard_normal((3, 4)), R.poisson(2.0, (3, 4)) * 1.0],
        (0,),
    ),
    (
        "GaussianNLLLoss",
        {"full": True},
        [R.standard_normal((3, 4)), R.standard_normal((3, 4)), _probs(3, 4)],
        (0, 1, 2),
    ),
    ("KLDivLoss", {"reduction": "batchmean"}, [np.log(_probs(3, 4)), _probs(3, 4)], (0, 1)),
    ("BCELoss", {"weight": W4}, [_probs(3, 4), _probs(3, 4)], (0, 1)),
    ("BCEWithLogitsLoss", {"pos_weight": W4}, [R.standard_normal((3, 4)), _probs(3, 4)], (0, 1)),
    (
        "HingeEmbeddingLoss",
        {"margin": 0.5},
        [R.standard_normal((3, 4)), R.choice([-1.0, 1.0], (3, 4))],
        (0,),
    ),
    (
        "MultiLabelMarginLoss",
        {},
        [R.standard_normal((2, 4)), np.array([[3, 0, -1, 1], [1, 2, 3, -1]])],
        (0,),
    ),
    ("SmoothL1Loss", {"beta": 0.5}, [R.standard_normal((3, 4)), R.standard_normal((3, 4))], (0, 1)),
    ("HuberLoss", {"delta": 0.5}, [R.standard_normal((3, 4)), R.standard_normal((3, 4))], (0, 1)),
    ("SoftMarginLoss", {}, [R.standard_normal((3, 4)), R.choice([-1.0, 1.0], (3, 4))], (0,)),
    (
        "MultiLabelSoftMarginLoss",
        {"weight": W4},
        [R.standard_normal((3, 4)), R.integers(0, 2, (3, 4)) * 1.0],
        (0,),
    ),
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
    (
        "MultiMarginLoss",
        {"p": 2, "margin": 0.7, "weight": W4},
        [R.standard_normal((5, 4)), _labels(5, 4)],
        (0,),
    ),
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
    cast = {
        k: v.astype(dtype) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
        for k, v in kwargs.items()
    }
    ours = getattr(jnn, name)(
        **{k: jnp.asarray(v) if isinstance(v, np.ndarray) else v for k, v in cast.items()}
    )
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
    ref = lambda x, w, y, b: torch.nn.functional.linear_cross_entropy(
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


# torch.nn's loss modules that jaxloss.nn does not have, and why
NOT_PORTED = {
    "NLLLoss2d": "deprecated by torch (FutureWarning); NLLLoss is its drop-in replacement"
}
# LinearCrossEntropyLoss: torch's class owns the linear layer; ours takes its parameters at call time
LAYER_PARAMETERS = ("in_features", "num_classes", "out_features", "bias", "device", "dtype")


def _torch_loss_modules():
    from torch.nn.modules import loss

    return sorted(
        name
        for name, cls in vars(loss).items()
        if inspect.isclass(cls) and issubclass(cls, loss._Loss) and not name.startswith("_")
    )


def test_the_torch_loss_modules_are_found():
    assert {"MSELoss", "CrossEntropyLoss", "CTCLoss", "LinearCrossEntropyLoss"} <= set(
        _torch_loss_modules()
    )


@pytest.mark.parametrize("name", _torch_loss_modules())
def test_every_torch_loss_module_has_its_constructor_signature(name):
    if name in NOT_PORTED:
        assert not hasattr(jnn, name)
        return
    ours = list(inspect.signature(getattr(jnn, name)).parameters.values())
    theirs = list(inspect.signature(getattr(torch.nn, name).__init__).parameters.values())[1:]
    if name == "LinearCrossEntropyLoss":
        theirs = [p for p in theirs if p.name not in LAYER_PARAMETERS]
    assert [p.name for p in ours] == [p.name for p in theirs]
    for a, b in zip(ours, theirs):
        assert a.kind == b.kind, (name, a.name)
        assert a.default == b.default and type(a.default) is type(b.default), (name, a.name)


# where a class deliberately differs from its function: parameters torch's class (or the reference's) lacks,
# fields keyword-only where the function's parameter is not, fields in another order
EXCLUDED = {
    "L1Loss": {"weight"},
    "MSELoss": {"weight"},
    "HuberLoss": {"weight"},
    **{n: {"return_rewards"} for n in ("DPOLoss", "SimPOLoss", "CPOLoss", "ORPOLoss", "KTOLoss")},
}
KEYWORD_ONLY = {
    "GaussianNLLLoss",
    "PolicyGradientLoss",
    "ClippedSurrogatePGLoss",
    "ClippedValueLoss",
}
REORDERED = {"LinearCrossEntropyLoss"}
REQUIRED = {
    "ClippedSurrogatePGLoss": {"epsilon": 0.1},
    "ClippedValueLoss": {"epsilon": 0.2},
    "RankedListLoss": {"margin": 0.4, "Tn": 1.0},
}


@pytest.mark.parametrize("name", jnn.__all__)
def test_fields_are_the_functions_hyper_parameters(name):
    cls = getattr(jnn, name)
    function = cls._function
    assert function is getattr(jl, function.__name__)
    params = list(inspect.signature(function).parameters.values())
    data = len(cls._data)
    assert [p.name for p in params[:data]] == list(cls._call.parameters)
    hyper = [p for p in params[data:] if p.name not in EXCLUDED.get(name, set())]
    assert {p.name for p in params[data:]} - {p.name for p in hyper} == EXCLUDED.get(name, set())
    fields = {f.name: f for f in dataclasses.fields(cls)}
    names = [p.name for p in hyper]
    assert (sorted(fields) == sorted(names)) if name in REORDERED else (list(fields) == names)
    for p in hyper:
        f = fields[p.name]
        default = inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
        assert default == p.default, (name, p.name)
        assert f.kw_only == (p.kind is p.KEYWORD_ONLY or name in KEYWORD_ONLY), (name, p.name)
    assert cls.__module__ == "jaxloss.nn" and cls.__qualname__ == name
    assert inspect.getdoc(cls).endswith(f"Calls :func:`jaxloss.losses.{function.__name__}`.")


@pytest.mark.parametrize("name", jnn.__all__)
def test_objects_compare_hash_pickle_replace_and_repr_by_options(name):
    cls = getattr(jnn, name)
    options = REQUIRED.get(name, {})
    obj = cls(**options)
    assert obj == cls(**options) and hash(obj) == hash(cls(**options))
    assert pickle.loads(pickle.dumps(obj)) == obj
    other = dataclasses.replace(obj, reduction="sum" if obj.reduction != "sum" else "none")
    assert type(other) is cls and other != obj and other.reduction != obj.reduction
    assert dataclasses.replace(other, reduction=obj.reduction) == obj
    assert pickle.loads(pickle.dumps(other)) == other
    text = repr(other)
    assert text.startswith(f"{name}(") and f"reduction={other.reduction!r}" in text
    assert all(f"{f.name}=" in text for f in dataclasses.fields(cls))
    with pytest.raises(dataclasses.FrozenInstanceError):
        obj.reduction = "sum"  # type: ignore[misc]


def test_a_dataclasses_replace_of_a_legacy_object_does_not_warn():
    loss = jnn.CrossEntropyLoss(label_smoothing=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert dataclasses.replace(loss, reduction="sum") == jnn.CrossEntropyLoss(
            reduction="sum", label_smoothing=0.1
        )


LEGACY = [
    n
    for n in _torch_loss_modules()
    if n not in NOT_PORTED and "size_average" in inspect.signature(getattr(torch.nn, n)).parameters
]


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_arguments_map_as_torch_maps_them(name):
    assert len(LEGACY) >= 15
    for size_average in (None, True, False):
        for reduce in (None, True, False):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ours = getattr(jnn, name)(size_average=size_average, reduce=reduce, reduction="sum")
                theirs = getattr(torch.nn, name)(
                    size_average=size_average, reduce=reduce, reduction="sum"
                )
            assert ours.reduction == theirs.reduction, (name, size_average, reduce)
            assert ours.size_average is None and ours.reduce is None
    assert (
        "size_average" not in inspect.signature(jnn.HuberLoss).parameters
    )  # torch's HuberLoss has none


def test_call_takes_the_data_arguments_positionally_or_by_name():
    x, y = jnp.asarray(R.standard_normal((3, 4))), jnp.asarray(R.standard_normal((3, 4)))
    loss = jnn.MSELoss(reduction="sum")
    assert (
        float(loss(x, y))
        == float(loss(input=x, target=y))
        == float(jl.mse_loss(x, y, reduction="sum"))
    )
    with pytest.raises(TypeError):
        loss(x, y, reduction="mean")  # an option is not a call argument
    with pytest.raises(TypeError):
        loss(x, y, x)
    scores, labels = jnp.asarray(R.standard_normal(5)), jnp.asarray(R.integers(0, 3, 5) * 1.0)
    where = jnp.array([True, True, False, True, True])
    ranking = jnn.PairwiseQRLoss(tau=0.3)
    assert float(ranking(scores, labels, where=where)) == float(
        jl.pairwise_qr_loss(scores, labels, where=where, tau=0.3)
    )


def test_objects_are_static_fields_of_a_haiku_module():
    import haiku as hk

    class Head(hk.Module):
        def __init__(self, loss_fn):
            super().__init__()
            self.loss_fn = loss_fn

        def __call__(self, x, y):
            return self.loss_fn(hk.Linear(3)(x), y)

    loss_fn = jnn.CrossEntropyLoss(label_smoothing=0.1)
    net = hk.without_apply_rng(hk.transform(lambda x, y: Head(loss_fn)(x, y)))
    x, y = jnp.asarray(R.standard_normal((4, 5))), jnp.array([0, 2, 1, 0])
    params = net.init(jax.random.key(0), x, y)
    value = jax.jit(net.apply)(params, x, y)
    (linear,) = params.values()
    expected = jl.cross_entropy(x @ linear["w"] + linear["b"][None], y, label_smoothing=0.1)
    np.testing.assert_allclose(float(value), float(expected), rtol=1e-6)


def test_kldiv_batchmean_allowed():
    assert jnn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
