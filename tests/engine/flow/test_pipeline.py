"""Virtual datasets: folding them into the recipes that read them, fingerprints, plans, and one fused
query per step that gives the same rows as building every recipe on its own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modelworks.engine.flow import (
    BlockedInputError,
    FlowGraph,
    PipelineRecipe,
    PlanError,
    RecipeNode,
    UnknownDatasetError,
    VirtualDatasetError,
    compile_pipeline,
    fingerprint,
    input_alias,
    pipeline_flow,
    pipelined_fingerprints,
    plan_pipelined_build,
    relations_for,
    run_in_duckdb,
)
from modelworks.engine.io import read_schema
from modelworks.engine.recipes import MissingColumnError, compile_recipe
from modelworks.engine.recipes.types import Column

# raw ─prep→ clean ─agg→ totals ─┐
# raw ─other→ other ─────────────┴─final→ report      (conftest's `flow`)
SPECS: dict[str, tuple[str, dict[str, Any]]] = {
    "prep": ("prepare", {"steps": [{"processor": "trim", "params": {"columns": ["name"]}}]}),
    "agg": ("group", {"keys": ["region"], "aggregations": [{"column": "amount", "function": "sum"}]}),
    "other": ("sample", {"method": "first", "rows": 100}),
    "final": ("join", {"type": "left", "on": [["region", "region"]]}),
}
VERSIONS: dict[str, str | None] = {"raw": "r1", "lookup": "l1", "clean": "c1", "totals": "t1", "other": "o1"}


def prints(flow: FlowGraph, virtual: set[str], **changes: dict[str, Any]) -> dict[str, str | None]:
    recipes = {rid: (kind, {**spec, **changes.get(rid, {})}) for rid, (kind, spec) in SPECS.items()}
    return pipelined_fingerprints(flow, virtual, recipes, VERSIONS)


# -- folding the graph ---------------------------------------------------------------------------------


def test_virtual_datasets_fold_into_the_recipes_that_read_them(flow: FlowGraph) -> None:
    folded = pipeline_flow(flow, {"clean", "totals"})
    assert folded.graph.topological_order() == ("other", "final")
    assert folded.graph.recipe("final").inputs == ("raw", "other")
    assert folded.fused == {"other": (), "final": ("prep", "agg")}
    assert folded.readers("prep") == ("final",) and not folded.is_step("agg")
    assert "clean" not in folded.graph.datasets and "lookup" in folded.graph.datasets

    one = pipeline_flow(flow, {"clean"})
    assert one.graph.recipe("agg").inputs == ("raw",) and one.fused["agg"] == ("prep",)
    assert one.fused["final"] == ()  # reads `totals`, which is stored

    assert pipeline_flow(flow, set()).graph.topological_order() == flow.topological_order()


def test_a_recipe_with_one_virtual_output_still_runs_for_its_stored_one() -> None:
    graph = FlowGraph.from_recipes(
        [
            RecipeNode("split", "Split", ("raw",), ("kept", "rest")),
            RecipeNode("use", "Use rest", ("rest", "kept"), ("out",)),
        ],
        datasets=["raw"],
    )
    folded = pipeline_flow(graph, {"rest"})
    assert folded.graph.recipe("split").outputs == ("kept",)
    assert folded.graph.recipe("use").inputs == ("raw", "kept")
    assert folded.fused["use"] == ("split",)
    assert folded.graph.dependencies("use") == ("split",)


@pytest.mark.parametrize(
    ("virtual", "run_only", "error", "match"),
    [
        ({"raw"}, (), VirtualDatasetError, r"'raw' is marked virtual but no recipe computes it"),
        ({"nope"}, (), UnknownDatasetError, r"dataset 'nope' is not part of this flow"),
        (
            {"clean"},
            ("agg",),
            VirtualDatasetError,
            r"recipe 'agg' is a Python recipe and reads 'clean', which is virtual .*store 'clean'",
        ),
        (
            {"clean"},
            ("prep",),
            VirtualDatasetError,
            r"recipe 'prep' is a Python recipe: its output 'clean' must be stored",
        ),
    ],
)
def test_bad_virtual_datasets_are_refused(
    flow: FlowGraph, virtual: set[str], run_only: tuple[str, ...], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        pipeline_flow(flow, virtual, run_only=run_only)


# -- fingerprints ----------------------------------------------------------------------------------------


def test_fingerprints_see_through_virtual_inputs(flow: FlowGraph) -> None:
    plain = prints(flow, set())
    for rid, node in flow.recipes.items():  # nothing virtual: exactly the usual fingerprints
        kind, spec = SPECS[rid]
        assert plain[rid] == fingerprint(kind, spec, {d: str(VERSIONS[d]) for d in node.inputs})

    base = prints(flow, {"clean"})
    assert base["prep"] == plain["prep"] and base["other"] == plain["other"]
    assert base["agg"] != plain["agg"]  # reads the prepare recipe, not a stored version of `clean`

    changed = prints(flow, {"clean"}, prep={"note": "x"})
    assert changed["prep"] != base["prep"] and changed["agg"] != base["agg"]
    assert changed["final"] == base["final"]  # `totals` is stored: its version did not change yet

    chained = prints(flow, {"clean", "totals"}, prep={"note": "x"})
    assert chained["final"] != prints(flow, {"clean", "totals"})["final"]

    VERSIONS["raw"] = None
    try:
        missing = prints(flow, {"clean"})
    finally:
        VERSIONS["raw"] = "r1"
    assert missing["prep"] is None and missing["agg"] is None and missing["other"] is None


# -- plans ---------------------------------------------------------------------------------------------


def test_plans_run_only_stored_steps_and_rebuild_what_a_virtual_change_affects(flow: FlowGraph) -> None:
    virtual = {"clean"}
    current = prints(flow, virtual)
    plan = plan_pipelined_build(flow, virtual=virtual, targets=None, current=current, last_built={})
    assert [s.recipe_id for s in plan.steps] == ["agg", "other", "final"]
    assert plan.step("agg").inputs == ("raw",) and plan.fused == {"agg": ("prep",)}
    assert [(s.recipe_id, s.reason) for s in plan.skipped] == [
        ("prep", "virtual: computed on the fly inside 'agg'")
    ]
    assert plan.to_dict()["fused"] == {"agg": ["prep"]}

    built = dict(current)
    again = plan_pipelined_build(flow, virtual=virtual, targets=None, current=current, last_built=built)
    assert again.steps == ()

    after_prep = prints(flow, virtual, prep={"note": "x"})
    plan = plan_pipelined_build(flow, virtual=virtual, targets=None, current=after_prep, last_built=built)
    assert [(s.recipe_id, s.reason) for s in plan.steps] == [
        ("agg", "recipe changed or input version changed"),
        ("final", "upstream rebuilt"),
    ]

    after_final = prints(flow, virtual, final={"note": "x"})
    plan = plan_pipelined_build(flow, virtual=virtual, targets=None, current=after_final, last_built=built)
    assert [s.recipe_id for s in plan.steps] == ["final"]

    forced = plan_pipelined_build(
        flow, virtual=virtual, targets=["totals"], current=current, last_built=built, force=["prep"]
    )
    assert [(s.recipe_id, s.reason) for s in forced.steps] == [("agg", "forced")]


def test_a_virtual_dataset_read_by_nobody_is_never_computed(flow: FlowGraph) -> None:
    plan = plan_pipelined_build(
        flow, virtual={"report"}, targets=None, current=prints(flow, {"report"}), last_built={}
    )
    assert "final" not in [s.recipe_id for s in plan.steps]
    assert ("final", "virtual: not stored, and no recipe built here reads it") in [
        (s.recipe_id, s.reason) for s in plan.skipped
    ]


def test_blocked_inputs_are_checked_on_the_stored_datasets_a_step_reads(flow: FlowGraph) -> None:
    current = prints(flow, {"clean"})
    plan = plan_pipelined_build(
        flow,
        virtual={"clean"},
        targets=["totals"],
        current=current,
        last_built={},
        blocked_inputs={"clean": "is at version 3, which failed a rule"},  # virtual: never read
    )
    assert [s.recipe_id for s in plan.steps] == ["agg"]
    with pytest.raises(BlockedInputError, match=r"recipe 'agg' cannot run: input 'raw' is at version 2"):
        plan_pipelined_build(
            flow,
            virtual={"clean"},
            targets=["totals"],
            current=current,
            last_built={},
            blocked_inputs={"raw": "is at version 2, which failed a rule"},
        )


@pytest.mark.parametrize(
    ("targets", "force", "error", "match"),
    [
        (
            ["clean"],
            False,
            VirtualDatasetError,
            r"dataset 'clean' is virtual \(not stored\).*cannot be built on its own; build a dataset "
            r"computed from it instead \('totals'\), or store it .*recipe 'prep'",
        ),
        (["nope"], False, UnknownDatasetError, r"dataset 'nope' is not part of this flow"),
        (None, ["ghost"], PlanError, r"cannot force recipe 'ghost': it is not part of this flow"),
    ],
)
def test_bad_plans_are_refused(
    flow: FlowGraph, targets: list[str] | None, force: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        plan_pipelined_build(flow, virtual={"clean"}, targets=targets, current={}, last_built={}, force=force)


# -- compiling and running a chain ------------------------------------------------------------------------

PREPARE = PipelineRecipe(
    "1",
    "Prepare sales",
    "prepare",
    {
        "steps": [
            {"processor": "filter_formula", "params": {"formula": "qty > 1", "action": "keep"}},
            {"processor": "formula", "params": {"output": "revenue", "formula": "qty * price"}},
            {"processor": "date_parts", "params": {"column": "day", "parts": ["year", "month"]}},
        ]
    },
    ("sales",),
    ("prepared",),
)
JOIN = PipelineRecipe(
    "2",
    "Add products",
    "join",
    {"joins": [{"type": "inner", "on": [{"left": "product_id", "right": "product_id"}]}]},
    ("prepared", "products"),
    ("joined",),
)
GROUP = PipelineRecipe(
    "3",
    "By category",
    "group",
    {
        "keys": ["category", "day_month"],
        "aggregations": [{"column": "revenue", "function": "sum"}, {"column": None, "function": "count"}],
    },
    ("joined",),
    ("grouped",),
)


@pytest.fixture
def sources(write_parquet: Callable[[str, str], Path]) -> dict[str, Path]:
    return {
        "sales": write_parquet(
            "sales",
            "SELECT range AS id, range % 5 AS product_id, (range % 4)::INTEGER AS qty, "
            "(range % 7) * 1.5 AS price, DATE '2024-01-01' + (range % 90)::INTEGER AS day FROM range(2000)",
        ),
        "products": write_parquet(
            "products", "SELECT range AS product_id, ['a', 'b', 'c'][range % 3 + 1] AS category FROM range(5)"
        ),
    }


def _columns(path: Path) -> tuple[Column, ...]:
    return tuple(Column(c.name, c.type) for c in read_schema(path))


def test_a_fused_chain_gives_the_rows_of_the_materialised_chain(
    tmp_path: Path, sources: dict[str, Path], read_rows: Callable[[Path], list[tuple[Any, ...]]]
) -> None:
    stored = {name: _columns(path) for name, path in sources.items()}
    fused = compile_pipeline(GROUP, [PREPARE, JOIN], stored)
    sql = fused.compiled.outputs[0].sql()
    assert input_alias("sales") in sql and input_alias("products") in sql
    assert input_alias("prepared") not in sql and input_alias("joined") not in sql
    assert [r.name for r in fused.relations] == ["sales", "products"]
    assert [p.name for p, _ in fused.parts] == ["Prepare sales", "Add products", "By category"]
    assert [c.name for c in fused.columns["prepared"]][-3:] == ["day_year", "day_month", "revenue"]
    assert any(e.input == "joined" and e.output_column == "revenue_sum" for e in fused.compiled.lineage)
    rows = run_in_duckdb(fused.compiled, sources, {"grouped": tmp_path / "fused.parquet"})

    paths = dict(sources)  # the same chain, one stored file per recipe
    for recipe in (PREPARE, JOIN, GROUP):
        relations = relations_for({name: _columns(paths[name]) for name in recipe.inputs})
        compiled = compile_recipe(recipe.kind, recipe.spec, relations, recipe.outputs, recipe=recipe.name)
        (output,) = recipe.outputs
        paths[output] = tmp_path / f"{output}.parquet"
        run_in_duckdb(compiled, {n: paths[n] for n in recipe.inputs}, {output: paths[output]})

    assert read_rows(tmp_path / "fused.parquet") == read_rows(paths["grouped"])
    assert rows == {"grouped": 9} and _columns(tmp_path / "fused.parquet") == _columns(paths["grouped"])


def test_a_step_only_produces_the_outputs_asked_for(
    tmp_path: Path, sources: dict[str, Path], read_rows: Callable[[Path], list[tuple[Any, ...]]]
) -> None:
    """A split with a stored output ``big`` and a virtual one ``small``: its step writes ``big``."""
    split = PipelineRecipe(
        "5",
        "Split",
        "split",
        {"mode": "condition", "conditions": [{"output": "big", "formula": "revenue > 5"}], "other": "small"},
        ("prepared",),
        ("big", "small"),
    )
    stored = {name: _columns(path) for name, path in sources.items()}
    fused = compile_pipeline(split, [PREPARE], stored, outputs=["big"])
    assert [o.name for o in fused.compiled.outputs] == ["big"]
    assert {e.output for e in fused.compiled.lineage} == {"big"}
    run_in_duckdb(fused.compiled, {"sales": sources["sales"]}, {"big": tmp_path / "big.parquet"})
    rows = read_rows(tmp_path / "big.parquet")
    assert rows and all(row[-1] > 5 for row in rows)


@pytest.mark.parametrize(
    ("chain", "error", "match"),
    [
        (
            [
                PipelineRecipe(
                    "1",
                    "Prepare sales",
                    "prepare",
                    {"steps": [{"processor": "formula", "params": {"output": "x", "formula": "qtty * 2"}}]},
                    ("sales",),
                    ("prepared",),
                ),
                JOIN,
            ],
            MissingColumnError,
            r"recipe 'Prepare sales'.*unknown column 'qtty'.* \(its output is not stored: it is computed "
            r"inside recipe 'By category'\)",
        ),
        ([JOIN], VirtualDatasetError, r"recipe 'Add products' reads 'prepared', which is neither stored"),
    ],
)
def test_errors_in_a_chain_name_the_recipe(
    sources: dict[str, Path], chain: list[PipelineRecipe], error: type[Exception], match: str
) -> None:
    stored = {name: _columns(path) for name, path in sources.items()}
    with pytest.raises(error, match=match):
        compile_pipeline(GROUP, chain, stored)
