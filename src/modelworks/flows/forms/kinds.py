"""What the pages need to know about recipe kinds and Prepare processors, read from the engine.

The engine describes each kind (``modelworks.engine.recipes.RECIPE_KINDS``) and each processor
(``modelworks.engine.recipes.prepare.PROCESSORS``) with ``ParamSpec``\\ s; this module reads them into
small page-side records (:class:`KindChoice`, :class:`ProcessorChoice`) so the templates never reach
into the engine, and adds the one-line descriptions shown in the "New recipe" menu.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modelworks.engine.recipes.types import ParamSpec
from modelworks.flows.forms.params import as_param_specs
from modelworks.flows.models import RecipeKind

__all__ = [
    "KIND_ICONS",
    "MODE_RULES",
    "KindChoice",
    "ModeRule",
    "ProcessorChoice",
    "kind_choice",
    "kind_choices",
    "kind_groups",
    "processor_categories",
    "processor_choice",
]

#: One line per kind for the "New recipe" menu, in the words of a business user.
KIND_SUMMARIES: Mapping[str, str] = {
    "prepare": "Clean and reshape one dataset step by step: filter, rename, compute, split, fill…",
    "join": "Combine datasets side by side on matching key columns.",
    "group": "One row per group of key values, with counts, sums, averages…",
    "window": "Running totals, ranks, lags and moving averages within groups.",
    "stack": "Put the rows of several datasets one under the other.",
    "split": "Send each row to one of several outputs by a condition or at random.",
    "sample": "Keep a random or first part of the rows.",
    "sort": "Order the rows by one or more columns.",
    "distinct": "Remove duplicate rows, or keep one row per key.",
    "pivot": "Turn the values of a column into columns.",
    "top_n": "Keep the first N rows of each group by an order.",
    "sql": "Write a SQL query over the inputs (for engineers).",
    "python": "Run Python code on the inputs in a sandbox (for engineers).",
    "score": "Add a registered model's predictions to every row (batch scoring).",
}

#: The short symbol drawn inside a recipe node of the flow.
KIND_ICONS: Mapping[str, str] = {
    "prepare": "✎",
    "join": "⋈",
    "group": "Σ",
    "window": "▤",
    "stack": "≡",
    "split": "Y",
    "sample": "◔",
    "sort": "⇅",
    "distinct": "◇",
    "pivot": "⟲",
    "top_n": "▲",
    "sql": "SQL",
    "python": "Py",
    "score": "ƒ(x)",
}


@dataclass(frozen=True)
class ModeRule:
    """Settings that apply only in some modes of a recipe kind or processor.

    ``param`` names the setting that chooses the mode; ``shown`` maps each mode to the settings it
    uses. A setting named in no mode always applies. The form shows only the settings of the chosen
    mode, and reading the form drops those of the other modes (the engine refuses a setting its mode
    does not use, e.g. a random seed in a time split).
    """

    param: str
    shown: Mapping[str, frozenset[str]]

    @property
    def governed(self) -> frozenset[str]:
        """Every setting that depends on the mode."""
        return frozenset().union(*self.shown.values())

    def show_if(self, prefix: str) -> dict[str, str]:
        """``ParamField.show_if`` of each governed setting, for fields named under ``prefix``."""
        rules: dict[str, str] = {}
        for name in sorted(self.governed):
            modes = [mode for mode, names in self.shown.items() if name in names]
            rules[name] = f"{prefix}.{self.param}=" + " ".join(modes)
        return rules

    def keep(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """``settings`` without those the chosen mode does not use (all kept while none is chosen)."""
        mode = settings.get(self.param)
        used = self.shown.get(str(mode)) if mode is not None else None
        if used is None:
            return dict(settings)
        return {k: v for k, v in settings.items() if k not in self.governed or k in used}


def _rule(param: str, **shown: tuple[str, ...]) -> ModeRule:
    return ModeRule(param, {mode: frozenset(names) for mode, names in shown.items()})


#: The mode-dependent settings of recipe kinds (by kind) and Prepare processors (by processor).
MODE_RULES: Mapping[str, ModeRule] = {
    "sample": _rule("mode", first=("n",), random=("n", "fraction", "seed", "id_column", "stratify_by")),
    "split": _rule(
        "mode",
        random=("fractions", "seed", "id_column"),
        condition=("conditions", "other"),
        time=("column", "cutoffs", "percentiles"),
    ),
    "fill_missing": _rule(
        "method",
        constant=("value",),
        mean=(),
        median=(),
        mode=(),
        previous=("order_by",),
        next=("order_by",),
    ),
    "bin_numbers": _rule("method", width=("width", "origin"), edges=("edges", "labels")),
    "geo_distance": _rule("to", point=("point_lat", "point_lon"), columns=("lat2", "lon2")),
    "map_values": _rule("unmatched", keep=(), null=(), default=("default",)),
    "mask_text": _rule("method", mask=("keep_last",), hash=()),
}


@dataclass(frozen=True)
class KindChoice:
    """A recipe kind as the pages use it.

    ``max_inputs``/``max_outputs`` are None when unlimited; ``params`` are the settings of the kind
    (for Prepare, the steps are edited separately and ``params`` is empty).
    """

    kind: str
    label: str
    summary: str
    min_inputs: int
    max_inputs: int | None
    min_outputs: int
    max_outputs: int | None
    params: tuple[ParamSpec, ...]
    icon: str
    category: str = ""

    @property
    def single_input(self) -> bool:
        return self.max_inputs == 1

    @property
    def is_code(self) -> bool:
        return self.kind in ("sql", "python")

    @property
    def code_param(self) -> ParamSpec | None:
        """The setting holding the code of a SQL or Python recipe."""
        if not self.is_code:
            return None
        for param in self.params:
            if param.kind in ("code", "sql", "text", "string") and param.name in ("query", "sql", "code"):
                return param
        for param in self.params:
            if param.kind in ("code", "sql", "text", "string"):
                return param
        name = "query" if self.kind == "sql" else "code"
        return ParamSpec(name=name, kind="code", label="SQL query" if self.kind == "sql" else "Python code")

    @property
    def other_params(self) -> tuple[ParamSpec, ...]:
        """The settings other than the code (and, for Prepare, other than the steps)."""
        code = self.code_param
        return tuple(
            p for p in self.params if (code is None or p.name != code.name) and not self._is_steps(p)
        )

    def _is_steps(self, param: ParamSpec) -> bool:
        return self.kind == "prepare" and param.name == "steps"


def _int(value: Any, default: int | None) -> int | None:
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _kind_from_info(kind: str, info: Any) -> KindChoice:
    get = info.get if isinstance(info, Mapping) else lambda key, default=None: getattr(info, key, default)
    outputs = get("outputs", None)
    min_outputs = _int(get("min_outputs", None), None)
    max_outputs = _int(get("max_outputs", None), None)
    if isinstance(outputs, int):
        min_outputs = outputs if min_outputs is None else min_outputs
        max_outputs = outputs if max_outputs is None else max_outputs
    elif isinstance(outputs, Sequence) and not isinstance(outputs, str) and len(outputs) == 2:
        min_outputs, max_outputs = _int(outputs[0], 1), _int(outputs[1], None)
    default_max_out = None if kind == "split" else 1
    default_min_in = 1
    default_max_in = None if kind in ("join", "stack", "sql", "python") else 1
    summary = get("description", None) or get("summary", None) or KIND_SUMMARIES.get(kind, "")
    return KindChoice(
        kind=kind,
        label=str(get("label", None) or (RecipeKind(kind).label if kind in RecipeKind.values else kind)),
        summary=str(summary).strip().splitlines()[0] if summary else "",
        min_inputs=_int(get("min_inputs", None), default_min_in) or 0,
        max_inputs=_int(get("max_inputs", None), default_max_in),
        min_outputs=min_outputs if min_outputs is not None else (2 if kind == "split" else 1),
        max_outputs=max_outputs if max_outputs is not None or kind == "split" else default_max_out,
        params=as_param_specs(get("params", None) or ()),
        icon=KIND_ICONS.get(kind, "◆"),
        category=str(get("category", None) or ""),
    )


def _engine_kinds() -> Mapping[str, Any]:
    try:
        from modelworks.engine.recipes import RECIPE_KINDS
    except ImportError:  # the engine's kinds are not installed: offer none rather than break the page
        return {}
    return RECIPE_KINDS


def kind_choices() -> list[KindChoice]:
    """The recipe kinds the engine offers, in the order of ``RecipeKind``."""
    engine = _engine_kinds()
    return [_kind_from_info(kind, engine[kind]) for kind in RecipeKind.values if kind in engine]


def kind_groups() -> list[tuple[str, list[KindChoice]]]:
    """The kinds grouped by the engine's category, for the "New recipe" menu."""
    groups: dict[str, list[KindChoice]] = {}
    for choice in kind_choices():
        groups.setdefault(choice.category or "Other", []).append(choice)
    return list(groups.items())


