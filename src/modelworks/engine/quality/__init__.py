"""Data quality rules and their runner.

Public API:

* Rules: ``NotNull``, ``Unique``, ``Range``, ``AllowedValues``, ``Regex``, ``RowCount``, ``Freshness``,
  ``CustomSql``; ``Rule`` (their union), ``rule_from_dict`` (from JSON), ``RULE_KINDS``.
* ``run_rules(version_path, rules, *, now, sample_size, timeout_seconds) -> list[RuleResult]``;
  ``RuleResult``, ``FailingRow``.
* ``validate_expression(expression, columns)``: the custom-SQL guard, for forms that check a
  condition as it is typed.
* Errors: ``QualityError`` → ``InvalidRuleError`` → ``UnsafeExpressionError``; ``RuleTimeoutError``.
"""

from __future__ import annotations

from modelworks.engine.quality.errors import (
    InvalidRuleError,
    QualityError,
    RuleTimeoutError,
    UnsafeExpressionError,
)
from modelworks.engine.quality.rules import (
    RULE_KINDS,
    AllowedValues,
    CustomSql,
    Freshness,
    NotNull,
    Range,
    Regex,
    RowCount,
    Rule,
    Unique,
    describe,
    rule_from_dict,
)
from modelworks.engine.quality.runner import FailingRow, RuleResult, run_rules
from modelworks.engine.quality.sql_guard import ALLOWED_FUNCTIONS, validate_expression

__all__ = [
    "ALLOWED_FUNCTIONS",
    "RULE_KINDS",
    "AllowedValues",
    "CustomSql",
    "FailingRow",
    "Freshness",
    "InvalidRuleError",
    "NotNull",
    "QualityError",
    "Range",
    "Regex",
    "RowCount",
    "Rule",
    "RuleResult",
    "RuleTimeoutError",
    "Unique",
    "UnsafeExpressionError",
    "describe",
    "rule_from_dict",
    "run_rules",
    "validate_expression",
]
