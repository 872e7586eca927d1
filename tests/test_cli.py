"""The jaxloss command: list, check, demo, bench; help and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

from jaxloss.cli import EXIT_FAILED, EXIT_OK, main


def test_list_shows_catalogue_with_filters(capsys):
    assert main(["list"]) == EXIT_OK
    out = capsys.readouterr().out
    assert (
        "jaxloss.losses.cross_entropy" in out
        and "jaxloss.optax_losses.softmax_cross_entropy" in out
    )
    assert main(["list", "--family", "regression"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "mse_loss" in out and "cross_entropy" not in out
    assert main(["list", "--grep", "no-such-loss"]) == EXIT_FAILED


def test_check_runs_and_reports(capsys):
    assert main(["check", "--grep", "losses.mse_loss", "--no-progress"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "jaxloss.losses.mse_loss" in out and "1 passed, 0 failed" in out


def test_check_reports_a_failure(capsys, monkeypatch):
    from jaxloss._src import catalogue  # noqa: F401  (imports the faces, which fill the registry)
    from jaxloss._src.core import registry as _registry

    spec = _registry.CATALOGUE["jaxloss.losses.l1_loss"]
    broken = _registry.LossSpec(
        **{**spec.__dict__, "fn": lambda x, y, **k: (x - y).sum() * 1.001 + 0.0}
    )
    monkeypatch.setitem(_registry.CATALOGUE, "jaxloss.losses.l1_loss", broken)
    assert main(["check", "--grep", "losses.l1_loss", "--no-progress"]) == EXIT_FAILED
    assert "FAIL" in capsys.readouterr().out


def test_demo_trains_and_writes_png(tmp_path, capsys):
    png = tmp_path / "curve.png"
    assert (
        main(
            ["demo", "--loss", "cross_entropy", "--steps", "60", "--out", str(png), "--no-progress"]
        )
        == EXIT_OK
    )
    out = capsys.readouterr().out
    assert "train accuracy" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_usage_errors_exit_2():
    proc = subprocess.run(
        [sys.executable, "-m", "jaxloss", "demo", "--loss", "nope"], capture_output=True, text=True
    )
    assert proc.returncode == 2 and "--loss must be" in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "jaxloss", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "check" in proc.stdout


def test_bench_writes_json_markdown_and_png(tmp_path, capsys):
    out = tmp_path / "bench"
    assert (
        main(
            [
                "bench",
                "--grep",
                "mse_loss",
                "--size",
                "small",
                "--repeats",
                "3",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == EXIT_OK
    )
    res = json.loads((out / "results.json").read_text())
    (row,) = res["rows"]
    assert (
        row["case"] == "mse_loss"
        and row["jaxloss_s"] > 0
        and row["torch_s"] > 0
        and row["optax_s"] > 0
    )
    assert row["ratio_best_peer"] == row["jaxloss_s"] / min(row["torch_s"], row["optax_s"])
    # a fast case gets more rounds than --repeats (a second of timed calls, at most 200)
    assert 3 < row["rounds"] <= 200
    # the first call (trace + compile + run) is reported for every contender
    assert all(row[f"{k}_first_s"] > 0 for k in ("jaxloss", "torch", "optax"))
    assert "first call (s) jaxloss" in (out / "results.md").read_text()
    assert "| mse_loss | small |" in (out / "results.md").read_text()
    assert (out / "results.png").read_bytes()[:4] == b"\x89PNG"
    assert "jaxloss / best peer" in capsys.readouterr().out
