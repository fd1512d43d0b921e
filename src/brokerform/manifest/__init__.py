"""Loading manifests: files, templating, overlays, YAML with source positions, validation."""
