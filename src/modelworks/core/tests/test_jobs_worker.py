"""The job queue with real ``modelworks worker`` processes on the test database (SQLite or PostgreSQL).

Timings rely on the test settings: lease 6 s (heartbeat every 2 s), cancel grace 2 s, shutdown
grace 3 s.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings
from django.db import connection

from modelworks.core.jobs import enqueue, live_workers, request_cancel
from modelworks.core.models import Job, JobLogLine, JobState, User
from modelworks.core.models.jobs import Worker

if TYPE_CHECKING:
    from modelworks.core.tests.jobs_fixtures import WorkerProcess

pytest_plugins = ["modelworks.core.tests.jobs_fixtures"]

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

StartWorker = Callable[..., "WorkerProcess"]
LEASE = float(settings.MODELWORKS_JOB_LEASE_SECONDS)
CANCEL_GRACE = float(settings.MODELWORKS_JOB_CANCEL_GRACE_SECONDS)
SHUTDOWN_GRACE = float(settings.MODELWORKS_JOB_SHUTDOWN_GRACE_SECONDS)


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def job_lines(job: Job) -> list[str]:
    return list(JobLogLine.objects.filter(job=job).order_by("seq").values_list("message", flat=True))


def diagnostic(**params: object) -> Job:
    return enqueue("core.diagnostic", params=params)


def fresh(job: Job) -> Job:
    job.refresh_from_db()
    return job


def state_is(job: Job, *states: str) -> Callable[[], bool]:
    return lambda: fresh(job).state in states


def job_pid(job: Job) -> int:
    """The process of the job's latest attempt, from its "started" log line."""
    line = JobLogLine.objects.filter(job=job, message__contains="started on worker").order_by("-seq").first()
    assert line is not None, "the attempt has not started"
    match = re.search(r"\(process (\d+)\)", line.message)
    assert match is not None
    return int(match.group(1))


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie (exited, not yet waited for by its parent) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1].startswith("Z")
    except FileNotFoundError:
        return True


def test_progress_and_log_lines_arrive_while_running_then_the_result(start_worker: StartWorker) -> None:
    job = diagnostic(seconds=3, steps=6)
    start_worker("--concurrency", "1", "--name", "solo")
    wait_for(lambda: fresh(job).progress > 0, 15, "the first progress update")
    assert [(w.name, w.concurrency) for w in live_workers()] == [("solo", 1)]
    assert job.worker_id.startswith("solo/")
    # Seen while the job still runs: progress, its message, and the log lines so far.
    assert (job.state, job.progress_message) == (
        JobState.RUNNING,
        f"Step {round(job.progress * 6 / 100)} of 6",
    )
    assert job.progress < 100
    lines = job_lines(job)
    assert fresh(job).state == JobState.RUNNING
    assert "Diagnostic output via print() (attempt 1)." in lines
    assert "modelworks.diagnostic: Diagnostic output via logging." in lines
    assert "Diagnostic output via file descriptor 1." in lines
    assert "Step 1 of 6 done." in lines
    wait_for(state_is(job, JobState.SUCCEEDED), 15, "success")
    job = fresh(job)
    assert job.result == {"steps": 6, "seconds": 3.0, "attempt": 1, "pid": job_pid(job)}
    assert job.progress == 100 and job.error == "" and job.finished_at > job.started_at
    assert job.lease_expires_at is None and job.attempt == 1
    lines = job_lines(job)
    assert lines[-2] == "Step 6 of 6 done." and re.fullmatch(r"Succeeded in \d+\.\d s\.", lines[-1])


