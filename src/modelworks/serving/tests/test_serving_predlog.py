"""The worker's prediction log: requests queued on the request path, written in bulk, row for row what
``engine.predictions.schema.batch_table`` makes of each request on its own."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa

from modelworks.engine.predictions.schema import batch_table
from modelworks.engine.scoring import ScoringModel
from modelworks.serving.predlog import PredictionLog
from modelworks.serving.routing import LoadedTarget

TS = 1_780_000_000.25  # a fixed time.time(), so the expected day and stamps are known


def _target(model: ScoringModel, version_id: int, role: str) -> LoadedTarget:
    config = SimpleNamespace(version_id=version_id, role=role)
    return LoadedTarget(config=config, model=model, label=f"churn/{version_id}")


def _requests(model: ScoringModel) -> list[dict[str, Any]]:
    """Answered requests of two versions, one with client ids (id column), and a shadow's rows."""
    bodies = [
        {"records": [{"a": 1.0, "b": 0.5, "c": 0.0}]},
        {"records": [{"a": -1.0, "b": 0.0, "c": 2.0}, {"a": 0.2, "b": -3.0, "c": 1.0}]},
        {"dataframe_split": {"columns": ["c", "b", "a"], "data": [[0.0, 1.0, 2.0]]}},
        {"records": [{"a": 0.5, "b": 0.5, "c": 0.5, "order": "o-1"}, {"a": 1, "b": 2, "c": 3, "order": 42}]},
    ]
    primary, challenger = _target(model, 1, "primary"), _target(model, 2, "challenger")
    out = []
    for index, body in enumerate(bodies):
        id_column = "order" if "order" in json.dumps(body) else None
        batch = model.parse(json.dumps(body).encode(), max_rows=10, id_column=id_column)
        out.append(
            {
                "target": challenger if index == 1 else primary,
                "batch": batch,
                "result": model.predict(batch),
                "request_id": f"req-{index}",
                "ts": TS + index,
                "latency_ms": 0.5 + index,
                "answered": True,
            }
        )
    shadow = out[1] | {"target": _target(model, 3, "shadow"), "latency_ms": None, "answered": False}
    return [*out, shadow]


def _expected(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from datetime import UTC, datetime

    rows = []
    for r in requests:
        table = batch_table(
            request_id=r["request_id"],
            ts=datetime.fromtimestamp(r["ts"], UTC),
            model_version_id=int(r["target"].config.version_id),
            model_version=r["target"].label,
            role=r["target"].role,
            answered=r["answered"],
            inputs=r["batch"].frame,
            predictions=r["result"],
            row_ids=r["batch"].ids,
            latency_ms=r["latency_ms"],
        )
        rows.extend(table.to_pylist())
    return rows


def _normalized(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # The probabilities are JSON text: compare what they say, not their spacing.
    out = [{**r, "probabilities": json.loads(r["probabilities"])} for r in rows]
    return sorted(out, key=lambda r: (r["request_id"], r["role"], r["row_id"]))


def test_a_flush_writes_every_request_as_batch_table_would(
    model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    model = ScoringModel.load(model_dirs["v1"])
    requests = _requests(model)
    log = PredictionLog(tmp_path, flush_seconds=3600)
    config = SimpleNamespace(deployment_id=7)
    for r in requests:
        log.append(config, r["target"], r["batch"], r["result"], r["request_id"], r["ts"], r["latency_ms"], answered=r["answered"])  # fmt: skip
    assert log.pending_rows == 8
    assert log.flush() == 8
    assert log.pending_rows == 0 and log.flush() == 0
    files = sorted(tmp_path.glob("deployment-7/date=*/part-*.parquet"))
    assert [f.parent.name for f in files] == ["date=2026-05-28"]  # one segment for the day
    import pyarrow.parquet as pq

    written = pq.read_table(files[0])
    expected = _expected(requests)
    assert written.column_names == list(expected[0])
    assert _normalized(written.to_pylist()) == _normalized(expected)
    ids = written.filter(pa.compute.equal(written["request_id"], "req-3"))["row_id"].to_pylist()
    assert ids == ["o-1", "42"]


def test_a_failed_write_keeps_the_rows_for_the_next_flush(
    model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    model = ScoringModel.load(model_dirs["v1"])
    r = _requests(model)[0]
    blocked = tmp_path / "log"
    blocked.write_text("a file where the log's folder should be")
    log = PredictionLog(blocked, flush_seconds=3600)
    log.append(SimpleNamespace(deployment_id=7), r["target"], r["batch"], r["result"], "req-0", TS, 1.0, answered=True)  # fmt: skip
    assert log.flush() == 0
    assert log.pending_rows == 1
    blocked.unlink()
    assert log.flush() == 1
    assert len(list(blocked.glob("deployment-7/date=*/part-*.parquet"))) == 1


def test_rows_beyond_the_cap_are_dropped_and_counted(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    model = ScoringModel.load(model_dirs["v1"])
    requests = _requests(model)
    log = PredictionLog(tmp_path, flush_seconds=3600, max_pending_rows=3)
    config = SimpleNamespace(deployment_id=7)
    for r in requests[:3]:  # 1 + 2 rows fit, the third request's row does not
        log.append(config, r["target"], r["batch"], r["result"], r["request_id"], r["ts"], 1.0, answered=True)
    assert (log.pending_rows, log.dropped_rows) == (3, 1)
    assert log.flush() == 3


def test_request_ids_are_unique_and_24_hex_digits() -> None:
    from modelworks.serving.app import _request_id

    ids = [_request_id(None) for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 24 and int(i, 16) >= 0 for i in ids)
