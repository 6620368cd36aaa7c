"""Preview a Python recipe: its code run in the sandbox on a small sample of each input, in seconds.

The first ``sample_rows`` rows of each input are copied to the preview's own folder (a locked DuckDB
connection that may read only that input and write only its sample), then the recipe runs exactly
as in a build — same bubblewrap sandbox, same ``modelworks_recipe`` API — but under tighter limits
(:func:`preview_limits`: at most 30 s, 2 GiB of address space — pandas alone reserves ~600 MiB —
and 64 MiB of output). The first rows of each output are read back, with the recipe's printed output; an error
keeps its traceback in ``details["traceback"]`` and the log in ``details["log"]``, as a build's does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from sqlglot import exp

from modelworks.engine.duck import connect
from modelworks.engine.recipes.python.limits import GIB, MIB, PythonLimits
from modelworks.engine.recipes.python.runner import run_python_recipe
from modelworks.engine.recipes.sampling import PreviewResult
from modelworks.engine.recipes.schemas import logical_of
from modelworks.engine.recipes.types import Column, RecipeError

__all__ = ["PREVIEW_SAMPLE_ROWS", "PythonPreview", "preview_limits", "preview_python_recipe"]

PREVIEW_SAMPLE_ROWS = 10_000
PREVIEW_TIMEOUT_S = 30.0
PREVIEW_MEMORY_BYTES = 2 * GIB  # pandas, Polars and pyarrow reserve ~600 MiB of address space alone
PREVIEW_OUTPUT_BYTES = 64 * MIB
PREVIEW_LOG_BYTES = 64 * 1024


@dataclass(frozen=True)
class PythonPreview:
    """What a preview run produced.

    Attributes:
        outputs: output name → its first rows (``PreviewResult``, ``log`` set to the recipe's
            printed output).
        log: what the recipe printed (capped).
        duration_s: wall-clock time of the run in the sandbox.
        sample_rows: rows read from each input.
    """

    outputs: dict[str, PreviewResult]
    log: str
    duration_s: float
    sample_rows: int


def preview_limits(limits: PythonLimits | None = None) -> PythonLimits:
    """The limits of a preview run: the configured ones (``limits``, default ``PythonLimits()``),
    tightened to a short time, a modest memory and a small output."""
    base = limits or PythonLimits()
    return replace(
        base,
        timeout_s=min(base.timeout_s, PREVIEW_TIMEOUT_S),
        memory_bytes=min(base.memory_bytes, PREVIEW_MEMORY_BYTES),
        cpu_s=None,
        output_bytes=min(base.output_bytes, PREVIEW_OUTPUT_BYTES),
        log_bytes=min(base.log_bytes, PREVIEW_LOG_BYTES),
        threads=min(base.threads, 2),
    )


def preview_python_recipe(
    code: str,
    *,
    inputs: Mapping[str, Path],
    outputs: Sequence[str],
    workdir: Path,
    limit: int = 100,
    sample_rows: int = PREVIEW_SAMPLE_ROWS,
    limits: PythonLimits | None = None,
    cancelled: Callable[[], bool] | None = None,
    sandbox: Literal["bwrap", "none"] = "bwrap",
    recipe: str | None = None,
) -> PythonPreview:
    """Run a Python recipe on the first ``sample_rows`` rows of each input and read its outputs back.

    Args:
        code: the recipe's source.
        inputs: input name → its stored Parquet version.
        outputs: the names the recipe writes.
        workdir: an empty folder of the caller's (removed by the caller): samples and outputs go here.
        limit: rows returned per output (1 to 1,000).
        sample_rows: rows copied from each input.
        limits: the configured limits, tightened by :func:`preview_limits`.
        cancelled, sandbox, recipe: as :func:`run_python_recipe`.

    Returns:
        The first rows of every output and the recipe's log.

    Raises:
        RecipeError: an input's file is missing.
        The errors of :func:`run_python_recipe` (syntax, the code's own exception with its traceback,
        a missing output, timeout, memory…), each with the log in ``details["log"]``.
    """
    workdir = Path(os.path.realpath(workdir))
    samples_dir = workdir / "samples"
    samples_dir.mkdir(parents=True, exist_ok=True)
    samples: dict[str, Path] = {}
    for index, (name, path) in enumerate(inputs.items()):
        source = Path(os.path.abspath(path))
        if not source.is_file():
            raise RecipeError(
                f"cannot preview: the data file of input {name!r} is missing; rebuild or re-import it",
                input=name,
            )
        samples[name] = samples_dir / f"input_{index}.parquet"
        _copy_sample(source, samples[name], sample_rows)
    started = time.monotonic()
    result = run_python_recipe(
        code,
        inputs=samples,
        outputs=outputs,
        workdir=workdir / "run",
        limits=preview_limits(limits),
        cancelled=cancelled,
        sandbox=sandbox,
        recipe=recipe,
    )
    duration = time.monotonic() - started
    shown = max(1, min(int(limit), 1000))
    read = {name: _first_rows(result.outputs[name], shown, result.log) for name in outputs}
    return PythonPreview(outputs=read, log=result.log, duration_s=duration, sample_rows=sample_rows)


def _copy_sample(source: Path, target: Path, rows: int) -> None:
    con = connect(read=[source], write=[target], threads=1)
    try:
        read = exp.select(exp.Star()).from_(
            exp.Table(this=exp.ReadParquet(expressions=[exp.Literal.string(str(source))]))
        )
        query = read.limit(max(1, int(rows))).sql(dialect="duckdb")
        con.execute(
            f"COPY ({query}) TO {exp.Literal.string(str(target)).sql(dialect='duckdb')} (FORMAT parquet)"
        )
    finally:
        con.close()


def _first_rows(path: Path, limit: int, log: str) -> PreviewResult:
    con = connect(read=[path], threads=1)
    try:
        source = exp.Literal.string(str(path)).sql(dialect="duckdb")
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({source})").fetchall()  # noqa: S608 - our file
        rows = con.execute(f"SELECT * FROM read_parquet({source}) LIMIT {int(limit)}").fetchall()  # noqa: S608 - our file
        counted = con.execute(f"SELECT count(*) FROM read_parquet({source})").fetchone()  # noqa: S608 - our file
    finally:
        con.close()
    return PreviewResult(
        columns=tuple(Column(str(d[0]), logical_of(str(d[1]))) for d in described),
        rows=[tuple(row) for row in rows],
        row_count_sampled=int(counted[0]) if counted else 0,
        log=log,
    )
