"""Previewing a Python recipe: the real sandbox on a sample of each input, under tight limits."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelworks.engine.recipes import RecipeError
from modelworks.engine.recipes.python import (
    PythonLimits,
    PythonOutputError,
    PythonSyntaxError,
    PythonTimeoutError,
    PythonUserCodeError,
    preview_limits,
    preview_python_recipe,
)

DOUBLE = """
import modelworks_recipe as mw
df = mw.inputs["numbers"].pandas()
print("rows seen:", len(df))
df["double"] = df["n"] * 2
mw.outputs["doubled"].write(df)
mw.outputs["count"].write(df.groupby("even", as_index=False).size())
"""


@pytest.fixture
def numbers(tmp_path: Path) -> Path:
    """50,000 rows: n from 0, and whether it is even."""
    path = tmp_path / "store" / "numbers.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.table({"n": list(range(50_000)), "even": [i % 2 == 0 for i in range(50_000)]}), path)
    return path


def test_the_preview_runs_on_a_sample_and_shows_the_first_rows_of_each_output(
    tmp_path: Path, numbers: Path
) -> None:
    shown = preview_python_recipe(
        DOUBLE,
        inputs={"numbers": numbers},
        outputs=["doubled", "count"],
        workdir=tmp_path / "preview",
        limit=5,
        sample_rows=1_000,
        recipe="Double",
    )
    doubled = shown.outputs["doubled"]
    assert [c.name for c in doubled.columns] == ["n", "even", "double"]
    assert [c.type for c in doubled.columns] == ["integer", "boolean", "integer"]
    assert doubled.rows == [(i, i % 2 == 0, 2 * i) for i in range(5)]
    assert doubled.row_count_sampled == 1_000  # the sample, not the 50,000 rows
    counts = shown.outputs["count"]
    assert sorted(counts.rows) == [(False, 500), (True, 500)]
    assert "rows seen: 1000" in shown.log and doubled.log == shown.log
    assert shown.sample_rows == 1_000


def test_an_error_in_the_code_keeps_its_traceback_and_printed_output(tmp_path: Path, numbers: Path) -> None:
    code = 'import modelworks_recipe as mw\nprint("before")\ndf = mw.inputs["numbers"].pandas()\ndf["missing"].sum()\n'
    with pytest.raises(PythonUserCodeError, match=r"KeyError.*'missing'") as caught:
        preview_python_recipe(
            code, inputs={"numbers": numbers}, outputs=["out"], workdir=tmp_path / "p", recipe="Broken"
        )
    assert "line 4" in caught.value.details["traceback"]
    assert "before" in caught.value.details["log"]


@pytest.mark.parametrize(
    ("code", "error", "match"),
    [
        ("def broken(:\n", PythonSyntaxError, r"line 1"),
        ("import modelworks_recipe as mw\n", PythonOutputError, r"'out'"),
        ("import time\ntime.sleep(60)\n", PythonTimeoutError, r"\b2 s|\b2(\.0)? seconds"),
    ],
)
def test_bad_recipes_fail_with_the_builds_errors(
    tmp_path: Path, numbers: Path, code: str, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        preview_python_recipe(
            code,
            inputs={"numbers": numbers},
            outputs=["out"],
            workdir=tmp_path / "p",
            limits=PythonLimits(timeout_s=2),
        )


def test_a_missing_input_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match=r"data file of input 'numbers' is missing"):
        preview_python_recipe(
            DOUBLE, inputs={"numbers": tmp_path / "gone.parquet"}, outputs=["doubled"], workdir=tmp_path / "p"
        )


def test_preview_limits_are_tighter_than_the_configured_ones() -> None:
    configured = PythonLimits(timeout_s=3600, memory_bytes=8 * 2**30, output_bytes=10 * 2**30, threads=8)
    tight = preview_limits(configured)
    assert (tight.timeout_s, tight.memory_bytes, tight.output_bytes, tight.threads) == (
        30.0,
        2 * 2**30,
        64 * 2**20,
        2,
    )
    # A configuration already stricter than the preview's stays as it is.
    strict = PythonLimits(timeout_s=5, memory_bytes=512 * 2**20, output_bytes=2**20, threads=1)
    assert preview_limits(strict) == PythonLimits(
        timeout_s=5, memory_bytes=512 * 2**20, output_bytes=2**20, threads=1, log_bytes=64 * 1024
    )
