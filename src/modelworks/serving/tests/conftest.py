"""Fixtures of the scoring service tests: real MLflow model folders and real server processes.

``model_dirs`` trains two small LightGBM classifiers (3 numeric features) that answer differently
and saves them with ``mlflow.lightgbm.save_model``. ``ServingProcess`` runs the service as a
subprocess on a free port and speaks plain HTTP/1.1 to it (``http.client``, keep-alive).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

FEATURES = ("a", "b", "c")
TOKEN = "mwe_serving-test-token"
OTHER_TOKEN = "mwe_other-endpoint-token"


def _save_model(folder: Path, *, flip: bool) -> None:
    import lightgbm
    import mlflow.lightgbm
    import pandas as pd
    from mlflow.models import infer_signature

    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, len(FEATURES)))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    if flip:
        y = 1 - y
    frame = pd.DataFrame(x, columns=list(FEATURES))
    model = lightgbm.LGBMClassifier(n_estimators=10, num_leaves=7, verbose=-1).fit(frame, y)
    mlflow.lightgbm.save_model(
        model,
        str(folder),
        signature=infer_signature(frame.head(5), model.predict(frame.head(5))),
        pip_requirements=["lightgbm"],  # no slow requirement inference
    )


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two model folders: ``v1`` predicts 1 when a + b/2 > 0, ``v2`` the opposite."""
    root = tmp_path_factory.mktemp("serving-models")
    dirs = {"v1": root / "v1", "v2": root / "v2"}
    _save_model(dirs["v1"], flip=False)
    _save_model(dirs["v2"], flip=True)
    return dirs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def row_body(a: float = 1.0, b: float = 1.0, c: float = 0.0, **extra: Any) -> bytes:
    return json.dumps({"records": [{"a": a, "b": b, "c": c, **extra}]}).encode()


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<{self.status} {self.body[:300]!r}>"


class ServingProcess:
    """A scoring service subprocess; its output goes to a file shown when a test fails."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path, port: int) -> None:
        self.port = port
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            argv, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the service exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if self.request("GET", "/health").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the service did not answer within {timeout} s:\n{self.output()}")

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        *,
        conn: http.client.HTTPConnection | None = None,
        token: str | None = None,
    ) -> Answer:
        own = conn is None
        conn = conn or self.connection()
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        try:
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        finally:
            if own:
                conn.close()

    def score(self, body: bytes, *, endpoint: str = "churn", token: str | None = TOKEN, **kw: Any) -> Answer:
        return self.request("POST", f"/score/{endpoint}", body, token=token, **kw)

    def terminate(self, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"the service did not stop within {timeout} s:\n{self.output()}") from exc

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._log.close()


def write_routing(path: Path, endpoints: dict[str, Any], problems: dict[str, str] | None = None) -> None:
    from modelworks.serving.testing import write_routing as write

    write(path, {"endpoints": endpoints, "problems": problems or {}})


def endpoint(
    targets: list[dict[str, Any]], *, mode: str = "single", tokens: tuple[str, ...] = (TOKEN,), **extra: Any
) -> dict[str, Any]:
    return {"deployment_id": 7, "mode": mode, "tokens": list(tokens), "targets": targets, **extra}


def target(folder: Path, version: int, *, role: str = "primary", weight: int = 100) -> dict[str, Any]:
    return {
        "version_id": version,
        "model_name": "churn",
        "version": version,
        "model_dir": str(folder),
        "role": role,
        "weight": weight,
        "alias": "champion" if role == "primary" else "",
    }


@pytest.fixture
def start_file_service(tmp_path: Path) -> Iterator[Any]:
    """``start(routing, workers=1, **options)`` runs ``python -m modelworks.serving.testing``."""
    started: list[ServingProcess] = []

    def start(routing: Path, *, workers: int = 1, **options: Any) -> ServingProcess:
        port = free_port()
        argv = [
            sys.executable,
            "-m",
            "modelworks.serving.testing",
            "--routing",
            str(routing),
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--run-dir",
            str(tmp_path / "run"),
            "--predictions-dir",
            str(tmp_path / "predictions"),
            "--poll-seconds",
            "0.2",
        ]
        for key, value in options.items():
            argv += [f"--{key.replace('_', '-')}", str(value)]
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "modelworks.config.settings.test",
        }
        service = ServingProcess(argv, env, tmp_path / f"service-{len(started)}.log", port)
        started.append(service)
        service.wait_ready()
        return service

    yield start
    for service in started:
        service.kill()
