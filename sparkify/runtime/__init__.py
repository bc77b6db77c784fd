"""The bottom layer, shared by every step: where the project and its state are, how Spark starts,
who may use the metastore, errors and exit codes, the in-process dbt runner, progress lines.

It imports nothing else of the project's (the import contract in pyproject.toml keeps it so).
"""
