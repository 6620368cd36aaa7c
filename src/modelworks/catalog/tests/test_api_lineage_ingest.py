"""``POST /api/v1/lineage``: OpenLineage events in, the lineage store updated; bad input refused."""

from __future__ import annotations

import copy
import gzip
import json
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client, override_settings

from modelworks.catalog.models import ColumnLineageEdge, LineageDataset, LineageEvent, LineageJob, LineageRun
from modelworks.catalog.tests.data import run_event
from modelworks.core.models import Project, User
from modelworks.core.testing import ApiClient, expect, expect_error

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.catalog.tests.fixtures"]

URL = "/api/v1/lineage"


def post_raw(token: str | None, body: bytes, **headers: str) -> Any:
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    return Client().post(URL, data=body, content_type="application/json", headers={**auth, **headers})


def nothing_stored() -> bool:
    return not (
        LineageEvent.objects.exists() or LineageJob.objects.exists() or LineageDataset.objects.exists()
    )


def test_a_run_event_is_stored_with_its_facets(
    project: Project, bob: User, api_client: Callable[..., ApiClient]
) -> None:
    body = expect(api_client(bob).post("/lineage", run_event()), 201)

    assert (
        body["project"] == "flight-delays" and body["kind"] == "RunEvent" and body["event_type"] == "COMPLETE"
    )
    job = LineageJob.objects.get(project=project)
    assert (job.namespace, job.name, job.kind) == ("flight-delays", "etl.load_flights", "openlineage")
    assert job.sql == "INSERT INTO clean SELECT * FROM raw" and job.description == "Nightly load."
    run = LineageRun.objects.get()
    assert str(run.run_id) == "3f5e2c3a-1b7e-4d0a-9a53-2d6c0f9a1e01" and run.state == "completed"
    clean = LineageDataset.objects.get(name="public.clean_flights")
    assert clean.column_names == ["delay"]
    edge = ColumnLineageEdge.objects.get()
    assert (edge.input_column, edge.output_column, edge.transformation_subtype) == (
        "dep_delay",
        "delay",
        "IDENTITY",
    )
    stored = LineageEvent.objects.get()
    assert stored.payload == run_event() and stored.received_by == bob


def test_start_then_complete_makes_one_run_with_both_times(
    project: Project, bob: User, api_client: Callable[..., ApiClient]
) -> None:
    client = api_client(bob)
    expect(client.post("/lineage", run_event(event_type="START", eventTime="2026-11-20T08:00:00Z")), 201)
    expect(
        client.post("/lineage", run_event(event_type="COMPLETE", eventTime="2026-11-20T08:10:00+00:00")), 201
    )
    run = LineageRun.objects.get()
    assert run.state == "completed" and run.duration_seconds == 600
    assert LineageEvent.objects.count() == 2


def test_gzip_bodies_are_accepted(project: Project, tokens: dict[str, str]) -> None:
    body = gzip.compress(json.dumps(run_event()).encode())
    expect(post_raw(tokens["bob"], body, **{"Content-Encoding": "gzip"}), 201)
    assert LineageRun.objects.count() == 1


def test_job_and_dataset_events_are_stored(
    project: Project, bob: User, api_client: Callable[..., ApiClient]
) -> None:
    client = api_client(bob)
    job_event = {k: v for k, v in run_event().items() if k not in ("run", "eventType")}
    expect(client.post("/lineage", job_event), 201)
    dataset_event = {
        "eventTime": "2026-11-20T08:00:00Z",
        "producer": "manual",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": {
            "namespace": "modelworks://flight-delays",
            "name": "flights",
            "facets": {"documentation": {"description": "All departures."}},
        },
    }
    body = expect(client.post("/lineage", dataset_event), 201)
    assert body["kind"] == "DatasetEvent"
    assert LineageDataset.objects.get(name="flights").description == "All departures."
    assert not LineageRun.objects.exists()
    assert LineageJob.objects.get().edges.filter(run=None).count() == 2


