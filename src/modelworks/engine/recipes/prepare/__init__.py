"""The prepare recipe: an ordered list of steps (processors) compiled into one SQL query.

Public API:

* ``compile_prepare(spec, relation, output, *, recipe) -> CompiledRecipe``.
* ``PROCESSORS``: every processor's :class:`ProcessorInfo` by name; ``processors_catalog()``: the
  same grouped by category for the editor; ``CATEGORIES``.
* ``ProcessorInfo``, ``PrepareState``, ``Step``: for writing a processor.
* The formula language is in :mod:`modelworks.engine.recipes.formula` (``parse_formula`` is
  re-exported here).
"""

from __future__ import annotations

from modelworks.engine.recipes.formula import FormulaError, parse_formula
from modelworks.engine.recipes.prepare.base import PrepareState, ProcessorInfo, Step
from modelworks.engine.recipes.prepare.compile import MAX_STEPS, compile_prepare
from modelworks.engine.recipes.prepare.registry import CATEGORIES, PROCESSORS, processors_catalog

__all__ = [
    "CATEGORIES",
    "MAX_STEPS",
    "PROCESSORS",
    "FormulaError",
    "PrepareState",
    "ProcessorInfo",
    "Step",
    "compile_prepare",
    "parse_formula",
    "processors_catalog",
]
