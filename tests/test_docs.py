"""The documentation site: the generated catalogue is current, the strict MkDocs build passes, every public
name is documented, and the executable examples of the guide pages run.

Conventions in docs/*.md: a ```` ```python ```` block is executed by these tests (in a fresh interpreter, one
per page, the page's blocks in order); a ```` ```py ```` block is illustrative (e.g. side-by-side before/after).
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _generate_module():
    spec = importlib.util.spec_from_file_location("jaxloss_docs_generate", DOCS / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["NO_MKDOCS_2_WARNING"] = "1"
    env.update(extra)
    return env


def test_catalogue_page_is_current():
    expected = _generate_module().render()
    actual = (DOCS / "catalogue.md").read_text()
    assert actual == expected, "docs/catalogue.md is stale: run `python docs/generate.py`"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    warnings = [line for line in log.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert warnings == [], "\n".join(warnings)
    return out


def test_strict_build_passes(site):
    for page in (
        "index.html",
        "optax/index.html",
        "catalogue/index.html",
        "numerics/index.html",
        "scaling/index.html",
        "performance/index.html",
        "changelog/index.html",
        "optax_differences/index.html",
        "api/losses/index.html",
    ):
        assert (site / page).is_file(), page
    html = (site / "changelog" / "index.html").read_text()
    assert "Keep a Changelog" in html  # CHANGELOG.md is included, not linked
    perf = (site / "performance" / "index.html").read_text()
    assert "jaxloss:benchmark-results" not in perf  # the hook replaced its marker
    losses = (site / "api" / "losses" / "index.html").read_text()
    assert "{args}" not in losses and ".. math::" not in losses and 'class="arithmatex"' in losses


def _public_names() -> dict[str, list[str]]:
    import jaxloss
    import jaxloss.losses
    import jaxloss.nn
    import jaxloss.optax_losses

    return {
        "jaxloss": [
            n for n in jaxloss.__all__ if n not in ("__version__", "losses", "nn", "optax_losses")
        ],
        "jaxloss.losses": list(jaxloss.losses.__all__),
        "jaxloss.nn": list(jaxloss.nn.__all__),
        "jaxloss.optax_losses": list(jaxloss.optax_losses.__all__),
    }


def test_every_public_name_is_documented(site):
    ids = set()
    for page in site.rglob("*.html"):
        ids.update(re.findall(r'id="(jaxloss[\w.]*)"', page.read_text()))
    missing = [
        f"{mod}.{name}"
        for mod, names in _public_names().items()
        for name in names
        if f"{mod}.{name}" not in ids
    ]
    assert missing == [], f"public names without a rendered API entry: {missing}"


def _python_blocks(page: str) -> str:
    text = (DOCS / page).read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
    assert blocks, page
    return "\n\n".join(f"# --- block {i}\n{b}" for i, b in enumerate(blocks))


@pytest.mark.parametrize("page, devices", [("optax.md", 1), ("numerics.md", 1), ("scaling.md", 8)])
def test_page_examples_run(page, devices):
    env = _env()
    if devices > 1:
        env["XLA_FLAGS"] = (
            f"{env.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={devices}".strip()
        )
    proc = subprocess.run(
        [sys.executable, "-c", _python_blocks(page)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
