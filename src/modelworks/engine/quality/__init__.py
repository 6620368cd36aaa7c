"""Data quality rules and their runner.

Public API:

* Rules: ``NotNull``, ``Unique``, ``Range``, ``AllowedValues``, ``Regex``, ``RowCount``, ``Freshness``,
  ``CustomSql``; ``Rule`` (their union), ``rule_from_dict`` (from JSON), ``RULE_KINDS``.
* ``run_rules(version_path, rules, *, now, sample_size, timeout_seconds) -> list[RuleResult]``;
  ``RuleResult``, ``FailingRow``.
* ``validate_expression(expression, columns)``: the custom-SQL guard, for forms that check a
  condition as it is typed.
* Errors: ``QualityError`` → ``InvalidRuleError`` → ``UnsafeExpressionError``; ``RuleTimeoutError``.

The names are loaded on first use (PEP 562 ``__getattr__``): the web server imports the rule kinds for its forms and must not load DuckDB to start.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from modelworks.engine.quality.runner import (
        FailingRow,
        RuleResult,
        run_rules,
    )
    from modelworks.engine.quality.sql_guard import (
        ALLOWED_FUNCTIONS,
        validate_expression,
    )

_HOME = {
    "InvalidRuleError": "errors",
    "QualityError": "errors",
    "RuleTimeoutError": "errors",
    "UnsafeExpressionError": "errors",
    "RULE_KINDS": "rules",
    "AllowedValues": "rules",
    "CustomSql": "rules",
    "Freshness": "rules",
    "NotNull": "rules",
    "Range": "rules",
    "Regex": "rules",
    "RowCount": "rules",
    "Rule": "rules",
    "Unique": "rules",
    "describe": "rules",
    "rule_from_dict": "rules",
    "FailingRow": "runner",
    "RuleResult": "runner",
    "run_rules": "runner",
    "ALLOWED_FUNCTIONS": "sql_guard",
    "validate_expression": "sql_guard",
}

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


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
