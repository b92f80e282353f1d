"""Django-free numeric core of campaigns: evaluation, uplift, next-best-action arbitration.

Everything here works on numpy arrays only, so that it can be tested with
simulated customers, benchmarked at a million customers and reused by the
evaluation job, the CLI and notebooks without a database.
"""
