"""Where a recipe's outputs are stored: Modelworks storage, or a new table of a PostgreSQL connection
of the project per version (``RecipeOutput.storage_connection`` / ``storage_schema``)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from modelworks.connections.models import Connection, ConnectionKind
from modelworks.datasets.models import Dataset
from modelworks.flows.models.recipes import DEFAULT_STORAGE_SCHEMA, Recipe

if TYPE_CHECKING:
    from modelworks.core.models import Project

__all__ = [
    "OutputChoice",
    "OutputStorage",
    "apply_storage",
    "check_storage",
    "named_output_settings",
    "split_outputs",
    "storage_choices",
    "storage_of",
]

_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


@dataclass(frozen=True)
class OutputStorage:
    """Where the versions of one output are stored.

    Attributes:
        connection_id: a PostgreSQL connection usable in the project; None: Modelworks storage only.
        schema: the schema of that connection (empty: ``modelworks``).
    """

    connection_id: int | None = None
    schema: str = ""


@dataclass(frozen=True)
class OutputChoice:
    """A recipe output (an existing dataset or the name of a new one) with its storage given."""

    target: Dataset | str
    storage: OutputStorage


def split_outputs(outputs: Sequence[Any]) -> tuple[list[Any], list[OutputStorage | None]]:
    """The outputs as datasets or names, and the storage given with each (None: not given)."""
    targets: list[Any] = []
    storage: list[OutputStorage | None] = []
    for output in outputs:
        if isinstance(output, OutputChoice):
            targets.append(output.target)
            storage.append(output.storage)
        else:
            targets.append(output)
            storage.append(None)
    return targets, storage


def storage_choices(project: Project) -> list[Connection]:
    """The connections outputs of ``project`` may be stored in: PostgreSQL, usable in the project."""
    return list(Connection.objects.usable_in(project).filter(kind=ConnectionKind.POSTGRESQL).order_by("name"))


def check_storage(project: Project, storage: Sequence[OutputStorage | None], names: Sequence[str]) -> None:
    """Refuse a storage that is not a PostgreSQL connection of the project, or a bad schema name.

    Raises:
        ValidationError: keyed by ``outputs``, naming the output and what to choose instead.
    """
    for chosen, name in zip(storage, names, strict=False):
        if chosen is None or chosen.connection_id is None:
            continue
        connection = Connection.objects.usable_in(project).filter(pk=chosen.connection_id).first()
        if connection is None:
            raise ValidationError(
                {
                    "outputs": f"Output '{name}': no connection {chosen.connection_id} is available in this "
                    "project; choose one of its PostgreSQL connections or Modelworks storage."
                }
            )
        if connection.kind != ConnectionKind.POSTGRESQL:
            raise ValidationError(
                {
                    "outputs": f"Output '{name}': '{connection.name}' is not a PostgreSQL connection; "
                    "outputs can only be stored in PostgreSQL (or in Modelworks storage)."
                }
            )
        if chosen.schema and not _SCHEMA_NAME.fullmatch(chosen.schema):
            raise ValidationError(
                {
                    "outputs": f"Output '{name}': '{chosen.schema[:80]}' is not a schema name Modelworks "
                    "uses; give letters, digits and underscores (at most 63, not starting with a digit), "
                    f"or leave it empty for '{DEFAULT_STORAGE_SCHEMA}'."
                }
            )


def storage_of(recipe: Recipe) -> dict[int, tuple[int | None, str]]:
    """The outputs stored in a connection: dataset id → (connection id, schema); others are left out."""
    return {
        link.dataset_id: (link.storage_connection_id, link.storage_schema)
        for link in recipe.output_links.all()
        if link.storage_connection_id
    }


def apply_storage(
    recipe: Recipe, storage: Sequence[OutputStorage | None], previous: Mapping[int, tuple[int | None, str]]
) -> None:
    """Save the storage of each output (by position); an output given without one keeps ``previous``."""
    links = sorted(recipe.output_links.all(), key=lambda link: link.position)
    for link in links:
        chosen = storage[link.position] if link.position < len(storage) else None
        if chosen is None:
            connection_id, schema = previous.get(link.dataset_id, (None, ""))
        else:
            connection_id, schema = chosen.connection_id, chosen.schema
        schema = (schema or DEFAULT_STORAGE_SCHEMA) if connection_id else DEFAULT_STORAGE_SCHEMA
        if (link.storage_connection_id, link.storage_schema) != (connection_id, schema):
            link.storage_connection_id, link.storage_schema = connection_id, schema
            link.save(update_fields=["storage_connection", "storage_schema"])


def named_output_settings(recipe: Recipe, *, with_ids: bool = False) -> dict[str, dict[str, Any]]:
    """Output dataset name → its non-default settings, naming the connection (for bundles and
    revisions): ``{"storage": {"connection": name, "schema": s}}`` or ``{"virtual": True}``; outputs
    in Modelworks storage are left out.

    Args:
        recipe: the recipe.
        with_ids: add the connection's id too (``storage.connection_id``): a revision keeps it, so a
            revert finds the connection even after it was renamed; a bundle never holds ids.
    """
    found: dict[str, dict[str, Any]] = {}
    links = recipe.output_links.select_related("dataset", "storage_connection").order_by("position")
    for link in links:
        if link.virtual:
            found[link.dataset.name] = {"virtual": True}
        elif link.storage_connection is not None:
            storage: dict[str, Any] = {
                "connection": link.storage_connection.name,
                "schema": link.storage_schema or DEFAULT_STORAGE_SCHEMA,
            }
            if with_ids:
                storage["connection_id"] = link.storage_connection_id
            found[link.dataset.name] = {"storage": storage}
    return found
