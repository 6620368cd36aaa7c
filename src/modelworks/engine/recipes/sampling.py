"""Preview one output of a recipe on the first rows of its inputs, in seconds.

Each input's source is replaced by the first ``sample_rows`` rows of its stored Parquet version; the
query runs on a locked DuckDB connection that may read only those files, under a time limit.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from sqlglot import exp

from modelworks.engine.duck import connect, run_with_timeout
from modelworks.engine.recipes.schemas import bind_sources, duckdb_error, logical_of
from modelworks.engine.recipes.types import Column, CompiledOutput, RecipeError, Relation

__all__ = ["PREVIEW_TIMEOUT_S", "PreviewResult", "RecipePreviewTimeoutError", "preview"]

PREVIEW_TIMEOUT_S = 30.0


class RecipePreviewTimeoutError(RecipeError):
    """The preview took longer than its time limit."""

    code = "recipe_preview_timeout"


@dataclass(frozen=True)
class PreviewResult:
    """The first rows of an output computed on a sample of its inputs.

    Attributes:
        columns: the output's columns (name and logical type).
        rows: at most ``limit`` rows, as tuples of Python values.
        row_count_sampled: how many rows the output has when computed on the samples.
        log: what the recipe printed (Python recipes; "" for the others).
    """

    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]]
    row_count_sampled: int
    log: str = ""


def preview(
    compiled_output: CompiledOutput,
    input_paths: Mapping[str, Path],
    inputs: Sequence[Relation],
    *,
    limit: int = 100,
    sample_rows: int = 10_000,
    timeout_s: float | None = PREVIEW_TIMEOUT_S,
    recipe: str | None = None,
) -> PreviewResult:
    """Run one compiled output on the first ``sample_rows`` rows of each input.

    Args:
        compiled_output: one output of a compiled recipe.
        input_paths: input name → its Parquet version.
        inputs: the inputs the recipe was compiled from.
        limit: rows to return.
        sample_rows: rows read from each input.
        timeout_s: time limit (``None``: none).
        recipe: the recipe's name, for messages.

    Raises:
        RecipeError: an input has no file; RecipePreviewTimeoutError: too slow;
        MissingColumnError / RecipeSpecError: the query does not fit the files.
    """
    missing = [r.name for r in inputs if r.name not in input_paths]
    if missing:
        raise RecipeError(
            f"cannot preview: no stored version for input {', '.join(map(repr, missing))}; build it first",
            inputs=missing,
        )
    paths = [os.path.abspath(input_paths[r.name]) for r in inputs]
    samples: list[exp.Expr] = [
        exp.Subquery(
            this=exp.select(exp.Star())
            .from_(exp.Table(this=exp.ReadParquet(expressions=[exp.Literal.string(path)])))
            .limit(sample_rows)
        )
        for path in paths
    ]
    bound = bind_sources(compiled_output.query, inputs, samples).sql(dialect="duckdb")
    con = connect(read=paths)

    def work() -> PreviewResult:
        described = con.execute(f"DESCRIBE {bound}").fetchall()
        rows = con.execute(f"SELECT * FROM ({bound}) LIMIT {int(limit)}").fetchall()  # noqa: S608 - generated SQL
        counted = con.execute(f"SELECT count(*) FROM ({bound})").fetchone()  # noqa: S608 - generated SQL
        return PreviewResult(
            columns=tuple(Column(str(d[0]), logical_of(str(d[1]))) for d in described),
            rows=[tuple(row) for row in rows],
            row_count_sampled=int(counted[0]) if counted else 0,
        )

    try:
        return run_with_timeout(
            con,
            timeout_s,
            work,
            lambda: RecipePreviewTimeoutError(
                f"the preview took more than {timeout_s:g} s; preview on fewer rows or simplify the recipe"
            ),
        )
    except duckdb.Error as exc:
        raise duckdb_error(exc, recipe=recipe, output=compiled_output.name, inputs=inputs) from exc
    finally:
        con.close()
