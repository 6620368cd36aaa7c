"""The Flow engine: the graph of recipes and datasets, build planning, and running the steps.

* :mod:`~modelworks.engine.flow.graph`: :class:`FlowGraph` (checked: no loops, one producer per
  dataset, every input exists), walks up and down, and :meth:`FlowGraph.layout` for the UI.
* :mod:`~modelworks.engine.flow.plan`: recipe fingerprints and :func:`plan_build` (what runs, why).
* :mod:`~modelworks.engine.flow.runner`: :func:`run_plan` runs a plan's steps, independent branches
  in parallel, with failure isolation, cancel and progress events.
* :mod:`~modelworks.engine.flow.execute`: one compiled recipe in DuckDB over Parquet files, or inside
  PostgreSQL in one transaction.
* :mod:`~modelworks.engine.flow.reports`: the unmatched-rows report of a join, in DuckDB or PostgreSQL.
* :mod:`~modelworks.engine.flow.lineage`: OpenLineage column-level lineage facets.
* :mod:`~modelworks.engine.flow.pipeline`: virtual datasets, computed inside the recipes that read
  them (a chain of recipes compiled into one query).

This package never imports Django; the ``flows`` app persists plans and outcomes.

The names are loaded on first use (PEP 562 ``__getattr__``): importing a light module such as
``errors`` or ``graph`` does not load DuckDB, which the web server does not need to start.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelworks.engine.flow.errors import (
        BlockedInputError,
        CycleError,
        DuplicateProducerError,
        DuplicateRecipeError,
        ExecutionError,
        FlowError,
        GraphError,
        InvalidRecipeNodeError,
        MissingInputError,
        PlanError,
        PostgresExecutionError,
        QueryError,
        StepCancelledError,
        StepTimeoutError,
        UnknownDatasetError,
    )
    from modelworks.engine.flow.execute import (
        DuckDBRun,
        execute_in_duckdb,
        input_alias,
        relations_for,
        run_in_duckdb,
        run_in_postgres,
    )
    from modelworks.engine.flow.graph import (
        FlowGraph,
        RecipeNode,
    )
    from modelworks.engine.flow.layout import (
        FlowLayout,
        LayoutEdge,
        LayoutNode,
        layout_flow,
    )
    from modelworks.engine.flow.lineage import (
        lineage_facets,
    )
    from modelworks.engine.flow.pipeline import (
        REASON_VIRTUAL,
        CompiledPipeline,
        PipelinedFlow,
        PipelineRecipe,
        VirtualDatasetError,
        compile_pipeline,
        pipeline_flow,
        pipelined_fingerprints,
        plan_pipelined_build,
    )
    from modelworks.engine.flow.plan import (
        ENGINE_VERSION,
        REASON_CHANGED,
        REASON_FORCED,
        REASON_NEVER_BUILT,
        REASON_UP_TO_DATE,
        REASON_UPSTREAM,
        BuildPlan,
        PlannedStep,
        SkippedStep,
        fingerprint,
        plan_build,
    )
    from modelworks.engine.flow.reports import (
        UnmatchedCount,
        count_unmatched_in_duckdb,
        count_unmatched_in_postgres,
        count_unmatched_in_session,
    )
    from modelworks.engine.flow.runner import (
        BuildEvent,
        BuildOutcome,
        StepOutcome,
        StepResult,
        run_plan,
    )

_HOME = {
    "BlockedInputError": "errors",
    "CycleError": "errors",
    "DuplicateProducerError": "errors",
    "DuplicateRecipeError": "errors",
    "ExecutionError": "errors",
    "FlowError": "errors",
    "GraphError": "errors",
    "InvalidRecipeNodeError": "errors",
    "MissingInputError": "errors",
    "PlanError": "errors",
    "PostgresExecutionError": "errors",
    "QueryError": "errors",
    "StepCancelledError": "errors",
    "StepTimeoutError": "errors",
    "UnknownDatasetError": "errors",
    "DuckDBRun": "execute",
    "execute_in_duckdb": "execute",
    "input_alias": "execute",
    "relations_for": "execute",
    "run_in_duckdb": "execute",
    "run_in_postgres": "execute",
    "FlowGraph": "graph",
    "RecipeNode": "graph",
    "FlowLayout": "layout",
    "LayoutEdge": "layout",
    "LayoutNode": "layout",
    "layout_flow": "layout",
    "lineage_facets": "lineage",
    "REASON_VIRTUAL": "pipeline",
    "CompiledPipeline": "pipeline",
    "PipelinedFlow": "pipeline",
    "PipelineRecipe": "pipeline",
    "VirtualDatasetError": "pipeline",
    "compile_pipeline": "pipeline",
    "pipeline_flow": "pipeline",
    "pipelined_fingerprints": "pipeline",
    "plan_pipelined_build": "pipeline",
    "ENGINE_VERSION": "plan",
    "REASON_CHANGED": "plan",
    "REASON_FORCED": "plan",
    "REASON_NEVER_BUILT": "plan",
    "REASON_UP_TO_DATE": "plan",
    "REASON_UPSTREAM": "plan",
    "BuildPlan": "plan",
    "PlannedStep": "plan",
    "SkippedStep": "plan",
    "fingerprint": "plan",
    "plan_build": "plan",
    "UnmatchedCount": "reports",
    "count_unmatched_in_duckdb": "reports",
    "count_unmatched_in_postgres": "reports",
    "count_unmatched_in_session": "reports",
    "BuildEvent": "runner",
    "BuildOutcome": "runner",
    "StepOutcome": "runner",
    "StepResult": "runner",
    "run_plan": "runner",
}

__all__ = [
    "ENGINE_VERSION",
    "REASON_CHANGED",
    "REASON_FORCED",
    "REASON_NEVER_BUILT",
    "REASON_UPSTREAM",
    "REASON_UP_TO_DATE",
    "REASON_VIRTUAL",
    "BlockedInputError",
    "BuildEvent",
    "BuildOutcome",
    "BuildPlan",
    "CompiledPipeline",
    "CycleError",
    "DuckDBRun",
    "DuplicateProducerError",
    "DuplicateRecipeError",
    "ExecutionError",
    "FlowError",
    "FlowGraph",
    "FlowLayout",
    "GraphError",
    "InvalidRecipeNodeError",
    "LayoutEdge",
    "LayoutNode",
    "MissingInputError",
    "PipelineRecipe",
    "PipelinedFlow",
    "PlanError",
    "PlannedStep",
    "PostgresExecutionError",
    "QueryError",
    "RecipeNode",
    "SkippedStep",
    "StepCancelledError",
    "StepOutcome",
    "StepResult",
    "StepTimeoutError",
    "UnknownDatasetError",
    "UnmatchedCount",
    "VirtualDatasetError",
    "compile_pipeline",
    "count_unmatched_in_duckdb",
    "count_unmatched_in_postgres",
    "count_unmatched_in_session",
    "execute_in_duckdb",
    "fingerprint",
    "input_alias",
    "layout_flow",
    "lineage_facets",
    "pipeline_flow",
    "pipelined_fingerprints",
    "plan_build",
    "plan_pipelined_build",
    "relations_for",
    "run_in_duckdb",
    "run_in_postgres",
    "run_plan",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
