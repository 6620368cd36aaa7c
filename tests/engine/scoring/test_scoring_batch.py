"""run_batch_scoring: a real Parquet file scored through the child process, chunked, atomic, cancellable."""

from __future__ import annotations

import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scoring_tables import FEATURES, flights_table, numeric_table

from modelworks.engine.scoring import BatchScoringError, run_batch_scoring
from modelworks.engine.scoring.batch import output_names


def test_booster_batch_in_chunks(lgb_dir: Path, tmp_path: Path) -> None:
    frame = numeric_table(1_000, seed=11)
    frame["prediction"] = "already here"  # an input column with our output's name
    frame.loc[::50, "f2"] = np.nan  # tables are scored with their missing values
    source = tmp_path / "input.parquet"
    frame.to_parquet(source)
    steps: list[tuple[float, str]] = []
    result = run_batch_scoring(
        lgb_dir,
        source,
        tmp_path / "out" / "scored.parquet",
        chunk_rows=300,
        keep_columns=["f0", "prediction"],
        probabilities=True,
        version_label="delays/3",
        progress=lambda f, m: steps.append((f, m)),
        timeout_s=120,
    )
    assert result.rows == 1_000
    assert result.columns == ["f0", "prediction", "prediction_2", "proba_0", "proba_1", "model_version"]
    assert [f for f, _ in steps] == [0.0, 0.3, 0.6, 0.9, 1.0]
    assert steps[-1][1] == "1,000 of 1,000 rows scored"
    table = pq.read_table(tmp_path / "out" / "scored.parquet")
    assert table.column_names == result.columns
    expected = lgb.Booster(model_file=str(lgb_dir / "model.lgb")).predict(frame[FEATURES].to_numpy())
    np.testing.assert_allclose(table.column("proba_1").to_numpy(), expected)
    assert table.column("prediction_2").to_pylist() == [int(p > 0.5) for p in expected]
    assert set(table.column("model_version").to_pylist()) == {"delays/3"}
    assert set(table.column("prediction").to_pylist()) == {"already here"}
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["scored.parquet"]  # no temp file left


def test_lab_pipeline_batch_keeps_all_columns(lab_dir: Path, tmp_path: Path) -> None:
    frame = flights_table(200, seed=4)
    source = tmp_path / "flights.parquet"
    frame.to_parquet(source)
    result = run_batch_scoring(
        lab_dir, source, tmp_path / "scored.parquet", chunk_rows=64, version_label="late/1"
    )
    assert result.rows == 200
    assert result.columns == [*frame.columns, "prediction", "proba_late", "proba_on_time", "model_version"]
    table = pq.read_table(tmp_path / "scored.parquet")
    assert set(table.column("prediction").to_pylist()) <= {"late", "on_time"}
    total = np.add(table.column("proba_late").to_numpy(), table.column("proba_on_time").to_numpy())
    np.testing.assert_allclose(total, 1.0)


def test_bad_input_is_reported_with_the_table_row(lgb_dir: Path, tmp_path: Path) -> None:
    frame = numeric_table(100)
    frame["f3"] = frame["f3"].astype(str)
    source = tmp_path / "text.parquet"
    frame.to_parquet(source)
    with pytest.raises(
        BatchScoringError, match=r"Column 'f3' in row 0 is the text .* \(row 1 of the table\)"
    ) as caught:
        run_batch_scoring(lgb_dir, source, tmp_path / "out.parquet", chunk_rows=40, timeout_s=60)
    assert caught.value.reason == "wrong_type"
    assert not (tmp_path / "out.parquet").exists()
    assert list(tmp_path.iterdir()) == [source]


def test_missing_column_and_unknown_keep_column(lgb_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "few.parquet"
    pq.write_table(pa.table({"f0": [1.0, 2.0]}), source)
    with pytest.raises(BatchScoringError, match="The required column 'f1' is missing"):
        run_batch_scoring(lgb_dir, source, tmp_path / "out.parquet", timeout_s=60)
    with pytest.raises(BatchScoringError, match="The column 'nope' to keep is not in the input table"):
        run_batch_scoring(lgb_dir, source, tmp_path / "out.parquet", keep_columns=["nope"], timeout_s=60)
    with pytest.raises(BatchScoringError, match="has no MLmodel file") as caught:
        run_batch_scoring(tmp_path, source, tmp_path / "out.parquet", timeout_s=60)
    assert caught.value.reason == "model_load_error"


def test_cancel_and_timeout_kill_the_child(lgb_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "input.parquet"
    numeric_table(200).to_parquet(source)
    started = time.monotonic()
    with pytest.raises(BatchScoringError, match="cancelled; no output was written") as caught:
        run_batch_scoring(lgb_dir, source, tmp_path / "out.parquet", cancelled=lambda: True, timeout_s=60)
    assert caught.value.reason == "cancelled"
    with pytest.raises(BatchScoringError, match=r"longer than its time limit of 0\.01 s") as caught:
        run_batch_scoring(lgb_dir, source, tmp_path / "out.parquet", timeout_s=0.01)
    assert caught.value.reason == "timeout"
    assert time.monotonic() - started < 10  # killed at once, not after loading and scoring
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input.parquet"]


def test_output_names_are_safe_and_unique() -> None:
    prediction, probas, version = output_names(["proba_a_b", "model_version"], ["a b", "a-b", "", "é"])
    assert prediction == "prediction"
    assert probas == ["proba_a_b_2", "proba_a_b_3", "proba_class", "proba_class_2"]
    assert version == "model_version_2"
