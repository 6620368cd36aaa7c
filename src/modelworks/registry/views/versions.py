"""One version: lineage, signature, input example and card (page and Markdown); its deletion (admins);
setting or moving an alias (contributors); comparing versions side by side."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.text import slugify

from modelworks.core.models import Role
from modelworks.core.views.base import done
from modelworks.registry import services
from modelworks.registry.errors import RegistryError
from modelworks.registry.forms import AliasForm
from modelworks.registry.views.base import ModelPageView, VersionPageView

__all__ = ["AliasView", "CardMarkdownView", "CompareView", "DeleteVersionView", "VersionView"]


class VersionView(VersionPageView):
    """Lineage (run, training data version, logged model, code), signature, input example, card."""

    template_name = "registry/version.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        card = services.model_card(self.version)
        example = self.version.input_example
        columns = example.get("columns") if isinstance(example, dict) else None
        rows = example.get("data") if isinstance(example, dict) else None
        context.update(
            card=card,
            example_columns=columns if isinstance(columns, list) else None,
            example_rows=rows if isinstance(rows, list) else None,
            packages={k: v for k, v in card.package_versions.items() if k != "flavors"},
            alias_form=AliasForm(initial={"version": self.version.version}, versions=[self.version.version]),
        )
        return context


class CardMarkdownView(VersionPageView):
    """The model card as a Markdown file."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        text = services.card_markdown(services.model_card(self.version))
        response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
        filename = f"{slugify(self.model.name) or 'model'}-v{self.version.version}-card.md"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class DeleteVersionView(VersionPageView):
    """Confirm (GET), then delete (POST) a version: project admins only. Its aliases go with it."""

    template_name = "registry/delete_version.html"
    needed_role = Role.ADMIN
    write_role = Role.ADMIN

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        number = self.version.version
        try:
            services.delete_model_version(self.version, actor=request.user, request=request)
        except RegistryError as exc:
            messages.error(request, exc.message)
            return done(
                request,
                reverse("registry:version", args=[self.project.slug, self.model.pk, number]),
                "",
            )
        url = reverse("registry:model", args=[self.project.slug, self.model.pk])
        return done(request, url, f"Version {number} of “{self.model.name}” deleted.")


class AliasView(ModelPageView):
    """Set or move an alias (GET: the form; POST: save). Contributors only."""

    template_name = "registry/alias.html"
    needed_role = Role.CONTRIBUTOR
    write_role = Role.CONTRIBUTOR

    def _form(self, data: Any = None) -> AliasForm:
        versions = list(self.model.versions.order_by("-version").values_list("version", flat=True))
        initial = {"alias": self.request.GET.get("alias", ""), "version": self.request.GET.get("version", "")}
        return AliasForm(data, initial=initial, versions=versions)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", self._form())
        context["aliases"] = self.model.aliases.select_related("model_version").order_by("alias")
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self._form(request.POST)
        if form.is_valid():
            try:
                version = services.get_model_version(self.model, form.cleaned_data["version"])
                if form.cleaned_data.get("remove"):
                    services.delete_alias(
                        self.model, form.cleaned_data["alias"], actor=request.user, request=request
                    )
                    message = f"Alias “{form.cleaned_data['alias']}” removed."
                else:
                    services.set_alias(
                        version, form.cleaned_data["alias"], actor=request.user, request=request
                    )
                    message = f"“{form.cleaned_data['alias']}” now points at version {version.version}."
            except RegistryError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                return done(
                    request, reverse("registry:model", args=[self.project.slug, self.model.pk]), message
                )
        return self.render_form_errors(form=form)


class CompareView(ModelPageView):
    """2 to 4 versions side by side (``?v=1&v=3``): facts, training data, metrics, parameters."""

    template_name = "registry/compare.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        wanted = []
        for raw in self.request.GET.getlist("v"):
            if not raw.isdigit():
                raise Http404(f"'{raw[:20]}' is not a version number.")
            wanted.append(int(raw))
        all_versions = list(self.model.versions.order_by("-version").values_list("version", flat=True))
        if not wanted:
            wanted = all_versions[:2]
        found = {
            v.version: v for v in self.model.versions.filter(version__in=wanted).prefetch_related("aliases")
        }
        missing = [n for n in wanted if n not in found]
        if missing:
            raise Http404(f"'{self.model.name}' has no version {missing[0]}.")
        table = None
        try:
            table = services.compare_versions([found[n] for n in dict.fromkeys(wanted)])
        except RegistryError as exc:
            messages.info(self.request, exc.message)
        context.update(table=table, all_versions=all_versions, chosen=wanted)
        return context
