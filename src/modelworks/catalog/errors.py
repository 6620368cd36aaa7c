"""Errors of the catalog and the lineage store.

They are ``ValidationError``s keyed by the field at fault, so the API answers them like every broken
rule (422, ``details`` per field) and a caller of the Python API sees which argument to fix.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

__all__ = ["LineageError", "RunConflictError"]


class LineageError(ValidationError):
    """A lineage record breaks a rule (an empty name, a bad state…)."""


class RunConflictError(LineageError):
    """A run id already belongs to another job of the project."""
