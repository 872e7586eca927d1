"""The public surface: explicit __all__, every name documented, tested and in the catalogue; torch signatures."""

from __future__ import annotations

import inspect
import pathlib

import pytest
import torch.nn.functional as F

import jaxloss
from jaxloss import losses, nn, optax_losses
from jaxloss._src.catalogue import entries

TESTS = pathlib.Path(__file__).parent
DOCS = TESTS.parent / "docs"
PUBLIC_MODULES = [jaxloss, losses, nn, optax_losses]
NOT_LOSSES = {"LinearCrossEntropyOptions", "make_fenchel_young_loss", "smooth_labels"}


def _test_sources() -> str:
    skip = {"test_public_api.py", "test_transforms.py"}
    return "\n".join(p.read_text() for p in TESTS.glob("test_*.py") if p.name not in skip)


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda m: m.__name__)
def test_all_is_explicit_sorted_and_resolvable(module):
    names = module.__all__
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(module, name), f"{module.__name__}.{name} in __all__ but missing"


@pytest.mark.parametrize("module", [losses, nn, optax_losses], ids=lambda m: m.__name__)
def test_every_public_name_is_documented_and_tested(module):
    sources = _test_sources()
    for name in module.__all__:
        obj = getattr(module, name)
        doc = inspect.getdoc(obj) or ""
        assert doc.strip(), f"{module.__name__}.{name} has no docstring"
        assert name in sources, f"{module.__name__}.{name} is not exercised by any test file"


def test_every_loss_function_is_in_the_catalogue():
    registered = {s.qualname for s in entries()}
    for module in (losses, optax_losses):
        for name in module.__all__:
            if name in NOT_LOSSES:
                continue
            assert f"{module.__name__}.{name}" in registered, (
                f"{module.__name__}.{name} not registered"
            )
    assert {s.fn for s in entries()} <= {
        getattr(m, n) for m in (losses, optax_losses) for n in m.__all__
    }


def test_every_catalogue_entry_names_its_reference_and_family():
    for spec in entries():
        assert spec.reference and spec.family, spec.qualname
        args, _kwargs = spec.example(__import__("numpy").random.default_rng(0))
        assert all(0 <= i < len(args) for i in spec.diff), spec.qualname


@pytest.mark.parametrize("name", losses.TORCH_FUNCTIONS)
def test_torch_functions_have_torch_signatures(name):
    ours = inspect.signature(getattr(losses, name)).parameters
    ref = getattr(F, name)
    try:
        theirs = inspect.signature(ref).parameters
    except ValueError:  # C builtins (pairwise_distance, cosine_similarity): documented signatures
        theirs = None
    if theirs is None:
        expected = {
            "pairwise_distance": [
                ("x1", None),
                ("x2", None),
                ("p", 2.0),
                ("eps", 1e-6),
                ("keepdim", False),
            ],
            "cosine_similarity": [("x1", None), ("x2", None), ("dim", 1), ("eps", 1e-8)],
        }[name]
        assert [
            (p, ours[p].default if ours[p].default is not inspect.Parameter.empty else None)
            for p, _ in expected
        ] == expected
        assert list(ours) == [p for p, _ in expected]
        return
    assert list(ours) == list(theirs), name
    for p in theirs.values():
        assert ours[p.name].kind == p.kind, (name, p.name)
        assert ours[p.name].default == p.default, (name, p.name)


def test_top_level_namespace():
    assert jaxloss.__version__
    for name in (
        "losses",
        "nn",
        "optax_losses",
        "checked",
        "per_example",
        "masked_mean",
        "make_value_fn",
        "make_loss_fn",
    ):
        assert name in jaxloss.__all__
        assert getattr(jaxloss, name) is not None
