"""Exporting a project to a bundle folder, and a byte-stable .zip of it.

What is written (and what never is): names, descriptions, tags, the owner's *username*, column
descriptions, the current schema, the source kind with its non-secret details (file name, table,
query, S3 path, import options) and the connection *by name*, quality rules, recipes (with where
each output is stored: ``virtual``, or a PostgreSQL connection *by name* and a schema), scenarios.
Never: credentials, connection settings, tokens, e-mail addresses (scenario e-mail recipients and
webhook addresses are left out: they often carry secrets), audit entries, ids.

With data, the current version of each *source* dataset (one no recipe writes) is copied as
``data/<slug>.parquet``; recipe outputs are not, since a build recreates them.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelworks.core.models import Project
from modelworks.datasets.models import Dataset
from modelworks.flows.bundles.format import (
    DATA_DIR,
    FOLDERS,
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST,
    BundleError,
    member_kind,
    unique_slugs,
)
from modelworks.flows.bundles.yamltext import dump_yaml
from modelworks.flows.models import Recipe, RecipeOutput

__all__ = ["ExportReport", "export_project", "export_zip", "project_files"]

#: Source details that are safe to write (everything else, e.g. kept-upload object ids, is left out).
SOURCE_DETAILS = ("file_name", "options", "path", "query", "table")
#: A fixed time for zip entries, so the same bundle always zips to the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass
class ExportReport:
    """What an export wrote: relative file names and counts."""

    files: list[str] = field(default_factory=list)
    datasets: int = 0
    recipes: int = 0
    scenarios: int = 0
    data_files: int = 0


def _dataset_document(dataset: Dataset, data_file: str | None) -> dict[str, Any]:
    version = dataset.current_version
    source: dict[str, Any] = {"kind": dataset.source_kind}
    if dataset.source_connection_id is not None:
        source["connection"] = dataset.source_connection.name
    details = {k: dataset.source_details[k] for k in SOURCE_DETAILS if k in (dataset.source_details or {})}
    if details:
        source["details"] = details
    rules = [
        {
            "name": rule.name,
            "kind": rule.kind,
            "params": rule.params,
            "blocking": rule.blocking,
            "enabled": rule.enabled,
        }
        for rule in dataset.rules.order_by("created_at", "id")
    ]
    doc: dict[str, Any] = {
        "name": dataset.name,
        "description": dataset.description,
        "tags": list(dataset.tags or []),
        "owner": dataset.owner.username if dataset.owner_id else "",
        "source": source,
        "columns": [dict(c) for c in version.schema] if version is not None else [],
        "column_descriptions": dict(dataset.column_descriptions or {}),
        "quality_rules": rules,
    }
    if data_file:
        doc["data"] = data_file
    return doc


def _recipe_document(recipe: Recipe) -> dict[str, Any]:
    from modelworks.flows.services.pushdown import named_output_settings

    settings = named_output_settings(recipe)  # connections by name, never by id
    doc: dict[str, Any] = {
        "name": recipe.name,
        "kind": recipe.kind,
        "description": recipe.description,
        "inputs": [d.name for d in recipe.input_datasets],
        "outputs": [d.name for d in recipe.output_datasets],
        "spec": recipe.spec,
    }
    if settings:
        doc["output_settings"] = settings
    return doc


def _scenario_document(scenario: Any, names: dict[int, str]) -> dict[str, Any]:
    triggers = []
    for trigger in scenario.triggers.select_related("dataset", "upstream").order_by("created_at", "id"):
        item: dict[str, Any] = {"kind": trigger.kind, "enabled": trigger.enabled}
        if trigger.kind == "cron":
            item["cron"] = trigger.cron
        elif trigger.kind == "dataset_changed":
            item["dataset"] = trigger.dataset.name if trigger.dataset else ""
        else:
            item["scenario"] = trigger.upstream.name if trigger.upstream else ""
            item["outcome"] = trigger.outcome
        triggers.append(item)
    steps = []
    for step in scenario.steps.order_by("position", "id"):
        params = dict(step.params or {})
        item = {
            "name": step.name,
            "kind": step.kind,
            "run_condition": step.run_condition,
            "enabled": step.enabled,
        }
        if "datasets" in params:
            params["datasets"] = [names.get(pk, f"deleted dataset {pk}") for pk in params["datasets"]]
        if step.kind == "notify":
            # Webhook addresses often embed a token, and recipients are people's e-mail addresses.
            params = {k: v for k, v in params.items() if k in ("channel", "message", "subject")}
            item["destination_removed"] = True
        item["params"] = params
        steps.append(item)
    return {
        "name": scenario.name,
        "description": scenario.description,
        "enabled": scenario.enabled,
        "triggers": triggers,
        "steps": steps,
    }


def project_files(project: Project, *, with_data: bool = False) -> dict[str, Any]:
    """Every file of the project's bundle: relative name → YAML text, or → ``Path`` of a data file
    to copy. The same project state always gives the same texts."""
    from modelworks.datasets.services import version_path
    from modelworks.scenarios.models import Scenario

    files: dict[str, Any] = {
        MANIFEST: dump_yaml(
            {
                "format": FORMAT_NAME,
                "version": FORMAT_VERSION,
                "project": {"name": project.name, "description": project.description},
                "with_data": with_data,
            }
        )
    }
    datasets = list(
        Dataset.objects.filter(project=project).select_related("owner", "source_connection", "pinned_version")
    )
    written = set(RecipeOutput.objects.filter(recipe__project=project).values_list("dataset_id", flat=True))
    slugs = unique_slugs([d.name for d in datasets], "dataset")
    for dataset in datasets:
        slug = slugs[dataset.name]
        version = dataset.current_version
        data_file = None
        if with_data and version is not None and dataset.pk not in written:
            data_file = f"{DATA_DIR}/{slug}.parquet"
            files[data_file] = version_path(version)
        files[f"datasets/{slug}.yaml"] = dump_yaml(_dataset_document(dataset, data_file))
    recipes = list(Recipe.objects.filter(project=project).with_links())
    recipe_slugs = unique_slugs([r.name for r in recipes], "recipe")
    for recipe in recipes:
        files[f"recipes/{recipe_slugs[recipe.name]}.yaml"] = dump_yaml(_recipe_document(recipe))
    names = {d.pk: d.name for d in datasets}
    scenarios = list(Scenario.objects.filter(project=project))
    scenario_slugs = unique_slugs([s.name for s in scenarios], "scenario")
    for scenario in scenarios:
        files[f"scenarios/{scenario_slugs[scenario.name]}.yaml"] = dump_yaml(
            _scenario_document(scenario, names)
        )
    return dict(sorted(files.items()))


def _clear_previous(folder: Path) -> None:
    """Remove the files a previous export wrote (the layout's files only: a Git checkout's other
    files, such as .git or a README, stay)."""
    for path in [folder / MANIFEST, *(p for sub in (*FOLDERS, DATA_DIR) for p in (folder / sub).glob("*"))]:
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and not path.is_symlink() and member_kind(relative) is not None:
            path.unlink()


def export_project(project: Project, folder: Path, *, with_data: bool = False) -> ExportReport:
    """Write the project's bundle into ``folder``.

    ``folder`` must not exist, be empty, or hold an earlier bundle (whose files are replaced, so a
    re-export into a Git checkout shows only what changed).

    Raises:
        BundleError: ``folder`` holds other files but no bundle, or is a file.
    """
    folder = Path(folder)
    if folder.exists():
        if not folder.is_dir():
            raise BundleError(f"{folder} is a file; give a folder to export into")
        if any(folder.iterdir()) and not (folder / MANIFEST).is_file():
            raise BundleError(
                f"{folder} is not empty and holds no {MANIFEST}; export into an empty folder or an earlier export"
            )
        _clear_previous(folder)
    report = ExportReport()
    for relative, content in project_files(project, with_data=with_data).items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, target)
            report.data_files += 1
        else:
            target.write_bytes(content.encode("utf-8"))
        report.files.append(relative)
        kind = relative.split("/", 1)[0]
        if kind in FOLDERS:
            setattr(report, kind, getattr(report, kind) + 1)
    return report


def export_zip(project: Project, destination: io.BufferedIOBase | Path, *, with_data: bool = False) -> None:
    """Write the bundle as a .zip (same member order, times and modes each time: same bytes)."""
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for relative, content in project_files(project, with_data=with_data).items():
            info = zipfile.ZipInfo(relative, date_time=_ZIP_TIME)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            if isinstance(content, Path):
                with content.open("rb") as source, archive.open(info, "w", force_zip64=True) as member:
                    shutil.copyfileobj(source, member, 1 << 20)
            else:
                archive.writestr(info, content.encode("utf-8"))
