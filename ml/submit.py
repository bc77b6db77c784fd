"""spark-submit entry point: ``spark-submit [spark options] ml/submit.py score [--as-of DATE]``.

The same command line as ``sparkify``; Spark's settings come from spark-submit (the cluster's),
the dbt target from ``DBT_TARGET``. Either ship the project as a wheel with ``--py-files`` or run
from a checkout: the checkout's root is put on the path here.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from sparkify.cli import main

    sys.exit(main(sys.argv[1:]))