def test_failures_are_reported_in_plain_words_and_do_not_stop_the_worker(start_worker: StartWorker) -> None:
    expected = diagnostic(seconds=0.2, fail=True)
    internal = diagnostic(seconds=0.2, raise_error=True)
    crash = diagnostic(seconds=0.2, crash=True)
    after = enqueue("core.self_check", params={"pause_seconds": 0})
    start_worker("--concurrency", "2")
    for job in (expected, internal, crash, after):
        wait_for(state_is(job, JobState.SUCCEEDED, JobState.FAILED), 20, f"{job.params} to end")
    assert fresh(expected).error == "The diagnostic job failed on purpose (fail=true)."
    assert fresh(expected).attempt == 1, "an expected failure is not retried"
    internal = fresh(internal)
    assert internal.error == (
        "Internal error: RuntimeError: diagnostic job raised an unexpected error on purpose (raise_error=true)"
    )
    traceback_line = JobLogLine.objects.get(job=internal, level="ERROR", message__startswith="Traceback")
    assert 'raise RuntimeError("diagnostic job raised' in traceback_line.message
    assert fresh(crash).error == (
        "The job's process ended before reporting a result: it was killed by SIGKILL "
        "(often the machine running out of memory). See the log."
    )
    assert "Crashing on purpose (crash=true)." in job_lines(crash)
    after = fresh(after)
    assert after.state == JobState.SUCCEEDED, "the worker carries on after a job's process crashed"
    assert after.result["database"] == {"vendor": connection.vendor, "schema_up_to_date": True}
    assert "Checking free disk space" in job_lines(after)


def test_a_retryable_failure_is_retried_with_backoff(start_worker: StartWorker) -> None:
    flaky = diagnostic(seconds=0.1, steps=1, retryable_failures=2)
    hopeless = enqueue("core.diagnostic", params={"seconds": 0.1, "retryable_failures": 5}, max_attempts=2)
    start_worker("--concurrency", "2")
    wait_for(state_is(flaky, JobState.SUCCEEDED), 25, "the flaky job to succeed on its third attempt")
    flaky = fresh(flaky)
    assert flaky.attempt == 3 and flaky.result["attempt"] == 3
    log = list(JobLogLine.objects.filter(job=flaky).order_by("seq"))
    failures = [ln for ln in log if ln.message.startswith("Simulated temporary failure")]
    starts = [ln for ln in log if "started on worker" in ln.message]
    assert [f.message for f in failures] == [
        "Simulated temporary failure on attempt 1. Retrying in 1 s (attempt 2 of 3).",
        "Simulated temporary failure on attempt 2. Retrying in 2 s (attempt 3 of 3).",
    ]
    # Exponential backoff: the next attempt starts no earlier than 1 s, then 2 s, after the failure.
    assert (starts[1].time - failures[0].time).total_seconds() >= 0.9
    assert (starts[2].time - failures[1].time).total_seconds() >= 1.9
    wait_for(state_is(hopeless, JobState.FAILED), 15, "the hopeless job to give up")
    assert fresh(hopeless).error == "Simulated temporary failure on attempt 2. Gave up after 2 attempts."


def test_cancel_running_jobs_cooperatively_or_by_force(start_worker: StartWorker) -> None:
    admin = User.objects.create_superuser(username="root", password="a-long-password-1")
    polite = diagnostic(seconds=60, steps=120)
    stubborn = diagnostic(seconds=60, steps=120, ignore_cancel=True)
    start_worker("--concurrency", "2")
    for job in (polite, stubborn):
        wait_for(lambda job=job: fresh(job).progress > 0, 15, "the job to run")
    stubborn_pid = job_pid(stubborn)
    asked = time.monotonic()
    for job in (polite, stubborn):
        assert request_cancel(job, actor=admin).cancel_requested
    wait_for(state_is(polite, JobState.CANCELLED), 5, "the polite job to stop by itself")
    assert fresh(polite).error == "Cancelled on request."
    assert any(line.startswith("Cancellation seen at step") for line in job_lines(polite))
    # The stubborn one carries on, until the worker stops its process after the grace period.
    wait_for(state_is(stubborn, JobState.CANCELLED), CANCEL_GRACE + 8, "the stubborn job to be stopped")
    assert time.monotonic() - asked >= CANCEL_GRACE
    assert fresh(stubborn).error.startswith("Cancelled on request. The job did not stop by itself within 2 s")
    assert "Cancellation requested, but ignore_cancel is set: carrying on." in job_lines(stubborn)
    assert process_gone(stubborn_pid)


