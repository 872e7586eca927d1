"""The package's import layers (issue 13), checked statically over every module's imports, lazy ones included.

Layers, lowest first (a module may import only from its own layer's rules and the layers below it):

1. ``jaxloss._src.core.*``: imports only core;
2. ``jaxloss._src.families.<family>``: imports only core, and within a family package its own modules; families
   never import each other;
3. the faces ``jaxloss``, ``jaxloss.losses``, ``jaxloss.nn``, ``jaxloss.optax_losses``, ``jaxloss._src.wrappers``,
   ``jaxloss._src.objects`` (the machinery of ``jaxloss.nn``):
   import core, families and faces;
4. ``jaxloss._src.catalogue``: imports the faces and core;
5. ``jaxloss.cli.*`` and ``jaxloss.__main__``: may import anything; nothing else imports them.

And the graph of module imports has no cycle (a package's ``__init__`` reaching its own submodules excepted).
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / "jaxloss"
FACES = {
    "jaxloss",
    "jaxloss.losses",
    "jaxloss.nn",
    "jaxloss.optax_losses",
    "jaxloss._src.wrappers",
    "jaxloss._src.objects",
}


def _modules() -> dict[str, pathlib.Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: pathlib.Path) -> set[str]:
    """The jaxloss modules that ``name`` imports (resolving ``from pkg import submodule``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "jaxloss"}
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.split(".")[0] == "jaxloss"
        ):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(name: str) -> str:
    if name.startswith("jaxloss._src.core"):
        return "core"
    if name.startswith("jaxloss._src.families."):
        return "family"
    if name in FACES:
        return "face"
    if name == "jaxloss._src.catalogue":
        return "catalogue"
    if name.startswith("jaxloss.cli") or name == "jaxloss.__main__":
        return "cli"
    if name in ("jaxloss._src", "jaxloss._src.families"):
        return "package"
    raise AssertionError(f"{name} belongs to no layer; add it to tests/test_layering.py's layers")


def _family(name: str) -> str:
    return name.split(".")[3]


ALLOWED = {
    "core": {"core"},
    "family": {"core", "family"},
    "face": {"core", "family", "face", "package"},
    "catalogue": {"core", "face"},
    "cli": {"core", "family", "face", "catalogue", "cli", "package"},
    "package": set(),
}


def test_every_module_is_in_a_layer_and_the_tree_is_found():
    assert len(MODULES) > 30
    for name in MODULES:
        _layer(name)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_respect_the_layers(name):
    layer = _layer(name)
    for dep in GRAPH[name]:
        dep_layer = _layer(dep)
        assert dep_layer in ALLOWED[layer], f"{name} ({layer}) imports {dep} ({dep_layer})"
        if layer == "family" and dep_layer == "family":
            assert _family(dep) == _family(name), f"family {name} imports another family, {dep}"


def test_the_families_and_the_core_are_where_the_docs_say():
    families = {_family(n) for n in MODULES if _layer(n) == "family"}
    assert {"regression", "classification", "metric", "ranking", "ctc"} <= families
    core = {n.rsplit(".", 1)[1] for n in MODULES if _layer(n) == "core"}
    assert {"reduction", "validation", "registry", "kernels", "numerics", "norms"} <= core


def test_no_import_cycles():
    def parent_of(a: str, b: str) -> bool:  # a package reaching into its own submodules
        return b.startswith(a + ".")

    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for d in sorted(GRAPH[n]):
            if parent_of(n, d) or parent_of(d, n):
                continue
            if state.get(d) == 1:
                cycle = stack[stack.index(d) :] + [d]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if d not in state:
                visit(d)
        stack.pop()
        state[n] = 2

    for n in sorted(GRAPH):
        if n not in state:
            visit(n)
