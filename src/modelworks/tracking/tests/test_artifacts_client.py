"""The unmodified ``mlflow`` client against a live Modelworks server: proxied artifacts end to end.

The client is configured as a user would: ``MLFLOW_TRACKING_URI=<server>/mlflow/<project>`` and
``MLFLOW_TRACKING_TOKEN=<Modelworks API token>``. Experiments and runs are created through the
client too (the tracking endpoints), so the artifact URIs are the ones the server hands out.
"""

from __future__ import annotations

import http.client
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import mlflow
import pytest
import requests
from mlflow import MlflowClient
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

from modelworks.core.models import Project
from modelworks.tracking.artifacts import run_artifact_dir
from modelworks.tracking.artifacts.testing import SECRET, tree_snapshot
from modelworks.tracking.models import Run

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.tracking.artifacts.fixtures"]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mlflow_env(
    live_server: Any,
    project: Project,
    tokens: dict[str, str],
    artifacts_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[dict[str, str]]:
    """The client's environment, as bob (contributor); tests switch the token to act as others."""
    uri = f"{live_server.url}/mlflow/{project.slug}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    # The client keeps a process-wide URI that other tests may have set (or reset to ""): set it too.
    mlflow.set_tracking_uri(uri)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", tokens["bob"])
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")
    # Presigned (direct-to-cloud) downloads are an S3 feature; downloads stream through the server.
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD", "false")
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "false")
    yield tokens
    mlflow.set_tracking_uri("")


def write_tree(root: Path) -> dict[str, bytes]:
    files = {
        "MLmodel": b"artifact_path: model\nflavors: {}\n",
        "data/weights.bin": os.urandom(4096),
        "data/deeper/notes.txt": "résumé of the run\n".encode(),
        "plots/roc.png": b"\x89PNG\r\n\x1a\n" + os.urandom(100),
    }
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return files


def read_tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_log_list_download_delete_with_the_real_client(mlflow_env: dict[str, str], tmp_path: Path) -> None:
    client = MlflowClient()
    experiment_id = client.create_experiment("artifacts end to end")
    assert client.get_experiment(experiment_id).artifact_location == f"mlflow-artifacts:/{experiment_id}"
    run = client.create_run(experiment_id)
    run_id = run.info.run_id
    assert run.info.artifact_uri == f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"

    single = tmp_path / "summary.json"
    single.write_text('{"rmse": 0.41}')
    client.log_artifact(run_id, str(single))
    source = tmp_path / "model-folder"
    files = write_tree(source)
    client.log_artifacts(run_id, str(source), artifact_path="model")

    stored = run_artifact_dir(Run.objects.get(pk=run_id))
    assert read_tree(stored / "model") == files
    assert (stored / "summary.json").read_text() == '{"rmse": 0.41}'

    top = client.list_artifacts(run_id)
    assert [(f.path, f.is_dir, f.file_size) for f in top] == [
        ("model", True, None),
        ("summary.json", False, 14),
    ]
    inside = client.list_artifacts(run_id, "model/data")
    assert [(f.path, f.is_dir) for f in inside] == [
        ("model/data/deeper", True),
        ("model/data/weights.bin", False),
    ]
    assert client.list_artifacts(run_id, "summary.json") == []

    downloaded = Path(client.download_artifacts(run_id, "model", str(tmp_path / "down")))
    assert read_tree(downloaded) == files
    one = Path(client.download_artifacts(run_id, "summary.json", str(tmp_path / "one")))
    assert one.read_text() == '{"rmse": 0.41}'

    repository = get_artifact_repository(run.info.artifact_uri)
    repository.delete_artifacts("model/data")
    assert not (stored / "model" / "data").exists() and (stored / "model" / "MLmodel").exists()
    assert [f.path for f in client.list_artifacts(run_id, "model")] == ["model/MLmodel", "model/plots"]
    repository.delete_artifacts()
    assert client.list_artifacts(run_id) == []


def test_a_large_file_goes_through_proxied_multipart_upload(
    mlflow_env: dict[str, str], tmp_path: Path, artifacts_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(100 * 1024))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(64 * 1024))
    client = MlflowClient()
    run_id = client.create_run(client.create_experiment("big files")).info.run_id
    big = tmp_path / "embeddings.bin"
    content = os.urandom(300 * 1024 + 17)  # five full parts and a short last one
    big.write_bytes(content)

    client.log_artifact(run_id, str(big), artifact_path="vectors")

    stored = run_artifact_dir(Run.objects.get(pk=run_id)) / "vectors" / "embeddings.bin"
    assert stored.read_bytes() == content
    staging = artifacts_dir / "tracking" / ".mw-multipart"
    assert staging.is_dir() and list(staging.iterdir()) == []  # the multipart path ran and cleaned up
    back = Path(client.download_artifacts(run_id, "vectors/embeddings.bin", str(tmp_path / "back")))
    assert back.read_bytes() == content


