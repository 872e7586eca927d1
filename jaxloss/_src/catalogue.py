"""The catalogue as a whole: every registered loss, read after the faces that define it are imported.

The registry (:mod:`jaxloss._src.core.registry`) only stores entries; importing the faces fills it. This module
sits above the faces, so that the registry does not import them (which made core and every family one import
cycle). The CLI, the docs generator and the generated tests read :func:`entries`.
"""

from __future__ import annotations

import jaxloss.losses
import jaxloss.optax_losses  # noqa: F401
from jaxloss._src.core.registry import CATALOGUE, LossSpec

__all__ = ["CATALOGUE", "LossSpec", "entries"]


def entries(namespace: str | None = None, family: str | None = None) -> list[LossSpec]:
    """Catalogue entries, optionally filtered, sorted by namespace then name."""
    out = [
        s
        for s in CATALOGUE.values()
        if (namespace is None or s.namespace == namespace)
        and (family is None or s.family == family)
    ]
    return sorted(out, key=lambda s: (s.namespace, s.name))
