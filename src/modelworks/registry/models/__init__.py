"""Models of the registry: MLflow 3 logged models, registered models, versions, tags, aliases."""

from modelworks.registry.models.logged import (
    LoggedModel,
    LoggedModelParam,
    LoggedModelStatus,
    LoggedModelTag,
    new_model_id,
)
from modelworks.registry.models.promotion import PromotionRequest, PromotionStatus
from modelworks.registry.models.registered import (
    AliasEvent,
    ModelAlias,
    ModelVersion,
    ModelVersionStatus,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
    Stage,
)

__all__ = [
    "AliasEvent",
    "LoggedModel",
    "LoggedModelParam",
    "LoggedModelStatus",
    "LoggedModelTag",
    "ModelAlias",
    "ModelVersion",
    "ModelVersionStatus",
    "ModelVersionTag",
    "PromotionRequest",
    "PromotionStatus",
    "RegisteredModel",
    "RegisteredModelTag",
    "Stage",
    "new_model_id",
]
