"""Pages of the datasets app (namespace ``datasets``)."""

from __future__ import annotations

from django.urls import path

from modelworks.datasets import views

app_name = "datasets"

_D = "projects/<slug:slug>/datasets/<int:pk>/"

urlpatterns = [
    path("projects/<slug:slug>/datasets/", views.DatasetListView.as_view(), name="list"),
    path("projects/<slug:slug>/datasets/upload/", views.UploadView.as_view(), name="upload"),
    path("projects/<slug:slug>/datasets/import/", views.ConnectionImportView.as_view(), name="import"),
    path("projects/<slug:slug>/datasets/import/items/", views.ImportItemsView.as_view(), name="import_items"),
    path(
        "projects/<slug:slug>/datasets/imports/<uuid:job_id>/",
        views.ImportStatusView.as_view(),
        name="import_status",
    ),
    path(_D, views.DatasetView.as_view(), name="detail"),
    path(_D + "reimport/", views.ReimportView.as_view(), name="reimport"),
    path(_D + "explore/", views.ExploreView.as_view(), name="explore"),
    path(_D + "profile/", views.ProfileView.as_view(), name="profile"),
    path(_D + "profile/run/", views.ProfileRunView.as_view(), name="profile_run"),
    path(_D + "quality/", views.QualityView.as_view(), name="quality"),
    path(_D + "quality/run/", views.QualityRunView.as_view(), name="quality_run"),
    path(_D + "quality/rules/<int:rule_pk>/", views.RuleUpdateView.as_view(), name="rule_update"),
    path(_D + "quality/rules/<int:rule_pk>/delete/", views.RuleDeleteView.as_view(), name="rule_delete"),
    path(_D + "versions/", views.VersionsView.as_view(), name="versions"),
    path(_D + "versions/pin/", views.PinVersionView.as_view(), name="pin"),
    path(_D + "versions/<int:number>/export.csv", views.ExportCsvView.as_view(), name="export"),
    path(_D + "versions/<int:number>/download.parquet", views.DownloadParquetView.as_view(), name="download"),
    path(_D + "settings/", views.DatasetSettingsView.as_view(), name="settings"),
    path(_D + "delete/", views.DatasetDeleteView.as_view(), name="delete"),
]
