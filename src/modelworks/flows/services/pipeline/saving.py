"""Saving recipes with outputs that are not stored: which outputs may be virtual, and marking them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from django.core.exceptions import ValidationError

from modelworks.core.models import Project
from modelworks.datasets.models import Dataset
from modelworks.flows.models import RUN_ONLY_KINDS, Recipe, RecipeKind, RecipeOutput

__all__ = ["DONT_STORE", "check_virtual_outputs", "set_virtual_outputs", "virtual_keys"]

#: What the editor's checkbox says; messages refer to it.
DONT_STORE = "Don't store"


def virtual_keys(project: Project) -> set[str]:
    """The graph keys of the project's virtual datasets."""
    return {
        str(pk)
        for pk in RecipeOutput.objects.filter(recipe__project=project, virtual=True).values_list(
            "dataset_id", flat=True
        )
    }


def check_virtual_outputs(
    project: Project,
    *,
    kind: str,
    inputs: Sequence[Dataset],
    outputs: Sequence[Dataset | str],
    virtual: Collection[str],
    recipe: Recipe | None = None,
    storage: Sequence[Any] = (),
) -> set[str]:
    """Check which outputs of a recipe being saved may be virtual; return their names.

    Args:
        storage: per output, the ``pushdown.OutputStorage`` given with it (or None), if any.

    Raises:
        ValidationError: keyed by ``outputs`` (a virtual name that is not an output, a Python recipe
            with a virtual output, an output a Python recipe reads, a virtual output stored in a
            connection) or ``inputs`` (a Python recipe reading a virtual dataset); the message says
            how to fix it.
    """
    names = [o if isinstance(o, str) else o.name for o in outputs]
    chosen = {str(n).strip() for n in virtual}
    unknown = sorted(chosen - set(names))
    if unknown:
        raise ValidationError(
            {"outputs": f"'{unknown[0]}' is marked as not stored but is not an output of this recipe."}
        )
    for name, where in zip(names, storage, strict=False):
        if name in chosen and getattr(where, "connection_id", None) is not None:
            raise ValidationError(
                {
                    "outputs": f"'{name}' cannot be both not stored and stored in a connection: untick "
                    f"“{DONT_STORE}” or choose Modelworks storage."
                }
            )
    if kind in RUN_ONLY_KINDS:
        what = "Python recipe" if kind == RecipeKind.PYTHON else "score recipe"
        if chosen:
            raise ValidationError(
                {
                    "outputs": f"A {what}'s outputs are always stored: untick “{DONT_STORE}” on "
                    f"'{min(chosen)}'. Only visual and SQL recipes can be computed inside "
                    "the recipes that read them."
                }
            )
        others = RecipeOutput.objects.filter(dataset__in=[d.pk for d in inputs], virtual=True)
        if recipe is not None:
            others = others.exclude(recipe=recipe)
        found = others.select_related("dataset", "recipe").first()
        if found is not None:
            raise ValidationError(
                {
                    "inputs": f"'{found.dataset.name}' is not stored (it is computed on the fly by the "
                    f"recipes that read it) and a {what} reads stored files: untick "
                    f"“{DONT_STORE}” on that output of recipe '{found.recipe.name}', or read another dataset."
                }
            )
    existing = [o for o in outputs if isinstance(o, Dataset) and o.name in chosen]
    readers = Recipe.objects.filter(
        project=project, kind__in=RUN_ONLY_KINDS, input_links__dataset__in=existing
    ).prefetch_related("input_links__dataset")
    if recipe is not None:
        readers = readers.exclude(pk=recipe.pk)
    reader = readers.first() if existing else None
    if reader is not None:
        read = next(d.name for d in reader.input_datasets if d.name in chosen)
        raise ValidationError(
            {
                "outputs": f"'{read}' is read by the {reader.get_kind_display()} recipe '{reader.name}', which reads stored "
                f"files: it must be stored (untick “{DONT_STORE}”)."
            }
        )
    return chosen


def set_virtual_outputs(recipe: Recipe, names: Collection[str]) -> None:
    """Mark the recipe's outputs called ``names`` virtual and the others stored (call it inside the
    transaction that saves the recipe)."""
    links = RecipeOutput.objects.filter(recipe=recipe).select_related("dataset")
    for link in links:
        wanted = link.dataset.name in names
        if link.virtual != wanted:
            link.virtual = wanted
            link.save(update_fields=["virtual"])
