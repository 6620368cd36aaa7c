"""What each kind of recipe is, how many inputs and outputs it takes, and the form of its settings.

:data:`RECIPE_KINDS` feeds the recipe picker and the generated settings forms; the ``params``
mirror the spec shapes documented in each recipe's module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelworks.engine.recipes.types import ParamSpec
from modelworks.engine.recipes.visual.group import AGGREGATIONS
from modelworks.engine.recipes.visual.join import JOIN_TYPES
from modelworks.engine.recipes.visual.split import SPLIT_MODES
from modelworks.engine.recipes.visual.window import WINDOW_FUNCTIONS

__all__ = ["RECIPE_KINDS", "RecipeKindInfo"]


@dataclass(frozen=True)
class RecipeKindInfo:
    """One kind of recipe.

    Attributes:
        kind: the stored name (``join``).
        label: the name users see (``Join``).
        category: the picker's group (``Combine``, ``Aggregate``, ``Rows``, ``Clean``, ``Code``,
            ``Models``).
        description: one sentence.
        min_inputs / max_inputs: how many inputs (``max_inputs`` ``None``: no limit).
        min_outputs / max_outputs: how many outputs (``max_outputs`` ``None``: no limit).
        params: the settings, for form generation.
    """

    kind: str
    label: str
    category: str
    description: str
    min_inputs: int = 1
    max_inputs: int | None = 1
    min_outputs: int = 1
    max_outputs: int | None = 1
    params: tuple[ParamSpec, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "category": self.category,
            "description": self.description,
            "min_inputs": self.min_inputs,
            "max_inputs": self.max_inputs,
            "min_outputs": self.min_outputs,
            "max_outputs": self.max_outputs,
            "params": [p.to_dict() for p in self.params],
        }


_ORDER = ParamSpec(
    "order_by",
    "list",
    "Order",
    required=False,
    item=(
        ParamSpec("column", "column", "Column"),
        ParamSpec("direction", "choice", "Direction", required=False, default="asc", choices=("asc", "desc")),
        ParamSpec(
            "nulls", "choice", "Empty values", required=False, default="last", choices=("first", "last")
        ),
    ),
)
_CONDITION_HELP = "A formula, e.g. delay > 15 (or structured filters)"
_AGGREGATION_ITEM = (
    ParamSpec("function", "choice", "Function", choices=tuple(AGGREGATIONS)),
    ParamSpec("column", "column", "Column", required=False, help="Empty with count: count rows"),
    ParamSpec("name", "string", "Output name", required=False, help="Default: <column>_<function>"),
    ParamSpec("p", "number", "Quantile (0-1)", required=False),
    ParamSpec("separator", "string", "Separator (concat)", required=False, default=", "),
    ParamSpec("order_by", "list", "Order (first, last, concat)", required=False, item=_ORDER.item),
)
_FRAME_ITEM = (
    ParamSpec("unit", "choice", "Unit", required=False, default="rows", choices=("rows", "range")),
    ParamSpec("start", "string", "Start", required=False, default="unbounded preceding"),
    ParamSpec("end", "string", "End", required=False, default="current row"),
)
_FRAME_HELP = (
    "One frame at most: the rows each value is computed over, e.g. from 6 preceding to current row "
    "(a moving average of 7 rows). Leave it out for the whole group up to the current row."
)

RECIPE_KINDS: Mapping[str, RecipeKindInfo] = {
    "prepare": RecipeKindInfo(
        "prepare",
        "Prepare",
        "Clean",
        "Clean and transform columns step by step (rename, fill, parse dates, formulas, filters…).",
        params=(
            ParamSpec(
                "steps",
                "list",
                "Steps",
                item=(
                    ParamSpec("processor", "choice", "Processor"),
                    ParamSpec("params", "mapping", "Settings", required=False),
                    ParamSpec("enabled", "boolean", "Enabled", required=False, default=True),
                    ParamSpec("comment", "string", "Comment", required=False, default=""),
                ),
            ),
        ),
    ),
    "join": RecipeKindInfo(
        "join",
        "Join",
        "Combine",
        "Combine two or more datasets on matching keys.",
        min_inputs=2,
        max_inputs=None,
        params=(
            ParamSpec(
                "joins",
                "list",
                "Joins (one per input after the first)",
                item=(
                    ParamSpec("type", "choice", "Type", default="inner", choices=JOIN_TYPES),
                    ParamSpec(
                        "on",
                        "list",
                        "Keys",
                        required=False,
                        item=(
                            ParamSpec("left", "column", "Left column"),
                            ParamSpec("left_input", "string", "Left input", required=False),
                            ParamSpec("right", "column", "Right column"),
                            ParamSpec(
                                "case_insensitive", "boolean", "Ignore case", required=False, default=False
                            ),
                            ParamSpec(
                                "null_safe", "boolean", "Empty matches empty", required=False, default=False
                            ),
                        ),
                    ),
                    ParamSpec(
                        "condition", "formula", "Extra condition", required=False, help=_CONDITION_HELP
                    ),
                ),
            ),
            ParamSpec(
                "inputs",
                "list",
                "Columns per input",
                required=False,
                item=(
                    ParamSpec("columns", "columns", "Keep", required=False, help="Empty: all"),
                    ParamSpec("rename", "mapping", "Rename", required=False),
                    ParamSpec("prefix", "string", "Prefix on name clashes", required=False),
                ),
            ),
            ParamSpec("filter", "formula", "Filter after the join", required=False, help=_CONDITION_HELP),
        ),
    ),
    "group": RecipeKindInfo(
        "group",
        "Group",
        "Aggregate",
        "One row per group with counts, sums, averages and other aggregations.",
        params=(
            ParamSpec("keys", "columns", "Group by", required=False, help="Empty: one row for everything"),
            ParamSpec("aggregations", "list", "Aggregations", item=_AGGREGATION_ITEM),
            ParamSpec("having", "formula", "Keep groups where", required=False, help=_CONDITION_HELP),
        ),
    ),
    "window": RecipeKindInfo(
        "window",
        "Window",
        "Aggregate",
        "Add ranks, previous values, running totals and moving averages.",
        params=(
            ParamSpec("partition_by", "columns", "Per group", required=False),
            _ORDER,
            # The frame is ONE object {unit, start, end}; it is described as a list of at most one item
            # because the flows form draws "list" settings only (forms.params.OBJECT_LISTS reads it
            # back as the object). Describe it as kind "object" once the form draws that kind.
            ParamSpec("frame", "list", "Default frame", required=False, help=_FRAME_HELP, item=_FRAME_ITEM),
            ParamSpec(
                "functions",
                "list",
                "Functions",
                item=(
                    ParamSpec("function", "choice", "Function", choices=tuple(WINDOW_FUNCTIONS)),
                    ParamSpec("column", "column", "Column", required=False),
                    ParamSpec("name", "string", "Output name", required=False),
                    ParamSpec("n", "integer", "n (ntile buckets, moving average rows)", required=False),
                    ParamSpec("offset", "integer", "Offset (lag, lead)", required=False, default=1),
                    ParamSpec("default", "string", "Default (lag, lead)", required=False),
                    ParamSpec("frame", "list", "Frame", required=False, help=_FRAME_HELP, item=_FRAME_ITEM),
                ),
            ),
        ),
    ),
    "pivot": RecipeKindInfo(
        "pivot",
        "Pivot",
        "Aggregate",
        "Turn the values of a column into columns.",
        params=(
            ParamSpec("index", "columns", "Rows", required=False),
            ParamSpec("column", "column", "Column whose values become columns"),
            ParamSpec("values", "strings", "Values"),
            ParamSpec("aggregations", "list", "Aggregations", item=_AGGREGATION_ITEM),
        ),
    ),
    "stack": RecipeKindInfo(
        "stack",
        "Stack",
        "Combine",
        "Put the rows of several datasets one after the other.",
        min_inputs=2,
        max_inputs=None,
        params=(
            ParamSpec(
                "mode", "choice", "Match columns", default="by_name", choices=("by_name", "by_position")
            ),
            ParamSpec("origin_column", "string", "Column with the input name", required=False),
            ParamSpec("distinct", "boolean", "Drop duplicate rows", required=False, default=False),
        ),
    ),
    "split": RecipeKindInfo(
        "split",
        "Split",
        "Rows",
        "Send rows to several outputs: at random, by condition or by time.",
        min_outputs=2,
        max_outputs=None,
        params=(
            ParamSpec("mode", "choice", "Split", choices=SPLIT_MODES),
            ParamSpec("fractions", "strings", "Shares (random)", required=False, help="e.g. 0.8, 0.2"),
            ParamSpec("seed", "integer", "Seed (random)", required=False, default=0),
            ParamSpec("id_column", "column", "ID column (random)", required=False),
            ParamSpec(
                "conditions",
                "list",
                "Conditions (in order)",
                required=False,
                item=(
                    ParamSpec("output", "string", "Output"),
                    ParamSpec("formula", "formula", "Condition", help=_CONDITION_HELP),
                ),
            ),
            ParamSpec("other", "string", "Output for other rows", required=False, help="Empty: drop them"),
            ParamSpec("column", "column", "Time column (time)", required=False),
            ParamSpec("cutoffs", "strings", "Cutoffs (time)", required=False),
            ParamSpec("percentiles", "strings", "Percentiles (time)", required=False),
        ),
    ),
    "sample": RecipeKindInfo(
        "sample",
        "Sample",
        "Rows",
        "Keep the first rows, or a reproducible random sample (optionally per group).",
        params=(
            ParamSpec("mode", "choice", "Sample", default="first", choices=("first", "random")),
            ParamSpec("n", "integer", "Rows", required=False),
            ParamSpec("fraction", "number", "Share (0-1)", required=False),
            ParamSpec("seed", "integer", "Seed", required=False, default=0),
            ParamSpec("id_column", "column", "ID column", required=False),
            ParamSpec("stratify_by", "column", "Per value of", required=False),
        ),
    ),
    "sort": RecipeKindInfo(
        "sort",
        "Sort",
        "Rows",
        "Order the rows.",
        params=(ParamSpec("columns", "list", "Sort by", item=_ORDER.item),),
    ),
    "distinct": RecipeKindInfo(
        "distinct",
        "Distinct",
        "Rows",
        "Remove duplicate rows, on all columns or some.",
        params=(
            ParamSpec("columns", "columns", "Compare", required=False, help="Empty: all columns"),
            ParamSpec("order_by", "list", "Keep the first by", required=False, item=_ORDER.item),
            ParamSpec("count_column", "string", "Count column", required=False),
        ),
    ),
    "top_n": RecipeKindInfo(
        "top_n",
        "Top N",
        "Rows",
        "The first N rows of each group by an order.",
        params=(
            ParamSpec("n", "integer", "N"),
            ParamSpec("order_by", "list", "Order", item=_ORDER.item),
            ParamSpec("group_by", "columns", "Per group", required=False),
            ParamSpec("rank_column", "string", "Rank column", required=False, default="rank"),
            ParamSpec(
                "ties",
                "choice",
                "Ties",
                required=False,
                default="row_number",
                choices=("row_number", "rank", "dense_rank"),
            ),
        ),
    ),
    "sql": RecipeKindInfo(
        "sql",
        "SQL",
        "Code",
        "One SELECT query (DuckDB dialect) over the inputs, named by their dataset names.",
        max_inputs=None,
        params=(ParamSpec("sql", "string", "Query"),),
    ),
    "python": RecipeKindInfo(
        "python",
        "Python",
        "Code",
        "Python code run in an isolated sandbox, reading the inputs and writing the outputs.",
        min_inputs=0,
        max_inputs=None,
        max_outputs=None,
        params=(ParamSpec("code", "string", "Code"),),
    ),
    "score": RecipeKindInfo(
        "score",
        "Score",
        "Models",
        "Score every row with a registered model (by alias, so a promotion is used by the next build).",
        params=(
            ParamSpec("model", "string", "Registered model"),
            ParamSpec(
                "alias",
                "string",
                "Alias",
                required=False,
                default="champion",
                help="Follows promotions; empty: use the fixed version",
            ),
            ParamSpec("version", "integer", "Fixed version", required=False, help="Only without an alias"),
            ParamSpec("keep_columns", "columns", "Columns to keep", required=False, help="Empty: all"),
            ParamSpec("probabilities", "boolean", "Class probabilities", required=False, default=True),
            ParamSpec(
                "log_predictions",
                "boolean",
                "Log predictions for monitoring",
                required=False,
                default=True,
            ),
            ParamSpec(
                "id_column",
                "column",
                "Row identifier",
                required=False,
                help="Labels that arrive later are matched on it",
            ),
            ParamSpec(
                "time_column",
                "column",
                "Time of each row",
                required=False,
                help="Monitoring windows follow it; empty: the build's time",
            ),
        ),
    ),
}
