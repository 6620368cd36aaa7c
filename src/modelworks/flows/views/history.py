"""A recipe's history page (every revision: who, when, what changed, as a coloured diff) and reverting
to a revision. The page stays readable after the recipe is deleted."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.core.models import Role
from modelworks.core.views.base import done
from modelworks.flows.models import Recipe, RecipeRevision
from modelworks.flows.services import history
from modelworks.flows.views.base import FlowPageView

__all__ = ["RecipeHistoryView", "RecipeRevertView"]


class RecipeHistoryView(FlowPageView):
    """Every revision of a recipe, newest first, each with its diff to the one before; contributors
    also get a Revert button (with a confirmation box) on the older revisions."""

    template_name = "flows/recipe_history.html"
    http_method_names = ["get", "head"]
    recipe: Recipe | None
    revisions: list[RecipeRevision]

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        pk = self.kwargs["pk"]
        self.recipe = Recipe.objects.filter(project=self.project, pk=pk).first()
        self.revisions = history.revisions_of(self.project, pk)
        if self.recipe is None and not self.revisions:
            raise Http404(f"No recipe {pk} in project '{self.project.slug}'.")

    def get_title(self) -> str:
        name = self.recipe.name if self.recipe else self.revisions[0].recipe_name
        return f"History of {name} · {self.project.name}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        rows = []
        ordered = self.revisions  # newest first
        for index, revision in enumerate(ordered):
            previous = ordered[index + 1] if index + 1 < len(ordered) else None
            rows.append(
                {
                    "revision": revision,
                    "diff": history.diff_lines(history.diff_revisions(previous, revision)),
                    "is_current": index == 0 and self.recipe is not None,
                }
            )
        context.update(
            recipe=self.recipe,
            recipe_name=self.recipe.name if self.recipe else self.revisions[0].recipe_name,
            rows=rows,
        )
        return context


class RecipeRevertView(FlowPageView):
    """Revert a recipe to revision ``number`` (contributors; the confirmation box must be ticked)."""

    http_method_names = ["post"]
    write_role = Role.CONTRIBUTOR

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        recipe = Recipe.objects.filter(project=self.project, pk=kwargs["pk"]).first()
        if recipe is None:
            raise Http404(f"No recipe {kwargs['pk']} in project '{self.project.slug}'.")
        number = kwargs["number"]
        back = reverse("flows:recipe_history", args=[self.project.slug, recipe.pk])
        if request.POST.get("confirm") != "yes":
            messages.error(
                request, f"Tick “Yes, revert to revision {number}” to confirm, then press Revert again."
            )
            return done(request, back)
        try:
            _, revision = history.revert_recipe(recipe, to=number, actor=request.user, request=request)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, f"Revision {number} cannot be restored: {message}")
            return done(request, back)
        return done(
            request,
            back,
            f"Recipe reverted to revision {number} (saved as revision {revision.number}). Build it to update its output.",
        )
