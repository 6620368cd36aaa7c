"""Starting, cancelling and following trainings (``TrainingSession`` + its ``lab.train`` job)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from modelworks.core import audit
from modelworks.core.jobs import JobStateError, enqueue, request_cancel
from modelworks.core.models import JobState, User
from modelworks.lab.models import ACTIVE_SESSION_STATUSES, Analysis, SessionStatus, TrainingSession
from modelworks.lab.services import design
from modelworks.lab.services.analyses import refresh_checks

__all__ = ["TrainingConflict", "cancel_active", "cancel_training", "reconcile_session", "start_training"]


class TrainingConflict(Exception):
    """The analysis is already training, or the training has already ended (HTTP 409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def start_training(analysis: Analysis, *, actor: User, request: HttpRequest | None = None) -> TrainingSession:
    """Check the design and the data, then queue a training of ``analysis``.

    Raises:
        ValidationError: the design cannot run, or a blocking data check failed (its message says why).
        TrainingConflict: the analysis is already training.
    """
    if analysis.dataset is None:
        raise ValidationError(
            "The dataset of this analysis was deleted; create a new analysis from another dataset."
        )
    spec = design.build_spec(analysis)
    version = analysis.dataset.current_version
    if version is None:
        raise ValidationError({"dataset": f"'{analysis.dataset.name}' has no data yet; import a file first."})
    if analysis.checked_version_id != version.pk:
        refresh_checks(analysis)
    blocking = analysis.blocking_checks
    if blocking:
        reasons = " ".join(f"{c['message']} {c.get('hint', '')}".strip() for c in blocking)
        raise ValidationError(f"Training is blocked until this is fixed: {reasons}")
    if analysis.sessions.filter(status__in=ACTIVE_SESSION_STATUSES).exists():
        raise TrainingConflict("This analysis is already training; wait for it to finish or cancel it.")
    try:
        with transaction.atomic():
            number = (analysis.sessions.aggregate(n=Max("number"))["n"] or 0) + 1
            session = TrainingSession.objects.create(
                analysis=analysis,
                number=number,
                dataset_version=version,
                spec=spec.to_dict(),
                warnings=list(analysis.checks),
                created_by=actor,
            )
            job = enqueue(
                "lab.train",
                title=f"Train '{analysis.name}' ({number})"[:200],
                project=analysis.project,
                created_by=actor,
                params={"session_id": session.pk},
                request=request,
            )
            session.job = job
            session.save(update_fields=["job"])
            audit.record(
                "lab.training_started",
                actor=actor,
                project=analysis.project,
                target=analysis,
                request=request,
                details={
                    "session": number,
                    "dataset": analysis.dataset.name,
                    "version": version.number,
                    "algorithms": list(spec.algorithms),
                    "time_budget_s": spec.time_budget_s,
                },
            )
    except IntegrityError as exc:  # two clicks at once: the partial unique index keeps one
        raise TrainingConflict(
            "This analysis is already training; wait for it to finish or cancel it."
        ) from exc
    return session


def cancel_training(
    session: TrainingSession, *, actor: User, request: HttpRequest | None = None
) -> TrainingSession:
    """Ask the training to stop (it stops after the current trial; nothing is registered).

    Raises:
        TrainingConflict: the training has already ended.
    """
    reconcile_session(session)
    if not session.is_active:
        raise TrainingConflict(
            f"Training {session.number} has already ended ({session.get_status_display().lower()})."
        )
    with transaction.atomic():
        if session.job is not None:
            try:
                request_cancel(session.job, actor=actor, request=request)
            except JobStateError:
                pass  # the job ended meanwhile; the session is ended below
        if session.status == SessionStatus.QUEUED:
            _end(session, SessionStatus.CANCELLED, "Cancelled before it started.")
        audit.record(
            "lab.training_cancelled",
            actor=actor,
            project=session.analysis.project,
            target=session.analysis,
            request=request,
            details={"session": session.number},
        )
    return session


def cancel_active(analysis: Analysis, *, actor: User, request: HttpRequest | None = None) -> None:
    for session in analysis.sessions.filter(status__in=ACTIVE_SESSION_STATUSES):
        cancel_training(session, actor=actor, request=request)


def _end(session: TrainingSession, status: str, error: str) -> None:
    session.status, session.error, session.ended_at = status, error[:4000], timezone.now()
    TrainingSession.objects.filter(pk=session.pk).update(
        status=status, error=session.error, ended_at=session.ended_at
    )


def reconcile_session(session: TrainingSession) -> TrainingSession:
    """End a session whose job ended without ending it (a worker killed mid-training)."""
    if not session.is_active or session.job is None:
        return session
    job = session.job
    job.refresh_from_db(fields=["state", "error"])
    if job.state == JobState.FAILED:
        _end(session, SessionStatus.FAILED, job.error or "The training job failed.")
    elif job.state == JobState.CANCELLED:
        _end(session, SessionStatus.CANCELLED, job.error or "Cancelled on request.")
    elif job.state == JobState.SUCCEEDED:
        _end(session, SessionStatus.FAILED, "The training job ended without recording its results.")
    return session
