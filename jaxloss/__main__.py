"""``python -m jaxloss``: the same as the ``jaxloss`` command."""

import sys

from jaxloss.cli import main

sys.exit(main())
