"""jaxloss: every loss, torch- and optax-exact, as pure jit/vmap/grad-friendly JAX functions.

Namespaces:

* :mod:`jaxloss.losses`: the whole catalogue, functional (torch's names for torch's losses).
* :mod:`jaxloss.nn`: torch.nn-style immutable loss objects.
* :mod:`jaxloss.optax_losses`: a drop-in for ``optax.losses``.
* the optax-style wrappers :func:`per_example`, :func:`masked_mean`, :func:`make_loss_fn`,
  :func:`make_value_fn`,
  and :func:`checked` (data checks under ``jit`` via checkify).

The namespaces are imported on first use, so ``import jaxloss`` stays cheap.
"""

import importlib

from jaxloss._src.core.validation import checked

__version__ = "0.1.0"

_LAZY_MODULES = ("losses", "nn", "optax_losses")
_LAZY_WRAPPERS = ("make_loss_fn", "make_value_fn", "masked_mean", "per_example")

__all__ = [
    "__version__",
    "checked",
    "losses",
    "make_loss_fn",
    "make_value_fn",
    "masked_mean",
    "nn",
    "optax_losses",
    "per_example",
]


def __getattr__(name):
    if name in _LAZY_MODULES:
        return importlib.import_module(f"jaxloss.{name}")
    if name in _LAZY_WRAPPERS:
        return getattr(importlib.import_module("jaxloss._src.wrappers"), name)
    raise AttributeError(f"module 'jaxloss' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
