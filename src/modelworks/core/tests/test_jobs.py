"""The job queue without a worker process: submission, cancel, retry, claim, fencing and reaping."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.utils import timezone

from modelworks.core.jobs import (
    BaseJob,
    InvalidJobParamsError,
    JobError,
    JobStateError,
    UnknownJobTypeError,
    enqueue,
    job_log_lines,
    job_type,
    registered_job_types,
    request_cancel,
    retry_job,
    store,
)
from modelworks.core.jobs.builtin import DiagnosticJob, SelfCheckJob
from modelworks.core.jobs.store import AttemptRef, Outcome
from modelworks.core.models import AuditEvent, Job, JobLogLine, JobState, User

pytestmark = pytest.mark.django_db

KINDS = ["core.diagnostic", "core.self_check"]


@pytest.fixture
def alice() -> User:
    return User.objects.create_user(username="alice", password="a-long-password-1")


def _lines(job: Job) -> list[str]:
    return [line.message for line in job_log_lines(job)]


# ------------------------------------------------------------------------------------------ registry


def test_registered_types_are_the_settings_entries() -> None:
    types = registered_job_types()
    # Domain apps add their own types; the core's are always there, each under its own kind.
    assert set(types) == set(settings.MODELWORKS_JOB_TYPES)
    assert types["core.diagnostic"] is DiagnosticJob and types["core.self_check"] is SelfCheckJob
    assert all(cls.kind == kind for kind, cls in types.items())
    assert job_type("core.self_check") is SelfCheckJob


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        (
            {"x.y": "modelworks.core.jobs.builtin.Missing"},
            r"MODELWORKS_JOB_TYPES\['x.y'\].*cannot be imported",
        ),
        ({"x.y": "modelworks.core.models.Job"}, "is not a subclass of modelworks.core.jobs.BaseJob"),
        ({"x.y": "modelworks.core.jobs.builtin.DiagnosticJob"}, "that class says kind = 'core.diagnostic'"),
    ],
)
def test_a_misconfigured_job_type_is_reported_with_the_setting_to_fix(
    entry: dict[str, str], match: str
) -> None:
    with override_settings(MODELWORKS_JOB_TYPES=entry), pytest.raises(ImproperlyConfigured, match=match):
        registered_job_types()


def test_retry_delay_doubles_and_is_capped() -> None:
    class Job_(BaseJob):
        retry_backoff_seconds = 10
        retry_backoff_max_seconds = 60

    assert [Job_.retry_delay(n) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]


# ------------------------------------------------------------------------------------------ enqueue


def test_enqueue_creates_a_queued_job_with_checked_params_and_audits_it(alice: User) -> None:
    job = enqueue("core.diagnostic", created_by=alice, params={"seconds": 2, "steps": 4})
    assert job.state == JobState.QUEUED
    assert job.title == "Diagnostic job"
    assert job.max_attempts == DiagnosticJob.max_attempts
    assert job.params["seconds"] == 2.0 and job.params["steps"] == 4 and job.params["fail"] is False
    event = AuditEvent.objects.get(action="job.submitted")
    assert (
        event.actor == alice and event.target_id == str(job.pk) and event.details["kind"] == "core.diagnostic"
    )


@pytest.mark.parametrize(
    ("kind", "params", "error", "match"),
    [
        (
            "nope",
            {},
            UnknownJobTypeError,
            r"unknown job type 'nope'; registered types: core.diagnostic, core.self_check",
        ),
        ("core.diagnostic", [1, 2], InvalidJobParamsError, "must be a JSON object \\(a dict\\), not list"),
        (
            "core.diagnostic",
            {"when": datetime(2024, 1, 1, tzinfo=UTC)},
            InvalidJobParamsError,
            "must be JSON",
        ),
        ("core.diagnostic", {"path": Path("/tmp")}, InvalidJobParamsError, "must be JSON"),
        ("core.diagnostic", {"seconds": math.nan}, InvalidJobParamsError, "must be JSON"),
        (
            "core.diagnostic",
            {"bogus": 1},
            InvalidJobParamsError,
            "has no parameter 'bogus'; its parameters are",
        ),
        (
            "core.diagnostic",
            {"seconds": -1},
            InvalidJobParamsError,
            "'seconds' must be a number from 0 to 3600",
        ),
        ("core.diagnostic", {"steps": 2.5}, InvalidJobParamsError, "'steps' must be a whole number"),
        ("core.diagnostic", {"fail": "yes"}, InvalidJobParamsError, "'fail' must be true or false"),
    ],
)
def test_bad_submissions_are_refused_with_a_clear_error_and_create_nothing(
    kind: str, params: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match) as info:
        enqueue(kind, params=params)
    assert isinstance(info.value, ValueError)
    assert Job.objects.count() == 0
    assert AuditEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_attempts": 0}, "max_attempts must be a whole number from 1 to 100"),
        ({"max_attempts": True}, "max_attempts must be a whole number"),
        ({"run_after": datetime(2030, 1, 1)}, "run_after must be a timezone-aware datetime"),
    ],
)
def test_bad_options_are_refused(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(JobError, match=match):
        enqueue("core.diagnostic", **kwargs)
    assert Job.objects.count() == 0


# ------------------------------------------------------------------------------------ cancel, retry


def test_cancelling_a_queued_job_is_immediate_and_audited(alice: User) -> None:
    job = enqueue("core.diagnostic")
    job = request_cancel(job, actor=alice)
    assert job.state == JobState.CANCELLED and job.finished_at is not None
    assert job.error == "Cancelled by alice before it started."
    assert _lines(job) == ["Cancelled by alice before it started."]
    assert (
        AuditEvent.objects.filter(action="job.cancel_requested", actor=alice, target_id=str(job.pk)).count()
        == 1
    )
    assert store.claim_next("w/1", KINDS) is None


def test_cancelling_a_running_job_sets_the_flag_once(alice: User) -> None:
    job = enqueue("core.diagnostic")
    claimed = store.claim_next("w/1", KINDS)
    assert claimed is not None and claimed.pk == job.pk
    job = request_cancel(job, actor=alice)
    assert job.state == JobState.RUNNING and job.cancel_requested
    request_cancel(job, actor=alice)  # asking again changes nothing
    assert AuditEvent.objects.filter(action="job.cancel_requested").count() == 1


@pytest.mark.parametrize("state", [JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED])
def test_cancelling_a_finished_job_is_refused(alice: User, state: str) -> None:
    job = enqueue("core.diagnostic")
    Job.objects.filter(pk=job.pk).update(state=state)
    with pytest.raises(JobStateError, match=f"has already ended \\({state}\\); there is nothing to cancel"):
        request_cancel(job, actor=alice)
    assert not AuditEvent.objects.filter(action="job.cancel_requested").exists()


def test_retry_requeues_a_failed_job_with_a_fresh_budget(alice: User) -> None:
    job = enqueue("core.diagnostic", max_attempts=2)
    Job.objects.filter(pk=job.pk).update(state=JobState.FAILED, attempt=2, error="boom", worker_id="w/1")
    job = retry_job(job, actor=alice)
    assert job.state == JobState.QUEUED and job.error == "" and job.worker_id == ""
    assert job.counted_attempts == 0 and job.max_attempts == 2
    assert AuditEvent.objects.filter(action="job.retried", actor=alice).count() == 1
    assert _lines(job) == ["Retried by alice: queued again with 2 attempt(s)."]


@pytest.mark.parametrize(
    ("state", "match"),
    [
        (JobState.SUCCEEDED, "succeeded; submit a new job to run it again"),
        (JobState.QUEUED, "is queued; only failed or cancelled jobs can be retried"),
        (JobState.RUNNING, "is running; only failed or cancelled jobs can be retried"),
    ],
)
def test_retry_is_refused_unless_failed_or_cancelled(alice: User, state: str, match: str) -> None:
    job = enqueue("core.diagnostic")
    Job.objects.filter(pk=job.pk).update(state=state)
    with pytest.raises(JobStateError, match=match):
        retry_job(job, actor=alice)
    assert not AuditEvent.objects.filter(action="job.retried").exists()


# ------------------------------------------------------------------------------- claim and fencing


def test_claim_takes_the_oldest_due_job_of_a_known_kind() -> None:
    later = enqueue("core.diagnostic", run_after=timezone.now() + timedelta(hours=1))
    first = enqueue("core.diagnostic")
    second = enqueue("core.diagnostic")
    Job.objects.create(kind="other.unknown", title="from a newer version")
    a = store.claim_next("w/1", KINDS)
    b = store.claim_next("w/2", KINDS)
    assert (a.pk, b.pk) == (first.pk, second.pk)
    assert a.state == JobState.RUNNING and a.attempt == 1 and a.worker_id == "w/1"
    assert a.lease_expires_at > timezone.now()
    assert store.claim_next("w/3", KINDS) is None  # `later` is not due, the unknown kind is skipped
    assert store.queue_has_work(KINDS)
    Job.objects.filter(pk=later.pk).update(run_after=timezone.now() - timedelta(seconds=1))
    assert store.claim_next("w/3", KINDS).pk == later.pk


def test_a_stale_attempt_can_never_overwrite_the_job() -> None:
    enqueue("core.diagnostic")
    job = store.claim_next("w/1", KINDS)
    ref = AttemptRef(job.id, job.attempt, "w/1")
    assert store.renew_lease(ref)
    # The lease expires; the reaper re-queues the job; another worker claims attempt 2.
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert store.reap_expired() == [(job.id, JobState.QUEUED)]
    again = store.claim_next("w/2", KINDS)
    assert again.attempt == 2
    # Everything the first worker still tries to write about attempt 1 matches no row.
    assert not store.renew_lease(ref)
    assert not store.write_progress(ref, 50, "stale")
    assert store.settle(ref, Outcome("succeeded", result={"stale": True})) is None
    again.refresh_from_db()
    assert again.state == JobState.RUNNING and again.result is None and again.progress == 0
    assert (
        store.settle(AttemptRef(job.id, 2, "w/2"), Outcome("succeeded", result={"ok": 1}))
        == JobState.SUCCEEDED
    )


def test_the_reaper_requeues_then_fails_jobs_of_dead_workers() -> None:
    job = enqueue("core.diagnostic", max_attempts=2)
    for expected in (JobState.QUEUED, JobState.FAILED):
        claimed = store.claim_next("dead/1", KINDS)
        Job.objects.filter(pk=claimed.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
        assert store.reap_expired() == [(job.id, expected)]
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.finished_at is not None
    assert job.error.startswith("The worker running this job stopped responding (last heartbeat ")
    assert job.error.endswith("Gave up after 2 attempts.")
    lines = _lines(job)
    assert "Queued again (attempt 2 of 2)." in lines[0]
    assert lines[1] == job.error


def test_a_live_lease_is_not_reaped() -> None:
    enqueue("core.diagnostic")
    store.claim_next("w/1", KINDS)
    assert store.reap_expired() == []


def test_retryable_outcome_waits_with_backoff_then_fails_when_attempts_are_used_up() -> None:
    job = enqueue("core.diagnostic", max_attempts=2)
    claimed = store.claim_next("w/1", KINDS)
    before = timezone.now()
    assert (
        store.settle(AttemptRef(job.id, claimed.attempt, "w/1"), Outcome("retry", "Service busy."))
        == "queued"
    )
    job.refresh_from_db()
    assert job.run_after >= before + timedelta(seconds=DiagnosticJob.retry_delay(1))
    assert job.error == "Service busy." and job.progress_message.startswith(
        "Waiting to retry (attempt 2 of 2)"
    )
    assert store.claim_next("w/1", KINDS) is None  # not due yet
    Job.objects.filter(pk=job.pk).update(run_after=None)
    claimed = store.claim_next("w/1", KINDS)
    assert (
        store.settle(AttemptRef(job.id, claimed.attempt, "w/1"), Outcome("retry", "Service busy."))
        == "failed"
    )
    job.refresh_from_db()
    assert job.error == "Service busy. Gave up after 2 attempts."


def test_a_shutdown_interruption_does_not_use_up_an_attempt() -> None:
    job = enqueue("core.diagnostic", max_attempts=1)
    claimed = store.claim_next("w/1", KINDS)
    assert (
        store.settle(AttemptRef(job.id, claimed.attempt, "w/1"), Outcome("interrupted", "Worker stopped."))
        == "queued"
    )
    job.refresh_from_db()
    assert job.attempt == 1 and job.counted_attempts == 0


def test_log_lines_are_numbered_per_job_and_can_be_tailed() -> None:
    job = enqueue("core.diagnostic")
    now = timezone.now()
    store.append_log_lines(job.id, 1, [(now, "INFO", "one"), (now, "WARNING", "two")])
    store.append_log_lines(job.id, 1, [(now, "ERROR", "three")])
    assert [(ln.seq, ln.level, ln.message) for ln in job_log_lines(job)] == [
        (1, "INFO", "one"),
        (2, "WARNING", "two"),
        (3, "ERROR", "three"),
    ]
    assert [ln.message for ln in job_log_lines(job, after_seq=2)] == ["three"]
    assert JobLogLine.objects.count() == 3


# -- what the worker loads before it forks ----------------------------------------------------------


def test_the_worker_preloads_what_its_job_types_name() -> None:
    import sys

    from modelworks.core.jobs.registry import registered_job_types
    from modelworks.core.jobs.worker import preload_modules

    names = preload_modules(registered_job_types().values())
    assert "modelworks.engine.recipes.prepare" in names  # the flow build's compilers
    assert all(name in sys.modules for name in names)
    assert "sqlglot" in sys.modules


def test_a_preload_module_that_does_not_exist_stops_the_worker_with_its_name() -> None:
    from modelworks.core.jobs.worker import preload_modules

    class Broken(DiagnosticJob):
        preload = ("modelworks.no_such_module",)

    with pytest.raises(ImproperlyConfigured, match=r"'modelworks\.no_such_module' cannot be imported"):
        preload_modules([Broken])
