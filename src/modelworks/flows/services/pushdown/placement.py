"""Where a build step reads and writes, decided in the build job's thread (database access; the
credentials of the output connections are decrypted here, into the source objects, never logged)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelworks.connections.models import ConnectionKind
from modelworks.datasets.models import Dataset, DatasetVersion
from modelworks.engine.flow.errors import ExecutionError
from modelworks.flows.models.recipes import DEFAULT_STORAGE_SCHEMA, Recipe, RecipeKind

if TYPE_CHECKING:
    from modelworks.connections.sources import PostgresSource

__all__ = ["Placement", "StoredTable", "Target", "plan_placement"]


@dataclass(frozen=True)
class Target:
    """A PostgreSQL connection a step writes to: its id, its name and its opened source.

    ``source`` holds the decrypted credentials; it is made in the build job and never logged.
    """

    connection_id: int
    name: str
    source: PostgresSource = field(repr=False, compare=False)


@dataclass(frozen=True)
class StoredTable:
    """A table this step created (or will create) for an output version."""

    target: Target
    schema: str
    table: str

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.table}"

    def location(self) -> dict[str, Any]:
        """The version's ``location``."""
        return {"connection_id": self.target.connection_id, "schema": self.schema, "table": self.table}


@dataclass
class Placement:
    """Where a step's inputs live and where its outputs go.

    Attributes:
        outputs: output name → the table to create for its new version (stored outputs only).
        runs_in: the connection the step runs inside (push-down), or None.
        inputs: input name → ``(schema, table)`` in ``runs_in`` (push-down only).
        reason: why the step does not run inside the database its outputs go to ("" when it does).
    """

    outputs: dict[str, StoredTable]
    runs_in: Target | None = None
    inputs: dict[str, tuple[str, str]] = field(default_factory=dict)
    reason: str = ""


def plan_placement(
    recipe: Recipe,
    *,
    input_versions: Mapping[str, str],
    input_columns: Mapping[str, Any],
    input_names: Sequence[str],
) -> Placement | None:
    """Decide where a step runs and where its outputs go (job thread; opens no connection).

    Args:
        recipe: the recipe (with its output links).
        input_versions: dataset key → id of the version the step reads (from ``prepare_step``).
        input_columns: input name → its columns (to compile the recipe and see if it is portable).
        input_names: the inputs in order.

    Returns:
        None when no output is stored in a database (the step runs as it always did).

    Raises:
        ExecutionError: an output's connection is no longer a PostgreSQL connection of the project,
            or its credentials cannot be read.
    """
    from modelworks.connections.services import open_source
    from modelworks.connections.sources import SourceError

    links = [
        link
        for link in recipe.output_links.select_related("storage_connection", "dataset").order_by("position")
        if link.storage_connection_id and not getattr(link, "virtual", False)
    ]
    if not links:
        return None
    targets: dict[int, Target] = {}
    outputs: dict[str, StoredTable] = {}
    for link in links:
        connection = link.storage_connection
        if connection.kind != ConnectionKind.POSTGRESQL or not connection.is_usable_in(recipe.project):
            raise ExecutionError(
                f"recipe {recipe.name!r} cannot store output {link.dataset.name!r} in connection "
                f"{connection.name!r}: it is not a PostgreSQL connection available to this project any more; "
                "choose another place for the output in the recipe",
                recipe=recipe.name,
            )
        if connection.pk not in targets:
            try:
                targets[connection.pk] = Target(connection.pk, connection.name, open_source(connection))
            except SourceError as exc:
                raise ExecutionError(
                    f"recipe {recipe.name!r} cannot store output {link.dataset.name!r} in connection "
                    f"{connection.name!r}: {exc}",
                    recipe=recipe.name,
                ) from None
        outputs[link.dataset.name] = StoredTable(
            targets[connection.pk], link.storage_schema or DEFAULT_STORAGE_SCHEMA, _table_name(link.dataset)
        )
    placement = Placement(outputs=outputs)
    placement.reason, runs_in, placement.inputs = _pushdown(
        recipe, outputs, targets, input_versions, input_columns, input_names
    )
    if runs_in is not None:
        placement.runs_in = targets[runs_in]
    return placement


def _table_name(dataset: Dataset) -> str:
    latest = dataset.versions.order_by("-number").values_list("number", flat=True).first() or 0
    return f"mw_{dataset.pk}_v{latest + 1}_{secrets.token_hex(3)}"


def _pushdown(
    recipe: Recipe,
    outputs: Mapping[str, StoredTable],
    targets: Mapping[int, Target],
    input_versions: Mapping[str, str],
    input_columns: Mapping[str, Any],
    input_names: Sequence[str],
) -> tuple[str, int | None, dict[str, tuple[str, str]]]:
    """(why not, the connection id it runs in, the input tables) for a step whose outputs are stored."""
    if recipe.kind == RecipeKind.PYTHON:
        return "Python recipes run in the sandbox", None, {}
    if recipe.kind == RecipeKind.SCORE:
        return "score recipes run a model, outside the database", None, {}
    all_outputs = [link.dataset.name for link in recipe.output_links.all()]
    if len(targets) != 1 or set(all_outputs) != set(outputs):
        return "its outputs are not all stored in the same connection", None, {}
    ((connection_id, target),) = targets.items()
    ids = [int(v) for v in input_versions.values() if str(v).isdigit()]
    versions = {
        v.dataset.name: v for v in DatasetVersion.objects.filter(pk__in=ids).select_related("dataset")
    }
    tables: dict[str, tuple[str, str]] = {}
    for name in input_names:
        version = versions.get(name)
        location = version.location if version is not None else None
        if not location:
            return f"input {name!r} is not kept in a database", None, {}
        if location.get("connection_id") != connection_id:
            return f"input {name!r} lives in another connection than {target.name!r}", None, {}
        tables[name] = (str(location["schema"]), str(location["table"]))
    compiled = _compile(recipe, input_columns, input_names, all_outputs)
    if compiled is None:
        return "the recipe does not compile against its inputs", None, {}
    if not compiled.pushdown:
        return "; ".join(compiled.notes) or "it uses something PostgreSQL does not have", None, {}
    return "", connection_id, tables


def _compile(recipe: Recipe, columns: Mapping[str, Any], names: Sequence[str], outputs: Sequence[str]) -> Any:
    from modelworks.engine.errors import EngineError
    from modelworks.engine.flow import relations_for
    from modelworks.engine.recipes import compile_recipe, normalize_spec

    if any(name not in columns for name in names):
        return None
    try:
        spec = normalize_spec(recipe.kind, dict(recipe.spec), recipe=recipe.name)
        relations = relations_for({name: columns[name] for name in names})
        return compile_recipe(recipe.kind, spec, relations, list(outputs), recipe=recipe.name)
    except EngineError:
        return None  # the step itself reports it, in DuckDB, with the column and the setting
