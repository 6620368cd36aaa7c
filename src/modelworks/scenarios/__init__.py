"""The scenarios app (see docs/architecture.md)."""
