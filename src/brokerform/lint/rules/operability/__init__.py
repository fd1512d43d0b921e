"""operability rules."""
