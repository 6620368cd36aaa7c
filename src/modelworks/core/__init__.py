"""Core app: users, projects and roles, API tokens, the audit log, durable jobs and the UI shell."""

from __future__ import annotations

__all__: list[str] = []
