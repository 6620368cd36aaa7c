"""Pages of the datasets app, one module per topic. Import from here."""

from __future__ import annotations

from modelworks.datasets.views.datasets import (
    DatasetDeleteView,
    DatasetListView,
    DatasetSettingsView,
    DatasetView,
    DownloadParquetView,
    ExportCsvView,
    PinVersionView,
    ReimportView,
    VersionsView,
)
from modelworks.datasets.views.explore import ExploreView, ProfileRunView, ProfileView
from modelworks.datasets.views.imports import (
    ConnectionImportView,
    ImportItemsView,
    ImportStatusView,
    UploadView,
)
from modelworks.datasets.views.quality import QualityRunView, QualityView, RuleDeleteView, RuleUpdateView

__all__ = [
    "ConnectionImportView",
    "DatasetDeleteView",
    "DatasetListView",
    "DatasetSettingsView",
    "DatasetView",
    "DownloadParquetView",
    "ExploreView",
    "ExportCsvView",
    "ImportItemsView",
    "ImportStatusView",
    "PinVersionView",
    "ProfileRunView",
    "ProfileView",
    "QualityRunView",
    "QualityView",
    "ReimportView",
    "RuleDeleteView",
    "RuleUpdateView",
    "UploadView",
    "VersionsView",
]
