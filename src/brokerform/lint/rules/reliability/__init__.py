"""reliability rules."""
