"""Importing a bundle into a new project (or an existing empty one): everything checked first, then
created in one transaction (all or nothing).

Order: read the bundle safely (``reader``); check names, references and the flow (``checks``);
compile every recipe against the declared columns; import the data files (if any) into the store
through the datasets import path and compile again against their real columns; then, in one
transaction, create the project, datasets (with their version, owner, tags, column descriptions,
quality rules), recipes and scenarios through the services. If anything fails, the transaction is
rolled back and the stored data files are removed again.

Recipes go through ``create_recipe`` (``validate_recipe``) whenever the service can see their
inputs' columns. Without data it cannot: its check needs stored columns, and an imported dataset
without data has none until the data is imported. Such recipes were compiled by the engine against
the declared columns above, and are then written directly (same links, revision and audit entry);
the flow shows them as "columns unknown" until their inputs have data.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from modelworks.core import audit
from modelworks.core.models import Project, User
from modelworks.datasets.models import Dataset
from modelworks.flows.bundles.checks import ImportPlan, check_recipes, plan_import, resolve_storage
from modelworks.flows.bundles.creation import ImportReport, create_all
from modelworks.flows.bundles.format import FORMAT_VERSION, BundleError
from modelworks.flows.bundles.reader import Bundle, open_bundle
from modelworks.flows.models import Recipe

__all__ = ["ImportReport", "import_bundle"]


def _check_target(project: Project | None, slug: str | None, name: str | None) -> None:
    from modelworks.core.models.projects import slug_validator
    from modelworks.scenarios.models import Scenario

    if project is not None:
        busy = [
            what
            for what, model in (("datasets", Dataset), ("recipes", Recipe), ("scenarios", Scenario))
            if model.objects.filter(project=project).exists()
        ]
        if busy:
            raise BundleError(
                f"project '{project.slug}' already has {busy[0]}; import into a new or empty project"
            )
        return
    try:
        slug_validator(slug or "")
    except ValidationError as exc:
        raise BundleError(f"'{slug}' cannot be a project short name: {' '.join(exc.messages)}") from exc
    if Project.objects.filter(slug=slug).exists():
        raise BundleError(f"a project with the short name '{slug}' already exists; choose another --slug")
    if name is not None and not name.strip():
        raise BundleError("give the new project a name")


def _import_data(bundle: Bundle, plan: ImportPlan) -> dict[str, Any]:
    """Import each data file into the store (nothing in the database yet). Returns name → VersionInfo."""
    from modelworks.datasets.storage import data_store
    from modelworks.engine.errors import EngineError
    from modelworks.engine.io import ImportOptions, import_file

    infos: dict[str, Any] = {}
    store = data_store()
    try:
        for name, (_, doc) in plan.datasets.items():
            relative = doc.get("data")
            if not relative:
                continue
            path = bundle.data[relative]
            try:
                infos[name] = import_file(
                    path,
                    store=store,
                    format="parquet",
                    options=ImportOptions(original_name=os.path.basename(relative)),
                )
            except EngineError as exc:
                raise BundleError(f"cannot be imported: {exc}", file=relative) from exc
    except BaseException:
        _discard(infos)
        raise
    return infos


def _discard(infos: dict[str, Any]) -> None:
    from modelworks.datasets.storage import data_store

    store = data_store()
    for info in infos.values():
        store.delete(info.object_id)


def import_bundle(
    source: str | os.PathLike[str],
    *,
    actor: User,
    slug: str | None = None,
    name: str | None = None,
    project: Project | None = None,
    request: HttpRequest | None = None,
    max_bytes: int | None = None,
    drop_storage: bool = False,
) -> ImportReport:
    """Import the bundle at ``source`` (folder or .zip).

    Args:
        source: the bundle.
        actor: who imports; becomes the new project's admin and the creator of everything.
        slug: the new project's short name (when ``project`` is None).
        name: the new project's name (default: the bundle's).
        project: an existing project with no dataset, recipe or scenario to import into instead
            (the caller checked that ``actor`` is its admin).
        request: for the audit log.
        max_bytes: the largest .zip accepted (default ``MODELWORKS_MAX_UPLOAD_BYTES``).
        drop_storage: keep in Modelworks storage (with a warning each) the outputs stored in a
            PostgreSQL connection the project cannot use, instead of refusing the bundle.

    Raises:
        BundleError: the bundle is unsafe, malformed or inconsistent, a recipe does not compile, or
            an output's storage connection is missing (nothing is created; the message lists the
            missing connections). ``ValidationError`` from a service is turned into one too.
    """
    with open_bundle(source, max_bytes=max_bytes) as bundle:
        plan = plan_import(bundle)
        check_recipes(plan, {})
        _check_target(project, slug, name)
        resolve_storage(plan, project, drop_storage=drop_storage)
        infos = _import_data(bundle, plan)
        try:
            columns = {n: [c.to_dict() for c in i.columns] for n, i in infos.items()}
            specs, checkable = check_recipes(plan, columns)
            with transaction.atomic():
                report = create_all(
                    bundle, plan, specs, checkable, infos, actor=actor, slug=slug, name=name, project=project
                )
                audit.record(
                    "project.imported",
                    actor=actor,
                    project=report.project,
                    target=report.project,
                    request=request,
                    details={
                        "format_version": FORMAT_VERSION,
                        "with_data": bool(infos),
                        "datasets": report.datasets,
                        "recipes": report.recipes,
                        "scenarios": report.scenarios,
                        "drop_storage": drop_storage,
                    },
                )
        except ValidationError as exc:
            _discard(infos)
            raise BundleError(
                f"the import was refused, nothing was created: {'; '.join(exc.messages)}"
            ) from exc
        except BaseException:
            _discard(infos)
            raise
    report.warnings = plan.warnings + report.warnings
    return report
