"""The job types this instance knows: the ``MODELWORKS_JOB_TYPES`` setting, kind → dotted class path.

Explicit on purpose: a job type exists because a settings line names it, not because a module
happened to be imported.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from modelworks.core.jobs.base import BaseJob
from modelworks.core.jobs.exceptions import UnknownJobTypeError

__all__ = ["job_type", "registered_job_types"]


def _load(kind: str, path: str) -> type[BaseJob]:
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"MODELWORKS_JOB_TYPES['{kind}'] = '{path}' cannot be imported: {exc}; fix the dotted path."
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, BaseJob)):
        raise ImproperlyConfigured(
            f"MODELWORKS_JOB_TYPES['{kind}'] = '{path}' is not a subclass of modelworks.core.jobs.BaseJob."
        )
    if cls.kind != kind:
        raise ImproperlyConfigured(
            f"MODELWORKS_JOB_TYPES['{kind}'] = '{path}', but that class says kind = '{cls.kind}'; "
            "make the key and the class attribute the same."
        )
    return cls


def registered_job_types() -> dict[str, type[BaseJob]]:
    """Every registered job type, kind → class, sorted by kind.

    Raises:
        ImproperlyConfigured: an entry of MODELWORKS_JOB_TYPES cannot be imported or is inconsistent.
    """
    configured: dict[str, str] = getattr(settings, "MODELWORKS_JOB_TYPES", {})
    return {kind: _load(kind, path) for kind, path in sorted(configured.items())}


def job_type(kind: str) -> type[BaseJob]:
    """The class of job type ``kind``.

    Raises:
        UnknownJobTypeError: ``kind`` is not in MODELWORKS_JOB_TYPES.
    """
    configured: dict[str, str] = getattr(settings, "MODELWORKS_JOB_TYPES", {})
    if kind not in configured:
        known = ", ".join(sorted(configured)) or "none"
        raise UnknownJobTypeError(
            f"unknown job type {kind!r}; registered types: {known}. "
            "A new type must be added to the MODELWORKS_JOB_TYPES setting."
        )
    return _load(kind, configured[kind])
