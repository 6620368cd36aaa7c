"""MLflow's limits and value rules, checked before anything is written.

The numbers are MLflow's (``mlflow/utils/validation.py``), because clients split their batches by
them. Long param and tag values are truncated, as MLflow's server does by default
(``MLFLOW_TRUNCATE_LONG_VALUES``); too long keys and experiment names are refused.
"""

from __future__ import annotations

import functools
import math
import posixpath
import re
from dataclasses import dataclass
from typing import Any

from modelworks.tracking.protocol import MlflowError

__all__ = [
    "MAX_BATCH_LOG_REQUEST_SIZE",
    "MAX_ENTITIES_PER_BATCH",
    "MAX_ENTITY_KEY_LENGTH",
    "MAX_EXPERIMENT_NAME_LENGTH",
    "MAX_METRICS_PER_BATCH",
    "MAX_PARAMS_TAGS_PER_BATCH",
    "MAX_PARAM_VAL_LENGTH",
    "MAX_SEARCH_RESULTS",
    "MAX_TAG_VAL_LENGTH",
    "MetricPoint",
    "check_batch_limits",
    "check_experiment_name",
    "check_key",
    "invalid",
    "optional_int",
    "param_value",
    "parse_metric",
    "tag_value",
]

MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000
MAX_ENTITIES_PER_BATCH = 1000
MAX_BATCH_LOG_REQUEST_SIZE = 1_000_000
MAX_PARAM_VAL_LENGTH = 6000
MAX_TAG_VAL_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_VAL_LENGTH = 20000
MAX_ENTITY_KEY_LENGTH = 250
MAX_SEARCH_RESULTS = 50000
MAX_DATASET_NAME_LENGTH = 500
MAX_DATASET_DIGEST_LENGTH = 36
MAX_DATASET_SOURCE_LENGTH = 65535
MAX_INPUT_TAG_KEY_LENGTH = 255
MAX_INPUT_TAG_VALUE_LENGTH = 500

_KEY = re.compile(r"^[/\w.\- :]*$")


def invalid(message: str) -> MlflowError:
    return MlflowError("INVALID_PARAMETER_VALUE", message)


@functools.lru_cache(maxsize=4096)
def _valid_key(key: str) -> bool:
    """Whether ``check_key`` accepts ``key`` (cached: runs log the same few names over and over)."""
    try:
        check_key(key, "key")
    except MlflowError:
        return False
    return True


def check_key(key: Any, path: str, *, what: str = "Name") -> str:
    """A param, metric or tag name as MLflow accepts it (characters, no path tricks, length)."""
    if key is None or key == "":
        raise invalid(f"Missing value for parameter '{path}': a name is required.")
    if not isinstance(key, str):
        raise invalid(f"Invalid value {key!r} for parameter '{path}': a name must be a string.")
    if not _KEY.match(key):
        raise invalid(
            f"Invalid value {key!r} for parameter '{path}': names may only contain alphanumerics, "
            "underscores (_), dashes (-), periods (.), spaces ( ), colons (:) and slashes (/)."
        )
    normalized = posixpath.normpath(key)
    if normalized != key or normalized == "." or normalized.startswith(("..", "/")):
        raise invalid(
            f"Invalid value {key!r} for parameter '{path}': names may be treated as file paths and "
            f"must not resolve to another name (this one resolves to {normalized!r})."
        )
    if len(key) > MAX_ENTITY_KEY_LENGTH:
        raise invalid(f"{what} '{key[:60]}…' in '{path}' is longer than {MAX_ENTITY_KEY_LENGTH} characters.")
    return key


