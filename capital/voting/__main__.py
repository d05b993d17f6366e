"""``python -m capital.voting``: see :mod:`capital.voting.cli`."""

import sys

from .cli import main

sys.exit(main())
