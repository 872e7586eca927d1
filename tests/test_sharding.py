"""Sharded inputs across 8 CPU devices give the single-device result (run in a subprocess: the device count
is fixed when JAX starts)."""

import os
import pathlib
import subprocess
import sys


def test_every_loss_under_batch_sharding_and_shard_map():
    env = dict(
        os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu"
    )
    script = pathlib.Path(__file__).with_name("sharding_script.py")
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        cwd=script.parent.parent,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "0 failures" in proc.stdout
    assert "ok shard_map global masked mean" in proc.stdout
