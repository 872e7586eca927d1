"""Every public loss's docstring follows the one template (see docs/design.md, "Docstrings"):

1. a one-line summary, then a blank line;
2. the math (a ``.. math::`` block or inline ``:math:``), or, for a loss whose definition is its reference's
   code, the formula in ``literal`` form;
3. ``Args:`` (one entry per parameter, in the signature's order);
4. ``Returns:``;
5. ``Example:`` with a doctest (``>>>``), which ``--doctest-modules`` runs;
6. ``Reference:``: the function, paper or package version it matches.

The shape-letter legend (``B``, ``C``, ``D``, ``T``, ...) is written once, in ``docs/shapes.md``.
"""

from __future__ import annotations

import inspect
import re

import pytest

from jaxloss._src.catalogue import entries

SPECS = entries()
SECTIONS = ("Args:", "Returns:", "Example:", "Reference:")


def _doc(spec) -> str:
    return inspect.getdoc(spec.fn) or ""


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.qualname)
def test_docstring_follows_the_template(spec):
    doc = _doc(spec)
    lines = doc.splitlines()
    assert lines and lines[0].strip(), f"{spec.qualname}: no one-line summary"
    assert len(lines) > 1 and not lines[1].strip(), (
        f"{spec.qualname}: the summary must be one line, then a blank line"
    )
    where = []
    for section in SECTIONS:
        found = [i for i, line in enumerate(lines) if line.startswith(section)]
        assert len(found) == 1, (
            f"{spec.qualname}: expected one {section!r} section, found {len(found)}"
        )
        where.append(found[0])
    assert where == sorted(where), f"{spec.qualname}: sections out of order; want {SECTIONS}"
    body = "\n".join(lines[1 : where[0]])
    assert re.search(r"math::|:math:|``[^`]*[=<>][^`]*``", body), (
        f"{spec.qualname}: no math before Args:"
    )
    assert ">>>" in "\n".join(lines[where[2] : where[3]]), (
        f"{spec.qualname}: the Example has no doctest"
    )
    reference = "\n".join(lines[where[3] :])
    assert len(reference.split(":", 1)[1].strip()) > 5, f"{spec.qualname}: empty Reference"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.qualname)
def test_args_name_every_parameter_in_order(spec):
    doc = _doc(spec)
    args = doc.split("Args:", 1)[1].split("Returns:", 1)[0]
    documented = re.findall(r"^  (\*{0,2}\w+)(?: \([^)]*\))?:", args, re.M)
    params = [
        ("*" if p.kind is p.VAR_POSITIONAL else "**" if p.kind is p.VAR_KEYWORD else "") + p.name
        for p in inspect.signature(spec.fn).parameters.values()
    ]
    documented = [d for d in documented if d.lstrip("*") in {p.lstrip("*") for p in params}]
    assert [d.lstrip("*") for d in documented] == [p.lstrip("*") for p in params], (
        f"{spec.qualname}: Args documents {documented}, the signature has {params}"
    )
