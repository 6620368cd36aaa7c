"""The Flow as a graph: datasets, and recipes that read some datasets and write others.

A :class:`FlowGraph` is built once from the recipes of a project (:meth:`FlowGraph.from_recipes`) and
checked on the way: every dataset has at most one producing recipe, every input exists or is
produced, and no recipe depends on itself through other recipes. Datasets are plain string keys
(the caller chooses: ids or names); ``labels`` gives the words messages use for them.

Every listing is deterministic: recipes come in topological order, ties broken by name then id.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelworks.engine.errors import did_you_mean
from modelworks.engine.flow.errors import (
    CycleError,
    DuplicateProducerError,
    DuplicateRecipeError,
    InvalidRecipeNodeError,
    MissingInputError,
    UnknownDatasetError,
)

if TYPE_CHECKING:
    from modelworks.engine.flow.layout import FlowLayout

__all__ = ["FlowGraph", "RecipeNode"]


@dataclass(frozen=True)
class RecipeNode:
    """A recipe as the graph sees it.

    Attributes:
        id: a stable id (the database id as text).
        name: what the user calls it (used in messages).
        inputs: the dataset keys it reads, in order.
        outputs: the dataset keys it writes, in order (at least one).
    """

    id: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


class FlowGraph:
    """A checked, immutable flow. Build it with :meth:`from_recipes`."""

    def __init__(
        self,
        recipes: Mapping[str, RecipeNode],
        datasets: Iterable[str],
        producers: Mapping[str, str],
        order: tuple[str, ...],
        labels: Mapping[str, str],
    ) -> None:
        self._recipes = dict(recipes)
        self._datasets = tuple(sorted(set(datasets)))
        self._producers = dict(producers)
        self._order = order
        self._rank = {rid: i for i, rid in enumerate(order)}
        self._labels = dict(labels)
        consumers: dict[str, list[str]] = {d: [] for d in self._datasets}
        for rid in order:
            for dataset in dict.fromkeys(self._recipes[rid].inputs):
                consumers[dataset].append(rid)
        self._consumers = {d: tuple(rs) for d, rs in consumers.items()}

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_recipes(
        cls,
        nodes: Iterable[RecipeNode],
        datasets: Iterable[str] | None = None,
        *,
        labels: Mapping[str, str] | None = None,
    ) -> FlowGraph:
        """Build and check a flow.

        Args:
            nodes: the recipes.
            datasets: every dataset that exists (with or without a recipe). When given, an input
                that is in neither this list nor any recipe's outputs is a :class:`MissingInputError`;
                when ``None``, such inputs are taken as existing source datasets.
            labels: dataset key → the name to show in messages (default: the key itself).

        Raises:
            InvalidRecipeNodeError: a recipe has an empty id or no output.
            DuplicateRecipeError: two recipes share an id.
            DuplicateProducerError: two recipes write the same dataset.
            MissingInputError: a recipe reads a dataset that does not exist.
            CycleError: recipes depend on each other in a loop (the message shows the loop).
        """
        names = dict(labels or {})
        recipes: dict[str, RecipeNode] = {}
        producers: dict[str, str] = {}
        for node in nodes:
            if not node.id:
                raise InvalidRecipeNodeError(
                    f"recipe {node.name!r} has no id", recipe=node.id, recipe_name=node.name
                )
            if node.id in recipes:
                raise DuplicateRecipeError(
                    f"two recipes share the id {node.id!r} ({recipes[node.id].name!r} and {node.name!r})",
                    recipe=node.id,
                )
            if not node.outputs:
                raise InvalidRecipeNodeError(
                    f"recipe {node.name!r} has no output; give it at least one output dataset",
                    recipe=node.id,
                )
            recipes[node.id] = node
            for dataset in node.outputs:
                other = producers.get(dataset)
                if other is not None and other != node.id:
                    first, second = sorted((recipes[other].name, node.name))
                    raise DuplicateProducerError(
                        f"dataset {names.get(dataset, dataset)!r} is written by two recipes, {first!r} "
                        f"and {second!r}; a dataset can have only one producing recipe, so make one of "
                        "them write to a new dataset",
                        dataset=dataset,
                        recipes=sorted((other, node.id)),
                    )
                producers[dataset] = node.id
        known = set(producers) if datasets is None else set(datasets) | set(producers)
        for node in sorted(recipes.values(), key=_node_key):
            for dataset in node.inputs:
                if dataset in known:
                    continue
                if datasets is None:
                    known.add(dataset)
                    continue
                shown = names.get(dataset, dataset)
                raise MissingInputError(
                    f"recipe {node.name!r} reads dataset {shown!r}, which does not exist and no recipe "
                    f"produces it; import or create {shown!r}, or pick another input"
                    f"{did_you_mean(shown, [names.get(k, k) for k in sorted(known)])}",
                    recipe=node.id,
                    dataset=dataset,
                )
        order = _topological_order(recipes, producers, names)
        return cls(recipes, known, producers, order, names)

    # -- lookups --------------------------------------------------------------------------------

    @property
    def recipes(self) -> Mapping[str, RecipeNode]:
        """Recipes by id, in topological order."""
        return {rid: self._recipes[rid] for rid in self._order}

    @property
    def datasets(self) -> tuple[str, ...]:
        """Every dataset key of the flow, sorted."""
        return self._datasets

    @property
    def producers(self) -> Mapping[str, str]:
        """Dataset key → the id of the recipe that writes it (source datasets are absent)."""
        return dict(self._producers)

    def recipe(self, recipe_id: str) -> RecipeNode:
        """The recipe with this id (``KeyError`` if there is none)."""
        return self._recipes[recipe_id]

    def label(self, dataset: str) -> str:
        """The name of a dataset for messages."""
        return self._labels.get(dataset, dataset)

    def producer(self, dataset: str) -> str | None:
        """The id of the recipe that writes ``dataset``, or ``None`` for a source dataset."""
        self._check_dataset(dataset)
        return self._producers.get(dataset)

    def consumers(self, dataset: str) -> tuple[str, ...]:
        """The ids of the recipes that read ``dataset``, in topological order."""
        self._check_dataset(dataset)
        return self._consumers[dataset]

    def sources(self) -> tuple[str, ...]:
        """The datasets no recipe produces (imported or connected data), sorted."""
        return tuple(d for d in self._datasets if d not in self._producers)

    def dependencies(self, recipe_id: str) -> tuple[str, ...]:
        """The recipes whose outputs ``recipe_id`` reads directly, in topological order."""
        found = {self._producers[d] for d in self._recipes[recipe_id].inputs if d in self._producers}
        return tuple(sorted(found, key=self._rank.__getitem__))

    def topological_order(self) -> tuple[str, ...]:
        """Recipe ids such that every recipe comes after the recipes it reads from."""
        return self._order

    def upstream(self, targets: Iterable[str]) -> tuple[str, ...]:
        """The recipes needed to build the ``targets`` datasets (their producers, recursively).

        Raises:
            UnknownDatasetError: a target is not in the flow.
        """
        found: set[str] = set()
        stack = [self._producers[d] for d in self._checked(targets) if d in self._producers]
        while stack:
            rid = stack.pop()
            if rid in found:
                continue
            found.add(rid)
            stack.extend(self._producers[d] for d in self._recipes[rid].inputs if d in self._producers)
        return tuple(sorted(found, key=self._rank.__getitem__))

    def downstream(self, sources: Iterable[str]) -> tuple[str, ...]:
        """The recipes affected when the ``sources`` datasets change (their consumers, recursively).

        Raises:
            UnknownDatasetError: a dataset is not in the flow.
        """
        found: set[str] = set()
        stack = [rid for d in self._checked(sources) for rid in self._consumers[d]]
        while stack:
            rid = stack.pop()
            if rid in found:
                continue
            found.add(rid)
            stack.extend(c for d in self._recipes[rid].outputs for c in self._consumers[d])
        return tuple(sorted(found, key=self._rank.__getitem__))

    def layout(self, **sizes: float) -> FlowLayout:
        """A layered drawing of the flow (see :func:`modelworks.engine.flow.layout.layout_flow`)."""
        from modelworks.engine.flow.layout import layout_flow

        return layout_flow(self, **sizes)

    def _checked(self, datasets: Iterable[str]) -> list[str]:
        keys = list(datasets)
        for dataset in keys:
            self._check_dataset(dataset)
        return keys

    def _check_dataset(self, dataset: str) -> None:
        if dataset not in self._consumers:
            shown = self.label(dataset)
            raise UnknownDatasetError(
                f"dataset {shown!r} is not part of this flow"
                f"{did_you_mean(shown, [self.label(d) for d in self._datasets])}",
                dataset=dataset,
            )


def _node_key(node: RecipeNode) -> tuple[str, str]:
    return (node.name, node.id)


def _topological_order(
    recipes: Mapping[str, RecipeNode], producers: Mapping[str, str], labels: Mapping[str, str]
) -> tuple[str, ...]:
    """Kahn's algorithm with a heap on (name, id), so the order does not depend on input order."""
    preds: dict[str, set[str]] = {rid: set() for rid in recipes}
    succs: dict[str, set[str]] = {rid: set() for rid in recipes}
    for rid, node in recipes.items():
        for dataset in node.inputs:
            producer = producers.get(dataset)
            if producer is not None:
                preds[rid].add(producer)
                succs[producer].add(rid)
    waiting = {rid: len(p) for rid, p in preds.items()}
    heap = [(_node_key(recipes[rid]), rid) for rid, count in waiting.items() if count == 0]
    heapq.heapify(heap)
    order: list[str] = []
    while heap:
        _, rid = heapq.heappop(heap)
        order.append(rid)
        for succ in succs[rid]:
            waiting[succ] -= 1
            if waiting[succ] == 0:
                heapq.heappush(heap, (_node_key(recipes[succ]), succ))
    if len(order) < len(recipes):
        left = {rid for rid, count in waiting.items() if count > 0}
        raise _cycle_error(left, preds, recipes, labels)
    return tuple(order)


