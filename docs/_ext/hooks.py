"""MkDocs hooks (mkdocs.yml -> hooks) for pages whose content is produced by commands.

``performance.md`` holds the marker ``<!-- jaxloss:benchmark-results -->``. When ``jaxloss bench --out
docs/benchmarks`` has written ``docs/benchmarks/results.md`` (and ``results.png``), the marker is replaced
by that table and the figure; otherwise by a sentence saying how to produce them. Either way the strict
build has no dangling link.
"""

from __future__ import annotations

import pathlib

MARKER = "<!-- jaxloss:benchmark-results -->"


def on_page_markdown(markdown, page, config, files, **kwargs):
    if MARKER not in markdown:
        return markdown
    folder = pathlib.Path(config["docs_dir"]) / "benchmarks"
    table, figure = folder / "results.md", folder / "results.png"
    if table.is_file():
        parts = [table.read_text().strip()]
        if figure.is_file():
            parts.append(
                "![jaxloss time over the faster of torch and optax, per case](benchmarks/results.png)"
            )
    else:
        parts = [
            "No measurements are committed with this copy of the documentation: run `jaxloss bench --out "
            "docs/benchmarks` (or `python benchmarks/run.py --out docs/benchmarks`) and rebuild, and the "
            "table and figure appear here."
        ]
    return markdown.replace(MARKER, "\n\n".join(parts))
