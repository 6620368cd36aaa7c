"""Pages of the realised value of use cases and of the control tower (namespace ``governance``)."""

from __future__ import annotations

from django.urls import URLPattern, path

from modelworks.governance.views import tower, value

urlpatterns: list[URLPattern] = [
    path("governance/use-cases/<slug:slug>/value/", value.ValuePageView.as_view(), name="value_page"),
    path("governance/use-cases/<slug:slug>/value/new/", value.ValueCreateView.as_view(), name="value_create"),
    path(
        "governance/use-cases/<slug:slug>/value/<int:pk>/edit/",
        value.ValueEditView.as_view(),
        name="value_edit",
    ),
    path(
        "governance/use-cases/<slug:slug>/value/<int:pk>/delete/",
        value.ValueDeleteView.as_view(),
        name="value_delete",
    ),
    path(
        "governance/use-cases/<slug:slug>/value/<int:pk>/compute/",
        value.ValueComputeView.as_view(),
        name="value_compute",
    ),
    path("governance/tower/", tower.TowerView.as_view(), name="tower"),
    path("governance/tower/portfolio.csv", tower.TowerCsvView.as_view(), name="tower_csv"),
]
