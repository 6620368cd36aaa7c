"""Every prepare processor, listed explicitly, by name."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from modelworks.engine.recipes.prepare import (
    categorical,
    columns,
    dates,
    geo,
    missing,
    numbers,
    rows,
    strings,
)
from modelworks.engine.recipes.prepare.base import ProcessorInfo

__all__ = ["CATEGORIES", "PROCESSORS", "processors_catalog"]

#: Categories in the order the processor library shows them.
CATEGORIES = (
    "Columns",
    "Filter rows",
    "Missing values",
    "Text",
    "Numbers",
    "Dates",
    "Categories",
    "Geography",
)

_ALL: tuple[ProcessorInfo, ...] = (
    columns.RENAME_COLUMNS,
    columns.DROP_COLUMNS,
    columns.KEEP_COLUMNS,
    columns.REORDER_COLUMNS,
    columns.COPY_COLUMN,
    columns.FORMULA,
    columns.CAST_COLUMNS,
    columns.COALESCE_COLUMNS,
    columns.CONCAT_COLUMNS,
    rows.FILTER_ROWS,
    rows.FILTER_FORMULA,
    rows.REMOVE_MISSING,
    rows.FILTER_OUTLIERS,
    rows.DEDUPLICATE,
    rows.FLAG_ROWS,
    missing.FILL_MISSING,
    missing.EMPTY_TO_NULL,
    strings.FIND_REPLACE,
    strings.CHANGE_CASE,
    strings.TRIM_SPACES,
    strings.PAD_TEXT,
    strings.TRUNCATE_TEXT,
    strings.TEXT_LENGTH,
    strings.MASK_TEXT,
    strings.SPLIT_COLUMN,
    strings.EXTRACT_REGEX,
    strings.JSON_FIELD,
    numbers.ROUND_NUMBERS,
    numbers.CLIP_NUMBERS,
    numbers.BIN_NUMBERS,
    numbers.ABS_VALUE,
    numbers.LOG_TRANSFORM,
    numbers.STANDARDIZE,
    numbers.MIN_MAX_SCALE,
    numbers.MATH_COLUMNS,
    dates.PARSE_DATE,
    dates.DATE_PARTS_PROCESSOR,
    dates.DATE_DIFF,
    dates.TRUNCATE_DATE,
    dates.SHIFT_DATE,
    categorical.GROUP_RARE,
    categorical.ONE_HOT,
    categorical.MAP_VALUES,
    geo.GEO_DISTANCE,
)

#: Every processor by its stable name.
PROCESSORS: Mapping[str, ProcessorInfo] = MappingProxyType({p.name: p for p in _ALL})


def processors_catalog() -> list[dict[str, Any]]:
    """The processor library for the editor: categories in order, each with its processors' forms."""
    return [
        {"category": category, "processors": [p.to_dict() for p in _ALL if p.category == category]}
        for category in CATEGORIES
    ]
