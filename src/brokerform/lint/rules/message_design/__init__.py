"""message_design rules."""
