"""Write docs/catalogue.md from the registry (the CLI's `jaxloss list` reads the same data).

Run `python docs/generate.py` after adding a loss; tests/test_docs.py fails when the page is stale.
"""

from __future__ import annotations

import pathlib
import sys

sys.path.insert(
    0, str(pathlib.Path(__file__).resolve().parent.parent)
)  # a source checkout works too

FAMILY_TITLES = {
    "regression": "Regression",
    "classification": "Classification",
    "margin": "Margin and embedding",
    "distance": "Distances",
    "sequence": "Sequence",
    "divergence": "Divergences and distillation",
    "detection": "Detection",
    "segmentation": "Segmentation",
    "metric": "Metric and self-supervised learning",
    "ranking": "Ranking",
    "alignment": "Preference alignment (TRL)",
    "rl": "Reinforcement learning (rlax)",
    "gan": "GANs",
    "contrastive": "Vision-language contrastive",
    "quality": "Image and signal quality",
}


def render() -> str:
    from jaxloss._src.catalogue import entries

    specs = entries()
    families = sorted(
        {s.family for s in specs},
        key=lambda f: (list(FAMILY_TITLES).index(f) if f in FAMILY_TITLES else 99, f),
    )
    out = [
        "# Catalogue",
        "",
        "Generated from the registry in the code (`python docs/generate.py`); `jaxloss list` prints the same table.",
        f"{len(specs)} losses: {sum(s.namespace == 'losses' for s in specs)} in `jaxloss.losses`, "
        f"{sum(s.namespace == 'optax_losses' for s in specs)} in `jaxloss.optax_losses`.",
        "",
    ]
    for fam in families:
        group = [s for s in specs if s.family == fam]
        out += [
            f"## {FAMILY_TITLES.get(fam, fam.title())}",
            "",
            "| loss | torch | optax | reference |",
            "| --- | --- | --- | --- |",
        ]
        for s in group:
            torch_name = f"`F.{s.torch}`" if s.torch else ""
            optax_name = f"`optax.losses.{s.optax}`" if s.optax else ""
            out.append(
                f"| [`{s.qualname}`](#{s.qualname}) | {torch_name} | {optax_name} | {s.reference} |"
            )
        out.append("")
        for s in group:
            out += [f"::: {s.qualname}", "    options:", "      heading_level: 3", ""]
    return "\n".join(out)


def main() -> int:
    path = pathlib.Path(__file__).with_name("catalogue.md")
    path.write_text(render())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
