"""Step 2 of the demo Flow: document the imported datasets, create the recipes and the scenario, build."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TextIO

from django.core.exceptions import ValidationError

from modelworks.core.jobs import enqueue
from modelworks.core.models import Project, User
from modelworks.datasets.models import Dataset
from modelworks.datasets.services import add_rule, update_dataset
from modelworks.flows.demo.imports import FlowDemo
from modelworks.flows.demo_catalog import RECIPES, SCENARIO, SOURCES, RecipeSpec, RuleSpec, SourceSpec
from modelworks.flows.models import Build, Recipe
from modelworks.flows.services import build_plan, create_recipe, submit_build

__all__ = ["complete_flow_demo"]


def _add_rules(dataset: Dataset, rules: Sequence[RuleSpec], actor: User) -> list[str]:
    """Add the rules ``dataset`` has no rule of that name for; return the names added."""
    names = set(dataset.rules.values_list("name", flat=True))
    added = []
    for rule in rules:
        if rule.name not in names:
            params = dict(rule.params)
            add_rule(
                dataset, actor=actor, kind=rule.kind, params=params, blocking=rule.blocking, name=rule.name
            )
            added.append(rule.name)
    return added


def _document_source(dataset: Dataset, source: SourceSpec, actor: User) -> list[str]:
    """Fill an imported dataset's empty description, tags and column notes; add its rules."""
    changes: dict[str, Any] = {}
    if not dataset.description:
        changes["description"] = source.description
    if not dataset.tags:
        changes["tags"] = list(source.tags)
    if not dataset.column_descriptions:
        changes["column_descriptions"] = dict(source.columns)
    if changes:
        update_dataset(dataset, actor=actor, **changes)
    return _add_rules(dataset, source.rules, actor)


def _create_recipe(project: Project, actor: User, spec: RecipeSpec) -> None:
    inputs = []
    for name in spec.inputs:
        dataset = Dataset.objects.filter(project=project, name=name).first()
        if dataset is None:
            raise ValidationError(
                f"Recipe '{spec.name}' reads dataset '{name}', which is not in project '{project.slug}' "
                "(deleted or renamed?); bring it back, or delete the demo project, then run the demo again."
            )
        inputs.append(dataset)
    create_recipe(
        project,
        actor=actor,
        name=spec.name,
        kind=spec.kind,
        inputs=inputs,
        outputs=[o.name for o in spec.outputs],
        spec=spec.spec,
        description=spec.description,
    )
    for output in spec.outputs:
        dataset = Dataset.objects.get(project=project, name=output.name)
        update_dataset(dataset, actor=actor, description=output.description, tags=list(output.tags))
        _add_rules(dataset, output.rules, actor)


def _create_scenario(project: Project, actor: User) -> bool:
    """Create the disabled "Nightly rebuild" scenario unless it exists; True if created."""
    from modelworks.scenarios.models import Scenario
    from modelworks.scenarios.services import create_scenario

    if Scenario.objects.filter(project=project, name=SCENARIO["name"]).exists():
        return False
    checked = Dataset.objects.filter(project=project, name__in=SCENARIO["quality_datasets"])
    create_scenario(
        project,
        actor=actor,
        name=SCENARIO["name"],
        description=SCENARIO["description"],
        enabled=False,
        triggers=[{"kind": "cron", "cron": SCENARIO["cron"]}],
        steps=[
            {"kind": "build", "name": "Build the whole flow", "params": {"datasets": [], "force": False}},
            {
                "kind": "quality",
                "name": "Check the training and scoring tables",
                "params": {"datasets": sorted(d.pk for d in checked)},
            },
        ],
    )
    return True


def complete_flow_demo(demo: FlowDemo, out: TextIO, *, always_build: bool = False) -> Build | None:
    """Document the imported datasets, create the missing recipes and the scenario, queue a build.

    Args:
        demo: what :func:`queue_demo_imports` returned, once its imports have ended.
        out: where to say what was done.
        always_build: queue a build even when every recipe is up to date (it then runs nothing).

    Returns:
        The queued build, or None when nothing is out of date and ``always_build`` is false.

    Raises:
        ValidationError: a source dataset has no data (its import failed) or a recipe was refused.
    """
    project, actor = demo.project, demo.actor
    for source in SOURCES:
        dataset = Dataset.objects.filter(project=project, name=source.name).first()
        version = dataset.current_version if dataset is not None else None
        if dataset is None or version is None:
            raise ValidationError(
                f"Dataset '{source.name}' has no data: its import did not succeed (see its job in Jobs). "
                "Run 'modelworks demo' again to retry it."
            )
        added = _document_source(dataset, source, actor)
        if added:
            enqueue(
                "datasets.quality",
                title=f"Check data quality of {dataset.name} v{version.number}",
                project=project,
                created_by=actor,
                params={"version_id": version.pk},
            )
            out.write(f"Added {len(added)} quality rule(s) to '{dataset.name}': {'; '.join(added)}.\n")
    created = 0
    for spec in RECIPES:
        if not Recipe.objects.filter(project=project, name=spec.name).exists():
            _create_recipe(project, actor, spec)
            created += 1
            outputs = ", ".join(o.name for o in spec.outputs)
            out.write(f"Created recipe {spec.name} ({spec.kind}): {', '.join(spec.inputs)} -> {outputs}.\n")
    if created < len(RECIPES):
        out.write(f"{len(RECIPES) - created} recipe(s) of the demo flow already existed; kept as they are.\n")
    if _create_scenario(project, actor):
        out.write(
            f"Created scenario '{SCENARIO['name']}' (cron '{SCENARIO['cron']}' UTC, then quality checks); it is "
            "switched off, so nothing runs by itself.\n"
        )
    if not always_build and created == 0 and not build_plan(project).steps:
        out.write("Every recipe of the demo flow is up to date.\n")
        out.flush()
        return None
    build = submit_build(project, actor=actor)
    out.write(f"Queued build {build.pk} of the whole flow (job {build.job_id}).\n")
    out.flush()
    return build
