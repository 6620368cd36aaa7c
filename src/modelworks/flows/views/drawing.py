"""The flow drawn as SVG: node boxes, edges as curves and state colours, from the services'
``flow_state`` (the engine's layered layout plus the state of every dataset and recipe).

Everything is computed here so the template only places elements: coordinates, paths, labels
shortened to fit, the classes that colour each state and the text a screen reader hears.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from modelworks.flows.forms.kinds import KIND_ICONS
from modelworks.flows.models import Recipe, RecipeKind
from modelworks.flows.services import DatasetState

__all__ = ["STATES", "Drawing", "DrawnEdge", "DrawnNode", "draw_flow"]

#: State → (label in the legend, what it means), in legend order.
STATES: Mapping[str, tuple[str, str]] = {
    DatasetState.BUILT: ("Up to date", "Built with the current recipe and inputs."),
    DatasetState.OUT_OF_DATE: ("Out of date", "The recipe or an input changed since the last build."),
    DatasetState.NEVER_BUILT: ("Never built", "No data yet: build it (or import data into a source)."),
    DatasetState.FAILED: ("Build failed", "The last build of its recipe failed; open the build to see why."),
    DatasetState.BLOCKED: ("Blocked", "Its current version failed a blocking quality rule."),
    DatasetState.VIRTUAL: ("Not stored", "Computed on the fly by the recipes that read it."),
    "running": ("Building", "A build is running this recipe now."),
}
_WORST = [
    DatasetState.FAILED,
    DatasetState.BLOCKED,
    DatasetState.NEVER_BUILT,
    DatasetState.OUT_OF_DATE,
    DatasetState.BUILT,
]
_DATASET_CHARS = 22
_RECIPE_CHARS = 20


def _short(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"


@dataclass
class DrawnNode:
    """One node as drawn: a dataset box or a recipe circle."""

    id: str
    kind: str  # "dataset" | "recipe"
    pk: int
    name: str
    label: str
    state: str
    state_label: str
    x: float
    y: float
    width: float
    height: float
    url: str
    detail: str
    icon: str = ""
    recipe_kind: str = ""
    recipe_kind_label: str = ""
    buildable: bool = False
    new_recipe_url: str = ""

    @property
    def cx(self) -> float:
        return round(self.x + self.width / 2, 1)

    @property
    def cy(self) -> float:
        return round(self.y + self.height / 2, 1)

    @property
    def r(self) -> float:
        return round(min(self.width, self.height) / 2, 1)

    @property
    def text_x(self) -> float:
        return round(self.x + 34, 1)

    @property
    def icon_x(self) -> float:
        return round(self.x + 17, 1)

    @property
    def name_y(self) -> float:
        return round(self.y + 17, 1)

    @property
    def sub_y(self) -> float:
        return round(self.y + 31, 1)

    @property
    def label_y(self) -> float:
        return round(self.y + self.height + 13, 1)

    @property
    def title(self) -> str:
        what = "Dataset" if self.kind == "dataset" else f"{self.recipe_kind_label} recipe"
        return f"{what} {self.name}: {self.state_label}. {self.detail}".strip()


@dataclass
class DrawnEdge:
    """One arrow: its SVG path and the nodes it joins."""

    source: str
    target: str
    path: str


@dataclass
class Drawing:
    """The whole drawing and what the page shows around it."""

    nodes: list[DrawnNode] = field(default_factory=list)
    edges: list[DrawnEdge] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0
    running: bool = False

    @property
    def dataset_count(self) -> int:
        return sum(1 for n in self.nodes if n.kind == "dataset")

    @property
    def recipe_count(self) -> int:
        return sum(1 for n in self.nodes if n.kind == "recipe")

    @property
    def recipes(self) -> list[DrawnNode]:
        return [n for n in self.nodes if n.kind == "recipe"]

    @property
    def datasets(self) -> list[DrawnNode]:
        return [n for n in self.nodes if n.kind == "dataset"]


def _curve(points: Sequence[Sequence[float]]) -> str:
    """A smooth path through ``points`` leaving and entering each one horizontally."""
    if not points:
        return ""
    (x0, y0), rest = points[0], points[1:]
    parts = [f"M{x0:.1f},{y0:.1f}"]
    for x1, y1 in rest:
        bend = max((x1 - x0) / 2, 12.0)
        parts.append(f"C{x0 + bend:.1f},{y0:.1f} {x1 - bend:.1f},{y1:.1f} {x1:.1f},{y1:.1f}")
        x0, y0 = x1, y1
    return " ".join(parts)


def _recipe_state(row: Mapping[str, Any], output_states: list[str]) -> str:
    status = row.get("last_build_status")
    if status == "running":
        return "running"
    if status == "failed":
        return DatasetState.FAILED
    if not output_states:
        return DatasetState.BUILT if row.get("up_to_date") else DatasetState.NEVER_BUILT
    return min(output_states, key=lambda s: _WORST.index(s) if s in _WORST else len(_WORST))


def _rows_text(rows: int | None, version: int | None) -> str:
    if version is None:
        return "No data yet"
    count = f"{rows:,} rows" if rows is not None else "rows unknown"
    return f"v{version} · {count}"


def _score_details(slug: str, ids: list[int]) -> dict[int, str]:
    """What each score recipe scores with, as its node's detail ("Scores with delays@champion")."""
    if not ids:
        return {}
    details = {}
    for pk, spec in Recipe.objects.filter(project__slug=slug, pk__in=ids).values_list("id", "spec"):
        spec = spec if isinstance(spec, Mapping) else {}
        model, alias, version = spec.get("model") or "?", spec.get("alias"), spec.get("version")
        what = f"{model}@{alias}" if alias else f"{model} v{version}" if version else str(model)
        details[pk] = _short(f"Scores with {what}", 40)
    return details


