"""Benchmark jaxloss against torch (eager) and optax (jit), forward + backward, in one process.

Same as ``jaxloss bench``; writes results.json, results.md and results.png into --out (default
``bench-results``). Example: ``python benchmarks/run.py --size large --repeats 10 --out docs/benchmarks``.
"""

import sys

from jaxloss.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
