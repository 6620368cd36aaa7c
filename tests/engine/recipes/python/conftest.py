"""Fixtures of the Python recipe tests: a small flights input and a way to run a recipe over it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelworks.engine.recipes.python import PythonLimits, PythonRecipeResult, run_python_recipe
from modelworks.engine.recipes.python.sandbox import INSTALL_HINT, find_bwrap

# Generous enough for pandas + Polars to start on a busy machine, small enough to keep tests quick.
FAST_LIMITS = PythonLimits(timeout_s=30)

RunRecipe = Callable[..., PythonRecipeResult]


@pytest.fixture(scope="session", autouse=True)
def _bubblewrap_installed() -> None:
    if find_bwrap() is None:
        pytest.skip(f"{INSTALL_HINT} (./mw test installs it)")


@pytest.fixture
def flights(tmp_path: Path) -> Path:
    """Five flights as a Parquet file (what a dataset version looks like on disk)."""
    path = tmp_path / "store" / "flights.parquet"
    path.parent.mkdir(parents=True)
    table = pa.table(
        {
            "carrier": ["AA", "AA", "UA", "DL", "UA"],
            "dep_delay": [10, -5, 60, 0, 125],
        }
    )
    pq.write_table(table, path)
    return path


@pytest.fixture
def run(tmp_path: Path, flights: Path) -> RunRecipe:
    """``run(code, **overrides)``: run a recipe over ``flights`` with one output, ``flights_prepared``."""

    def _run(code: str, **overrides: Any) -> PythonRecipeResult:
        arguments: dict[str, Any] = {
            "inputs": {"flights": flights},
            "outputs": ["flights_prepared"],
            "workdir": tmp_path / "work",
            "limits": FAST_LIMITS,
        }
        arguments.update(overrides)
        return run_python_recipe(code, **arguments)

    return _run
