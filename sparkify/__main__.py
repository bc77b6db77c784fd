"""``python -m sparkify``: the same command as the ``sparkify`` console script."""

import sys

from sparkify.cli import main

sys.exit(main())
