"""The machinery behind :mod:`jaxloss.nn`: one factory that derives a torch.nn-style loss class from its function.

A loss object only stores options and hands them to its function, so its class is derived from the function's
signature: after the ``data`` leading data arguments, every parameter is a field, with its name, order, default
and keyword-only-ness; the object's call takes the data arguments. A class whose torch counterpart differs from
the function says so with an option (``exclude``, ``order``, ``kw_only``, ``defaults``, ``choices``,
``reductions``) instead of being written by hand.

The classes are frozen dataclasses (``dataclasses.fields``, ``replace`` and ``repr`` work), compare and hash by
their options (arrays by identity), pickle by name, and so are safe as static fields of Flax/Haiku/Equinox
modules and as static arguments of :func:`jax.jit`.
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from jaxloss._src.core import reduction as R

_LEGACY = ("size_average", "reduce")


def _key(value: Any) -> Any:
    """Hashable stand-in for a field: arrays (and other unhashable values) by identity."""
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return value


class _Loss:
    """Base of every loss object: immutable, compared and hashed by its options."""

    # set by the factory on each class (declared here for type checkers)
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]
    reduction: str
    size_average: Any
    reduce: Any
    _function: ClassVar[Callable[..., Any]]
    #: the function's data parameters, and the signature of the object's call that takes them
    _data: ClassVar[tuple[inspect.Parameter, ...]]
    _call: ClassVar[inspect.Signature]
    #: whether the class takes torch's deprecated ``size_average``/``reduce`` (mapped to ``reduction``)
    _legacy: ClassVar[bool]
    _reductions: ClassVar[tuple[str, ...]]
    #: field name -> the values it may take
    _choices: ClassVar[Mapping[str, tuple[Any, ...]]]

    def __post_init__(self) -> None:
        name = type(self).__name__
        if self._legacy:
            reduction = R.legacy_reduction(name, self.size_average, self.reduce, self.reduction)
            object.__setattr__(self, "size_average", None)
            object.__setattr__(self, "reduce", None)
            object.__setattr__(self, "reduction", reduction)
        R.validate_reduction(name, self.reduction, self._reductions)
        for field, allowed in self._choices.items():
            if getattr(self, field) not in allowed:
                expected = " or ".join(repr(a) for a in allowed)
                raise ValueError(
                    f"{name}: {field} must be {expected}; got {getattr(self, field)!r}"
                )

    def _options(self) -> dict[str, Any]:
        legacy = _LEGACY if self._legacy else ()
        return {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in legacy
        }

    def __call__(self, *args: Any, **data: Any) -> Any:
        bound = self._call.bind(*args, **data).arguments
        # positional as far as the caller gave them without a gap, by name from there (and where the
        # function's parameter is keyword-only)
        positional: list[Any] = []
        named: dict[str, Any] = {}
        for i, p in enumerate(self._data):
            if p.name not in bound:
                continue
            if p.kind is p.KEYWORD_ONLY or len(positional) < i:
                named[p.name] = bound[p.name]
            else:
                positional.append(bound[p.name])
        return type(self)._function(*positional, **named, **self._options())

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(
            _key(getattr(self, f.name)) == _key(getattr(other, f.name))
            for f in dataclasses.fields(self)
        )

    def __hash__(self) -> int:
        return hash(
            (type(self).__name__,)
            + tuple(_key(getattr(self, f.name)) for f in dataclasses.fields(self))
        )


def _annotation(p: inspect.Parameter) -> Any:
    """A field's annotation: the parameter's, else its default's type, else ``Any``."""
    if p.annotation is not p.empty:
        return p.annotation
    if isinstance(p.default, (bool, int, float, str)):
        return type(p.default).__name__
    return "Any"


def _loss_class(
    name: str,
    function: Callable[..., Any],
    *,
    data: int,
    doc: str,
    exclude: tuple[str, ...] = (),
    order: tuple[str, ...] | None = None,
    kw_only: bool = False,
    defaults: Mapping[str, Any] | None = None,
    choices: Mapping[str, tuple[Any, ...]] | None = None,
    reductions: tuple[str, ...] = R.REDUCTIONS,
) -> type[_Loss]:
    """A frozen dataclass ``name`` whose fields are ``function``'s parameters after its ``data`` first ones.

    Args:
      name: the class name; the class is created in the caller's module, so it pickles as ``module.name``.
      function: the loss the object calls.
      data: how many leading parameters of ``function`` are data (the object's call arguments).
      doc: the docstring (its first line is the summary); a line naming ``function`` is appended.
      exclude: parameters of ``function`` that are not fields (torch's class lacks them); they need defaults.
      order: the fields in another order than ``function``'s (the names of every field).
      kw_only: every field keyword-only (torch's class is, though its function is not).
      defaults: field name -> the default torch's class has where its function's differs (``0.0`` for ``0``).
      choices: field name -> the values it may take, checked at construction.
      reductions: the allowed ``reduction`` values.
    """
    params = list(inspect.signature(function).parameters.values())
    tail = {p.name: p for p in params[data:]}
    if bad := [n for n in exclude if n not in tail or tail[n].default is tail[n].empty]:
        raise TypeError(
            f"{name}: {function.__name__} has no parameter with a default to exclude named {bad}"
        )
    hyper = {n: p for n, p in tail.items() if n not in exclude}
    if order is not None:
        if sorted(order) != sorted(hyper):
            raise TypeError(f"{name}: order {order} is not a permutation of {tuple(hyper)}")
        hyper = {n: hyper[n] for n in order}
    if defaults and not set(defaults) <= set(hyper):
        raise TypeError(f"{name}: defaults {tuple(defaults)} are not all fields of {tuple(hyper)}")
    hyper = {n: p.replace(default=(defaults or {}).get(n, p.default)) for n, p in hyper.items()}
    fields = []
    for p in hyper.values():
        default = {} if p.default is p.empty else {"default": p.default}
        spec = dataclasses.field(kw_only=kw_only or p.kind is p.KEYWORD_ONLY, **default)
        fields.append((p.name, _annotation(p), spec))
    # the call takes the data arguments; a keyword-only one with a default may also come positionally
    call = inspect.Signature(
        [
            p.replace(kind=p.POSITIONAL_OR_KEYWORD)
            if p.kind is p.KEYWORD_ONLY and p.default is not p.empty
            else p
            for p in params[:data]
        ]
    )
    module = sys._getframe(1).f_globals.get("__name__", __name__)
    cls = dataclasses.make_dataclass(
        name,
        fields,
        bases=(_Loss,),
        namespace={
            "__module__": module,
            "__doc__": f"{doc}\n\nCalls :func:`jaxloss.losses.{function.__name__}`.",
            "_function": staticmethod(function),
            "_data": tuple(params[:data]),
            "_call": call,
            "_legacy": "size_average" in hyper,
            "_reductions": reductions,
            "_choices": dict(choices or {}),
        },
        eq=False,
        frozen=True,
    )
    cls.__qualname__ = name
    return cls