def _string(value: Any, path: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid(f"Invalid value {value!r} for parameter '{path}': expected a string.")
    return str(value)


def param_value(value: Any, path: str) -> str:
    return _string(value, path)[:MAX_PARAM_VAL_LENGTH]


def tag_value(value: Any, path: str, *, limit: int = MAX_TAG_VAL_LENGTH) -> str:
    return _string(value, path)[:limit]


def check_experiment_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise invalid(f"Invalid experiment name: {name!r}. Give a non-empty name.")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise invalid(f"Experiment name is longer than {MAX_EXPERIMENT_NAME_LENGTH} characters.")
    return name


def optional_int(value: Any, path: str) -> int | None:
    """An int64 field, given as a JSON number or a numeric string (protobuf JSON sends both)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise invalid(f"Invalid value {value!r} for parameter '{path}': expected an integer.")
    try:
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError
            return int(value)
        return int(str(value).strip())
    except ValueError:
        raise invalid(f"Invalid value {value!r} for parameter '{path}': expected an integer.") from None


_SPECIAL_FLOATS = {
    "nan": math.nan,
    "infinity": math.inf,
    "-infinity": -math.inf,
    "inf": math.inf,
    "-inf": -math.inf,
}


def _float(value: Any, path: str) -> float:
    if isinstance(value, bool) or value is None:
        raise invalid(f"Invalid value {value!r} for parameter '{path}': expected a number.")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        special = _SPECIAL_FLOATS.get(value.strip().lower())
        if special is not None:
            return special
        try:
            return float(value)
        except ValueError:
            pass
    raise invalid(
        f"Invalid value {value!r} for parameter '{path}': expected a number "
        "(a valid double, 64-bit floating point)."
    )


@dataclass(frozen=True)
class MetricPoint:
    key: str
    value: float
    timestamp: int
    step: int
    model_id: str = ""
    dataset_name: str = ""
    dataset_digest: str = ""


def parse_metric(raw: Any, path: str = "") -> MetricPoint:
    """A metric point from its JSON form, every field checked (``path`` prefixes error names)."""
    prefix = f"{path}." if path else ""
    if isinstance(raw, dict):
        key, value, timestamp, step = (
            raw.get("key"),
            raw.get("value"),
            raw.get("timestamp"),
            raw.get("step", 0),
        )
        # The common case, checked cheaply (a batch holds up to 1000 points); anything else takes the
        # full path below, which names the field at fault.
        if (
            type(key) is str
            and _valid_key(key)
            and type(value) in (int, float)
            and type(timestamp) is int
            and timestamp >= 0
            and type(step) is int
            and not raw.get("model_id")
            and not raw.get("dataset_name")
        ):
            return MetricPoint(key, float(value), timestamp, step)
    if not isinstance(raw, dict):
        raise invalid(f"Invalid value for parameter '{path}': expected an object with key, value, timestamp.")
    key = check_key(raw.get("key"), f"{prefix}key", what="Metric name")
    if raw.get("value") is None:
        raise invalid(f"Missing value for required parameter '{prefix}value'.")
    value = _float(raw.get("value"), f"{prefix}value")
    timestamp = optional_int(raw.get("timestamp"), f"{prefix}timestamp")
    if timestamp is None:
        raise invalid(f"Missing value for required parameter '{prefix}timestamp'.")
    if timestamp < 0:
        raise invalid(f"Invalid value {timestamp} for parameter '{prefix}timestamp': must be nonnegative.")
    step = optional_int(raw.get("step"), f"{prefix}step") or 0
    return MetricPoint(
        key=key,
        value=value,
        timestamp=timestamp,
        step=step,
        model_id=str(raw.get("model_id") or "")[:64],
        dataset_name=str(raw.get("dataset_name") or "")[:500],
        dataset_digest=str(raw.get("dataset_digest") or "")[:64],
    )


def check_batch_limits(metrics: int, params: int, tags: int) -> None:
    """MLflow's per-request limits of ``log-batch``."""
    for name, count, limit in (
        ("metrics", metrics, MAX_METRICS_PER_BATCH),
        ("params", params, MAX_PARAMS_TAGS_PER_BATCH),
        ("tags", tags, MAX_PARAMS_TAGS_PER_BATCH),
        ("metrics, params, and tags", metrics + params + tags, MAX_ENTITIES_PER_BATCH),
    ):
        if count > limit:
            raise invalid(
                f"A batch logging request can contain at most {limit} {name}. Got {count} {name}. "
                f"Please split up {name} across multiple requests and try again."
            )
