"""``compile_recipe`` and ``normalize_spec``: what :mod:`modelworks.engine.recipes` exports as its
entry points (kept here so that importing the package, e.g. for ``types``, loads nothing heavy)."""

from __future__ import annotations

__all__ = ["compile_recipe", "normalize_spec"]

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, cast

from sqlglot.errors import ErrorLevel, SqlglotError

from modelworks.engine.errors import did_you_mean
from modelworks.engine.recipes.registry import RECIPE_KINDS, RecipeKindInfo
from modelworks.engine.recipes.score import normalize_score_spec
from modelworks.engine.recipes.sql import compile_sql, normalize_sql
from modelworks.engine.recipes.types import (
    CompiledRecipe,
    RecipeSpecError,
    Relation,
)
from modelworks.engine.recipes.visual import (
    VISUAL_RECIPES,
)
from modelworks.engine.recipes.visual.conditions import NON_PORTABLE
from modelworks.engine.recipes.visual.spec import SpecReader


def _kind_info(kind: str) -> RecipeKindInfo:
    info = RECIPE_KINDS.get(kind)
    if info is None:
        raise RecipeSpecError(
            f"unknown recipe kind {kind!r}{did_you_mean(kind, RECIPE_KINDS)}; the kinds are {', '.join(RECIPE_KINDS)}",
            kind=kind,
        )
    return info


def _check_counts(
    info: RecipeKindInfo, inputs: Sequence[Relation], outputs: Sequence[str], recipe: str
) -> None:
    def bounds(low: int, high: int | None) -> str:
        if high is None:
            return f"at least {low}"
        return f"exactly {low}" if low == high else f"{low} to {high}"

    if len(inputs) < info.min_inputs or (info.max_inputs is not None and len(inputs) > info.max_inputs):
        raise RecipeSpecError(
            f"recipe {recipe!r}: a {info.label} recipe takes {bounds(info.min_inputs, info.max_inputs)} input(s), "
            f"this one has {len(inputs)}",
            recipe=recipe,
        )
    if len(outputs) < info.min_outputs or (info.max_outputs is not None and len(outputs) > info.max_outputs):
        raise RecipeSpecError(
            f"recipe {recipe!r}: a {info.label} recipe makes {bounds(info.min_outputs, info.max_outputs)} output(s), "
            f"this one has {len(outputs)}",
            recipe=recipe,
        )
    if len({o.lower() for o in outputs}) != len(outputs):
        raise RecipeSpecError(
            f"recipe {recipe!r}: two outputs have the same name; rename one of them", recipe=recipe
        )


def compile_recipe(
    kind: str,
    spec: Mapping[str, Any] | None,
    inputs: Sequence[Relation],
    outputs: Sequence[str],
    *,
    recipe: str,
) -> CompiledRecipe:
    """Compile a visual or SQL recipe into one query per output.

    Args:
        kind: one of :data:`RECIPE_KINDS` (not ``python``: those are run, not compiled).
        spec: the recipe's settings (see each recipe module for its shape).
        inputs: the recipe's inputs, in order.
        outputs: the names of its outputs, in order.
        recipe: its name, for messages.

    Raises:
        RecipeSpecError: the settings are invalid; MissingColumnError: they use a column an input lacks.
    """
    info = _kind_info(kind)
    if kind == "python":
        raise RecipeSpecError(
            f"recipe {recipe!r}: python recipes are run, not compiled (use run_python_recipe)", recipe=recipe
        )
    if kind == "score":
        raise RecipeSpecError(
            f"recipe {recipe!r}: score recipes are run, not compiled (see engine.recipes.score)",
            recipe=recipe,
        )
    _check_counts(info, inputs, outputs, recipe)
    if kind == "prepare":
        module = importlib.import_module("modelworks.engine.recipes.prepare")
        compile_prepare = cast(Callable[..., CompiledRecipe], module.compile_prepare)
        return _check_portable(compile_prepare(dict(spec or {}), inputs[0], outputs[0], recipe=recipe))
    if kind == "sql":
        return compile_sql(spec, inputs, outputs, recipe=recipe)
    return _check_portable(VISUAL_RECIPES[kind].compile(spec, inputs, outputs, recipe=recipe))


def _check_portable(compiled: CompiledRecipe) -> CompiledRecipe:
    """Clear ``pushdown`` when a formula or construct inside cannot run in PostgreSQL."""
    reasons: list[str] = []
    for out in compiled.outputs:
        for node in out.query.walk():
            reasons.extend(node.meta.get(NON_PORTABLE, ()) if node.meta else ())
        try:
            out.query.sql(dialect="postgres", unsupported_level=ErrorLevel.RAISE)
        except SqlglotError as exc:
            reasons.append(str(exc).splitlines()[0])
    if not reasons:
        return compiled
    unique = list(dict.fromkeys(reasons))
    return replace(
        compiled, pushdown=False, notes=(*compiled.notes, f"runs in DuckDB only: {'; '.join(unique)}")
    )


def normalize_spec(kind: str, spec: Mapping[str, Any] | None, *, recipe: str | None = None) -> dict[str, Any]:
    """Check a spec's shape and fill its defaults, without looking at the inputs.

    Column names are checked later, by :func:`compile_recipe`, against the actual inputs.

    Raises:
        RecipeSpecError: the spec's shape is wrong; the message names the setting.
    """
    _kind_info(kind)
    name = recipe or f"new {kind}"
    if kind == "sql":
        return normalize_sql(spec, recipe=name)
    if kind == "prepare":
        return _normalize_prepare(spec, recipe=name)
    if kind == "score":
        return normalize_score_spec(spec, recipe=name)
    if kind == "python":
        reader = SpecReader(spec, recipe=name)
        reader.allow("code")
        code = reader.data.get("code", "")
        if not isinstance(code, str):
            raise reader.error("code", "must be Python source text")
        return {"code": code}
    return VISUAL_RECIPES[kind].normalize(spec, recipe=name)


def _normalize_prepare(spec: Mapping[str, Any] | None, *, recipe: str) -> dict[str, Any]:
    """The shape of a prepare spec; each processor's own settings are checked when compiling."""
    reader = SpecReader(spec, recipe=recipe)
    reader.allow("steps")
    try:
        known: Mapping[str, Any] | None = importlib.import_module(
            "modelworks.engine.recipes.prepare"
        ).PROCESSORS
    except (ImportError, AttributeError):  # pragma: no cover - while the prepare package is missing
        known = None
    steps = []
    for item in reader.objects("steps", "step", required=False):
        item.allow("processor", "params", "enabled", "comment")
        processor = item.string("processor")
        if known is not None and processor not in known:
            raise item.error(
                "processor", f"is {processor!r}, which is not a processor{did_you_mean(processor, known)}"
            )
        params = item.data.get("params") or {}
        if not isinstance(params, Mapping):
            raise item.error("params", f"must be an object, not {type(params).__name__}")
        comment = item.data.get("comment") or ""
        if not isinstance(comment, str):
            raise item.error("comment", "must be a text")
        steps.append(
            {
                "processor": processor,
                "params": dict(params),
                "enabled": item.boolean("enabled", True),
                "comment": comment,
            }
        )
    return {"steps": steps}
