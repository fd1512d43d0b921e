"""broker_specific rules."""
