"""Recipe history: a revision for every create, change, revert and delete, diffs between revisions,
and reverting a recipe to an earlier revision.

``record_revision`` is called by ``create_recipe``, ``update_recipe`` and ``delete_recipe`` inside
their transactions, so a change and its revision are written together or not at all. A revert goes
through ``update_recipe``: the old settings are checked against today's inputs like any edit, so a
revert that would no longer compile is refused with the engine's message.
"""

from __future__ import annotations

import difflib
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from modelworks.core import audit
from modelworks.core.models import Project, User
from modelworks.flows.models import Recipe, RecipeRevision, RevisionChange

__all__ = [
    "diff_lines",
    "diff_revisions",
    "record_revision",
    "revert_recipe",
    "revision_yaml",
    "revisions_of",
]


def _snapshot(recipe: Recipe) -> dict[str, Any]:
    """The recipe's state as ``RecipeRevision.snapshot`` gives it (``output_settings`` only when
    some output is not in Modelworks storage)."""
    from modelworks.flows.services.pushdown import named_output_settings

    links = Recipe.objects.with_links().get(pk=recipe.pk)
    snapshot: dict[str, Any] = {
        "name": links.name,
        "kind": links.kind,
        "description": links.description,
        "inputs": [d.name for d in links.input_datasets],
        "outputs": [d.name for d in links.output_datasets],
        "spec": links.spec,
    }
    settings = named_output_settings(links, with_ids=True)
    if settings:
        snapshot["output_settings"] = settings
    return snapshot


def record_revision(
    recipe: Recipe, *, actor: User | None, change: str | None = None
) -> RecipeRevision | None:
    """Write the next revision of ``recipe`` (call inside the transaction that changed it).

    Args:
        recipe: the recipe as saved (links included); for a delete, before it is deleted.
        actor: who made the change.
        change: ``created`` or ``deleted``; None for an edit, which is ``renamed`` when the name
            changed and ``updated`` otherwise (a revert re-labels its revision afterwards).

    Returns:
        The new revision, or None for an edit that changed nothing recorded (e.g. saving the editor
        without a change), so the history only lists real changes.
    """
    snapshot = _snapshot(recipe)
    last = RecipeRevision.objects.select_for_update().filter(recipe_pk=recipe.pk).order_by("-number").first()
    if change is None:
        if last is not None and last.snapshot() == snapshot:
            return None
        renamed = last is not None and last.name != snapshot["name"]
        change = RevisionChange.RENAMED if renamed else RevisionChange.UPDATED
    return RecipeRevision.objects.create(
        project_id=recipe.project_id,
        recipe=recipe,
        recipe_pk=recipe.pk,
        recipe_name=snapshot["name"],
        number=(last.number if last is not None else 0) + 1,
        change=change,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        **{"output_settings": {}, **snapshot},
    )


def revisions_of(project: Project, recipe_pk: int) -> list[RecipeRevision]:
    """Every revision of recipe ``recipe_pk`` of ``project``, newest first (also for a deleted recipe)."""
    return list(
        RecipeRevision.objects.of_recipe(project.pk, recipe_pk)
        .select_related("created_by")
        .order_by("-number")
    )


# ------------------------------------------------------------------------------------------------ diffs


def revision_yaml(revision: RecipeRevision | None) -> str:
    """The canonical YAML of a revision's state (name, kind, description, inputs, outputs, spec);
    empty text for None. Keys inside ``spec`` are sorted, so equal states give equal text."""
    if revision is None:
        return ""
    from modelworks.flows.bundles.yamltext import dump_yaml

    return dump_yaml(revision.snapshot())


def diff_revisions(a: RecipeRevision | None, b: RecipeRevision) -> str:
    """A unified diff from revision ``a`` (None: nothing, for a first revision) to revision ``b``.

    Returns:
        The diff text (``---``/``+++`` headers, ``@@`` hunks, ``-``/``+`` lines); empty when the
        two states are the same (e.g. a deletion, which keeps the last state).
    """
    before = revision_yaml(a).splitlines()
    after = revision_yaml(b).splitlines()
    label_a = f"revision {a.number}" if a is not None else "(nothing)"
    return "\n".join(
        difflib.unified_diff(before, after, fromfile=label_a, tofile=f"revision {b.number}", lineterm="")
    )


def diff_lines(diff: str) -> list[tuple[str, str]]:
    """The lines of a diff, each with its kind for display: ``head``, ``hunk``, ``add``, ``del``, ``ctx``."""
    lines: list[tuple[str, str]] = []
    for line in diff.splitlines():
        if line.startswith(("---", "+++")):
            kind = "head"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "ctx"
        lines.append((kind, line))
    return lines


# ---------------------------------------------------------------------------------------------- revert


