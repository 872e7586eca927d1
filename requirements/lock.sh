#!/usr/bin/env bash
# Regenerate the checked-in lock files (run after changing dependencies in pyproject.toml):
#   bash requirements/lock.sh
# test.lock: every package the test suite, the docs build and the benchmarks need, with hashes; used by
#            .ci/run and by the README's test command.
# oldest.lock: the lowest versions that pyproject.toml's runtime bounds allow (jax, jaxlib, optax, chex, numpy),
#            plus the test runner and torch; used by .ci/oldest to check that the bounds are honest.
# torch's CPU wheel comes from this machine's local wheel folder (/opt/wheels), as pip.conf sets it up.
set -euo pipefail
cd "$(dirname "$0")/.."
UV="${UV:-uv}"
command -v "$UV" >/dev/null || { python3 -m pip install -q "uv==0.13.9" && UV=uv; }
common=(--find-links /opt/wheels --python-version 3.11 --python-platform x86_64-manylinux_2_28
        --generate-hashes --no-header)
"$UV" pip compile pyproject.toml --extra test --extra docs --extra bench "${common[@]}" -o requirements/test.lock
"$UV" pip compile pyproject.toml requirements/oldest.in --resolution lowest-direct "${common[@]}" \
  -o requirements/oldest.lock
