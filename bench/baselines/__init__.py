"""The benchmark's baselines (see :mod:`bench.baselines.run`).

Kept empty of imports: ``python -m bench.baselines.duck_script`` imports this package first,
and the end-to-end script must not pay for the in-memory baselines' libraries at start-up.
"""
