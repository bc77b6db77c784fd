"""Benchmark harness: every stage of the pipeline timed as its own process (``make bench SCALE=...``)."""
