"""Pages of the model registry (namespace ``registry``)."""

from __future__ import annotations

from django.urls import path

from modelworks.registry import views

app_name = "registry"

_M = "projects/<slug:slug>/models/<int:pk>/"
_V = _M + "versions/<int:number>/"

urlpatterns = [
    path("projects/<slug:slug>/models/", views.ModelListView.as_view(), name="list"),
    path(_M, views.ModelView.as_view(), name="model"),
    path(_M + "aliases/", views.AliasView.as_view(), name="alias"),
    path(_M + "compare/", views.CompareView.as_view(), name="compare"),
    path(_V, views.VersionView.as_view(), name="version"),
    path(_V + "card.md", views.CardMarkdownView.as_view(), name="card_markdown"),
    path(_V + "delete/", views.DeleteVersionView.as_view(), name="delete_version"),
]
