"""Every write of the data tools; one module per use-case family."""