def test_the_project_header_files_an_event_with_any_job_namespace(
    project: Project, tokens: dict[str, str]
) -> None:
    client = ApiClient(token=tokens["bob"])
    expect(
        client.post(
            "/lineage", run_event(namespace="airflow-prod"), **{"X-Modelworks-Project": "flight-delays"}
        ),
        201,
    )
    assert LineageJob.objects.get(project=project).namespace == "airflow-prod"


def test_unauthenticated_callers_get_401(project: Project) -> None:
    expect_error(ApiClient().post("/lineage", run_event()), 401, "not_authenticated")
    expect_error(ApiClient(token="mwt_not-a-token").post("/lineage", run_event()), 401, "not_authenticated")
    assert nothing_stored()


def test_a_namespace_of_a_project_the_caller_is_not_in_is_404(
    project: Project, dave: User, api_client: Callable[..., ApiClient]
) -> None:
    body = expect_error(api_client(dave).post("/lineage", run_event()), 404, "not_found")
    assert "No project 'flight-delays' that you can see" in body["message"]
    assert "OPENLINEAGE_NAMESPACE" in body["message"]
    # A namespace that is no project at all answers the same (existence does not leak).
    other = expect_error(api_client(dave).post("/lineage", run_event(namespace="no-such")), 404, "not_found")
    assert other["message"].replace("no-such", "flight-delays") == body["message"]
    assert nothing_stored()


def test_readers_cannot_send_events(
    project: Project, carol: User, api_client: Callable[..., ApiClient]
) -> None:
    expect_error(api_client(carol).post("/lineage", run_event()), 403, "permission_denied")
    assert nothing_stored()


def _without(path: str) -> dict[str, Any]:
    event = copy.deepcopy(run_event())
    *parents, last = path.split(".")
    target: Any = event
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    del target[last]
    return event


def _with(path: str, value: Any) -> dict[str, Any]:
    event = copy.deepcopy(run_event())
    *parents, last = path.split(".")
    target: Any = event
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value
    return event


