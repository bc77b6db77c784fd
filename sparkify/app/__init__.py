"""Application layer: the ``sparkify`` command, the ``run`` pipeline and the scheduled jobs.

The only layer that may import its siblings (generator, ingest, expectations, ml): it composes
them into the steps users run. Nothing below imports it (see the import contract in pyproject).
"""
