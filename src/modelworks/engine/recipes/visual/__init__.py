"""The visual recipes other than Prepare: each turns its settings into SQLGlot queries.

Every module documents its spec in its docstring and exposes ``normalize_<kind>(spec, *, recipe)``
(check the shape, fill defaults) and ``compile_<kind>(spec, inputs, outputs, *, recipe)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from modelworks.engine.recipes.types import CompiledRecipe
from modelworks.engine.recipes.visual.distinct import compile_distinct, normalize_distinct
from modelworks.engine.recipes.visual.group import AGGREGATIONS, compile_group, normalize_group
from modelworks.engine.recipes.visual.join import JOIN_TYPES, compile_join, normalize_join
from modelworks.engine.recipes.visual.join_report import (
    JOIN_SYMBOLS,
    UnmatchedQuery,
    unmatched_report,
    unmatched_report_queries,
)
from modelworks.engine.recipes.visual.pivot import (
    MAX_PIVOT_VALUES,
    compile_pivot,
    normalize_pivot,
    pivot_values_query,
)
from modelworks.engine.recipes.visual.sample import compile_sample, normalize_sample
from modelworks.engine.recipes.visual.sort import compile_sort, normalize_sort
from modelworks.engine.recipes.visual.split import SPLIT_MODES, compile_split, normalize_split
from modelworks.engine.recipes.visual.stack import compile_stack, normalize_stack
from modelworks.engine.recipes.visual.top_n import compile_top_n, normalize_top_n
from modelworks.engine.recipes.visual.window import WINDOW_FUNCTIONS, compile_window, normalize_window

__all__ = [
    "AGGREGATIONS",
    "JOIN_SYMBOLS",
    "JOIN_TYPES",
    "MAX_PIVOT_VALUES",
    "SPLIT_MODES",
    "VISUAL_RECIPES",
    "WINDOW_FUNCTIONS",
    "UnmatchedQuery",
    "VisualRecipe",
    "pivot_values_query",
    "unmatched_report",
    "unmatched_report_queries",
]


@dataclass(frozen=True)
class VisualRecipe:
    """How to check and compile one kind of visual recipe."""

    #: ``normalize(spec, *, recipe) -> dict``
    normalize: Callable[..., dict[str, Any]]
    #: ``compile(spec, inputs, outputs, *, recipe) -> CompiledRecipe``
    compile: Callable[..., CompiledRecipe]


VISUAL_RECIPES: Mapping[str, VisualRecipe] = {
    "join": VisualRecipe(normalize_join, compile_join),
    "group": VisualRecipe(normalize_group, compile_group),
    "window": VisualRecipe(normalize_window, compile_window),
    "stack": VisualRecipe(normalize_stack, compile_stack),
    "split": VisualRecipe(normalize_split, compile_split),
    "sample": VisualRecipe(normalize_sample, compile_sample),
    "sort": VisualRecipe(normalize_sort, compile_sort),
    "distinct": VisualRecipe(normalize_distinct, compile_distinct),
    "pivot": VisualRecipe(normalize_pivot, compile_pivot),
    "top_n": VisualRecipe(normalize_top_n, compile_top_n),
}
