"""A one-line progress bar on stderr, used by ``jaxloss check``, ``bench`` and ``demo``."""

from __future__ import annotations

import sys
import time


class Progress:
    """A one-line progress bar on stderr (silent when stderr is not a terminal, unless forced)."""

    def __init__(self, label: str, enabled: bool | None = None, width: int = 30):
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.width = width
        self.start = time.perf_counter()

    def __call__(self, done: int, total: int, what: str = "") -> None:
        if not self.enabled or total <= 0:
            return
        filled = int(self.width * done / total)
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = time.perf_counter() - self.start
        end = "\n" if done >= total else ""
        sys.stderr.write(
            f"\r{self.label} [{bar}] {done}/{total} {elapsed:5.1f}s {what[:40]:<40}{end}"
        )
        sys.stderr.flush()