@pytest.mark.parametrize(
    ("event", "field", "message"),
    [
        (_without("eventTime"), "eventTime", "Field required"),
        (_with("eventTime", "yesterday"), "eventTime", "datetime"),
        (_with("eventTime", "2026-11-20T08:15:00"), "eventTime", "timezone"),
        (_with("eventType", "FINISHED"), "eventType", "START"),
        (_with("run.runId", "run-42"), "run.runId", "UUID"),
        (_without("job.name"), "job.name", "Field required"),
        (_with("job.namespace", ""), "job.namespace", "at least 1 character"),
        (_with("inputs.0.name", 42), "inputs[0].name", "string"),
        (_with("inputs", {"name": "x"}), "inputs", "list"),
        (
            _with("outputs.0.facets.schema.fields", [{"type": "int"}]),
            "outputs[0].facets.schema.fields[0].name",
            "Field required",
        ),
        (
            _with(
                "outputs.0.facets.columnLineage.fields.delay.inputFields", [{"namespace": "pg", "name": "t"}]
            ),
            "outputs[0].facets.columnLineage.fields.delay.inputFields[0].field",
            "Field required",
        ),
        (_with("job.facets.sql", {"dialect": "ansi"}), "job.facets.sql.query", "Field required"),
        (_without("producer"), "producer", "Field required"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_invalid_events_get_422_naming_the_field(
    project: Project,
    bob: User,
    api_client: Callable[..., ApiClient],
    event: dict[str, Any],
    field: str,
    message: str,
) -> None:
    body = expect_error(api_client(bob).post("/lineage", event), 422, "validation_error")
    assert field in body["details"], body
    assert message in " ".join(body["details"][field]), body
    assert field in body["message"]
    assert nothing_stored()


def test_other_shapes_are_refused(project: Project, tokens: dict[str, str]) -> None:
    client = ApiClient(token=tokens["bob"])
    body = expect_error(client.post("/lineage", {"hello": "world"}), 422, "validation_error")
    assert "a RunEvent has 'run' and 'job'" in body["message"]
    expect_error(client.post("/lineage", [run_event()]), 422, "validation_error")
    body = expect_error(post_raw(tokens["bob"], b"{not json"), 400, "validation_error")
    assert "not valid JSON" in body["message"]
    body = expect_error(
        post_raw(tokens["bob"], b"\x1f\x8b garbage", **{"Content-Encoding": "gzip"}), 400, "validation_error"
    )
    assert "not valid gzip" in body["message"]
    body = expect_error(
        post_raw(tokens["bob"], b"{}", **{"Content-Encoding": "br"}), 415, "unsupported_media"
    )
    assert "send gzip or no encoding" in body["message"]
    internal = run_event(namespace="modelworks://flight-delays")
    body = expect_error(client.post("/lineage", internal), 422, "validation_error")
    assert "job.namespace" in body["details"]
    external_dataset = {
        "eventTime": "2026-11-20T08:00:00Z",
        "producer": "p",
        "dataset": {"namespace": "s3://b", "name": "k"},
    }
    body = expect_error(client.post("/lineage", external_dataset), 422, "validation_error")
    assert "X-Modelworks-Project" in body["details"]["dataset.namespace"][0]
    assert nothing_stored()


def gzip_bomb(padding_bytes: int, tail: bytes) -> bytes:
    """A gzip body inflating to ``padding_bytes`` of spaces then ``tail``, compressed piece by piece."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b" " * (1024 * 1024)
    parts = [packer.compress(chunk) for _ in range(padding_bytes // len(chunk))]
    return b"".join([*parts, packer.compress(tail), packer.flush()])


@override_settings(MODELWORKS_LINEAGE_MAX_EVENT_BYTES=64 * 1024)
def test_a_gzip_bomb_is_refused_without_being_inflated(project: Project, tokens: dict[str, str]) -> None:
    # 512 MB of spaces before a valid event: about 0.5 MB on the wire, which passes the cap; the server
    # must stop inflating as soon as the output passes the cap.
    bomb = gzip_bomb(512 * 1024 * 1024, json.dumps(run_event()).encode())
    assert len(bomb) < 2 * 1024 * 1024
    with override_settings(MODELWORKS_LINEAGE_MAX_EVENT_BYTES=4 * 1024 * 1024):
        body = expect_error(
            post_raw(tokens["bob"], bomb, **{"Content-Encoding": "gzip"}), 413, "payload_too_large"
        )
    assert "decompressed body is larger than 4,194,304 bytes" in body["message"]
    small_bomb = gzip_bomb(10 * 1024 * 1024, json.dumps(run_event()).encode())
    assert len(small_bomb) < 64 * 1024
    body = expect_error(
        post_raw(tokens["bob"], small_bomb, **{"Content-Encoding": "gzip"}), 413, "payload_too_large"
    )
    assert "decompressed body is larger than 65,536 bytes" in body["message"]
    assert nothing_stored()


@override_settings(MODELWORKS_LINEAGE_MAX_EVENT_BYTES=4096)
def test_a_plain_body_over_the_cap_is_refused(project: Project, tokens: dict[str, str]) -> None:
    event = run_event()
    event["job"]["facets"]["documentation"]["description"] = "x" * 5000
    body = expect_error(post_raw(tokens["bob"], json.dumps(event).encode()), 413, "payload_too_large")
    assert "request body is larger than 4,096 bytes" in body["message"]
    assert nothing_stored()


def test_a_deleted_facet_is_removed_and_unknown_facets_are_kept(
    project: Project, bob: User, api_client: Callable[..., ApiClient]
) -> None:
    client = api_client(bob)
    event = run_event()
    event["outputs"][0]["facets"]["ownership"] = {"owners": [{"name": "team:ops"}]}
    expect(client.post("/lineage", event), 201)
    clean = LineageDataset.objects.get(name="public.clean_flights")
    assert set(clean.facets) == {"schema", "columnLineage", "ownership"}

    again = run_event(event_type="OTHER")
    again["outputs"][0]["facets"] = {"ownership": {"_deleted": True}, "schema": {"_deleted": True}}
    expect(client.post("/lineage", again), 201)
    clean.refresh_from_db()
    assert set(clean.facets) == {"columnLineage"}
    assert LineageRun.objects.get().state == "completed"  # OTHER adds facets, it does not change the state
