"""spark-submit entry point: ``spark-submit [spark options] sparkify/app/submit.py score [--as-of DATE]``.

The same command line as ``sparkify``. Spark's settings come from spark-submit (the cluster's), the
dbt target from ``DBT_TARGET``, the project (dbt_project.yml, profiles.yml) from
``SPARKIFY_PROJECT_DIR`` or the working directory. The driver's Python must have the project
installed (the checkout's ``.venv``, or the wheel), so that the ``sparkify`` namespace resolves.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from sparkify.app.cli import main

    sys.exit(main(sys.argv[1:]))
