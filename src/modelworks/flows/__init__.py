"""The flows app (see docs/architecture.md)."""
