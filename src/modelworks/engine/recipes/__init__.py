"""Recipes: compile visual and SQL recipes to one relational plan; run Python recipes isolated.

Entry points:

* :func:`compile_recipe` turns a recipe (kind, spec, inputs as :class:`Relation`, output names)
  into a :class:`CompiledRecipe`: one SQLGlot query per output, column lineage, whether it can
  run inside PostgreSQL, and notes for the user.
* :func:`normalize_spec` checks a spec's shape and fills its defaults (what the API stores).
* :func:`output_schemas` finds each output's columns over empty tables, without reading data.
* :func:`preview` runs one output on the first rows of the inputs' Parquet versions.
* ``score`` recipes are run, not compiled: :func:`score_output_columns` gives their output columns.
* :data:`RECIPE_KINDS` describes each kind (label, inputs, outputs, settings form).
* :func:`unmatched_report` / :func:`unmatched_report_queries` (join) and :func:`pivot_values_query` (pivot) feed their forms.

The names are loaded on first use (PEP 562 ``__getattr__``): the web server imports ``types`` (for
``ParamSpec``) while loading its pages and must not pay for SQLGlot's dialects and DuckDB at start.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelworks.engine.recipes.api import (
        compile_recipe,
        normalize_spec,
    )
    from modelworks.engine.recipes.registry import (
        RECIPE_KINDS,
        RecipeKindInfo,
    )
    from modelworks.engine.recipes.sampling import (
        PreviewResult,
        RecipePreviewTimeoutError,
        preview,
    )
    from modelworks.engine.recipes.schemas import (
        bind_sources,
        output_schemas,
    )
    from modelworks.engine.recipes.score import (
        ModelFacts,
        score_output_columns,
    )
    from modelworks.engine.recipes.types import (
        Column,
        CompiledOutput,
        CompiledRecipe,
        LineageEdge,
        MissingColumnError,
        ParamSpec,
        RecipeError,
        RecipeSpecError,
        Relation,
    )
    from modelworks.engine.recipes.visual import (
        JOIN_SYMBOLS,
        UnmatchedQuery,
        pivot_values_query,
        unmatched_report,
        unmatched_report_queries,
    )

_HOME = {
    "PreviewResult": "sampling",
    "RecipePreviewTimeoutError": "sampling",
    "preview": "sampling",
    "RECIPE_KINDS": "registry",
    "RecipeKindInfo": "registry",
    "bind_sources": "schemas",
    "output_schemas": "schemas",
    "ModelFacts": "score",
    "normalize_score_spec": "score",
    "score_output_columns": "score",
    "Column": "types",
    "CompiledOutput": "types",
    "CompiledRecipe": "types",
    "LineageEdge": "types",
    "MissingColumnError": "types",
    "ParamSpec": "types",
    "RecipeError": "types",
    "RecipeSpecError": "types",
    "Relation": "types",
    "JOIN_SYMBOLS": "visual",
    "VISUAL_RECIPES": "visual",
    "UnmatchedQuery": "visual",
    "pivot_values_query": "visual",
    "unmatched_report": "visual",
    "unmatched_report_queries": "visual",
    "compile_recipe": "api",
    "normalize_spec": "api",
}

__all__ = [
    "JOIN_SYMBOLS",
    "RECIPE_KINDS",
    "Column",
    "CompiledOutput",
    "CompiledRecipe",
    "LineageEdge",
    "MissingColumnError",
    "ModelFacts",
    "ParamSpec",
    "PreviewResult",
    "RecipeError",
    "RecipeKindInfo",
    "RecipePreviewTimeoutError",
    "RecipeSpecError",
    "Relation",
    "UnmatchedQuery",
    "bind_sources",
    "compile_recipe",
    "normalize_spec",
    "output_schemas",
    "pivot_values_query",
    "preview",
    "score_output_columns",
    "unmatched_report",
    "unmatched_report_queries",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
