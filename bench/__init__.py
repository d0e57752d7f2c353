"""Benchmarks (run as modules, e.g. ``python -m bench.web``); not part of the test suite."""
