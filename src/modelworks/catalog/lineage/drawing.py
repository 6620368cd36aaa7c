"""What the graph page draws: a ``LineageGraph`` laid out as boxes and curves, ready for the SVG template.

Two views:

* ``datasets``: datasets and jobs as boxes, data flowing left to right;
* ``columns``: datasets only, each listing its columns, with one curve per column edge. When a column
  is selected, its upstream and downstream columns and the edges between them are highlighted and
  the rest fades.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from modelworks.catalog.lineage.graph import ColumnTrace, LineageGraph, dataset_key, job_key, parse_key
from modelworks.catalog.lineage.layout import Box, layered_layout, smooth_path

__all__ = ["Drawing", "DrawnColumn", "DrawnEdge", "DrawnNode", "draw"]

DATASET_WIDTH, DATASET_HEIGHT = 210.0, 54.0
JOB_WIDTH, JOB_HEIGHT = 180.0, 42.0
# Drawn at most at natural size, and at least at this fraction of it (the canvas scrolls beyond).
MIN_SCALE = 0.75
COLUMN_WIDTH, HEADER_HEIGHT, ROW_HEIGHT = 240.0, 46.0, 22.0
MAX_COLUMNS_SHOWN = 60
CHAR_WIDTH = 7.0  # of the 12.5px font, on average: enough to cut labels before they overflow


def fit(text: str, width: float) -> str:
    """``text`` cut with an ellipsis to fit ``width`` pixels."""
    chars = max(4, int(width / CHAR_WIDTH))
    return text if len(text) <= chars else text[: chars - 1] + "…"


@dataclass
class DrawnColumn:
    name: str
    label: str
    type: str
    x: float
    y: float
    width: float
    url: str
    state: str = ""  # selected, upstream, downstream, faded or ""

    @property
    def text_y(self) -> float:
        return self.y + ROW_HEIGHT / 2 + 4

    @property
    def text_x(self) -> float:
        return self.x + 12

    @property
    def type_x(self) -> float:
        return self.x + self.width - 10

    @property
    def row_height(self) -> float:
        return ROW_HEIGHT


@dataclass
class DrawnNode:
    key: str
    kind: str
    x: float
    y: float
    width: float
    height: float
    label: str
    title: str
    subtitle: str
    url: str
    is_root: bool = False
    internal: bool = False
    columns: list[DrawnColumn] = field(default_factory=list)
    hidden_columns: int = 0

    @property
    def label_x(self) -> float:
        return self.x + 12

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def label_y(self) -> float:
        return self.y + 21

    @property
    def subtitle_y(self) -> float:
        return self.y + 37

    @property
    def header_bottom(self) -> float:
        return self.y + HEADER_HEIGHT - 2

    @property
    def more_y(self) -> float:
        return self.y + self.height - 6


@dataclass
class DrawnEdge:
    path: str
    state: str = ""  # highlighted, faded or ""
    title: str = ""


@dataclass
class Drawing:
    view: str
    width: float
    height: float
    nodes: list[DrawnNode]
    edges: list[DrawnEdge]

    @property
    def min_width(self) -> float:
        return self.width * MIN_SCALE


def _column_names(node: Any, used: set[str]) -> list[tuple[str, str]]:
    """``(name, type)`` of a dataset's columns: its schema, then columns only edges mention."""
    named = [(str(c.get("name", "")), str(c.get("type") or "")) for c in node.columns if isinstance(c, dict)]
    known = {n for n, _ in named}
    return named + [(n, "") for n in sorted(used - known)]


def draw(
    graph: LineageGraph,
    *,
    view: str = "datasets",
    trace: ColumnTrace | None = None,
    node_url: Callable[[str, Any], str],
    column_url: Callable[[int, str], str],
) -> Drawing:
    """Lay out ``graph`` for the template.

    Args:
        graph: what to draw.
        view: ``"datasets"`` or ``"columns"``.
        trace: the selected column's lineage (columns view), to highlight.
        node_url: the address a node links to, from its kind and object.
        column_url: the address that selects a column, from its dataset node id and name.
    """
    if view == "columns":
        return _draw_columns(graph, trace, node_url, column_url)
    boxes = [Box(dataset_key(pk), DATASET_WIDTH, DATASET_HEIGHT) for pk in sorted(graph.datasets)]
    boxes += [Box(job_key(pk), JOB_WIDTH, JOB_HEIGHT) for pk in sorted(graph.jobs)]
    layout = layered_layout(boxes, sorted(graph.edges))
    nodes = []
    for box in boxes:
        x, y = layout.positions[box.key]
        kind, pk = parse_key(str(box.key))  # type: ignore[misc]
        obj = graph.datasets[pk] if kind == "dataset" else graph.jobs[pk]
        inner = box.width - 24
        if kind == "dataset":
            subtitle = "Modelworks dataset" if obj.dataset_id else obj.namespace
        else:
            subtitle = obj.job_type or obj.get_kind_display()
        nodes.append(
            DrawnNode(
                key=str(box.key),
                kind=kind,
                x=x,
                y=y,
                width=box.width,
                height=box.height,
                label=fit(obj.label, inner),
                title=f"{obj.namespace} / {obj.name}",
                subtitle=fit(subtitle, inner),
                url=node_url(kind, obj),
                is_root=graph.root == box.key,
                internal=kind == "dataset" and obj.dataset_id is not None,
            )
        )
    edges = [DrawnEdge(route.path) for route in layout.routes]
    return Drawing("datasets", layout.width, layout.height, nodes, edges)


