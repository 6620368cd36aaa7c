"""Models are code: a pickled model runs its author's code when it is loaded. Batch scoring (and the
back-tests and retraining comparisons built on it) loads models only in the bubblewrap sandbox.

Each test builds a real MLflow scikit-learn model folder whose ``model.pkl`` is a cloudpickle with a
``__reduce__`` that runs an attack when unpickled, scores a real Parquet file through the real child
process in the real sandbox, and checks what the attack could see and do, from the host's side.
"""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from modelworks.engine.recipes.python import PythonLimits
from modelworks.engine.recipes.python import sandbox as sandbox_module
from modelworks.engine.recipes.python.sandbox import INSTALL_HINT, find_bwrap
from modelworks.engine.scoring import BatchScoringError, run_batch_scoring
from modelworks.engine.scoring.sandbox import score_frame

pytestmark = pytest.mark.skipif(find_bwrap() is None, reason=INSTALL_HINT)

FEATURES = ["f0", "f1", "f2"]
SECRET = "s3cr3t-platform-key"
DATABASE_URL = "postgres://modelworks:hunter2@db.internal/modelworks"
MIB = 1024 * 1024

# Runs inside the scoring child when the model is unpickled; reports what it saw on stdout (the
# child's log), then hands back the real estimator so the scoring goes on.
ATTACK_SOURCE = """
def attack(estimator, targets):
    import json, os, socket, time
    report = {"env": {k: os.environ.get(k) for k in ("MODELWORKS_SECRET_KEY", "DATABASE_URL")}}
    report["env_names"] = sorted(os.environ)
    try:
        with open(targets["other_data"], "rb") as handle:
            report["read"] = handle.read(16).hex()
    except OSError as exc:
        report["read"] = type(exc).__name__
    report["write"] = {}
    for path in targets["write"]:
        try:
            with open(path, "w") as handle:
                handle.write("planted by a model")
            report["write"][path] = "written"
        except OSError as exc:
            report["write"][path] = type(exc).__name__
    try:
        socket.create_connection(("127.0.0.1", targets["port"]), timeout=3).close()
        report["connect"] = "connected"
    except OSError as exc:
        report["connect"] = type(exc).__name__
    for n in range(targets.get("big_files", 0)):
        with open(f"/work/junk_{n}.bin", "wb") as handle:
            handle.write(b"x" * (900 * 1024))
    print("ATTACK " + json.dumps(report), flush=True)
    if targets.get("fail"):
        raise PermissionError("the model could not write where it wanted")
    return estimator
"""


class _Trojan:
    """Pickles as ``attack(estimator, targets)``: the call runs when the pickle is loaded."""

    def __init__(self, estimator: Any, targets: dict[str, Any]) -> None:
        namespace: dict[str, Any] = {"__name__": "modelworks_test_attack"}  # not importable: by value
        exec(compile(ATTACK_SOURCE, "<attack>", "exec"), namespace)  # noqa: S102 - the test's own code
        self.attack = namespace["attack"]
        self.estimator = estimator
        self.targets = targets

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return self.attack, (self.estimator, self.targets)


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.normal(size=(120, len(FEATURES))), columns=FEATURES)
    frame["label"] = np.where(frame.f0 - frame.f1 > 0, "yes", "no")
    return frame


@pytest.fixture(scope="module")
def estimator(rows: pd.DataFrame) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression().fit(rows[FEATURES], rows.label)


def _save(estimator: Any, rows: pd.DataFrame, path: Path, trojan: dict[str, Any] | None = None) -> Path:
    import mlflow.sklearn
    from mlflow.models import infer_signature

    mlflow.sklearn.save_model(
        estimator,
        str(path),
        signature=infer_signature(rows[FEATURES]),
        pip_requirements=[],
        serialization_format="cloudpickle",  # what the tracking API stores for these flavours
    )
    if trojan is not None:
        (path / "model.pkl").write_bytes(cloudpickle.dumps(_Trojan(estimator, trojan)))
    return path


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server
    server.close()


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELWORKS_SECRET_KEY", SECRET)
    monkeypatch.setenv("DATABASE_URL", DATABASE_URL)


@pytest.fixture
def layout(tmp_path: Path, rows: pd.DataFrame) -> dict[str, Path]:
    """Two projects' folders: ours (input, output folder) and another one holding its data."""
    other = tmp_path / "projects" / "other" / "data.parquet"
    other.parent.mkdir(parents=True)
    other.write_bytes(b"PAR1 another project's rows")
    ours = tmp_path / "projects" / "ours"
    ours.mkdir()
    source = ours / "input.parquet"
    rows[FEATURES].to_parquet(source)
    return {"other": other, "input": source, "output": ours / "scored" / "out.parquet", "root": tmp_path}


def _targets(layout: dict[str, Path], port: int, **extra: Any) -> dict[str, Any]:
    return {
        "other_data": str(layout["other"]),
        "write": [
            str(layout["root"] / "escaped.txt"),  # anywhere on the host
            str(layout["output"].parent / "planted.txt"),  # next to the real output
            str(layout["input"].parent / "planted.txt"),  # next to the input
            "/models/trojan/planted.txt",  # into the model folder
            "/code/modelworks/engine/planted.py",  # into the platform's code
        ],
        "port": port,
        **extra,
    }


def _report(log: list[str]) -> dict[str, Any]:
    (line,) = [line for line in log if line.startswith("ATTACK ")]
    report: dict[str, Any] = json.loads(line.removeprefix("ATTACK "))
    return report


def _pending_connection(server: socket.socket) -> bool:
    readable, _, _ = select.select([server], [], [], 0.2)
    return bool(readable)


