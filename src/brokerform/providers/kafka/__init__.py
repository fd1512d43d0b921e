"""The kafka provider."""
