"""The bundle format: its layout, file names, and the shape of each YAML document.

A bundle is a folder (or a .zip of one) that reads well in Git::

    modelworks-project.yaml     format, version, project name and description
    datasets/<slug>.yaml        one dataset: description, tags, owner, columns, source, quality rules
    recipes/<slug>.yaml         one recipe: kind, inputs, outputs, settings, description
    scenarios/<slug>.yaml       one scenario: triggers and steps
    data/<slug>.parquet         the current data of a source dataset (only when exported with data)

File names are slugs generated from the names (numbered on collision); the documents refer to each
other by *name*, never by file name or database id. ``check_*`` functions check one parsed document
and raise :class:`BundleError` naming the file and the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.text import slugify

__all__ = [
    "DATA_DIR",
    "FOLDERS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MANIFEST",
    "BundleError",
    "check_dataset",
    "check_manifest",
    "check_recipe",
    "check_scenario",
    "member_kind",
    "unique_slugs",
]

FORMAT_NAME = "modelworks-project"
FORMAT_VERSION = 1
MANIFEST = "modelworks-project.yaml"
FOLDERS = ("datasets", "recipes", "scenarios")
DATA_DIR = "data"

_SLUG = r"[a-z0-9][a-z0-9_-]{0,79}"
_MEMBER = re.compile(
    rf"^(?:(?P<folder>datasets|recipes|scenarios)/(?P<slug>{_SLUG})\.yaml|data/(?P<data>{_SLUG})\.parquet)$"
)


class BundleError(Exception):
    """A bundle cannot be exported or imported; the message names the file and what to fix."""

    def __init__(self, message: str, *, file: str = "") -> None:
        super().__init__(f"{file}: {message}" if file else message)
        self.file = file
        self.message = message


def member_kind(relative: str) -> tuple[str, str] | None:
    """``("manifest", "")``, ``(folder, slug)`` or ``("data", slug)`` for a file of the layout; None
    for any other (safe) file, which an import ignores (a README, a .gitignore…)."""
    if relative == MANIFEST:
        return ("manifest", "")
    match = _MEMBER.match(relative)
    if match is None:
        return None
    if match.group("data"):
        return ("data", match.group("data"))
    return (match.group("folder"), match.group("slug"))


def unique_slugs(names: Iterable[str], fallback: str) -> dict[str, str]:
    """A file slug per name: ``slugify`` (ASCII, lower case), ``fallback`` when nothing is left,
    ``-2``, ``-3``… on collision, in the order of ``sorted(names)`` so the result is stable."""
    taken: set[str] = set()
    slugs: dict[str, str] = {}
    for name in sorted(names):
        base = slugify(name)[:60].strip("-_") or fallback
        slug, number = base, 2
        while slug in taken:
            slug, number = f"{base}-{number}", number + 1
        taken.add(slug)
        slugs[name] = slug
    return slugs


# ------------------------------------------------------------------------------------ document checks


def _expect_mapping(doc: Any, file: str, allowed: set[str], required: set[str]) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise BundleError("expected a YAML mapping (key: value lines) at the top", file=file)
    unknown = sorted(str(k) for k in set(doc) - allowed)
    if unknown:
        raise BundleError(
            f"unknown key '{unknown[0]}'; allowed keys are {', '.join(sorted(allowed))}", file=file
        )
    missing = sorted(required - set(doc))
    if missing:
        raise BundleError(f"the key '{missing[0]}' is missing", file=file)
    return doc


def _text(
    doc: Mapping[str, Any], key: str, file: str, *, required: bool = False, limit: int = 100_000
) -> str:
    value = doc.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise BundleError(f"'{key}' must be {'a non-empty' if required else 'a'} text", file=file)
    if len(value) > limit:
        raise BundleError(f"'{key}' is longer than {limit:,} characters", file=file)
    return value


def _names(doc: Mapping[str, Any], key: str, file: str) -> list[str]:
    value = doc.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise BundleError(f"'{key}' must be a list of dataset names", file=file)
    return [v.strip() for v in value]


def _mapping(doc: Mapping[str, Any], key: str, file: str) -> dict[str, Any]:
    value = doc.get(key) or {}
    if not isinstance(value, dict):
        raise BundleError(f"'{key}' must be a mapping", file=file)
    return value


def _list_of_mappings(doc: Mapping[str, Any], key: str, file: str) -> list[dict[str, Any]]:
    value = doc.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise BundleError(f"'{key}' must be a list of mappings", file=file)
    return value


def check_manifest(doc: Any, file: str = MANIFEST) -> dict[str, Any]:
    """The manifest: ``format``, ``version`` (must be ``FORMAT_VERSION``), ``project``, ``with_data``."""
    _expect_mapping(
        doc, file, {"format", "version", "project", "with_data"}, {"format", "version", "project"}
    )
    if doc["format"] != FORMAT_NAME:
        raise BundleError(
            f"this is not a Modelworks project bundle (format is {str(doc['format'])[:60]!r})", file=file
        )
    version = doc["version"]
    if version != FORMAT_VERSION:
        raise BundleError(
            f"unknown format version {str(version)[:20]!r}; this Modelworks reads version {FORMAT_VERSION}. "
            "Export the project again with this version, or upgrade Modelworks",
            file=file,
        )
    project = _expect_mapping(doc["project"], file, {"name", "description"}, {"name"})
    _text(project, "name", file, required=True, limit=200)
    _text(project, "description", file)
    if not isinstance(doc.get("with_data", False), bool):
        raise BundleError("'with_data' must be true or false", file=file)
    return doc


def check_dataset(doc: Any, file: str) -> dict[str, Any]:
    """A dataset document (see ``export.dataset_document`` for the keys)."""
    _expect_mapping(
        doc,
        file,
        {
            "name",
            "description",
            "tags",
            "owner",
            "columns",
            "column_descriptions",
            "source",
            "quality_rules",
            "data",
        },
        {"name"},
    )
    _text(doc, "name", file, required=True, limit=200)
    _text(doc, "description", file)
    _text(doc, "owner", file, limit=150)
    if not isinstance(doc.get("tags") or [], list):
        raise BundleError("'tags' must be a list of short labels", file=file)
    for column in _list_of_mappings(doc, "columns", file):
        if not isinstance(column.get("name"), str) or not isinstance(column.get("type", "other"), str):
            raise BundleError("each column needs a 'name' and a 'type' (text)", file=file)
    descriptions = _mapping(doc, "column_descriptions", file)
    if not all(isinstance(v, str) for v in descriptions.values()):
        raise BundleError("'column_descriptions' maps column names to texts", file=file)
    source = _expect_mapping(doc.get("source") or {}, file, {"kind", "connection", "details"}, set())
    _text(source, "kind", file, limit=40)
    _text(source, "connection", file, limit=200)
    _mapping(source, "details", file)
    for rule in _list_of_mappings(doc, "quality_rules", file):
        _expect_mapping(rule, file, {"name", "kind", "params", "blocking", "enabled"}, {"kind"})
        _mapping(rule, "params", file)
        if not all(isinstance(rule.get(k, True), bool) for k in ("blocking", "enabled")):
            raise BundleError("a rule's 'blocking' and 'enabled' are true or false", file=file)
    _text(doc, "data", file, limit=200)
    return doc


def check_recipe(doc: Any, file: str) -> dict[str, Any]:
    """A recipe document: ``name``, ``kind``, ``inputs``, ``outputs``, ``spec``, ``description``,
    and ``output_settings``: per output name, ``virtual: true`` (not stored) or ``storage:
    {connection: <name>, schema: <name>}`` (a PostgreSQL connection, by name)."""
    _expect_mapping(
        doc,
        file,
        {"name", "kind", "description", "inputs", "outputs", "spec", "output_settings"},
        {"name", "kind"},
    )
    _text(doc, "name", file, required=True, limit=200)
    _text(doc, "kind", file, required=True, limit=16)
    _text(doc, "description", file)
    _names(doc, "inputs", file)
    outputs = _names(doc, "outputs", file)
    _mapping(doc, "spec", file)
    for output, chosen in _mapping(doc, "output_settings", file).items():
        where = f"output_settings of '{str(output)[:80]}'"
        if output not in outputs:
            raise BundleError(f"{where}: '{str(output)[:80]}' is not one of the recipe's outputs", file=file)
        if not isinstance(chosen, dict):
            raise BundleError(f"{where} must be a mapping (virtual: true, or storage: …)", file=file)
        unknown = sorted(str(k) for k in set(chosen) - {"virtual", "storage"})
        if unknown:
            raise BundleError(
                f"{where}: unknown key '{unknown[0]}'; allowed keys are storage, virtual", file=file
            )
        if not isinstance(chosen.get("virtual", False), bool):
            raise BundleError(f"{where}: 'virtual' must be true or false", file=file)
        if "storage" in chosen:
            storage = _expect_mapping(chosen["storage"], file, {"connection", "schema"}, {"connection"})
            _text(storage, "connection", file, required=True, limit=200)
            _text(storage, "schema", file, limit=63)
            if chosen.get("virtual"):
                raise BundleError(
                    f"{where}: an output cannot be both not stored (virtual) and stored in a connection",
                    file=file,
                )
    return doc


def check_scenario(doc: Any, file: str) -> dict[str, Any]:
    """A scenario document: ``name``, ``description``, ``enabled``, ``triggers``, ``steps``."""
    _expect_mapping(doc, file, {"name", "description", "enabled", "triggers", "steps"}, {"name"})
    _text(doc, "name", file, required=True, limit=200)
    _text(doc, "description", file)
    for trigger in _list_of_mappings(doc, "triggers", file):
        _expect_mapping(
            trigger, file, {"kind", "cron", "dataset", "scenario", "outcome", "enabled"}, {"kind"}
        )
    for step in _list_of_mappings(doc, "steps", file):
        _expect_mapping(
            step,
            file,
            {"name", "kind", "params", "run_condition", "enabled", "destination_removed"},
            {"kind"},
        )
        _mapping(step, "params", file)
    return doc
