"""Django-free numeric core of customer analytics.

Everything below this package works on numpy arrays and pandas frames only, so
that it can be validated against published results, benchmarked and reused by
the scoring job, the CLI and notebooks without a database.
"""
