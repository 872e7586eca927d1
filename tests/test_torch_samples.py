"""PyTorch's own test inputs through jaxloss (see tests/torch_opinfo.py for how they are generated).

For every loss OpInfo (``op_db``: sample and reference inputs, every variant) and every loss ModuleInfo
(``module_db``) that jaxloss exports, in float64 and float32: value, dtype, shape and the gradient of every
argument torch differentiates, eagerly and under ``jit``; for float64, ``jvp`` against ``vjp`` and ``vmap``
against separate calls; every error input must raise. Cases that compile to the same program form a group
(one ``jit`` compilation serves the group).

Selection: ``JAXLOSS_TORCH_SAMPLES=all`` runs every group; the default, an integer ``k`` (8), runs ``k``
groups per (op, dtype) spread evenly over torch's list, every case in them, which keeps the suite's time
bounded while each op's option combinations are sampled. ``python tests/torch_opinfo.py`` runs every sample
and prints the counts per op.
"""

from __future__ import annotations

import functools
import os

import pytest

from tests import torch_opinfo as T

SELECT = os.environ.get("JAXLOSS_TORCH_SAMPLES", "8")


@functools.cache
def _by_source() -> dict[tuple[str, str], list[list[T.Case]]]:
    out: dict[tuple[str, str], list] = {}
    for g in T.groups(T.all_cases()[0]):
        out.setdefault((g[0].source, g[0].dtype), []).append(g)
    return out


def _params():
    return [
        pytest.param(src, dtype, i, id=f"{src}-{dtype}-group{i}")
        for (src, dtype), gs in _by_source().items()
        for i in T.pick(len(gs), SELECT)
    ]


@pytest.mark.parametrize("source,dtype,index", _params())
def test_torch_sample_group(source, dtype, index):
    problems, _ = T.check_group(_by_source()[(source, dtype)][index])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("case", T.all_cases()[1], ids=lambda c: c.id)
def test_torch_error_input(case):
    problem = T.check_error(case)
    assert problem is None, problem


def test_every_torch_loss_is_covered():
    """Every loss OpInfo and loss ModuleInfo torch has is run: none is missing from jaxloss's faces."""
    from torch.testing._internal.common_methods_invocations import op_db
    from torch.testing._internal.common_modules import module_db

    import jaxloss.losses as L

    sources = {c.source for c in T.all_cases()[0]}
    torch_ops = {
        o.name for o in op_db if o.name.removeprefix("nn.functional.") in L.TORCH_FUNCTIONS
    }
    torch_modules = {
        f"nn.{m.module_cls.__name__}" for m in module_db if m.module_cls.__name__.endswith("Loss")
    }
    assert len(torch_ops) >= 20 and len(torch_modules) >= 20
    assert torch_ops <= {".".join(s.split(".")[:3]) for s in sources}
    assert torch_modules <= sources


def test_deviations_are_documented():
    """Each documented deviation names a section of docs/numerics.md that exists."""
    import pathlib

    numerics = (pathlib.Path(__file__).parent.parent / "docs" / "numerics.md").read_text()
    for key, entry in T.DEVIATIONS.items():
        assert entry["doc"] in numerics, (key, entry["doc"])
