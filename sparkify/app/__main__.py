"""``python -m sparkify.app``: the same command as the ``sparkify`` console script."""

import sys

from sparkify.app.cli import main

sys.exit(main())
