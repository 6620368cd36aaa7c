"""Graph, plan, runner and DuckDB together: a small flow built from real Parquet files, twice."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlglot import exp

from modelworks.engine.flow import (
    BuildEvent,
    FlowGraph,
    PlannedStep,
    RecipeNode,
    StepResult,
    fingerprint,
    plan_build,
    relations_for,
    run_in_duckdb,
    run_plan,
)
from modelworks.engine.recipes.types import Column, CompiledOutput, CompiledRecipe

COLUMNS = {
    "orders": [Column("id", "integer"), Column("region", "string"), Column("amount", "float")],
    "big orders": [Column("id", "integer"), Column("region", "string"), Column("amount", "float")],
}
SPECS: dict[str, dict[str, Any]] = {"filter": {"min": 30}, "totals": {"by": "region"}}


def compile_step(step: PlannedStep) -> CompiledRecipe:
    """What helper B's compiler would produce for these two recipes."""
    (rel,) = relations_for({name: COLUMNS[name] for name in step.inputs})
    amount, region = exp.column("amount", quoted=True), exp.column("region", quoted=True)
    if step.recipe_id == "filter":
        query = (
            exp.select(exp.Star())
            .from_(rel.source.copy())
            .where(exp.GTE(this=amount, expression=exp.Literal.number(SPECS["filter"]["min"])))
        )
    else:
        total = exp.alias_(exp.func("sum", amount), "total", quoted=True)
        query = exp.select(region, total).from_(rel.source.copy()).group_by(region)
    return CompiledRecipe(tuple(CompiledOutput(o, query) for o in step.outputs))


def test_build_then_rebuild_only_what_changed(
    tmp_path: Path,
    write_parquet: Callable[[str, str], Path],
    read_rows: Callable[[Path], list[tuple[Any, ...]]],
) -> None:
    graph = FlowGraph.from_recipes(
        [
            RecipeNode("filter", "Big orders", ("orders",), ("big orders",)),
            RecipeNode("totals", "Totals", ("big orders",), ("totals",)),
        ],
        datasets=["orders"],
    )
    store: dict[str, tuple[str, Path]] = {
        "orders": (
            "v1",
            write_parquet(
                "orders",
                "SELECT range AS id, ['north', 'south'][range % 2 + 1] AS region, (range * 10)::DOUBLE AS amount FROM range(1, 7)",
            ),
        )
    }
    last_built: dict[str, str | None] = {}

    def current() -> dict[str, str | None]:
        result: dict[str, str | None] = {}
        for rid, node in graph.recipes.items():
            if all(d in store for d in node.inputs):
                result[rid] = fingerprint(rid, SPECS[rid], {d: store[d][0] for d in node.inputs})
        return result

    def execute(step: PlannedStep) -> StepResult:
        versions = {d: store[d][0] for d in step.inputs}
        paths = {o: tmp_path / f"{o}-{len(list(tmp_path.iterdir()))}.parquet" for o in step.outputs}
        rows = run_in_duckdb(
            compile_step(step), {d: store[d][1] for d in step.inputs}, paths, recipe=step.name
        )
        for output, path in paths.items():
            store[output] = (path.name, path)
        return StepResult(rows=rows, fingerprint=fingerprint(step.recipe_id, SPECS[step.recipe_id], versions))

    def build() -> tuple[list[str], list[BuildEvent]]:
        plan = plan_build(graph, targets=["totals"], current=current(), last_built=last_built)
        events: list[BuildEvent] = []
        outcome = run_plan(plan, execute, on_event=events.append)
        assert outcome.status == "succeeded", outcome.to_dict()
        for step in outcome.steps:
            last_built[step.recipe_id] = step.fingerprint
        return [f"{s.recipe_id}: {s.reason}" for s in plan.steps], events

    steps, events = build()
    assert steps == ["filter: never built", "totals: never built"]
    assert [(e.kind, e.progress) for e in events] == [
        ("step_started", 0.0),
        ("step_finished", 0.5),
        ("step_started", 0.5),
        ("step_finished", 1.0),
    ]
    assert read_rows(store["totals"][1]) == [("north", 100.0), ("south", 80.0)]

    assert build()[0] == []  # nothing changed

    SPECS["totals"] = {"by": "region", "note": "changed"}
    try:
        assert build()[0] == ["totals: recipe changed or input version changed"]
    finally:
        SPECS["totals"] = {"by": "region"}

    store["orders"] = (
        "v2",
        write_parquet("orders2", "SELECT 1 AS id, 'east' AS region, 99.0::DOUBLE AS amount"),
    )
    assert build()[0] == ["filter: recipe changed or input version changed", "totals: upstream rebuilt"]
    assert read_rows(store["totals"][1]) == [("east", 99.0)]