def kind_choice(kind: str) -> KindChoice | None:
    """One kind, or None when the engine does not offer it."""
    engine = _engine_kinds()
    if kind not in engine or kind not in RecipeKind.values:
        return None
    return _kind_from_info(kind, engine[kind])


@dataclass(frozen=True)
class ProcessorChoice:
    """A Prepare processor as the step picker shows it."""

    name: str
    label: str
    category: str
    help: str
    params: tuple[ParamSpec, ...]


def _processor_from_info(name: str, info: Any) -> ProcessorChoice:
    get = info.get if isinstance(info, Mapping) else lambda key, default=None: getattr(info, key, default)
    return ProcessorChoice(
        name=str(get("name", None) or name),
        label=str(get("label", None) or name.replace("_", " ").capitalize()),
        category=str(get("category", None) or "Other"),
        help=str(get("help", None) or get("description", None) or ""),
        params=as_param_specs(get("params", None) or ()),
    )


def _engine_processors() -> Mapping[str, Any]:
    try:
        from modelworks.engine.recipes.prepare import PROCESSORS
    except ImportError:
        return {}
    return PROCESSORS


def processor_choice(name: str) -> ProcessorChoice | None:
    """One processor, or None when the engine has none of that name."""
    engine = _engine_processors()
    if name not in engine:
        return None
    return _processor_from_info(name, engine[name])


def processor_categories() -> list[tuple[str, list[ProcessorChoice]]]:
    """Every processor, grouped by category (categories and processors in the engine's order)."""
    groups: dict[str, list[ProcessorChoice]] = {}
    for name, info in _engine_processors().items():
        choice = _processor_from_info(name, info)
        groups.setdefault(choice.category, []).append(choice)
    return list(groups.items())
