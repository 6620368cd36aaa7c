"""Dataset models. Import from here."""

from __future__ import annotations

from modelworks.datasets.models.datasets import (
    Dataset,
    DatasetQuerySet,
    DatasetVersion,
    ImmutableVersionError,
    QualityStatus,
    SourceKind,
)
from modelworks.datasets.models.profiles import DatasetProfile
from modelworks.datasets.models.quality import (
    QualityResult,
    QualityResultStatus,
    QualityRule,
    QualityRun,
)

__all__ = [
    "Dataset",
    "DatasetProfile",
    "DatasetQuerySet",
    "DatasetVersion",
    "ImmutableVersionError",
    "QualityResult",
    "QualityResultStatus",
    "QualityRule",
    "QualityRun",
    "QualityStatus",
    "SourceKind",
]