def _datasets_named(project: Project, names: list[str], field: str, number: int) -> list[Any]:
    from modelworks.datasets.models import Dataset

    found = {d.name: d for d in Dataset.objects.filter(project=project, name__in=names)}
    missing = [n for n in names if n not in found]
    if missing:
        raise ValidationError(
            {
                field: f"Revision {number} read dataset '{missing[0]}', which no longer exists in this project; "
                "restore or re-import it first, or edit the recipe instead of reverting."
            }
        )
    return [found[n] for n in names]


def _restored_outputs(
    project: Project, outputs: list[Any], settings: dict[str, Any], number: int
) -> tuple[list[Any], list[str]]:
    """The outputs of a revision with the storage each had (``OutputChoice``s), and the names of
    those that were not stored. A connection is found by its id, else by its name, among the
    PostgreSQL connections the project may use.

    Raises:
        ValidationError: keyed by ``outputs``, when such a connection is gone.
    """
    from modelworks.flows.services.pushdown import OutputChoice, OutputStorage, storage_choices

    usable = storage_choices(project)
    by_id = {c.pk: c for c in usable}
    by_name = {c.name: c for c in usable}
    choices: list[Any] = []
    virtual: list[str] = []
    for output in outputs:
        name = output if isinstance(output, str) else output.name
        chosen = settings.get(name) or {}
        if chosen.get("virtual"):
            virtual.append(name)
        storage = chosen.get("storage") or {}
        if not storage:
            choices.append(OutputChoice(output, OutputStorage()))
            continue
        connection = by_id.get(storage.get("connection_id")) or by_name.get(storage.get("connection"))
        if connection is None:
            raise ValidationError(
                {
                    "outputs": f"Revision {number} stored output '{name}' in PostgreSQL connection "
                    f"'{storage.get('connection')}', which this project can no longer use; share or "
                    "re-create that connection, or edit the recipe instead of reverting."
                }
            )
        choices.append(OutputChoice(output, OutputStorage(connection.pk, str(storage.get("schema") or ""))))
    return choices, virtual


def revert_recipe(
    recipe: Recipe, *, to: int, actor: User, request: HttpRequest | None = None
) -> tuple[Recipe, RecipeRevision]:
    """Give ``recipe`` back the state of its revision ``to``, as a new ``reverted`` revision.

    The old name, inputs, outputs, settings, description and the outputs' storage (connection and
    schema, or not stored) are applied through ``update_recipe``, so they are checked against
    today's datasets like any edit; a revision written before storage was recorded leaves the
    storage as it is. Every attempt is audited
    (``flows.recipe_reverted``, with outcome ``failure`` when refused).

    Returns:
        The recipe and its new revision.

    Raises:
        ValidationError: no such revision, a dataset it used is gone, the recipe already matches
            it, or the old settings no longer compile (the engine's message, keyed by field).
    """
    from modelworks.datasets.models import Dataset
    from modelworks.flows.services.recipes import update_recipe

    target = RecipeRevision.objects.filter(
        project_id=recipe.project_id, recipe_pk=recipe.pk, number=to
    ).first()
    try:
        if target is None:
            raise ValidationError(
                {"revision": f"Recipe '{recipe.name}' has no revision {to}; pick one from its history."}
            )
        inputs = _datasets_named(recipe.project, list(target.inputs), "inputs", to)
        existing = {
            d.name: d for d in Dataset.objects.filter(project=recipe.project, name__in=target.outputs)
        }
        outputs: list[Any] = [existing.get(name, name) for name in target.outputs]
        restored: dict[str, Any] = {}
        if target.output_settings is not None:  # recorded: restore where each output was stored
            outputs, virtual = _restored_outputs(recipe.project, outputs, target.output_settings, to)
            restored["virtual_outputs"] = virtual
        with transaction.atomic():
            before = RecipeRevision.objects.filter(recipe_pk=recipe.pk).order_by("-number").first()
            updated = update_recipe(
                recipe,
                actor=actor,
                name=target.name,
                inputs=inputs,
                outputs=outputs,
                spec=target.spec,
                description=target.description,
                request=request,
                **restored,
            )
            latest = RecipeRevision.objects.filter(recipe_pk=recipe.pk).order_by("-number").first()
            if latest is None or (before is not None and latest.number == before.number):
                raise ValidationError(
                    {"revision": f"Recipe '{recipe.name}' already matches revision {to}; nothing to revert."}
                )
            latest.change = RevisionChange.REVERTED
            latest.reverted_from = to
            latest.save(update_fields=["change", "reverted_from"])
            audit.record(
                "flows.recipe_reverted",
                actor=actor,
                project=recipe.project,
                target=updated,
                request=request,
                details={"to": to, "revision": latest.number},
            )
    except ValidationError as exc:
        audit.record(
            "flows.recipe_reverted",
            actor=actor,
            project=recipe.project,
            target=recipe,
            request=request,
            outcome="failure",
            details={"to": to, "error": "; ".join(exc.messages)[:500]},
        )
        raise
    return updated, latest
