"""``/projects/{slug}/jobs`` and ``/jobs/{id}``: submit, follow, cancel and retry background jobs."""

from __future__ import annotations

from django.utils import timezone

from modelworks.core.jobs import enqueue
from modelworks.core.models import AuditEvent, Job, JobLogLine, JobState, Project, User
from modelworks.core.testing.client import expect, expect_error

pytest_plugins = ["modelworks.core.testing.fixtures"]


def test_contributor_submits_a_job(api_client, project: Project, bob: User) -> None:
    body = expect(
        api_client(bob).post(
            "/projects/flight-delays/jobs",
            {"kind": "core.diagnostic", "title": "Try the queue", "params": {"seconds": 0.1, "steps": 2}},
        ),
        201,
    )
    assert body["state"] == "queued" and body["project"] == "flight-delays" and body["created_by"] == "bob"
    assert body["params"]["steps"] == 2 and body["title"] == "Try the queue" and body["progress"] == 0
    job = Job.objects.get(pk=body["id"])
    assert AuditEvent.objects.filter(action="job.submitted", target_id=str(job.pk), actor=bob).exists()


def test_title_defaults_to_the_job_type(api_client, project: Project, bob: User) -> None:
    body = expect(api_client(bob).post("/projects/flight-delays/jobs", {"kind": "core.self_check"}), 201)
    assert body["title"] == "Platform self-check"


def test_unknown_kind_is_a_field_error(api_client, project: Project, bob: User) -> None:
    body = expect_error(
        api_client(bob).post("/projects/flight-delays/jobs", {"kind": "core.nope"}), 422, "validation_error"
    )
    assert "core.nope" in body["details"]["kind"][0] and "core.self_check" in body["message"]
    assert not Job.objects.exists()


def test_bad_params_are_a_field_error(api_client, project: Project, bob: User) -> None:
    body = expect_error(
        api_client(bob).post(
            "/projects/flight-delays/jobs", {"kind": "core.diagnostic", "params": {"steps": 0}}
        ),
        422,
        "validation_error",
    )
    assert "steps" in body["details"]["params"][0]
    assert not Job.objects.exists()


def test_list_filters_by_state(api_client, project: Project, bob: User, carol: User) -> None:
    queued = enqueue("core.self_check", project=project, created_by=bob)
    Job.objects.create(project=project, kind="core.self_check", title="old", state=JobState.SUCCEEDED)
    client = api_client(carol)
    assert expect(client.get("/projects/flight-delays/jobs"), 200)["count"] == 2
    page = expect(client.get("/projects/flight-delays/jobs", state="queued"), 200)
    assert [j["id"] for j in page["items"]] == [str(queued.pk)]
    body = expect_error(client.get("/projects/flight-delays/jobs", state="stuck"), 422, "validation_error")
    assert "state" in body["details"]


def test_job_detail_shows_progress(api_client, project: Project, bob: User, carol: User) -> None:
    job = enqueue("core.self_check", project=project, created_by=bob)
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, progress=40.0, progress_message="Checking the disk", started_at=timezone.now()
    )
    body = expect(api_client(carol).get(f"/jobs/{job.pk}"), 200)
    assert (body["state"], body["progress"], body["progress_message"]) == (
        "running",
        40.0,
        "Checking the disk",
    )
    assert body["duration_seconds"] is not None


def test_logs_after_a_sequence_number(api_client, project: Project, bob: User) -> None:
    job = enqueue("core.self_check", project=project, created_by=bob)
    JobLogLine.objects.filter(job=job).delete()
    now = timezone.now()
    JobLogLine.objects.bulk_create(
        [JobLogLine(job=job, seq=i, time=now, level="INFO", message=f"line {i}") for i in range(1, 6)]
    )
    client = api_client(bob)
    everything = expect(client.get(f"/jobs/{job.pk}/logs"), 200)
    assert [line["seq"] for line in everything["items"]] == [1, 2, 3, 4, 5]
    tail = expect(client.get(f"/jobs/{job.pk}/logs", after=3), 200)
    assert [line["message"] for line in tail["items"]] == ["line 4", "line 5"] and tail["count"] == 2
    assert expect(client.get(f"/jobs/{job.pk}/logs", after=5), 200)["items"] == []


def test_cancel_a_queued_job_then_retry_it(api_client, project: Project, bob: User) -> None:
    job = enqueue("core.self_check", project=project, created_by=bob)
    client = api_client(bob)
    cancelled = expect(client.post(f"/jobs/{job.pk}/cancel"), 200)
    assert cancelled["state"] == "cancelled" and cancelled["cancel_requested"] is True
    body = expect_error(client.post(f"/jobs/{job.pk}/cancel"), 409, "conflict")
    assert "already ended" in body["message"]
    retried = expect(client.post(f"/jobs/{job.pk}/retry"), 200)
    assert retried["state"] == "queued" and retried["id"] == str(job.pk)
    actions = set(AuditEvent.objects.filter(target_id=str(job.pk)).values_list("action", flat=True))
    assert {"job.submitted", "job.cancel_requested", "job.retried"} <= actions


def test_retry_of_a_queued_job_is_a_conflict(api_client, project: Project, bob: User) -> None:
    job = enqueue("core.self_check", project=project, created_by=bob)
    body = expect_error(api_client(bob).post(f"/jobs/{job.pk}/retry"), 409, "conflict")
    assert "only failed or cancelled" in body["message"]


def test_reader_cannot_steer_jobs(api_client, project: Project, bob: User, carol: User) -> None:
    job = enqueue("core.self_check", project=project, created_by=bob)
    expect_error(api_client(carol).post(f"/jobs/{job.pk}/cancel"), 403, "permission_denied")
    job.refresh_from_db()
    assert job.state == JobState.QUEUED


def test_instance_jobs_are_for_instance_admins_only(
    api_client, project: Project, alice: User, instance_admin: User
) -> None:
    job = enqueue("core.self_check", created_by=instance_admin)
    expect_error(api_client(alice).get(f"/jobs/{job.pk}"), 404, "not_found")
    expect_error(api_client(alice).post(f"/jobs/{job.pk}/cancel"), 404, "not_found")
    assert expect(api_client(instance_admin).get(f"/jobs/{job.pk}"), 200)["project"] is None


def test_unknown_or_malformed_job_id(api_client, bob: User) -> None:
    expect_error(api_client(bob).get("/jobs/00000000-0000-0000-0000-000000000000"), 404, "not_found")
    expect_error(api_client(bob).get("/jobs/not-a-uuid"), 422, "validation_error")


def test_instance_admin_lists_every_job(
    api_client, project: Project, bob: User, instance_admin: User
) -> None:
    in_project = enqueue("core.self_check", project=project, created_by=bob)
    instance_level = enqueue("core.self_check", created_by=instance_admin)
    client = api_client(instance_admin)
    page = expect(client.get("/jobs"), 200)
    assert {j["id"] for j in page["items"]} == {str(in_project.pk), str(instance_level.pk)}
    only_project = expect(client.get("/jobs", project="flight-delays"), 200)["items"]
    assert [j["id"] for j in only_project] == [str(in_project.pk)]
    expect_error(api_client(bob).get("/jobs"), 403, "permission_denied")