def draw_flow(state: Any, slug: str) -> Drawing:
    """The drawing of ``state`` (a ``flows.services.FlowState``) for project ``slug``."""
    layout = state.layout
    datasets = {row["node"]: row for row in state.datasets}
    recipes = {row["node"]: row for row in state.recipes}
    dataset_state = {row["id"]: row["state"] for row in state.datasets}
    drawing = Drawing(width=float(layout.get("width", 0)), height=float(layout.get("height", 0)))
    scored = _score_details(slug, [row["id"] for row in state.recipes if row["kind"] == "score"])
    for node in layout.get("nodes", []):
        nid = node["id"]
        box = {k: round(float(node[k]), 1) for k in ("x", "y", "width", "height")}
        if nid in datasets:
            row = datasets[nid]
            st = row["state"]
            drawing.nodes.append(
                DrawnNode(
                    id=nid,
                    kind="dataset",
                    pk=row["id"],
                    name=row["name"],
                    label=_short(row["name"], _DATASET_CHARS),
                    state=st,
                    state_label=STATES.get(st, (st, ""))[0],
                    url=reverse("datasets:detail", args=[slug, row["id"]]),
                    detail=_rows_text(row.get("rows"), row.get("version")),
                    buildable=not row.get("is_source", False),
                    new_recipe_url=reverse("flows:recipe_new", args=[slug, "prepare"])
                    + f"?input={row['id']}",
                    **box,
                )
            )
        elif nid in recipes:
            row = recipes[nid]
            st = _recipe_state(row, [dataset_state[o] for o in row.get("outputs", []) if o in dataset_state])
            kind = row["kind"]
            label = RecipeKind(kind).label if kind in RecipeKind.values else kind
            drawing.running = drawing.running or st == "running"
            drawing.nodes.append(
                DrawnNode(
                    id=nid,
                    kind="recipe",
                    pk=row["id"],
                    name=row["name"],
                    label=_short(row["name"], _RECIPE_CHARS),
                    state=st,
                    state_label=STATES.get(st, (st, ""))[0],
                    url=reverse("flows:recipe", args=[slug, row["id"]]),
                    detail=scored.get(row["id"]) or f"{label} recipe",
                    icon=KIND_ICONS.get(kind, "◆"),
                    recipe_kind=kind,
                    recipe_kind_label=label,
                    buildable=True,
                    **box,
                )
            )
    for edge in layout.get("edges", []):
        drawing.edges.append(DrawnEdge(edge["source"], edge["target"], _curve(edge.get("points", []))))
    return drawing
