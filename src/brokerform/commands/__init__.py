"""CLI commands, one module per command family, imported only when invoked."""
