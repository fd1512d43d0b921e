"""The servicebus provider."""
