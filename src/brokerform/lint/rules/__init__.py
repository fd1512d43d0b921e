"""Lint rules, one per module, grouped by category. Discovered by `brokerform.lint.registry`."""
