"""Core: what every family shares. Imports nothing from the families, the faces or the CLI."""
