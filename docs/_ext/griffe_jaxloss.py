"""Griffe extension used by the docs build (mkdocs.yml -> mkdocstrings -> extensions).

It adapts what griffe reads statically to what Python sees at run time, without touching the package:

* docstrings completed at import time (``fn.__doc__ = fn.__doc__.format(args=...)``) are replaced by the
  run-time docstring, so shared parameter lists are rendered instead of ``{args}``;
* a one-word ``Example:`` section is read as griffe's ``Examples:`` section, so doctests render as code;
* reStructuredText the docstrings use for the Sphinx-minded reader is turned into what the Markdown build
  renders: ``.. math::`` blocks and ``:math:`...``` roles become MathJax ``$$ ... $$`` / ``\\( ... \\)``
  (pymdownx.arithmatex), cross-reference roles (``:func:`x```, ``:class:`x```...) become inline code;
* classes made by a factory (``MSELoss = _loss_class(...)`` in ``jaxloss/nn.py``), which griffe reads statically as
  module attributes, become classes with their run-time docstring and their dataclass fields;
* the wrappers that ``jaxloss/__init__.py`` imports lazily (module ``__getattr__``) become aliases of
  ``jaxloss._src.wrappers``, so ``::: jaxloss.per_example`` resolves.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
from typing import Any

import griffe

_EXAMPLE_HEADING = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)
_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_XREF_ROLE = re.compile(r":(?:func|class|mod|meth|data|attr|obj|exc|const|py:\w+):`~?([^`]+)`")
_MATH_BLOCK = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<first>.*)$")


def _rst_to_markdown(text: str) -> str:
    text = _MATH_ROLE.sub(lambda m: "\\(" + m.group(1) + "\\)", text)
    text = _XREF_ROLE.sub(lambda m: "`" + m.group(1) + "`", text)
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _MATH_BLOCK.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        indent = m.group("indent")
        body = [m.group("first").strip()] if m.group("first").strip() else []
        i += 1
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > len(indent)
        ):
            if not lines[i].strip():
                # a blank line ends the block unless the next line is still indented deeper
                nxt = lines[i + 1] if i + 1 < len(lines) else ""
                if not nxt.strip() or len(nxt) - len(nxt.lstrip()) <= len(indent):
                    break
            body.append(lines[i].strip())
            i += 1
        if out and out[-1].strip():
            out.append("")
        out += [indent + "$$", *(indent + b for b in body if b), indent + "$$"]
        if i < len(lines) and lines[i].strip():
            out.append("")
    return "\n".join(out)


_LAZY = {
    "jaxloss": (
        "jaxloss._src.wrappers",
        ("make_loss_fn", "make_value_fn", "masked_mean", "per_example"),
    )
}


def _runtime_doc(obj: griffe.Object) -> str | None:
    try:
        module = importlib.import_module(obj.module.path)
        target: Any = module
        for part in obj.path[len(obj.module.path) + 1 :].split("."):
            target = getattr(target, part)
    except Exception:
        return None
    doc = getattr(target, "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) else None


class JaxlossDocs(griffe.Extension):
    def _fix(self, obj: griffe.Object) -> None:
        if obj.docstring is None:
            return
        value = obj.docstring.value
        if "{" in value:
            runtime = _runtime_doc(obj)
            if runtime and runtime != value:
                value = runtime
        value = _EXAMPLE_HEADING.sub(r"\1Examples:", value)
        value = _rst_to_markdown(value)
        if value != obj.docstring.value:
            obj.docstring = griffe.Docstring(
                value,
                lineno=obj.docstring.lineno,
                endlineno=obj.docstring.endlineno,
                parent=obj,
                parser=obj.docstring.parser,
                parser_options=obj.docstring.parser_options,
            )

    def on_function(self, *, func: griffe.Function, **kwargs: Any) -> None:
        self._fix(func)

    def on_class(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        self._fix(cls)

    def on_module(self, *, mod: griffe.Module, **kwargs: Any) -> None:
        self._fix(mod)

    def on_module_members(self, *, mod: griffe.Module, **kwargs: Any) -> None:
        factory_made = [
            n
            for n, m in mod.members.items()
            if isinstance(m, griffe.Attribute)
            and m.value is not None
            and str(m.value).startswith("_loss_class(")
        ]
        if not factory_made:
            return
        module = importlib.import_module(mod.path)
        for name in factory_made:
            attr, runtime = mod.members[name], getattr(module, name)
            cls = griffe.Class(
                name,
                lineno=attr.lineno,
                endlineno=attr.endlineno,
                bases=[b.__name__ for b in runtime.__bases__],
            )
            cls.docstring = griffe.Docstring(
                inspect.cleandoc(runtime.__doc__),
                lineno=attr.lineno,
                endlineno=attr.endlineno,
                parent=cls,
            )
            for field in dataclasses.fields(runtime):
                default = (
                    None
                    if field.default is dataclasses.MISSING
                    else (
                        field.default.__name__
                        if inspect.isfunction(field.default)
                        else repr(field.default)
                    )
                )
                member = griffe.Attribute(
                    field.name, value=default, lineno=attr.lineno, endlineno=attr.endlineno
                )
                member.labels |= {"class-attribute", "instance-attribute"}
                cls.set_member(field.name, member)
            mod.set_member(name, cls)
            self._fix(cls)

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.name in _LAZY:
            source, names = _LAZY[pkg.name]
            for name in names:
                if name not in pkg.members:
                    pkg.set_member(name, griffe.Alias(name, f"{source}.{name}", parent=pkg))
