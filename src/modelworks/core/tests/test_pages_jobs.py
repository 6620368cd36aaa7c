"""Jobs pages: the project's list (filter, pagination, "Run a job"), all jobs, and the live job page."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client
from django.utils import timezone

from modelworks.core.jobs import enqueue
from modelworks.core.jobs.store import append_log_lines
from modelworks.core.models import AuditEvent, Job, JobLogLine, JobState, Project, User

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.core.tests.jobs_fixtures"]

HX = {"HX-Request": "true"}
JOBS = "/projects/flight-delays/jobs/"


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_job(project: Project | None, user: User, state: str = JobState.QUEUED, **fields) -> Job:
    return Job.objects.create(
        project=project,
        kind="core.self_check",
        title=fields.pop("title", "Platform self-check"),
        state=state,
        created_by=user,
        **fields,
    )


def test_contributors_get_the_run_form_readers_do_not(project: Project, bob: User, carol: User) -> None:
    html = as_user(bob).get(JOBS).content.decode()
    assert "Run a job" in html and '<option value="core.self_check">Platform self-check</option>' in html
    assert "No jobs yet" in html and "Start with the platform self-check" in html
    html = as_user(carol).get(JOBS).content.decode()
    assert "Run a job" not in html
    assert "Jobs appear here when a contributor runs one." in html


def test_running_a_job_queues_it_and_opens_its_page(project: Project, bob: User) -> None:
    response = as_user(bob).post(f"{JOBS}run/", {"kind": "core.self_check"})
    job = Job.objects.get(project=project)
    assert response.status_code == 303 and response["Location"] == f"/jobs/{job.pk}/"
    assert (job.state, job.created_by, job.title) == (JobState.QUEUED, bob, "Platform self-check")
    assert AuditEvent.objects.filter(action="job.submitted", project=project, actor=bob).exists()


def test_an_unknown_job_type_is_refused_plainly(project: Project, bob: User) -> None:
    response = as_user(bob).post(f"{JOBS}run/", {"kind": "core.nope"})
    assert response.status_code == 422
    assert "Select a valid choice." in response.content.decode()
    assert not Job.objects.exists()


def test_readers_cannot_run_jobs(project: Project, carol: User) -> None:
    assert as_user(carol).post(f"{JOBS}run/", {"kind": "core.self_check"}).status_code == 403
    assert not Job.objects.exists()


def test_the_list_filters_by_state_and_the_fragment_is_just_the_table(project: Project, bob: User) -> None:
    make_job(project, bob, JobState.SUCCEEDED, title="Finished one", progress=100)
    make_job(project, bob, JobState.FAILED, title="Broken one")
    client = as_user(bob)
    html = client.get(JOBS, {"state": "failed"}).content.decode()
    assert "Broken one" in html and "Finished one" not in html
    fragment = client.get(JOBS, {"state": "succeeded"}, headers=HX).content.decode()
    assert fragment.lstrip().startswith('<div id="job-table"')
    assert "Finished one" in fragment and "Broken one" not in fragment
    assert "100 %" in fragment
    empty = client.get(JOBS, {"state": "cancelled"}).content.decode()
    assert "No job matches this filter" in empty


def test_an_invalid_filter_shows_nothing_rather_than_everything(project: Project, bob: User) -> None:
    make_job(project, bob, title="Visible")
    html = as_user(bob).get(JOBS, {"state": "exploded"}).content.decode()
    assert "Visible" not in html and "No job matches this filter" in html


def test_the_list_is_paginated(project: Project, bob: User) -> None:
    for i in range(30):
        make_job(project, bob, JobState.SUCCEEDED, title=f"Job number {i:02d}")
    client = as_user(bob)
    first = client.get(JOBS).content.decode()
    assert "1\N{EN DASH}25 of 30" in first and "Job number 29" in first and "Job number 00" not in first
    assert 'href="?page=2"' in first
    second = client.get(JOBS, {"page": 2}).content.decode()
    assert "26\N{EN DASH}30 of 30" in second and "Job number 00" in second


def test_the_list_polls_only_while_something_is_unfinished(project: Project, bob: User) -> None:
    client = as_user(bob)
    job = make_job(project, bob, JobState.RUNNING)
    assert 'hx-trigger="every 2s"' in client.get(JOBS).content.decode()
    Job.objects.filter(pk=job.pk).update(state=JobState.SUCCEEDED)
    assert "hx-trigger" not in client.get(JOBS, headers=HX).content.decode()


def test_all_jobs_is_for_instance_admins(project: Project, alice: User, instance_admin: User) -> None:
    make_job(project, alice, title="In a project")
    make_job(None, instance_admin, title="Instance-wide")
    html = as_user(instance_admin).get("/jobs/").content.decode()
    assert "In a project" in html and "Instance-wide" in html
    response = as_user(alice).get("/jobs/")
    assert response.status_code == 403
    assert "Only instance administrators can do this." in response.content.decode()


def test_job_page_shows_state_progress_times_and_logs(project: Project, bob: User, carol: User) -> None:
    job = enqueue("core.self_check", project=project, created_by=bob)
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING,
        progress=42.4,
        progress_message="Checking free disk space",
        started_at=timezone.now(),
        attempt=1,
        worker_id="host:1",
    )
    append_log_lines(
        job.pk, 1, [(timezone.now(), "INFO", "Checking the database"), (timezone.now(), "ERROR", "Boom")]
    )
    html = as_user(carol).get(f"/jobs/{job.pk}/").content.decode()
    assert 'badge-running"' in html and "Checking free disk space" in html
    assert 'aria-valuenow="42"' in html and "width: 42%" in html
    assert "1 of 2" in html and "host:1" in html
    assert "Checking the database" in html and 'class="log-line log-error"' in html
    assert f'hx-get="/jobs/{job.pk}/live/?after=' in html and 'hx-trigger="every 1s"' in html
    assert "Cancel job" not in html  # a reader watches; contributors steer


def test_the_live_fragment_sends_only_new_log_lines_out_of_band(project: Project, bob: User) -> None:
    job = make_job(project, bob, JobState.RUNNING, attempt=1)
    now = timezone.now()
    append_log_lines(job.pk, 1, [(now, "INFO", "first line"), (now, "INFO", "second line")])
    client = as_user(bob)
    html = client.get(f"/jobs/{job.pk}/live/", {"after": 1}, headers=HX).content.decode()
    assert html.lstrip().startswith('<section id="job-live"')
    assert '<ol hx-swap-oob="beforeend:#job-log-lines">' in html
    assert "second line" in html and "first line" not in html
    assert f"/jobs/{job.pk}/live/?after=2" in html
    assert (
        'hx-swap-oob="beforeend'
        not in client.get(f"/jobs/{job.pk}/live/", {"after": 2}, headers=HX).content.decode()
    )
    # Opened directly (no HTMX), the fragment's address leads to the job page.
    assert client.get(f"/jobs/{job.pk}/live/")["Location"] == f"/jobs/{job.pk}/"


def test_a_finished_job_stops_polling_and_offers_retry_when_it_failed(project: Project, bob: User) -> None:
    job = make_job(
        project, bob, JobState.FAILED, error="The data folder is not writable.", attempt=2, max_attempts=2
    )
    html = as_user(bob).get(f"/jobs/{job.pk}/").content.decode()
    assert "hx-trigger" not in html.split('id="job-live"')[1].split(">")[0]
    assert "Why it failed" in html and "The data folder is not writable." in html
    assert ">Retry</button>" in html and "Cancel job" not in html


def test_cancel_a_queued_job(project: Project, bob: User) -> None:
    job = enqueue("core.self_check", project=project, created_by=bob)
    response = as_user(bob).post(f"/jobs/{job.pk}/cancel/", headers=HX)
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<section id="job-live"')
    assert "Job cancelled before it started." in html
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    assert AuditEvent.objects.filter(action="job.cancel_requested", actor=bob).exists()
    # Cancelling again is refused with the job system's own words, and changes nothing.
    again = as_user(bob).post(f"/jobs/{job.pk}/cancel/", headers=HX).content.decode()
    assert "has already ended (cancelled); there is nothing to cancel." in again


def test_cancelling_a_running_job_adds_only_the_log_lines_not_yet_shown(project: Project, bob: User) -> None:
    job = make_job(project, bob, JobState.RUNNING, attempt=1)
    append_log_lines(job.pk, 1, [(timezone.now(), "INFO", "already on the page")])
    response = as_user(bob).post(f"/jobs/{job.pk}/cancel/", {"after": 1}, headers=HX)
    html = response.content.decode()
    assert "Cancellation requested: the job stops at its next checkpoint." in html
    assert "already on the page" not in html
    assert "Cancellation requested by bob." in html  # the line the request itself logged
    assert f"/jobs/{job.pk}/live/?after=2" in html
    job.refresh_from_db()
    assert job.cancel_requested and job.state == JobState.RUNNING


def test_retry_a_failed_job(project: Project, bob: User) -> None:
    job = make_job(project, bob, JobState.FAILED, error="Temporary", attempt=1, max_attempts=1)
    response = as_user(bob).post(f"/jobs/{job.pk}/retry/")
    assert response.status_code == 303 and response["Location"] == f"/jobs/{job.pk}/"
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and job.error == ""
    succeeded = make_job(project, bob, JobState.SUCCEEDED)
    html = as_user(bob).post(f"/jobs/{succeeded.pk}/retry/", headers=HX).content.decode()
    assert "succeeded; submit a new job to run it again." in html


def test_readers_cannot_steer_jobs(project: Project, bob: User, carol: User) -> None:
    queued = enqueue("core.self_check", project=project, created_by=bob)
    failed = make_job(project, bob, JobState.FAILED)
    client = as_user(carol)
    assert client.post(f"/jobs/{queued.pk}/cancel/").status_code == 403
    assert client.post(f"/jobs/{failed.pk}/retry/").status_code == 403
    queued.refresh_from_db()
    assert queued.state == JobState.QUEUED


def test_jobs_of_other_projects_and_instance_jobs_are_not_found(
    project: Project, alice: User, dave: User, instance_admin: User
) -> None:
    project_job = make_job(project, alice)
    instance_job = make_job(None, instance_admin)
    client = as_user(dave)
    for job in (project_job, instance_job):
        assert client.get(f"/jobs/{job.pk}/").status_code == 404
        assert client.post(f"/jobs/{job.pk}/cancel/").status_code == 404
    assert as_user(alice).get(f"/jobs/{instance_job.pk}/").status_code == 404
    assert as_user(instance_admin).get(f"/jobs/{instance_job.pk}/").status_code == 200


@pytest.mark.worker
def test_a_real_worker_drives_the_live_fragment_to_100_percent(
    project: Project, bob: User, start_worker
) -> None:
    job = enqueue("core.self_check", project=project, created_by=bob, params={"pause_seconds": 0.1})
    start_worker("--concurrency", "1")
    client = as_user(bob)
    seen_lines: list[str] = []
    after = 0
    deadline = time.monotonic() + 60
    html = ""
    while time.monotonic() < deadline:
        html = client.get(f"/jobs/{job.pk}/live/", {"after": after}, headers=HX).content.decode()
        seen_lines += re.findall(r'<span class="log-message">([^<]*)</span>', html)
        after = int(re.search(r"after=(\d+)", html).group(1)) if "after=" in html else after
        if 'hx-trigger="every 1s"' not in html:
            break
        time.sleep(0.3)
    assert 'badge-succeeded">' in html, html
    assert 'aria-valuenow="100"' in html
    assert "Checking the database" in seen_lines
    # Each line arrived exactly once across the polls: the fragment sends only what is new.
    assert len(seen_lines) == JobLogLine.objects.filter(job=job).count()
    assert any(line.startswith("Succeeded in") for line in seen_lines), seen_lines