def test_permissions_with_the_real_client(
    mlflow_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = MlflowClient()
    run = client.create_run(client.create_experiment("shared"))
    run_id, artifact_uri = run.info.run_id, run.info.artifact_uri
    notes = tmp_path / "notes.txt"
    notes.write_text("bob's notes")
    client.log_artifact(run_id, str(notes))
    stored = run_artifact_dir(Run.objects.get(pk=run_id))

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", mlflow_env["carol"])  # reader
    reader_copy = Path(MlflowClient().download_artifacts(run_id, "notes.txt", str(tmp_path / "carol")))
    assert reader_copy.read_text() == "bob's notes"
    with pytest.raises(requests.HTTPError, match=r"403.*contributor role"):
        MlflowClient().log_artifact(run_id, str(notes), artifact_path="by-carol")
    with pytest.raises(requests.HTTPError, match="403"):
        get_artifact_repository(artifact_uri).delete_artifacts("notes.txt")

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", mlflow_env["dave"])  # member of nothing
    with pytest.raises(requests.HTTPError, match=r"404.*No project 'flight-delays'"):
        get_artifact_repository(artifact_uri).list_artifacts()
    with pytest.raises(requests.HTTPError, match="404"):
        get_artifact_repository(artifact_uri).log_artifact(str(notes), "by-dave")

    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN")  # anonymous
    (tmp_path / "anon").mkdir()
    with pytest.raises(requests.HTTPError, match=r"401.*Authentication required"):
        get_artifact_repository(artifact_uri).download_artifacts("notes.txt", str(tmp_path / "anon"))
    assert sorted(os.listdir(stored)) == ["notes.txt"]


@pytest.mark.parametrize(
    "tail",
    [
        "../../../../secret.txt",
        "%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.txt",
        "%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt",
        "%252e%252e%252f%252e%252e%252fsecret.txt",
        "..%5c..%5c..%5c..%5csecret.txt",
        "..;/..;/..;/..;/secret.txt",
    ],
)
def test_traversal_over_a_real_socket(
    mlflow_env: dict[str, str], live_server: Any, artifacts_dir: Path, tail: str
) -> None:
    """Raw requests (no client-side normalisation of ``..``) through the real WSGI server."""
    client = MlflowClient()
    run = client.create_run(client.create_experiment("raw"))
    instance = artifacts_dir.parent
    before = tree_snapshot(instance)
    path = f"/mlflow/flight-delays/api/2.0/mlflow-artifacts/artifacts/{run.info.artifact_uri.split(':/', 1)[1]}/{tail}"
    parts = urlsplit(live_server.url)
    for method, body in (("GET", None), ("PUT", b"overwritten"), ("DELETE", None)):
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        connection.putrequest(method, path, skip_accept_encoding=True)
        connection.putheader("Authorization", f"Bearer {mlflow_env['bob']}")
        connection.putheader("Content-Length", str(len(body or b"")))
        connection.endheaders(body)
        response = connection.getresponse()
        payload = response.read()
        connection.close()
        assert response.status == 400, (method, response.status, payload[:200])
        assert b"INVALID_PARAMETER_VALUE" in payload and SECRET not in payload
    assert tree_snapshot(instance) == before


def test_a_client_that_goes_away_mid_upload_leaves_the_old_file(
    mlflow_env: dict[str, str], live_server: Any, artifacts_dir: Path, tmp_path: Path
) -> None:
    client = MlflowClient()
    run = client.create_run(client.create_experiment("flaky network"))
    first = tmp_path / "model.bin"
    first.write_bytes(b"complete model")
    client.log_artifact(run.info.run_id, str(first))
    stored = run_artifact_dir(Run.objects.get(pk=run.info.run_id))

    parts = urlsplit(live_server.url)
    path = f"/mlflow/flight-delays/api/2.0/mlflow-artifacts/artifacts/{run.info.artifact_uri.split(':/', 1)[1]}/model.bin"
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as raw:
        raw.sendall(
            f"PUT {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {mlflow_env['bob']}\r\n"
            "Content-Length: 1000\r\n\r\npartial".encode()
        )
        raw.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    assert b"stopped after 7 of 1000 bytes" in answer
    assert sorted(os.listdir(stored)) == ["model.bin"]
    assert (stored / "model.bin").read_bytes() == b"complete model"
