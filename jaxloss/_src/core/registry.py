"""The catalogue: every public loss with its family, its reference and a small valid example input.

Family modules register each public function with :func:`register`; the CLI (``jaxloss list``/``check``),
the docs' catalogue page and the generated transform tests all read :data:`CATALOGUE` through
:func:`jaxloss._src.catalogue.entries`, which imports the faces first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

ExampleFn = Callable[[np.random.Generator], tuple[tuple[Any, ...], dict[str, Any]]]


@dataclasses.dataclass(frozen=True)
class LossSpec:
    """One catalogue entry.

    Attributes:
      name: public name in its namespace.
      namespace: ``'losses'`` or ``'optax_losses'``.
      family: ``'regression'``, ``'classification'``, ``'margin'``, ``'sequence'``, ``'distance'``, ...
      reference: what it matches, e.g. ``'torch.nn.functional.mse_loss (torch 2.13)'``.
      torch: the ``torch.nn.functional`` name it matches, if any.
      optax: the ``optax.losses`` name it matches, if any.
      example: ``example(rng) -> (args, kwargs)``: small valid float64 inputs (numpy arrays).
      diff: positions of the differentiable arguments in ``args``.
      smooth: ``True`` when finite differences are valid at the example (no kink, clamp or argmax
        switch within about 1e-4 of it); the transform tests run ``check_grads`` only then.
      forward_mode: ``False`` when the loss uses a ``custom_vjp`` and so supports reverse mode only
        (``jax.jvp``/``jacfwd``/``hessian`` raise); the docstring must say so.
    """

    name: str
    namespace: str
    family: str
    reference: str
    fn: Callable[..., Any]
    example: ExampleFn
    torch: str | None = None
    optax: str | None = None
    diff: tuple[int, ...] = (0,)
    smooth: bool = True
    forward_mode: bool = True

    @property
    def qualname(self) -> str:
        return f"jaxloss.{self.namespace}.{self.name}"


CATALOGUE: dict[str, LossSpec] = {}


def register(
    *,
    family: str,
    reference: str,
    example: ExampleFn,
    torch: str | None = None,
    optax: str | None = None,
    diff: tuple[int, ...] = (0,),
    smooth: bool = True,
    forward_mode: bool = True,
    namespace: str = "losses",
    name: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator that adds a public loss to :data:`CATALOGUE` and returns it unchanged."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        spec = LossSpec(
            name=name or fn.__name__,
            namespace=namespace,
            family=family,
            reference=reference,
            fn=fn,
            example=example,
            torch=torch,
            optax=optax,
            diff=tuple(diff),
            smooth=smooth,
            forward_mode=forward_mode,
        )
        key = spec.qualname
        if key in CATALOGUE:
            raise RuntimeError(f"{key} registered twice")
        CATALOGUE[key] = spec
        return fn

    return deco


def fill_docs(fns: Any, **blocks: str) -> None:
    """Replace ``{name}`` in each function's docstring by ``blocks[name]`` (text several losses share).

    Families write a shared Args or Returns passage once and mark where it goes; a docstring is ``None``
    under ``python -OO`` and is then left alone.
    """
    for fn in fns:
        doc = fn.__doc__
        if doc:
            for key, text in blocks.items():
                doc = doc.replace("{" + key + "}", text)
            fn.__doc__ = doc
