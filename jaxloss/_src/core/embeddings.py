"""Checks shared by the losses on paired embeddings (two views, image and text, query and key).

Used by the metric family (``info_nce_loss``, ``vicreg_loss``) and the contrastive family (CLIP, SigLIP).
"""

from __future__ import annotations

from typing import Any

import jax

from jaxloss._src.core import validation as V


def paired_views(
    loss: str, a_name: str, a: Any, b_name: str, b: Any
) -> tuple[jax.Array, jax.Array, Any]:
    """Two ``(B, D)`` float arrays of the same shape, in the compute dtype (half precision upcast), and the
    result dtype; the errors name the loss and the argument."""
    a = V.as_float(loss, a_name, a)
    b = V.as_float(loss, b_name, b)
    V.check_ndim(loss, a_name, a, (2,))
    V.check_same_shape(loss, b_name, b, a_name, a)
    out_dtype = V.result_dtype(a, b)
    cdt = V.compute_dtype(out_dtype)
    return a.astype(cdt), b.astype(cdt), out_dtype
