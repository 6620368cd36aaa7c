"""The scoring service over real HTTP: formats, authentication, bad inputs, limits and metrics.

One service (two worker processes, a routing file) serves the whole module; every test talks to it
with ``http.client``.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from modelworks.serving.tests.conftest import (
    OTHER_TOKEN,
    TOKEN,
    ServingProcess,
    endpoint,
    free_port,
    row_body,
    target,
    write_routing,
)

METRICS_TOKEN = "metrics-secret-for-tests"
MAX_BODY = 20_000


@pytest.fixture(scope="module")
def service(
    model_dirs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServingProcess]:
    import os

    root = tmp_path_factory.mktemp("serving-http")
    routing = root / "routing.json"
    write_routing(
        routing,
        {
            "churn": endpoint([target(model_dirs["v1"], 1)], max_rows=5, id_column="order_id"),
            "other": endpoint([target(model_dirs["v2"], 2)], tokens=(OTHER_TOKEN,)),
        },
        problems={"broken": "The primary model churn@gone cannot be resolved."},
    )
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
        "2",
        "--run-dir",
        str(root / "run"),
        "--predictions-dir",
        str(root / "predictions"),
        "--max-body-bytes",
        str(MAX_BODY),
        "--metrics-token",
        METRICS_TOKEN,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DJANGO_SETTINGS_MODULE": "modelworks.config.settings.test"}
    proc = ServingProcess(argv, env, root / "service.log", port)
    try:
        proc.wait_ready()
        yield proc
    finally:
        print(proc.output())
        proc.kill()


def test_health_is_anonymous_and_says_nothing_else(service: ServingProcess) -> None:
    answer = service.request("GET", "/health")
    assert answer.status == 200
    assert answer.json() == {"status": "ok"}


def test_scores_records_with_probabilities_version_and_request_id(service: ServingProcess) -> None:
    answer = service.score(row_body(a=2.0, b=1.0, order_id="A-1"))
    assert answer.status == 200, answer
    data = answer.json()
    assert data["predictions"] == [1]
    assert set(data["probabilities"][0]) == {"0", "1"}
    assert data["probabilities"][0]["1"] > 0.5
    assert data["model_version"] == "churn/1"
    assert re.fullmatch(r"[0-9a-f]{24}", data["request_id"])
    assert answer.headers["x-modelworks-request-id"] == data["request_id"]


def test_mlflow_invocations_formats_give_the_same_answer(service: ServingProcess) -> None:
    rows = [[2.0, 1.0, 0.0], [-2.0, -1.0, 0.0]]
    split = json.dumps({"dataframe_split": {"columns": ["a", "b", "c"], "data": rows}}).encode()
    records = json.dumps({"dataframe_records": [dict(zip("abc", r, strict=True)) for r in rows]}).encode()
    columns = json.dumps({"columns": {"a": [2.0, -2.0], "b": [1.0, -1.0], "c": [0.0, 0.0]}}).encode()
    answers = [
        service.request("POST", "/score/churn/invocations", split, token=TOKEN),
        service.request("POST", "/score/churn", records, token=TOKEN),
        service.request("POST", "/score/churn/", columns, token=TOKEN),
        service.request(
            "POST",
            "/score/churn/invocations",
            b"a,b,c\n2,1,0\n-2,-1,0\n",
            {"Content-Type": "text/csv"},
            token=TOKEN,
        ),
    ]
    for answer in answers:
        assert answer.status == 200, answer
        assert answer.json()["predictions"] == [1, 0]


def test_a_client_request_id_is_kept_and_a_bad_one_replaced(service: ServingProcess) -> None:
    kept = service.score(row_body(), headers={"X-Request-Id": "order-42.retry:1"})
    assert kept.json()["request_id"] == "order-42.retry:1"
    replaced = service.score(row_body(), headers={"X-Request-Id": "no spaces or; semicolons"})
    assert re.fullmatch(r"[0-9a-f]{24}", replaced.json()["request_id"])


def test_ping_needs_the_endpoint_token(service: ServingProcess) -> None:
    assert service.request("GET", "/score/churn/ping", token=TOKEN).json() == {
        "status": "ok",
        "endpoint": "churn",
    }
    assert service.request("GET", "/score/churn/ping").status == 401
    assert service.request("GET", "/score/churn/ping", token=OTHER_TOKEN).status == 403


@pytest.mark.parametrize(
    ("path", "authorization", "status", "code"),
    [
        ("/score/churn", None, 401, "unauthenticated"),
        ("/score/churn", "Bearer mwe_wrong", 403, "forbidden"),
        ("/score/churn", f"Bearer {OTHER_TOKEN}", 403, "forbidden"),  # another endpoint's token
        ("/score/churn", f"Basic {TOKEN}", 403, "forbidden"),
        ("/score/churn", "Bearer ", 403, "forbidden"),
        ("/score/nowhere", None, 401, "unauthenticated"),  # unknown endpoints look like wrong tokens
        ("/score/nowhere", f"Bearer {TOKEN}", 403, "forbidden"),
        ("/score/broken", None, 401, "unauthenticated"),
        ("/score/broken", f"Bearer {TOKEN}", 503, "endpoint_unavailable"),
    ],
)
def test_authentication(
    service: ServingProcess, path: str, authorization: str | None, status: int, code: str
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    answer = service.request("POST", path, row_body(), headers)
    assert answer.status == status, answer
    assert answer.json()["error_code"] == code
    if status == 401:
        assert answer.headers["www-authenticate"] == "Bearer"
    assert "churn@gone" not in answer.json()["message"]  # no details for callers


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code", "message"),
    [
        (b'{"records": [{"a": 1,', "application/json", 400, "invalid_json", r"JSON"),
        (b'{"records": [{"a": "\xff\xfe"}]}', "application/json", 400, "not_utf8", r"UTF-8"),
        (
            b'{"records": [{"a": ' + b"[" * 50 + b"]" * 50 + b"}]}",
            "application/json",
            400,
            "too_deep",
            r"'a'.*nested",
        ),
        (
            json.dumps({"records": [{"a": 1, "b": 1, "c": 1}] * 6}).encode(),
            "application/json",
            413,
            "too_many_rows",
            r"6 rows.*5",
        ),
        (b'{"records": [{"a": 1, "c": 2}]}', "application/json", 400, "missing_column", r"'b'"),
        (b'{"records": [{"a": "x", "b": 1, "c": 2}]}', "application/json", 400, "wrong_type", r"'a'"),
        (b'{"records": []}', "application/json", 400, "empty", r"no row|empty"),
        (b'{"something": 1}', "application/json", 400, "unknown_format", r"records"),
        (b"[1, 2, 3]", "application/json", 400, "bad_shape", r"row 0"),
        (b"null", "application/json", 400, "unknown_format", r"not rows"),
    ],
)
def test_bad_inputs_get_a_4xx_naming_the_problem(
    service: ServingProcess, body: bytes, content_type: str, status: int, code: str, message: str
) -> None:
    answer = service.score(body, headers={"Content-Type": content_type})
    assert answer.status == status, answer
    error = answer.json()
    assert error["error_code"] == code
    assert re.search(message, error["message"], re.IGNORECASE), error


def test_a_nan_is_refused_with_the_column(service: ServingProcess) -> None:
    answer = service.score(b'{"records": [{"a": NaN, "b": 1, "c": 2}]}')
    assert answer.status == 400, answer
    assert answer.json()["column"] == "a"


def test_a_body_over_the_limit_is_refused_by_length_and_while_reading(service: ServingProcess) -> None:
    big = b'{"records": [' + b'{"a": 1, "b": 2, "c": 3},' * 2000 + b'{"a": 1, "b": 2, "c": 3}]}'
    assert len(big) > MAX_BODY
    declared = service.score(big)
    assert declared.status == 413
    assert declared.json()["error_code"] == "body_too_large"
    assert "MODELWORKS_SCORING_MAX_BODY_BYTES" in declared.json()["message"]

    conn = service.connection()  # chunked: no Content-Length, the cap applies while reading
    try:
        conn.putrequest("POST", "/score/churn")
        conn.putheader("Authorization", f"Bearer {TOKEN}")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for start in range(0, len(big), 4096):
            chunk = big[start : start + 4096]
            try:
                conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                break  # the server answered and closed: fine
        try:
            conn.send(b"0\r\n\r\n")
        except OSError:
            pass
        response = conn.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["error_code"] == "body_too_large"
    finally:
        conn.close()


def test_a_burst_of_bad_requests_leaves_the_service_healthy(service: ServingProcess) -> None:
    bad = [
        b"{",
        b"\xff" * 100,
        b'{"records": [{"a": "x"}]}',
        b'{"records": ' + b"[" * 500 + b"]" * 500 + b"}",
        b"null",
        b'{"records": [{"a": 1e999, "b": 1, "c": 1}]}',
    ]
    conn = service.connection()
    try:
        for _ in range(20):
            for body in bad:
                answer = service.score(body, conn=conn)
                assert 400 <= answer.status < 500, answer
        good = service.score(row_body(a=2.0), conn=conn)
        assert good.status == 200, good
    finally:
        conn.close()
    assert service.score(row_body(a=-2.0, b=-1.0)).json()["predictions"] == [0]
    assert service.request("GET", "/health").status == 200
    assert service.proc.poll() is None


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/score/churn", 405, "method_not_allowed"),
        ("POST", "/health", 405, "method_not_allowed"),
        ("POST", "/score/churn/predict", 404, "not_found"),
        ("GET", "/", 404, "not_found"),
        ("GET", "/score/", 404, "not_found"),
    ],
)
def test_wrong_addresses_and_methods(
    service: ServingProcess, method: str, path: str, status: int, code: str
) -> None:
    answer = service.request(method, path, row_body() if method == "POST" else None, token=TOKEN)
    assert answer.status == status, answer
    assert answer.json()["error_code"] == code


def test_explanations_need_the_deployment_to_allow_them(service: ServingProcess) -> None:
    answer = service.request("POST", "/score/churn?explain=true", row_body(), token=TOKEN)
    assert answer.status == 400
    assert answer.json()["error_code"] == "explain_not_allowed"
    assert "settings" in answer.json()["message"]


def _metric(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_need_the_token_and_sum_all_workers(service: ServingProcess) -> None:
    assert service.request("GET", "/metrics").status == 401
    assert service.request("GET", "/metrics", token="wrong").status == 403
    before = service.request("GET", "/metrics", token=METRICS_TOKEN).body.decode()
    for _ in range(40):  # new connections: the kernel spreads them over both workers
        assert service.score(row_body(), endpoint="other", token=OTHER_TOKEN).status == 200
    assert service.score(b"{", endpoint="other", token=OTHER_TOKEN).status == 400
    time.sleep(1.5)  # each worker publishes its counters once a second
    answer = service.request("GET", "/metrics", token=METRICS_TOKEN)
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = answer.body.decode()
    labels = {"endpoint": "other", "version": "churn/2"}
    ok = _metric(text, "modelworks_scoring_requests_total", **labels, status="200")
    assert ok - _metric(before, "modelworks_scoring_requests_total", **labels, status="200") == 40
    assert _metric(text, "modelworks_scoring_errors_total", endpoint="other", error_code="invalid_json") >= 1
    assert _metric(text, "modelworks_scoring_request_duration_seconds_count", **labels) == ok
    assert _metric(text, "modelworks_scoring_request_duration_seconds_bucket", **labels, le="+Inf") == ok
    assert _metric(text, "modelworks_scoring_rows_total", **labels, role="primary") >= 40
    assert "modelworks_serving_workers 2" in text
    assert len(list((service.log_path.parent / "run").glob("*/worker-*.json"))) == 2


def test_metrics_are_off_without_a_configured_token(
    start_file_service: Callable[..., ServingProcess], model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    routing = tmp_path / "routing.json"
    write_routing(routing, {"churn": endpoint([target(model_dirs["v1"], 1)])})
    service = start_file_service(routing)
    answer = service.request("GET", "/metrics", token="anything")
    assert answer.status == 403
    assert "MODELWORKS_SERVING_METRICS_TOKEN" in answer.json()["message"]
