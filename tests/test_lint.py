"""The linters CI runs, as tests, so that the README's test command runs them too.

* ``ruff check`` (rules in ``pyproject.toml``'s ``[tool.ruff.lint]``) and ``ruff format --check`` over the
  package, the tests, the benchmarks and the docs' Python;
* ``mypy`` over ``jaxloss/`` (``[tool.mypy]``).

The tools come from the lock (``requirements/test.lock``), so every machine checks with the same versions.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PATHS = ["jaxloss", "tests", "benchmarks", "docs"]


def _tool(name: str) -> list[str]:
    here = pathlib.Path(sys.executable).parent / name
    if here.exists():
        return [str(here)]
    found = shutil.which(name)
    assert found, f"{name} is not installed; it is in requirements/test.lock"
    return [found]


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.mark.parametrize(
    "args", [["check", *PATHS], ["format", "--check", *PATHS]], ids=["ruff-check", "ruff-format"]
)
def test_ruff(args):
    _run(_tool("ruff") + args)


def test_mypy():
    _run(_tool("mypy"))
