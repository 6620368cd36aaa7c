"""Pages of the catalog app (namespace ``catalog``)."""

from __future__ import annotations

from django.urls import path

from modelworks.catalog.views import catalog, lineage

app_name = "catalog"

urlpatterns = [
    # The catalog: search across projects, and each dataset's documentation
    path("catalog/", catalog.SearchView.as_view(), name="search"),
    path(
        "projects/<slug:slug>/catalog/datasets/<int:pk>/",
        catalog.DatasetDocView.as_view(),
        name="dataset_doc",
    ),
    # Lineage of a project
    path("projects/<slug:slug>/lineage/", lineage.LineageView.as_view(), name="lineage"),
    path(
        "projects/<slug:slug>/lineage/datasets/<int:pk>/",
        lineage.LineageDatasetView.as_view(),
        name="lineage_dataset",
    ),
    path("projects/<slug:slug>/lineage/jobs/<int:pk>/", lineage.LineageJobView.as_view(), name="lineage_job"),
]