def _draw_columns(
    graph: LineageGraph,
    trace: ColumnTrace | None,
    node_url: Callable[[str, Any], str],
    column_url: Callable[[int, str], str],
) -> Drawing:
    column_edges = graph.column_edges()
    used: dict[int, set[str]] = {pk: set() for pk in graph.datasets}
    for e in column_edges:
        used[e.output_dataset_id].add(e.output_column)
        used[e.input_dataset_id].add(e.input_column)
    columns = {pk: _column_names(node, used[pk]) for pk, node in graph.datasets.items()}

    def rows(pk: int) -> int:
        shown = min(len(columns[pk]), MAX_COLUMNS_SHOWN)
        return shown + (1 if len(columns[pk]) > shown else 0)  # a last row says how many are not shown

    boxes = [
        Box(dataset_key(pk), COLUMN_WIDTH, HEADER_HEIGHT + ROW_HEIGHT * rows(pk) + 8)
        for pk in sorted(graph.datasets)
    ]
    # Datasets are linked when a job reads one and writes the other.
    reads: dict[str, set[str]] = {}
    writes: dict[str, set[str]] = {}
    for source, target in graph.edges:
        if source.startswith("dataset:"):
            reads.setdefault(target, set()).add(source)
        else:
            writes.setdefault(source, set()).add(target)
    links = sorted({(i, o) for job, ins in reads.items() for i in ins for o in writes.get(job, ())})
    links += [(dataset_key(e.input_dataset_id), dataset_key(e.output_dataset_id)) for e in column_edges]
    layout = layered_layout(boxes, links)

    chosen = trace.columns if trace else set()
    upstream = {(e.input_dataset_id, e.input_column) for e, _ in trace.upstream} if trace else set()
    downstream = {(e.output_dataset_id, e.output_column) for e, _ in trace.downstream} if trace else set()
    ports: dict[tuple[int, str], tuple[float, float, float]] = {}  # left x, right x, y
    nodes = []
    for box in boxes:
        x, y = layout.positions[box.key]
        pk = int(str(box.key).split(":")[1])
        obj = graph.datasets[pk]
        node = DrawnNode(
            key=str(box.key),
            kind="dataset",
            x=x,
            y=y,
            width=box.width,
            height=box.height,
            label=fit(obj.label, box.width - 24),
            title=f"{obj.namespace} / {obj.name}",
            subtitle=fit("Modelworks dataset" if obj.dataset_id else obj.namespace, box.width - 24),
            url=node_url("dataset", obj),
            is_root=graph.root == box.key,
            internal=obj.dataset_id is not None,
            hidden_columns=max(0, len(columns[pk]) - MAX_COLUMNS_SHOWN),
        )
        for i, (name, type_) in enumerate(columns[pk][:MAX_COLUMNS_SHOWN]):
            row_y = y + HEADER_HEIGHT + i * ROW_HEIGHT
            state = ""
            if trace is not None:
                if (pk, name) == (trace.dataset_id, trace.column):
                    state = "selected"
                elif (pk, name) in upstream:
                    state = "upstream"
                elif (pk, name) in downstream:
                    state = "downstream"
                else:
                    state = "faded"
            node.columns.append(
                DrawnColumn(
                    name=name,
                    label=fit(name, box.width - 90),
                    type=fit(type_, 70),
                    x=x,
                    y=row_y,
                    width=box.width,
                    url=column_url(pk, name),
                    state=state,
                )
            )
            ports[(pk, name)] = (x, x + box.width, row_y + ROW_HEIGHT / 2)
        nodes.append(node)

    edges = []
    for e in column_edges:
        start = ports.get((e.input_dataset_id, e.input_column))
        end = ports.get((e.output_dataset_id, e.output_column))
        if start is None or end is None:
            continue  # a column past the shown rows
        backward = start[1] > end[0]
        path = smooth_path([(start[1], start[2]), (end[0], end[2])], backward=backward)
        state = ""
        if trace is not None:
            state = "highlighted" if e.pk in trace.edge_ids else "faded"
        how = " ".join(p for p in (e.transformation_type, e.transformation_subtype) if p)
        title = f"{e.output_column} ← {e.input_column}" + (f" ({how.lower()})" if how else "")
        edges.append(DrawnEdge(path, state, title))
    if chosen:
        edges.sort(key=lambda edge: edge.state == "highlighted")  # drawn last, on top
    return Drawing("columns", layout.width, layout.height, nodes, edges)
