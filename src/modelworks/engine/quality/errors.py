"""Errors of the quality package: rules that cannot be run as written."""

from __future__ import annotations

from modelworks.engine.errors import EngineError

__all__ = ["InvalidRuleError", "QualityError", "RuleTimeoutError", "UnsafeExpressionError"]


class QualityError(EngineError):
    """Base of the errors of ``modelworks.engine.quality``."""

    code = "quality_error"


class InvalidRuleError(QualityError):
    """A rule is malformed: unknown column, wrong column type, bad bounds, invalid regex…"""

    code = "invalid_rule"


class UnsafeExpressionError(InvalidRuleError):
    """A custom SQL condition is not a single, side-effect-free expression over the dataset's columns."""

    code = "unsafe_expression"


class RuleTimeoutError(QualityError):
    """Checking the rules took longer than allowed."""

    code = "rule_timeout"