def test_a_killed_worker_is_detected_and_its_jobs_requeued_or_failed(start_worker: StartWorker) -> None:
    again = diagnostic(seconds=3, steps=12)
    once = enqueue("core.diagnostic", params={"seconds": 60, "steps": 120}, max_attempts=1)
    first = start_worker("--concurrency", "2")
    for job in (again, once):
        wait_for(lambda job=job: fresh(job).progress > 0, 15, "both jobs to run")
    pids = [job_pid(again), job_pid(once)]
    first.send(signal.SIGKILL)
    killed = time.monotonic()
    first.wait(5)
    # The job processes die with their worker (parent-death signal): no orphan keeps running.
    wait_for(lambda: all(process_gone(p) for p in pids), 3, "the job processes to die with the worker")
    assert fresh(again).state == JobState.RUNNING  # until its lease expires
    start_worker("--concurrency", "1")
    wait_for(state_is(once, JobState.FAILED), LEASE + 6, "the job with no attempts left to be failed")
    assert time.monotonic() - killed <= LEASE + 6
    once = fresh(once)
    assert once.error.startswith("The worker running this job stopped responding (last heartbeat ")
    assert once.error.endswith("Gave up after 1 attempt.")
    wait_for(lambda: fresh(again).attempt == 2, 5, "the other job to be taken up again")
    wait_for(state_is(again, JobState.SUCCEEDED), 15, "the second worker to finish it")
    assert any(
        "stopped responding" in line and "Queued again (attempt 2 of 3)." in line for line in job_lines(again)
    )


def test_two_workers_run_each_of_thirty_jobs_exactly_once_then_exit_in_burst_mode(
    start_worker: StartWorker,
) -> None:
    jobs = [diagnostic(seconds=0, steps=1) for _ in range(30)]
    workers = [start_worker("--burst", "--concurrency", "2", "--name", f"burst-{i}") for i in (1, 2)]
    for worker in workers:
        assert worker.wait(60) == 0
    states = Counter(Job.objects.values_list("state", flat=True))
    assert states == {JobState.SUCCEEDED: 30}
    assert set(Job.objects.values_list("attempt", flat=True)) == {1}
    starts = Counter(
        JobLogLine.objects.filter(message__startswith="Diagnostic job started").values_list(
            "job_id", flat=True
        )
    )
    assert starts == {job.id: 1 for job in jobs}, "every job ran exactly once"
    assert {w.split("/")[0] for w in Job.objects.values_list("worker_id", flat=True)} <= {
        "burst-1",
        "burst-2",
    }


def test_sigterm_lets_running_jobs_finish_then_requeues_the_rest(start_worker: StartWorker) -> None:
    short = diagnostic(seconds=1.5, steps=3)
    long = diagnostic(seconds=60, steps=60)
    worker = start_worker("--concurrency", "2")
    for job in (short, long):
        wait_for(lambda job=job: fresh(job).progress > 0, 15, "both jobs to run")
    long_pid = job_pid(long)
    worker.send(signal.SIGTERM)
    stopped = time.monotonic()
    assert worker.wait(SHUTDOWN_GRACE + 8) == 0
    assert time.monotonic() - stopped >= SHUTDOWN_GRACE - 0.5
    assert fresh(short).state == JobState.SUCCEEDED, "a job that ends within the grace period finishes"
    long = fresh(long)
    assert long.state == JobState.QUEUED and long.worker_id == "" and long.lease_expires_at is None
    assert long.counted_attempts == 0, "an interrupted attempt does not count"
    assert job_lines(long)[-1].startswith("Interrupted: worker ")
    assert process_gone(long_pid)
    assert "Stopping: no new jobs" in worker.output()


def test_burst_mode_exits_at_once_on_an_empty_queue(start_worker: StartWorker) -> None:
    started = time.monotonic()
    assert start_worker("--burst").wait(30) == 0
    assert time.monotonic() - started < 15
    assert not Worker.objects.exists(), "a worker that stops cleanly removes its row"