@pytest.mark.usefixtures("secrets")
def test_a_trojan_model_is_contained_and_the_rows_are_still_scored(
    tmp_path: Path, rows: pd.DataFrame, estimator: Any, layout: dict[str, Path], listener: socket.socket
) -> None:
    port = listener.getsockname()[1]
    model = _save(estimator, rows, tmp_path / "trojan", _targets(layout, port))

    result = run_batch_scoring(model, layout["input"], layout["output"], chunk_rows=50, timeout_s=120)

    report = _report(result.log)
    assert report["env"] == {"MODELWORKS_SECRET_KEY": None, "DATABASE_URL": None}
    assert not [name for name in report["env_names"] if name.startswith(("MODELWORKS", "DATABASE", "PG"))]
    assert report["read"] == "FileNotFoundError"  # the other project's folder does not exist in there
    assert "written" not in report["write"].values(), report["write"]
    assert report["connect"] != "connected"
    assert not _pending_connection(listener)
    assert not (layout["root"] / "escaped.txt").exists()
    assert sorted(p.name for p in layout["output"].parent.iterdir()) == ["out.parquet"]
    assert sorted(p.name for p in layout["input"].parent.iterdir()) == ["input.parquet", "scored"]
    assert not (model / "planted.txt").exists()
    # The model itself still works: the same predictions and probabilities as the estimator's.
    table = pq.read_table(layout["output"])
    assert result.columns == [*FEATURES, "prediction", "proba_no", "proba_yes", "model_version"]
    assert table.column("prediction").to_pylist() == list(estimator.predict(rows[FEATURES]))
    np.testing.assert_allclose(
        table.column("proba_yes").to_numpy(), estimator.predict_proba(rows[FEATURES])[:, 1]
    )


@pytest.mark.usefixtures("secrets")
def test_a_model_failing_in_the_sandbox_fails_the_step_plainly(
    tmp_path: Path, rows: pd.DataFrame, estimator: Any, layout: dict[str, Path], listener: socket.socket
) -> None:
    model = _save(estimator, rows, tmp_path / "failing", _targets(layout, 1, fail=True))
    with pytest.raises(
        BatchScoringError,
        match=r"The sklearn model in 'failing' could not be loaded: the model could not write where it wanted",
    ):
        run_batch_scoring(model, layout["input"], layout["output"], timeout_s=120)
    assert not layout["output"].parent.exists() or not list(layout["output"].parent.iterdir())


def test_a_model_filling_its_folder_is_stopped(
    tmp_path: Path, rows: pd.DataFrame, estimator: Any, layout: dict[str, Path], listener: socket.socket
) -> None:
    model = _save(estimator, rows, tmp_path / "filler", _targets(layout, 1, big_files=3))
    limits = PythonLimits(timeout_s=120, output_bytes=1 * MIB)
    with pytest.raises(BatchScoringError, match=r"wrote more than its limit of 1\.0 MiB") as caught:
        run_batch_scoring(model, layout["input"], layout["output"], timeout_s=120, limits=limits)
    assert caught.value.reason == "output_too_large"
    assert list(layout["output"].parent.iterdir()) == []  # its private folder is gone too


def test_without_bubblewrap_no_model_is_loaded(
    tmp_path: Path,
    rows: pd.DataFrame,
    estimator: Any,
    layout: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = _save(estimator, rows, tmp_path / "trojan", _targets(layout, 1))
    monkeypatch.setattr(sandbox_module, "BWRAP_CANDIDATES", (str(tmp_path / "no-bwrap-here"),))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(
        BatchScoringError, match=r"Batch scoring cannot start: Models are code.*'bubblewrap'"
    ) as caught:
        run_batch_scoring(model, layout["input"], layout["output"], timeout_s=60)
    assert caught.value.reason == "sandbox_unavailable"
    assert not (layout["root"] / "escaped.txt").exists()
    assert list(layout["output"].parent.iterdir()) == []


@pytest.mark.usefixtures("secrets")
def test_sandbox_none_is_explicit_and_still_hides_the_secrets(
    tmp_path: Path, rows: pd.DataFrame, estimator: Any, layout: dict[str, Path], listener: socket.socket
) -> None:
    """An administrator's explicit choice on a machine without bubblewrap: no isolation of files or
    network (the attack reads the other project's file), but still the clean environment."""
    model = _save(estimator, rows, tmp_path / "trojan", {**_targets(layout, 1), "write": []})
    result = run_batch_scoring(model, layout["input"], layout["output"], timeout_s=120, sandbox="none")
    report = _report(result.log)
    assert report["env"] == {"MODELWORKS_SECRET_KEY": None, "DATABASE_URL": None}
    assert report["read"] == b"PAR1 another pro".hex()
    assert result.rows == len(rows)


def test_score_frame_gives_the_estimators_predictions(
    tmp_path: Path, rows: pd.DataFrame, estimator: Any
) -> None:
    model = _save(estimator, rows, tmp_path / "honest")
    scores = score_frame(model, rows[FEATURES].iloc[::-1], timeout_s=120)
    expected = rows[FEATURES].iloc[::-1]
    assert scores.task == "binary"
    assert scores.classes == ["no", "yes"]
    assert scores.predictions == list(estimator.predict(expected))
    assert scores.probabilities is not None
    np.testing.assert_allclose(scores.probabilities, estimator.predict_proba(expected))


def test_score_frame_names_a_missing_column(tmp_path: Path, rows: pd.DataFrame, estimator: Any) -> None:
    model = _save(estimator, rows, tmp_path / "honest")
    with pytest.raises(BatchScoringError, match=r"f2"):
        score_frame(model, rows[["f0", "f1"]], timeout_s=120)
