"""Accuracy of float32 CTC gradients, jaxloss and torch, against the float64 answer on torch's own inputs.

Run from the repository root: ``python benchmarks/ctc_accuracy.py``. The inputs are every float32 sample of
torch's ``op_db`` entry ``nn.functional.ctc_loss`` (``sample_inputs`` and ``reference_inputs``) and every
``module_db`` input of ``CTCLoss`` (``torch.testing._internal``, built after ``torch.manual_seed(0)``). For
each, the VJP with a random cotangent is computed in float32 by jaxloss and by torch, and in float64 (the
float32 inputs cast up) by both; the float64 results agree to ~1e-15, and each float32 result is compared
with torch's float64 one. Prints the per-case and overall maximum absolute errors.
"""

from __future__ import annotations

import os
import sys

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests import torch_opinfo as O  # noqa: E402


def _upcast(case: O.Case) -> O.Case:
    """The same case with every floating tensor cast to float64."""

    def up(x):
        if isinstance(x, torch.Tensor) and x.is_floating_point():
            return x.detach().double()
        return x

    return O.Case(
        case.id + "-as-float64",
        case.source,
        case.loss,
        "float64",
        case.torch_fn,
        case.jax_fn,
        [up(v) for v in case.pos],
        {k: up(v) for k, v in case.kw.items()},
        case.diff,
    )


def ctc_cases() -> list[O.Case]:
    cases, _ = O.all_cases()
    return [
        c for c in cases if c.loss in ("ctc_loss", "CTCLoss") and c.dtype == "float32" and c.diff
    ]


def main() -> None:
    worst = {"jaxloss": 0.0, "torch": 0.0, "float64 jaxloss vs torch": 0.0}
    print(f"{'case':44s} {'|g|max':>8s} {'jaxloss f32':>12s} {'torch f32':>12s} {'f64 j-t':>9s}")
    for case in ctc_cases():
        t32 = O.torch_reference(case)
        j32 = O.jax_value_and_vjp(case, t32["cot"], jit=False)[1]
        case64 = _upcast(case)
        t64 = O.torch_reference(case64)["grads"]
        j64 = O.jax_value_and_vjp(case64, t32["cot"], jit=False)[1]
        err_j = max(float(np.max(np.abs(a.astype(np.float64) - b))) for a, b in zip(j32, t64))
        err_t = max(
            float(np.max(np.abs(a.astype(np.float64) - b))) for a, b in zip(t32["grads"], t64)
        )
        err_64 = max(float(np.max(np.abs(a - b))) for a, b in zip(j64, t64))
        scale = max(float(np.max(np.abs(b))) for b in t64)
        worst["jaxloss"] = max(worst["jaxloss"], err_j)
        worst["torch"] = max(worst["torch"], err_t)
        worst["float64 jaxloss vs torch"] = max(worst["float64 jaxloss vs torch"], err_64)
        print(f"{case.id:44s} {scale:8.2g} {err_j:12.3g} {err_t:12.3g} {err_64:9.2g}")
    print(
        "max abs error of the float32 gradient against float64:",
        ", ".join(f"{k} {v:.3g}" for k, v in worst.items()),
    )


if __name__ == "__main__":
    main()
