"""Creating what an import brings, inside the importer's transaction, through the services: the
project, datasets (version, owner, tags, column descriptions, quality rules), recipes and scenarios.

Recipes go through ``create_recipe`` (``validate_recipe``) whenever the service can see their
inputs' columns. Without data it cannot: its check needs stored columns, and an imported dataset
without data has none until the data is imported. Such recipes were compiled by the engine against
the declared columns (``checks.check_recipes``) and are written directly here, with the same links,
revision and audit entry; the flow shows them as "columns unknown" until their inputs have data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from modelworks.core import audit
from modelworks.core.models import Project, User
from modelworks.datasets.models import Dataset, SourceKind
from modelworks.flows.bundles.checks import ImportPlan
from modelworks.flows.bundles.reader import Bundle
from modelworks.flows.models import Recipe, RecipeInput, RecipeOutput

__all__ = ["ImportReport", "create_all"]


@dataclass
class ImportReport:
    """What an import created, and what the user should know (e.g. settings not restored)."""

    project: Project
    datasets: int = 0
    versions: int = 0
    recipes: int = 0
    scenarios: int = 0
    warnings: list[str] = field(default_factory=list)


def create_all(
    bundle: Bundle,
    plan: ImportPlan,
    specs: dict[str, dict[str, Any]],
    checkable: set[str],
    infos: dict[str, Any],
    *,
    actor: User,
    slug: str | None,
    name: str | None,
    project: Project | None,
) -> ImportReport:
    from modelworks.core import services as core_services

    if project is None:
        about = bundle.manifest["project"]
        project = core_services.create_project(
            actor=actor,
            slug=slug or "",
            name=(name or about["name"]).strip(),
            description=about.get("description") or "",
        )
    report = ImportReport(project=project)
    datasets: dict[str, Dataset] = {}
    for dataset_name, (_file, doc) in plan.datasets.items():
        datasets[dataset_name] = _create_dataset(
            project, dataset_name, doc, infos.get(dataset_name), actor, report
        )
    for output in plan.extra_outputs:
        datasets[output] = _new_dataset(project, output, {"source": {"kind": SourceKind.RECIPE}}, actor)
        report.datasets += 1
    for _file, doc in plan.recipes:
        name = doc["name"].strip()
        storage = plan.storage.get(name, {})
        _create_recipe(project, doc, specs[name], name in checkable, datasets, storage, actor, report)
    _create_scenarios(project, plan, datasets, actor, report)
    return report


def _new_dataset(project: Project, name: str, doc: dict[str, Any], actor: User) -> Dataset:
    dataset = Dataset(
        project=project,
        name=name,
        owner=actor,
        created_by=actor,
        source_kind=(doc.get("source") or {}).get("kind") or SourceKind.UPLOAD,
    )
    dataset.full_clean()
    dataset.save()
    audit.record("dataset.created", actor=actor, project=project, target=dataset, details={"how": "bundle"})
    return dataset


def _create_dataset(
    project: Project, name: str, doc: dict[str, Any], info: Any, actor: User, report: ImportReport
) -> Dataset:
    from modelworks.connections.models import Connection
    from modelworks.datasets import services as dataset_services

    source = doc.get("source") or {}
    if info is not None:
        version = dataset_services.create_version(
            project=project,
            info=info,
            how=SourceKind.UPLOAD,
            how_details={"file_name": os.path.basename(doc["data"]), "bundle": True, "options": {}},
            actor=actor,
            job=None,
            name=name,
        )
        dataset = version.dataset
        report.versions += 1
    else:
        dataset = _new_dataset(project, name, doc, actor)
    report.datasets += 1
    owner = (
        User.objects.filter(username=doc.get("owner") or "", is_active=True).first()
        if doc.get("owner")
        else None
    )
    if doc.get("owner") and owner is None:
        report.warnings.append(f"Dataset '{name}': owner '{doc['owner']}' is not a user here; you own it.")
    dataset_services.update_dataset(
        dataset,
        actor=actor,
        description=doc.get("description") or "",
        tags=list(doc.get("tags") or []),
        column_descriptions=dict(doc.get("column_descriptions") or {}),
        owner=owner or actor,
    )
    connection_name = source.get("connection") or ""
    connection = (
        Connection.objects.usable_in(project).filter(name=connection_name).first()
        if connection_name
        else None
    )
    if connection_name and connection is None:
        report.warnings.append(
            f"Dataset '{name}' came from connection '{connection_name}', which this project cannot use; "
            "create or share it before importing the dataset again from its source."
        )
    dataset.source_kind = source.get("kind") or dataset.source_kind
    dataset.source_connection = connection
    dataset.source_details = dict(source.get("details") or {})
    dataset.full_clean()
    dataset.save(update_fields=["source_kind", "source_connection", "source_details", "updated_at"])
    for rule in doc.get("quality_rules") or []:
        created = dataset_services.add_rule(
            dataset,
            actor=actor,
            kind=rule["kind"],
            params=dict(rule.get("params") or {}),
            blocking=bool(rule.get("blocking", False)),
            name=str(rule.get("name") or ""),
        )
        if not rule.get("enabled", True):
            dataset_services.update_rule(created, actor=actor, enabled=False)
    if info is not None:
        _check_new_version(dataset, actor)
    return dataset


def _check_new_version(dataset: Dataset, actor: User) -> None:
    """Run the quality rules on the imported version and queue its profile, as an import job does."""
    from modelworks.core.jobs import enqueue
    from modelworks.datasets import services as dataset_services

    version = dataset.latest_version
    assert version is not None
    dataset_services.run_quality(version, trigger="version_created", actor=actor)
    enqueue(
        "datasets.profile",
        title=f"Profile {dataset.name} v{version.number}",
        project=dataset.project,
        created_by=actor,
        params={"version_id": version.pk},
    )


def _create_recipe(
    project: Project,
    doc: dict[str, Any],
    spec: dict[str, Any],
    checkable: bool,
    datasets: dict[str, Dataset],
    storage: dict[str, tuple[int, str]],
    actor: User,
    report: ImportReport,
) -> Recipe:
    """Create one recipe with its output settings: ``virtual`` outputs, and outputs stored in the
    connections ``resolve_storage`` found (the others, dropped with a warning, stay in Modelworks
    storage)."""
    from modelworks.flows.services import create_recipe
    from modelworks.flows.services.pushdown import OutputChoice, OutputStorage

    name = doc["name"].strip()
    inputs = [datasets[n] for n in doc.get("inputs") or []]
    outputs: list[Any] = []
    for output in doc.get("outputs") or []:
        if output in storage:
            connection_id, schema = storage[output]
            outputs.append(OutputChoice(datasets[output], OutputStorage(connection_id, schema)))
        else:
            outputs.append(datasets[output])
    settings = doc.get("output_settings") or {}
    virtual = sorted(
        o for o, chosen in settings.items() if isinstance(chosen, dict) and chosen.get("virtual")
    )
    report.recipes += 1
    if checkable:
        return create_recipe(
            project,
            actor=actor,
            name=name,
            kind=doc["kind"],
            inputs=inputs,
            outputs=outputs,
            spec=spec,
            description=doc.get("description") or "",
            virtual_outputs=virtual,
        )
    return _write_declared_recipe(project, name, doc, spec, inputs, outputs, virtual, actor)


def _write_declared_recipe(
    project: Project,
    name: str,
    doc: dict[str, Any],
    spec: dict[str, Any],
    inputs: list[Dataset],
    outputs: list[Any],
    virtual: list[str],
    actor: User,
) -> Recipe:
    """A recipe whose inputs have no stored columns yet (checked by ``check_recipes`` instead; its
    output settings are checked as ``create_recipe`` checks them)."""
    from modelworks.flows.services import pipeline
    from modelworks.flows.services.history import record_revision
    from modelworks.flows.services.pushdown import apply_storage, check_storage, split_outputs

    targets, storage = split_outputs(outputs)
    check_storage(project, storage, [d.name for d in targets])
    chosen = pipeline.check_virtual_outputs(
        project, kind=doc["kind"], inputs=inputs, outputs=targets, virtual=virtual, storage=storage
    )
    recipe = Recipe(
        project=project,
        name=name,
        kind=doc["kind"],
        spec=spec,
        description=doc.get("description") or "",
        created_by=actor,
        updated_by=actor,
    )
    recipe.full_clean()
    recipe.save()
    for position, dataset in enumerate(inputs):
        RecipeInput.objects.create(recipe=recipe, dataset=dataset, position=position)
    for position, dataset in enumerate(targets):
        RecipeOutput.objects.create(recipe=recipe, dataset=dataset, position=position)
    apply_storage(Recipe.objects.with_links().get(pk=recipe.pk), storage, {})
    pipeline.set_virtual_outputs(recipe, chosen)
    recipe = Recipe.objects.with_links().get(pk=recipe.pk)
    recipe.spec_hash = recipe.compute_spec_hash()
    recipe.save(update_fields=["spec_hash"])
    record_revision(recipe, actor=actor, change="created")
    audit.record(
        "flows.recipe_created",
        actor=actor,
        project=project,
        target=recipe,
        details={
            "kind": recipe.kind,
            "inputs": [d.name for d in inputs],
            "outputs": [d.name for d in targets],
            "imported": True,
            "columns_checked_against": "declared",
            "not_stored": sorted(chosen),
        },
    )
    return recipe


def _create_scenarios(
    project: Project, plan: ImportPlan, datasets: dict[str, Dataset], actor: User, report: ImportReport
) -> None:
    from modelworks.scenarios import services as scenario_services

    created: dict[str, Any] = {}
    for _file, doc in plan.scenarios:
        steps = []
        for step in doc.get("steps") or []:
            params = dict(step.get("params") or {})
            if step["kind"] == "notify":
                report.warnings.append(
                    f"Scenario '{doc['name']}': the {params.get('channel') or 'notification'} step "
                    f"'{step.get('name') or 'notify'}' was left out (its destination is not exported); add it again."
                )
                continue
            if "datasets" in params:
                params["datasets"] = [datasets[n].pk for n in params["datasets"]]
            steps.append(
                {
                    "name": step.get("name") or "",
                    "kind": step["kind"],
                    "params": params,
                    "run_condition": step.get("run_condition") or "on_success",
                    "enabled": bool(step.get("enabled", True)),
                }
            )
        created[doc["name"]] = scenario_services.create_scenario(
            project,
            actor=actor,
            name=doc["name"].strip(),
            description=doc.get("description") or "",
            enabled=bool(doc.get("enabled", True)),
            steps=steps,
        )
        report.scenarios += 1
    for _file, doc in plan.scenarios:
        triggers = []
        for trigger in doc.get("triggers") or []:
            item: dict[str, Any] = {"kind": trigger["kind"], "enabled": bool(trigger.get("enabled", True))}
            if trigger["kind"] == "cron":
                item["cron"] = trigger.get("cron") or ""
            elif trigger["kind"] == "dataset_changed":
                item["dataset"] = datasets[trigger["dataset"]].pk
            else:
                item["upstream"] = created[trigger["scenario"]].pk
                item["outcome"] = trigger.get("outcome") or "succeeded"
            triggers.append(item)
        if triggers:
            scenario_services.update_scenario(created[doc["name"]], actor=actor, triggers=triggers)
