"""Exporters: Pulumi programs and AsyncAPI documents generated from a manifest."""