def _cycle_error(
    left: set[str],
    preds: Mapping[str, set[str]],
    recipes: Mapping[str, RecipeNode],
    labels: Mapping[str, str],
) -> CycleError:
    """Name one loop among the recipes Kahn's algorithm could not order.

    Each of them has a predecessor among them, so walking predecessors from any of them must come
    back to a recipe already seen; the walk between the two visits, reversed, is a loop.
    """

    def key(rid: str) -> tuple[str, str]:
        return _node_key(recipes[rid])

    walk = [min(left, key=key)]
    seen = {walk[0]: 0}
    while True:
        pred = min((p for p in preds[walk[-1]] if p in left), key=key)
        if pred in seen:
            loop = walk[seen[pred] :][::-1]
            break
        seen[pred] = len(walk)
        walk.append(pred)
    start = loop.index(min(loop, key=key))
    loop = loop[start:] + loop[:start]
    parts: list[str] = []
    for i, rid in enumerate(loop):
        nxt = recipes[loop[(i + 1) % len(loop)]]
        dataset = min(d for d in recipes[rid].outputs if d in nxt.inputs)
        parts += [f"recipe {recipes[rid].name!r}", f"dataset {labels.get(dataset, dataset)!r}"]
    parts.append(f"recipe {recipes[loop[0]].name!r}")
    return CycleError(
        "recipes feed each other in a loop: "
        + " → ".join(parts)
        + "; change the inputs or outputs of one of them to break the loop",
        cycle=loop,
    )
