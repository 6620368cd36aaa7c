"""Routing over real processes: version swaps under load, A/B weights, shadows, failed loads, shutdown."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from modelworks.serving.tests.conftest import ServingProcess, endpoint, row_body, target, write_routing


def _log_rows(root: Path) -> list[tuple[Any, ...]]:
    files = list(root.glob("deployment-7/date=*/*.parquet"))
    if not files:
        return []
    query = (
        "SELECT role, answered, model_version, prediction, in_a "
        "FROM read_parquet(?, union_by_name = true) ORDER BY role"
    )
    return duckdb.execute(query, [[str(f) for f in files]]).fetchall()


def test_a_version_swap_under_load_drops_no_request(
    start_file_service: Callable[..., ServingProcess], model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    routing = tmp_path / "routing.json"
    write_routing(routing, {"churn": endpoint([target(model_dirs["v1"], 1)])})
    service = start_file_service(routing, workers=2)
    seen: list[str] = []
    errors: list[Any] = []
    stop = threading.Event()

    def client(reuse: bool) -> None:
        conn = service.connection() if reuse else None
        while not stop.is_set():
            try:
                answer = service.score(row_body(a=2.0), conn=conn)
            except OSError as exc:
                errors.append(exc)
                continue
            if answer.status != 200:
                errors.append(answer)
            else:
                seen.append(answer.json()["model_version"])

    threads = [threading.Thread(target=client, args=(reuse,)) for reuse in (True, True, False)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    write_routing(routing, {"churn": endpoint([target(model_dirs["v2"], 2)])})  # the alias moves
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and seen[-30:].count("churn/2") < 30:
        time.sleep(0.1)
    time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join()
    assert errors == []
    assert "churn/1" in seen and "churn/2" in seen
    assert set(seen[-30:]) == {"churn/2"}
    assert service.score(row_body(a=2.0)).json()["predictions"] == [0]  # v2 answers the opposite


def test_ab_split_follows_the_weights(
    start_file_service: Callable[..., ServingProcess], model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    routing = tmp_path / "routing.json"
    targets = [
        target(model_dirs["v1"], 1, weight=70),
        target(model_dirs["v2"], 2, role="challenger", weight=30),
    ]
    write_routing(routing, {"churn": endpoint(targets, mode="ab", log_sample_rate=0.0)})
    service = start_file_service(routing)
    conn = service.connection()
    counts = Counter(service.score(row_body(), conn=conn).json()["model_version"] for _ in range(400))
    conn.close()
    assert set(counts) == {"churn/1", "churn/2"}
    assert 0.6 < counts["churn/1"] / 400 < 0.8
    service.terminate()
    assert _log_rows(tmp_path / "predictions") == []  # log_sample_rate 0: nothing logged


def test_shadow_scores_after_the_answer_and_is_only_logged(
    start_file_service: Callable[..., ServingProcess], model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    routing = tmp_path / "routing.json"
    targets = [target(model_dirs["v1"], 1), target(model_dirs["v2"], 2, role="shadow")]
    write_routing(routing, {"churn": endpoint(targets, mode="shadow")})
    service = start_file_service(routing, flush_seconds=60)  # only the shutdown flush writes
    for a in (2.0, 3.0, -2.0):
        answer = service.score(row_body(a=a, b=0.0))
        assert answer.json()["model_version"] == "churn/1"
        assert "shadow" not in answer.body.decode()
    assert service.terminate() == 0
    assert "stopped" in service.output()
    rows = _log_rows(tmp_path / "predictions")
    primary = [r for r in rows if r[0] == "primary"]
    shadow = [r for r in rows if r[0] == "shadow"]
    assert sorted(r[4] for r in primary) == sorted(r[4] for r in shadow) == [-2.0, 2.0, 3.0]
    assert {(r[1], r[2]) for r in primary} == {(True, "churn/1")}
    assert {(r[1], r[2]) for r in shadow} == {(False, "churn/2")}
    by_input = {r[4]: r[3] for r in primary}
    assert {r[4]: r[3] for r in shadow} == {k: str(1 - int(v)) for k, v in by_input.items()}


def test_a_model_that_fails_to_load_keeps_the_previous_routing(
    start_file_service: Callable[..., ServingProcess], model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    routing = tmp_path / "routing.json"
    write_routing(routing, {"churn": endpoint([target(model_dirs["v1"], 1)])})
    service = start_file_service(routing, metrics_token="m")
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "MLmodel").write_text("flavors: {}\n")
    write_routing(
        routing,
        {
            "churn": endpoint([target(broken, 3)]),
            "fresh": endpoint([target(broken, 3)], tokens=("mwe_fresh",)),
        },
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "cannot load model churn/3" not in service.output():
        time.sleep(0.1)
    assert service.score(row_body()).json()["model_version"] == "churn/1"
    fresh = service.score(row_body(), endpoint="fresh", token="mwe_fresh")
    assert fresh.status == 503
    assert fresh.json()["error_code"] == "model_unavailable"
    time.sleep(1.2)
    metrics = service.request("GET", "/metrics", token="m").body.decode()
    assert 'modelworks_scoring_model_load_failures_total{endpoint="churn",version="churn/3"} 1' in metrics
