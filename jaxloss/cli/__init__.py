"""The ``jaxloss`` command: ``list``, ``check``, ``bench`` and ``demo`` (see :mod:`jaxloss.cli.main`)."""

from jaxloss.cli.main import EXIT_FAILED, EXIT_MISSING, EXIT_OK, EXIT_USAGE, main

__all__ = ["EXIT_FAILED", "EXIT_MISSING", "EXIT_OK", "EXIT_USAGE", "main"]
