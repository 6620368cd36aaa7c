"""Models of the governance app (owner: helper governance-core). Import from here."""

from __future__ import annotations

from modelworks.governance.models.aiact import AIActAssessment, AIActRiskClass, TechnicalDocument
from modelworks.governance.models.portfolio import (
    PRIORITY_FORMULA,
    PortfolioMember,
    PortfolioRole,
    RiskLevel,
    Stage,
    StageChange,
    StageKind,
    UseCase,
    UseCaseQuerySet,
)
from modelworks.governance.models.signoff import (
    ReviewDecision,
    SignoffMode,
    SignoffPolicy,
    SignoffRequest,
    SignoffReview,
    SignoffStatus,
    SignoffStep,
    default_protected_aliases,
)
from modelworks.governance.models.value import (
    MeasurementSource,
    ValueDefinition,
    ValueKind,
    ValueMeasurement,
    ValuePeriod,
)

__all__ = [
    "PRIORITY_FORMULA",
    "AIActAssessment",
    "AIActRiskClass",
    "MeasurementSource",
    "PortfolioMember",
    "PortfolioRole",
    "ReviewDecision",
    "RiskLevel",
    "SignoffMode",
    "SignoffPolicy",
    "SignoffRequest",
    "SignoffReview",
    "SignoffStatus",
    "SignoffStep",
    "Stage",
    "StageChange",
    "StageKind",
    "TechnicalDocument",
    "UseCase",
    "UseCaseQuerySet",
    "ValueDefinition",
    "ValueKind",
    "ValueMeasurement",
    "ValuePeriod",
    "default_protected_aliases",
]
