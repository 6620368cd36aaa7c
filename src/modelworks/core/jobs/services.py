"""Submitting and steering jobs: ``enqueue``, ``request_cancel``, ``retry_job`` (atomic and audited).

Pages, the API and the CLI check permissions first (``modelworks.core.permissions``) and then call
these. Each raises a ``JobError`` (a ``ValueError``) with a plain message when the request cannot be
done, and changes nothing in that case.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from modelworks.core import audit
from modelworks.core.jobs.exceptions import InvalidJobParamsError, JobError, JobStateError
from modelworks.core.jobs.registry import job_type
from modelworks.core.jobs.store import append_log_lines
from modelworks.core.models import Job, JobLogLine, JobState, Project

__all__ = ["enqueue", "job_log_lines", "request_cancel", "retry_job"]


def _actor_name(actor: Any) -> str:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return str(actor.get_username())
    return "the system"


def _log(job: Job, level: str, message: str) -> None:
    append_log_lines(job.pk, job.attempt, [(timezone.now(), level, message)])


def _clean_params(kind: str, params: Any) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise InvalidJobParamsError(
            f"the parameters of a '{kind}' job must be a JSON object (a dict), not {type(params).__name__}."
        )
    try:
        text = json.dumps(params, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidJobParamsError(
            f"the parameters of a '{kind}' job must be JSON: {exc}. Pass only strings, numbers, booleans, "
            "None, lists and dicts (turn dates, paths and objects into strings or ids)."
        ) from exc
    decoded: dict[str, Any] = json.loads(text)  # what the job will see: tuples become lists, keys strings
    return decoded


def enqueue(
    kind: str,
    *,
    title: str | None = None,
    project: Project | None = None,
    created_by: Any = None,
    params: dict[str, Any] | None = None,
    max_attempts: int | None = None,
    run_after: datetime | None = None,
    request: HttpRequest | None = None,
) -> Job:
    """Queue a job of type ``kind`` and return it (state ``queued``).

    Args:
        kind: a registered job type, e.g. ``"core.self_check"``.
        title: shown to users; defaults to the job type's title.
        project: the project the job belongs to (its members see it); None for instance-level jobs.
        created_by: the user who asked for it.
        params: a JSON object handed to the job as ``self.params``.
        max_attempts: attempts before a job failing with ``RetryableJobError`` is marked failed;
            defaults to the job type's ``max_attempts``.
        run_after: not started before this (timezone-aware) time.
        request: the HTTP request, for the audit log.

    Raises:
        UnknownJobTypeError: ``kind`` is not registered.
        InvalidJobParamsError: ``params`` is not a JSON object or the job type rejects it.
        JobError: ``max_attempts`` or ``run_after`` is invalid.
    """
    cls = job_type(kind)
    cleaned = _clean_params(kind, params)
    try:
        cleaned = cls.clean_params(cleaned)
    except InvalidJobParamsError:
        raise
    except (ValueError, TypeError) as exc:
        raise InvalidJobParamsError(f"invalid parameters for a '{kind}' job: {exc}") from exc
    attempts = cls.max_attempts if max_attempts is None else max_attempts
    if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 100:
        raise JobError(f"max_attempts must be a whole number from 1 to 100, got {max_attempts!r}.")
    if run_after is not None and (not isinstance(run_after, datetime) or timezone.is_naive(run_after)):
        raise JobError(f"run_after must be a timezone-aware datetime, got {run_after!r}.")
    job = Job(
        kind=kind,
        title=(title or cls.title or kind)[:200],
        project=project,
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
        params=cleaned,
        max_attempts=attempts,
        run_after=run_after,
        progress_message="Waiting for a worker",
    )
    with transaction.atomic():
        job.save(force_insert=True)
        audit.record(
            "job.submitted",
            actor=created_by,
            project=project,
            target=job,
            details={"kind": kind, "job_id": str(job.pk)},
            request=request,
        )
    return job


def _finished_message(job: Job, state: str, doing: str) -> str:
    return f"job '{job.title}' has already ended ({state}); {doing}"


def request_cancel(job: Job, *, actor: Any, request: HttpRequest | None = None) -> Job:
    """Cancel a job: a queued job at once; a running one is asked to stop and stopped if it does not.

    The worker running the job sees the request within a second; the job stops at its next
    ``progress()``/``check_cancelled()`` call, or its process is stopped after
    MODELWORKS_JOB_CANCEL_GRACE_SECONDS. Asking again while the request is pending changes nothing.

    Raises:
        JobStateError: the job has already ended.
    """
    name = _actor_name(actor)
    for _ in range(5):  # the state can move between our conditional writes (claimed, re-queued)
        now = timezone.now()
        with transaction.atomic():
            message = f"Cancelled by {name} before it started."
            if Job.objects.filter(pk=job.pk, state=JobState.QUEUED).update(
                state=JobState.CANCELLED,
                cancel_requested=True,
                finished_at=now,
                error=message,
                progress_message="Cancelled",
                run_after=None,
            ):
                _log(job, "WARNING", message)
                audit.record(
                    "job.cancel_requested",
                    actor=actor,
                    project=job.project,
                    target=job,
                    details={"state_before": "queued"},
                    request=request,
                )
                break
            if Job.objects.filter(pk=job.pk, state=JobState.RUNNING, cancel_requested=False).update(
                cancel_requested=True
            ):
                _log(job, "WARNING", f"Cancellation requested by {name}.")
                audit.record(
                    "job.cancel_requested",
                    actor=actor,
                    project=job.project,
                    target=job,
                    details={"state_before": "running"},
                    request=request,
                )
                break
        current = Job.objects.filter(pk=job.pk).values_list("state", flat=True).first()
        if current is None:
            raise JobStateError(f"job '{job.title}' no longer exists.")
        if current in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED):
            raise JobStateError(_finished_message(job, current, "there is nothing to cancel."))
        if current == JobState.RUNNING:
            break  # cancellation was already requested
    job.refresh_from_db()
    return job


def retry_job(job: Job, *, actor: Any, request: HttpRequest | None = None) -> Job:
    """Queue a failed or cancelled job again, with a fresh budget of ``max_attempts`` attempts.

    Raises:
        UnknownJobTypeError: the job's type is no longer registered (no worker would run it).
        JobStateError: the job is not failed or cancelled.
    """
    job_type(job.kind)
    with transaction.atomic():
        retried = Job.objects.filter(pk=job.pk, state__in=[JobState.FAILED, JobState.CANCELLED]).update(
            state=JobState.QUEUED,
            uncounted_attempts=F("attempt"),
            cancel_requested=False,
            error="",
            result=None,
            progress=0.0,
            progress_message="Waiting for a worker",
            run_after=None,
            started_at=None,
            finished_at=None,
            worker_id="",
            lease_expires_at=None,
            heartbeat_at=None,
        )
        if retried:
            job.refresh_from_db()
            _log(
                job,
                "INFO",
                f"Retried by {_actor_name(actor)}: queued again with {job.max_attempts} attempt(s).",
            )
            audit.record("job.retried", actor=actor, project=job.project, target=job, request=request)
            return job
    current = Job.objects.filter(pk=job.pk).values_list("state", flat=True).first()
    if current is None:
        raise JobStateError(f"job '{job.title}' no longer exists.")
    if current == JobState.SUCCEEDED:
        raise JobStateError(f"job '{job.title}' succeeded; submit a new job to run it again.")
    raise JobStateError(
        f"job '{job.title}' is {current}; only failed or cancelled jobs can be retried "
        "(cancel it first, or wait until it ends)."
    )


def job_log_lines(job: Job, after_seq: int = 0, limit: int = 1000) -> list[JobLogLine]:
    """The job's log lines after ``after_seq``, oldest first, at most ``limit``.

    For live tailing, pass the last ``seq`` already shown.
    """
    return list(
        JobLogLine.objects.filter(job=job, seq__gt=after_seq).order_by("seq")[: max(1, min(limit, 5000))]
    )
