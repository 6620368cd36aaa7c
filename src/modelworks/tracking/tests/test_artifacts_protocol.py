"""The ``mlflow-artifacts`` protocol through Django's test client: shapes, permissions, traversal.

Every traversal form the issue lists is tried against every operation (download, upload, delete,
listing, multipart create/complete/abort); each must be refused with 400 ``INVALID_PARAMETER_VALUE``
(or 404) and leave the whole instance folder, inside and outside the artifact root, byte-for-byte as
it was.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.test.client import RequestFactory

from modelworks.core.models import AuditEvent
from modelworks.tracking.artifacts import copy_tree_into, model_artifact_dir, run_artifact_dir
from modelworks.tracking.artifacts.multipart import TOKEN_HEADER
from modelworks.tracking.artifacts.testing import SECRET, tree_snapshot
from modelworks.tracking.models import Experiment, Run

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.tracking.artifacts.fixtures"]

BASE = "/mlflow/flight-delays/api/2.0/mlflow-artifacts"


def client_for(tokens: dict[str, str], user: str | None) -> Client:
    return Client(headers={"Authorization": f"Bearer {tokens[user]}"} if user else {})


def error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.content[:500]
    body = json.loads(response.content)
    assert body["error_code"] == code, body
    return str(body["message"])


def put(client: Client, path: str, data: bytes, **extra: Any) -> Any:
    return client.put(f"{BASE}/artifacts/{path}", data=data, content_type="application/octet-stream", **extra)


def post_json(client: Client, path: str, body: dict[str, Any], **extra: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json", **extra)


@pytest.fixture
def bob_client(tokens: dict[str, str]) -> Client:
    return client_for(tokens, "bob")


def prefix(run: Run) -> str:
    return f"{run.experiment_id}/{run.run_uuid}/artifacts"


# -- the happy path ----------------------------------------------------------------------------
def test_upload_download_list_delete_round_trip(artifacts_dir: Path, run: Run, bob_client: Client) -> None:
    root = prefix(run)
    assert put(bob_client, f"{root}/model/MLmodel", b"flavors: {}\n").status_code == 200
    assert put(bob_client, f"{root}/model/data/weights.bin", bytes(range(256)) * 40).status_code == 200
    assert put(bob_client, f"{root}/report.html", b"<script>alert(1)</script>").status_code == 200
    on_disk = run_artifact_dir(run)
    assert on_disk == artifacts_dir / "tracking" / str(run.experiment_id) / run.run_uuid / "artifacts"
    assert (on_disk / "model" / "MLmodel").read_bytes() == b"flavors: {}\n"

    listing = bob_client.get(f"{BASE}/artifacts", {"path": root}).json()
    assert listing == {
        "files": [
            {"path": "model", "is_dir": True},
            {"path": "report.html", "is_dir": False, "file_size": 25},
        ]
    }
    nested = bob_client.get(f"{BASE}/artifacts", {"path": f"{root}/model/data"}).json()
    assert nested == {"files": [{"path": "weights.bin", "is_dir": False, "file_size": 10240}]}
    assert bob_client.get(f"{BASE}/artifacts", {"path": f"{root}/model/MLmodel"}).json() == {"files": []}
    assert bob_client.get(f"{BASE}/artifacts", {"path": f"{root}/missing"}).json() == {"files": []}

    download = bob_client.get(f"{BASE}/artifacts/{root}/model/data/weights.bin")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == bytes(range(256)) * 40
    assert download["Content-Disposition"] == 'attachment; filename="weights.bin"'
    assert download["Content-Length"] == "10240"
    page = bob_client.get(f"{BASE}/artifacts/{root}/report.html")
    # HTML a run logged is never rendered by a browser on this origin.
    assert page["Content-Type"] == "application/octet-stream"
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in page["Content-Security-Policy"]
    text = bob_client.get(f"{BASE}/artifacts/{root}/model/MLmodel")
    assert text["Content-Type"] == "application/octet-stream"  # no extension: opaque bytes

    assert bob_client.delete(f"{BASE}/artifacts/{root}/model").status_code == 200
    assert not (on_disk / "model").exists() and (on_disk / "report.html").exists()
    event = AuditEvent.objects.get(action="artifact.deleted")
    assert event.details == {"path": f"{root}/model"} and event.actor.username == "bob"
    assert bob_client.delete(f"{BASE}/artifacts/{root}/").status_code == 200  # the whole run's artifacts
    assert bob_client.get(f"{BASE}/artifacts", {"path": root}).json() == {"files": []}
    assert not on_disk.exists()


def test_upload_replaces_a_file_atomically_and_ajax_api_answers_too(
    artifacts_dir: Path, run: Run, bob_client: Client
) -> None:
    root = prefix(run)
    assert put(bob_client, f"{root}/metrics.json", b'{"v": 1}').status_code == 200
    assert put(bob_client, f"{root}/metrics.json", b'{"v": 2}').status_code == 200
    folder = run_artifact_dir(run)
    assert sorted(os.listdir(folder)) == ["metrics.json"]  # no temporary file left behind
    ajax = bob_client.get(
        f"/mlflow/flight-delays/ajax-api/2.0/mlflow-artifacts/artifacts/{root}/metrics.json"
    )
    assert b"".join(ajax.streaming_content) == b'{"v": 2}'


def test_download_errors(artifacts_dir: Path, run: Run, bob_client: Client) -> None:
    root = prefix(run)
    put(bob_client, f"{root}/plots/roc.png", b"\x89PNG")
    assert "No artifact" in error(
        bob_client.get(f"{BASE}/artifacts/{root}/nope.txt"), 404, "RESOURCE_DOES_NOT_EXIST"
    )
    message = error(bob_client.get(f"{BASE}/artifacts/{root}/plots"), 400, "INVALID_PARAMETER_VALUE")
    assert "folder, not a file" in message
    message = error(put(bob_client, f"{root}/plots", b"x"), 400, "INVALID_PARAMETER_VALUE")
    assert "is a folder" in message
    message = error(put(bob_client, f"{root}/plots/roc.png/inner.txt", b"x"), 400, "INVALID_PARAMETER_VALUE")
    assert "is a file" in message
    assert "name a file" in error(put(bob_client, root, b"x"), 400, "INVALID_PARAMETER_VALUE")
    message = error(bob_client.get(f"{BASE}/artifacts"), 400, "INVALID_PARAMETER_VALUE")
    assert "?path=" in message


@pytest.mark.parametrize(
    ("path", "status", "code", "match"),
    [
        ("999/{run}/artifacts/a.txt", 404, "RESOURCE_DOES_NOT_EXIST", "No experiment with ID 999"),
        ("{exp}/0123456789abcdef0123456789abcdef/artifacts/a.txt", 404, "RESOURCE_DOES_NOT_EXIST", "No run"),
        ("{exp}/{run}/a.txt", 400, "INVALID_PARAMETER_VALUE", "Artifact paths look like"),
        ("{exp}/{run}", 400, "INVALID_PARAMETER_VALUE", "Artifact paths look like"),
        ("{exp}", 400, "INVALID_PARAMETER_VALUE", "Artifact paths look like"),
        ("01/{run}/artifacts/a.txt", 400, "INVALID_PARAMETER_VALUE", "is not an experiment ID"),
        ("delays/{run}/artifacts/a.txt", 400, "INVALID_PARAMETER_VALUE", "is not an experiment ID"),
        ("{exp}/models/m-0123/artifacts/a.txt", 404, "RESOURCE_DOES_NOT_EXIST", "No logged model"),
    ],
)
def test_paths_that_name_nothing_of_the_project(
    artifacts_dir: Path, run: Run, bob_client: Client, path: str, status: int, code: str, match: str
) -> None:
    path = path.format(exp=run.experiment_id, run=run.run_uuid)
    assert match in error(bob_client.get(f"{BASE}/artifacts/{path}"), status, code)
    assert match in error(put(bob_client, path, b"x"), status, code)
    assert match in error(bob_client.get(f"{BASE}/artifacts", {"path": path}), status, code)
    assert tree_snapshot(artifacts_dir) == {}


def test_an_experiment_of_another_project_is_missing_not_forbidden(
    artifacts_dir: Path, run: Run, foreign_run: Run, tokens: dict[str, str]
) -> None:
    dave = client_for(tokens, "dave")
    assert put(dave, prefix(foreign_run) + "/a.txt", b"dave's").status_code == 404  # wrong project in address
    churn = "/mlflow/churn/api/2.0/mlflow-artifacts"
    assert dave.put(f"{churn}/artifacts/{prefix(foreign_run)}/a.txt", data=b"dave's").status_code == 200
    # bob, contributor of flight-delays, names churn's experiment through his own project: it does not exist.
    bob = client_for(tokens, "bob")
    message = error(bob.get(f"{BASE}/artifacts/{prefix(foreign_run)}/a.txt"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert f"No experiment with ID {foreign_run.experiment_id} in project 'flight-delays'" in message
    # A run of another experiment, reached through this project's experiment, does not exist either.
    mixed = f"{run.experiment_id}/{foreign_run.run_uuid}/artifacts/a.txt"
    error(bob.get(f"{BASE}/artifacts/{mixed}"), 404, "RESOURCE_DOES_NOT_EXIST")


# -- permissions ---------------------------------------------------------------------------------
def test_permissions(artifacts_dir: Path, run: Run, tokens: dict[str, str]) -> None:
    root = prefix(run)
    assert put(client_for(tokens, "bob"), f"{root}/a.txt", b"bob's").status_code == 200
    anonymous, dave, carol = (client_for(tokens, u) for u in (None, "dave", "carol"))

    assert "MLFLOW_TRACKING_TOKEN" in error(
        anonymous.get(f"{BASE}/artifacts/{root}/a.txt"), 401, "UNAUTHENTICATED"
    )
    error(put(anonymous, f"{root}/b.txt", b"x"), 401, "UNAUTHENTICATED")
    error(anonymous.get(f"{BASE}/artifacts", {"path": root}), 401, "UNAUTHENTICATED")
    error(dave.get(f"{BASE}/artifacts/{root}/a.txt"), 404, "RESOURCE_DOES_NOT_EXIST")
    error(put(dave, f"{root}/b.txt", b"x"), 404, "RESOURCE_DOES_NOT_EXIST")
    error(dave.delete(f"{BASE}/artifacts/{root}/a.txt"), 404, "RESOURCE_DOES_NOT_EXIST")

    assert b"".join(carol.get(f"{BASE}/artifacts/{root}/a.txt").streaming_content) == b"bob's"
    assert carol.get(f"{BASE}/artifacts", {"path": root}).json()["files"][0]["path"] == "a.txt"
    assert "contributor role" in error(put(carol, f"{root}/b.txt", b"x"), 403, "PERMISSION_DENIED")
    error(carol.delete(f"{BASE}/artifacts/{root}/a.txt"), 403, "PERMISSION_DENIED")
    mpu = post_json(carol, f"{BASE}/mpu/create/{root}", {"path": "/tmp/big.bin", "num_parts": 2})
    error(mpu, 403, "PERMISSION_DENIED")
    assert sorted(os.listdir(run_artifact_dir(run))) == ["a.txt"]

    # Basic auth with username and token works too (MLFLOW_TRACKING_USERNAME/PASSWORD).
    import base64

    basic = base64.b64encode(f"carol:{tokens['carol']}".encode()).decode()
    as_basic = Client(headers={"Authorization": f"Basic {basic}"})
    assert as_basic.get(f"{BASE}/artifacts/{root}/a.txt").status_code == 200
    assert Client().post(f"{BASE}/artifacts/{root}/a.txt").status_code in (401, 405)


def test_deleted_runs_refuse_writes_but_serve_reads(
    artifacts_dir: Path, deleted_run: Run, bob_client: Client
) -> None:
    folder = run_artifact_dir(deleted_run)
    folder.mkdir(parents=True)
    (folder / "kept.txt").write_bytes(b"kept")
    root = prefix(deleted_run)
    assert "Restore it first" in error(
        put(bob_client, f"{root}/new.txt", b"x"), 400, "INVALID_PARAMETER_VALUE"
    )
    error(bob_client.delete(f"{BASE}/artifacts/{root}/kept.txt"), 400, "INVALID_PARAMETER_VALUE")
    mpu = post_json(bob_client, f"{BASE}/mpu/create/{root}", {"path": "/tmp/big.bin", "num_parts": 2})
    error(mpu, 400, "INVALID_PARAMETER_VALUE")
    assert b"".join(bob_client.get(f"{BASE}/artifacts/{root}/kept.txt").streaming_content) == b"kept"
    assert sorted(os.listdir(folder)) == ["kept.txt"]


def test_size_limit(artifacts_dir: Path, run: Run, bob_client: Client, settings: Any) -> None:
    settings.MODELWORKS_MAX_ARTIFACT_BYTES = 1000
    root = prefix(run)
    assert put(bob_client, f"{root}/ok.bin", b"x" * 1000).status_code == 200
    message = error(put(bob_client, f"{root}/big.bin", b"x" * 1001), 413, "RESOURCE_LIMIT_EXCEEDED")
    assert "MODELWORKS_MAX_ARTIFACT_BYTES" in message
    # A body that does not announce its length is cut off while streaming; nothing is kept.
    factory_request = RequestFactory().put("/", data=b"y" * 5000, content_type="application/octet-stream")
    del factory_request.META["CONTENT_LENGTH"]
    from modelworks.tracking.artifacts.services import artifact_store
    from modelworks.tracking.artifacts.storage import ArtifactTooLargeError

    key = (*prefix(run).split("/"), "streamed.bin")
    with pytest.raises(ArtifactTooLargeError, match="larger than this instance's limit of 1000 bytes"):
        artifact_store().save_stream(key, factory_request, max_bytes=1000)  # type: ignore[arg-type]
    assert sorted(os.listdir(run_artifact_dir(run))) == ["ok.bin"]


def test_a_body_without_its_length_or_cut_short_stores_nothing(
    artifacts_dir: Path, run: Run, bob_client: Client
) -> None:
    root = prefix(run)
    assert put(bob_client, f"{root}/kept.txt", b"old").status_code == 200
    message = error(
        put(bob_client, f"{root}/kept.txt", b"new", CONTENT_LENGTH=""), 411, "INVALID_PARAMETER_VALUE"
    )
    assert "Content-Length" in message
    # A body that ends before its announced length (the client went away) replaces nothing.
    from modelworks.tracking.artifacts.services import artifact_store
    from modelworks.tracking.artifacts.storage import ArtifactIncompleteError

    with pytest.raises(ArtifactIncompleteError, match="stopped after 3 of 10 bytes; nothing was stored"):
        artifact_store().save_stream(
            (*root.split("/"), "kept.txt"), io.BytesIO(b"new"), max_bytes=100, expected_bytes=10
        )
    assert sorted(os.listdir(run_artifact_dir(run))) == ["kept.txt"]
    assert (run_artifact_dir(run) / "kept.txt").read_bytes() == b"old"


# -- multipart ----------------------------------------------------------------------------------
def test_multipart_upload_protocol(artifacts_dir: Path, run: Run, bob_client: Client) -> None:
    root = prefix(run)
    create = post_json(
        bob_client, f"{BASE}/mpu/create/{root}/data", {"path": "/home/bob/big.bin", "num_parts": 3}
    )
    assert create.status_code == 200, create.content
    body = create.json()
    upload_id = body["upload_id"]
    assert [c["part_number"] for c in body["credentials"]] == [1, 2, 3]
    first = body["credentials"][0]
    assert first["url"] == f"http://testserver{BASE}/mpu/part/{upload_id}/1"
    assert set(first["headers"]) == {TOKEN_HEADER}

    anonymous = Client()
    chunks = [b"a" * 10, b"b" * 10, b"c" * 3]
    etags = []
    for credential, chunk in zip(body["credentials"], chunks, strict=True):
        headers = credential["headers"]
        response = anonymous.put(credential["url"], data=chunk, content_type="", headers=headers)
        assert response.status_code == 200, response.content
        etags.append(response["ETag"])
    # Each link works once.
    reused = anonymous.put(first["url"], data=b"z" * 10, content_type="", headers=first["headers"])
    assert "already used" in error(reused, 403, "PERMISSION_DENIED")
    # A token opens only its own part.
    wrong = anonymous.put(
        body["credentials"][1]["url"], data=b"z", content_type="", headers=body["credentials"][2]["headers"]
    )
    assert "another part" in error(wrong, 403, "PERMISSION_DENIED")
    error(anonymous.put(first["url"], data=b"z", content_type=""), 401, "UNAUTHENTICATED")
    forged = {TOKEN_HEADER: first["headers"][TOKEN_HEADER][:-2] + "xx"}
    error(anonymous.put(first["url"], data=b"z", content_type="", headers=forged), 401, "UNAUTHENTICATED")
    # Nothing is an artifact before completion.
    assert bob_client.get(f"{BASE}/artifacts", {"path": root}).json() == {"files": []}

    parts = [{"part_number": n, "etag": e} for n, e in zip([1, 2, 3], etags, strict=True)]
    complete_url = f"{BASE}/mpu/complete/{root}/data"
    wrong_place = post_json(
        bob_client, f"{BASE}/mpu/complete/{root}", {"path": "big.bin", "upload_id": upload_id, "parts": parts}
    )
    assert "was created for" in error(wrong_place, 400, "INVALID_PARAMETER_VALUE")
    bad_etag = [{**parts[0], "etag": '"0000"'}, *parts[1:]]
    payload = {"path": "/home/bob/big.bin", "upload_id": upload_id, "parts": bad_etag}
    assert "ETag" in error(post_json(bob_client, complete_url, payload), 400, "INVALID_PARAMETER_VALUE")
    missing = {"path": "/home/bob/big.bin", "upload_id": upload_id, "parts": parts[1:]}
    assert "numbered 1 to 3" in error(
        post_json(bob_client, complete_url, missing), 400, "INVALID_PARAMETER_VALUE"
    )
    done = post_json(
        bob_client, complete_url, {"path": "/home/bob/big.bin", "upload_id": upload_id, "parts": parts}
    )
    assert done.status_code == 200, done.content
    assert (run_artifact_dir(run) / "data" / "big.bin").read_bytes() == b"".join(chunks)
    assert not (artifacts_dir / "tracking" / ".mw-multipart" / upload_id).exists()
    # Completed: the upload is gone; aborting it again changes nothing.
    abort = post_json(
        bob_client, f"{BASE}/mpu/abort/{root}/data", {"path": "big.bin", "upload_id": upload_id}
    )
    assert abort.status_code == 200
    assert bob_client.get(f"{BASE}/artifacts", {"path": f"{root}/data"}).json()["files"] == [
        {"path": "big.bin", "is_dir": False, "file_size": 23}
    ]


def test_multipart_abort_and_limits(artifacts_dir: Path, run: Run, bob_client: Client, settings: Any) -> None:
    root = prefix(run)
    body = post_json(
        bob_client, f"{BASE}/mpu/create/{root}", {"path": "C:\\data\\big.bin", "num_parts": 2}
    ).json()
    upload_id = body["upload_id"]
    staging = artifacts_dir / "tracking" / ".mw-multipart" / upload_id
    assert staging.is_dir()
    abort = post_json(
        bob_client, f"{BASE}/mpu/abort/{root}", {"path": "C:\\data\\big.bin", "upload_id": upload_id}
    )
    assert abort.status_code == 200 and not staging.exists()
    late = Client().put(
        body["credentials"][0]["url"], data=b"x", content_type="", headers=body["credentials"][0]["headers"]
    )
    error(late, 404, "RESOURCE_DOES_NOT_EXIST")

    for num_parts, match in [
        (0, "between 1 and 10000"),
        (10_001, "between 1 and 10000"),
        ("two", "whole number"),
    ]:
        response = post_json(
            bob_client, f"{BASE}/mpu/create/{root}", {"path": "big.bin", "num_parts": num_parts}
        )
        assert match in error(response, 400, "INVALID_PARAMETER_VALUE")
    response = post_json(bob_client, f"{BASE}/mpu/create/{root}", {"num_parts": 2})
    assert "'path'" in error(response, 400, "INVALID_PARAMETER_VALUE")

    settings.MODELWORKS_MAX_ARTIFACT_BYTES = 15
    body = post_json(bob_client, f"{BASE}/mpu/create/{root}", {"path": "big.bin", "num_parts": 2}).json()
    one, two = body["credentials"]
    assert (
        Client().put(one["url"], data=b"x" * 10, content_type="", headers=one["headers"]).status_code == 200
    )
    too_big = Client().put(two["url"], data=b"y" * 10, content_type="", headers=two["headers"])
    assert "MODELWORKS_MAX_ARTIFACT_BYTES" in error(too_big, 413, "RESOURCE_LIMIT_EXCEEDED")


def test_part_tokens_expire(artifacts_dir: Path, run: Run, bob_client: Client, settings: Any) -> None:
    body = post_json(
        bob_client, f"{BASE}/mpu/create/{prefix(run)}", {"path": "big.bin", "num_parts": 1}
    ).json()
    credential = body["credentials"][0]
    settings.MODELWORKS_ARTIFACT_PART_TOKEN_MAX_AGE_S = -1
    late = Client().put(credential["url"], data=b"x", content_type="", headers=credential["headers"])
    assert "has expired" in error(late, 401, "UNAUTHENTICATED")


def test_multipart_part_of_another_project(
    artifacts_dir: Path, run: Run, foreign_run: Run, bob_client: Client
) -> None:
    body = post_json(
        bob_client, f"{BASE}/mpu/create/{prefix(run)}", {"path": "big.bin", "num_parts": 1}
    ).json()
    credential = body["credentials"][0]
    elsewhere = credential["url"].replace("/flight-delays/", "/churn/")
    error(
        Client().put(elsewhere, data=b"x", content_type="", headers=credential["headers"]),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


# -- traversal -----------------------------------------------------------------------------------
# Each form is written after "<experiment>/<run>/artifacts/" (or replaces the whole path when it
# starts with "!"), exactly as it goes on the wire; the test client decodes it once, like a server.
TRAVERSAL_FORMS = [
    pytest.param("../../../../secret.txt", id="dot-dot-slash"),
    pytest.param("a/../../../../../secret.txt", id="dot-dot-after-a-name"),
    pytest.param("..\\..\\..\\..\\secret.txt", id="dot-dot-backslash"),
    pytest.param("%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt", id="url-encoded"),
    pytest.param("%2E%2E/%2E%2E/%2E%2E/%2E%2E/secret.txt", id="url-encoded-upper"),
    pytest.param("..%5c..%5c..%5c..%5csecret.txt", id="url-encoded-backslash"),
    pytest.param("%252e%252e%252f%252e%252e%252fsecret.txt", id="double-encoded"),
    pytest.param("%25252e%25252e%25252fsecret.txt", id="triple-encoded"),
    pytest.param("!/etc/passwd", id="absolute"),
    pytest.param("!//proc/self/root/etc/passwd", id="proc-self-root"),
    pytest.param("//proc/self/root/etc/passwd", id="proc-self-root-inside"),
    pytest.param("/etc/passwd", id="empty-segment-absolute"),
    pytest.param("..;/..;/..;/..;/secret.txt", id="semicolon-dot-dot"),
    pytest.param("a;b.txt", id="semicolon"),
    pytest.param("a%23/../../../../secret.txt", id="hash"),
    pytest.param("a%3f/../../secret.txt", id="question-mark"),
    pytest.param("file:///etc/passwd", id="file-scheme"),
    pytest.param("!file:///etc/passwd", id="file-scheme-whole"),
    pytest.param("s3:%2f%2fbucket/key", id="other-scheme"),
    pytest.param("C:\\Windows\\win.ini", id="drive-letter"),
    pytest.param("~/.ssh/id_rsa", id="home"),
    pytest.param("./a.txt", id="dot"),
    pytest.param("a%00.txt", id="nul"),
    pytest.param("a%0a.txt", id="newline"),
    pytest.param("a%e2%80%aetxt.exe", id="bidi-override"),
    pytest.param(".mw-staging-x", id="reserved-name"),
    pytest.param("a" * 256, id="overlong-name"),
    pytest.param("/".join(["d"] * 70) + "/a.txt", id="too-deep"),
    pytest.param("a%ff%fe.txt", id="invalid-utf8"),
]


def full_path(run: Run, form: str) -> str:
    return form[1:] if form.startswith("!") else f"{prefix(run)}/{form}"


# Django's resolver does not match a newline inside ``<path:...>``: those requests get its plain 404.
UNROUTED = {"a%0a.txt"}


def assert_refused(response: Any, form: str = "") -> None:
    assert response.status_code in (400, 404), (response.status_code, response.content[:300])
    if form in UNROUTED:
        assert response.status_code == 404
        return
    body = json.loads(response.content)
    assert body["error_code"] in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST"), body


@pytest.mark.parametrize("form", TRAVERSAL_FORMS)
def test_traversal_is_refused_everywhere_and_touches_nothing(
    artifacts_dir: Path, run: Run, bob_client: Client, form: str
) -> None:
    instance = artifacts_dir.parent
    put(bob_client, f"{prefix(run)}/a/kept.txt", b"kept")
    before = tree_snapshot(instance)
    path = full_path(run, form)

    download = bob_client.get(f"{BASE}/artifacts/{path}")
    assert_refused(download, form)
    assert SECRET not in download.content
    assert_refused(put(bob_client, path, b"overwritten"), form)
    assert_refused(bob_client.delete(f"{BASE}/artifacts/{path}"), form)
    # The listing takes the path from the query string, decoded once by Django; an invalid UTF-8
    # byte there becomes U+FFFD, a harmless plain character, so that form is a path-only one.
    if form != "a%ff%fe.txt":
        assert_refused(bob_client.get(f"{BASE}/artifacts?path={path}"))
    for operation in ("create", "complete", "abort"):
        body = {"path": "big.bin", "num_parts": 1, "upload_id": "0" * 32, "parts": [{"part_number": 1}]}
        assert_refused(post_json(bob_client, f"{BASE}/mpu/{operation}/{path}", body), form)
    assert tree_snapshot(instance) == before


@pytest.mark.parametrize(
    "local_path", ["..", "/tmp/..", "C:\\temp\\..", "/tmp/a;b", "/tmp/~x", "/tmp/", "", "/tmp/x%2e"]
)
def test_multipart_file_names_from_the_client_are_checked(
    artifacts_dir: Path, run: Run, bob_client: Client, local_path: str
) -> None:
    before = tree_snapshot(artifacts_dir.parent)
    response = post_json(bob_client, f"{BASE}/mpu/create/{prefix(run)}", {"path": local_path, "num_parts": 1})
    error(response, 400, "INVALID_PARAMETER_VALUE")
    assert tree_snapshot(artifacts_dir.parent) == before


def test_symbolic_links_inside_the_store_are_never_followed(
    artifacts_dir: Path, run: Run, bob_client: Client
) -> None:
    instance = artifacts_dir.parent
    folder = run_artifact_dir(run)
    folder.mkdir(parents=True)
    (folder / "leak.txt").symlink_to(instance / "secret.txt")
    (folder / "outside").symlink_to(instance)
    before = tree_snapshot(instance)
    root = prefix(run)

    for path in (f"{root}/leak.txt", f"{root}/outside/secret.txt"):
        response = bob_client.get(f"{BASE}/artifacts/{path}")
        assert "symbolic link" in error(response, 400, "INVALID_PARAMETER_VALUE")
        assert "symbolic link" in error(put(bob_client, path, b"overwritten"), 400, "INVALID_PARAMETER_VALUE")
        error(bob_client.delete(f"{BASE}/artifacts/{path}"), 400, "INVALID_PARAMETER_VALUE")
    error(put(bob_client, f"{root}/outside/new.txt", b"x"), 400, "INVALID_PARAMETER_VALUE")
    assert bob_client.get(f"{BASE}/artifacts", {"path": root}).json() == {"files": []}
    error(bob_client.get(f"{BASE}/artifacts", {"path": f"{root}/outside"}), 400, "INVALID_PARAMETER_VALUE")
    assert tree_snapshot(instance) == before
    assert (instance / "secret.txt").read_bytes() == SECRET


# -- the in-process service API -----------------------------------------------------------------
def test_copy_tree_into_run_and_model_folders(artifacts_dir: Path, run: Run, tmp_path: Path) -> None:
    source = tmp_path / "saved-model"
    (source / "data").mkdir(parents=True)
    (source / "MLmodel").write_text("flavors: {}\n")
    (source / "data" / "model.pkl").write_bytes(b"\x80\x04")
    dest = model_artifact_dir(run.experiment_id, "m-0123456789abcdef")
    assert copy_tree_into(source, dest) == 2
    assert (dest / "data" / "model.pkl").read_bytes() == b"\x80\x04"
    (source / "MLmodel").write_text("flavors: {python_function: {}}\n")
    assert copy_tree_into(source, dest) == 2  # into an existing folder: file by file, replaced
    assert (dest / "MLmodel").read_text() == "flavors: {python_function: {}}\n"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["artifacts"]

    with pytest.raises(ValueError, match="not inside the tracking artifact store"):
        copy_tree_into(source, tmp_path / "elsewhere")
    (source / "link").symlink_to(tmp_path)
    with pytest.raises(ValueError, match="is a symbolic link"):
        copy_tree_into(source, run_artifact_dir(run))
    with pytest.raises(FileNotFoundError, match="not a folder"):
        copy_tree_into(tmp_path / "missing", run_artifact_dir(run))
    from modelworks.tracking.artifacts.paths import UnsafeArtifactPathError

    with pytest.raises(UnsafeArtifactPathError, match="is not allowed"):
        model_artifact_dir(run.experiment_id, "..")


def test_logged_model_artifacts(
    artifacts_dir: Path,
    experiment: Experiment,
    bob_client: Client,
    bob: Any,
    carol: Any,
    tokens: dict[str, str],
) -> None:
    from modelworks.registry.models import LoggedModel
    from modelworks.tracking.models import LifecycleStage

    model = LoggedModel.objects.create(
        experiment=experiment,
        name="model",
        creation_timestamp_ms=1,
        last_updated_timestamp_ms=1,
        created_by=bob,
    )
    root = f"{experiment.pk}/models/{model.pk}/artifacts"
    assert put(bob_client, f"{root}/MLmodel", b"flavors: {}\n").status_code == 200
    assert (model_artifact_dir(experiment.pk, model.pk) / "MLmodel").read_bytes() == b"flavors: {}\n"
    assert bob_client.get(f"{BASE}/artifacts", {"path": root}).json()["files"][0]["path"] == "MLmodel"
    error(put(client_for(tokens, "carol"), f"{root}/MLmodel", b"x"), 403, "PERMISSION_DENIED")
    # Another experiment's path to the same model finds nothing.
    other = Experiment.objects.create(
        project=experiment.project, name="other", creation_time=1, last_update_time=1, created_by=bob
    )
    error(
        bob_client.get(f"{BASE}/artifacts/{other.pk}/models/{model.pk}/artifacts/MLmodel"),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    LoggedModel.objects.filter(pk=model.pk).update(lifecycle_stage=LifecycleStage.DELETED)
    assert "logged model" in error(put(bob_client, f"{root}/more.txt", b"x"), 400, "INVALID_PARAMETER_VALUE")


# -- the rows handed to the MLflow permission suite work as described ------------------------------
def test_permission_suite_rows(permission_world: Any, artifacts_dir: Path) -> None:
    from django.urls import reverse

    from modelworks.core.models import Role
    from modelworks.tracking.artifacts.testing import ARTIFACT_MLFLOW_ROUTES

    world = permission_world
    assert {row.url_name for row in ARTIFACT_MLFLOW_ROUTES} == {
        "mlflow:artifacts_file",
        "mlflow:artifacts_list",
        "mlflow:artifacts_mpu_create",
        "mlflow:artifacts_mpu_complete",
        "mlflow:artifacts_mpu_abort",
    }
    for row in ARTIFACT_MLFLOW_ROUTES:
        for actor in ("anonymous", "outsider", "reader", "contributor"):
            url = reverse(row.url_name, kwargs={"project": world.project.slug, **row.kwargs(world)})
            client = Client(
                headers={"Authorization": f"Bearer {world.tokens[actor]}"} if actor != "anonymous" else {}
            )
            if row.content is not None:
                response = client.generic(row.method, url, row.content(world), "application/octet-stream")
            elif row.method == "GET":
                response = client.get(url, row.body(world) if row.body else {})
            else:
                response = client.generic(
                    row.method, url, json.dumps(row.body(world) if row.body else {}), "application/json"
                )
            expected = {
                "anonymous": 401,
                "outsider": 404,
                "reader": 200 if row.role == Role.READER else 403,
                "contributor": 200,
            }[actor]
            assert response.status_code == expected, (str(row), actor, response.content[:300])
