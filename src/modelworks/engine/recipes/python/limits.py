"""The resource limits of one Python recipe run, and how an administrator configures them.

Memory is capped with ``RLIMIT_AS``, i.e. *address space*, not resident memory: importing pandas,
Polars and pyarrow together already reserves about 600 MiB of it, which is why the minimum is
256 MiB and the default 2 GiB. CPU time is a backstop behind the wall-clock timeout; since pandas,
Polars and Arrow use several threads whose CPU time adds up, it defaults to ``timeout_s * threads``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelworks.engine.errors import human_bytes
from modelworks.engine.recipes.python.errors import PythonLimitsError

__all__ = ["ENV_VARIABLES", "PythonLimits", "parse_size"]

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

MIN_MEMORY_BYTES = 256 * MIB
MIN_OUTPUT_BYTES = 1 * MIB
MIN_LOG_BYTES = 4 * KIB
MAX_TIMEOUT_S = 7 * 24 * 3600.0
MAX_THREADS = 256

#: The environment variables :meth:`PythonLimits.from_env` reads, by field.
ENV_VARIABLES: Mapping[str, str] = {
    "timeout_s": "MODELWORKS_PYTHON_TIMEOUT",
    "memory_bytes": "MODELWORKS_PYTHON_MEMORY",
    "cpu_s": "MODELWORKS_PYTHON_CPU",
    "output_bytes": "MODELWORKS_PYTHON_OUTPUT_BYTES",
    "log_bytes": "MODELWORKS_PYTHON_LOG_BYTES",
    "threads": "MODELWORKS_PYTHON_THREADS",
}

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": KIB, "m": MIB, "g": GIB, "t": 1024 * GIB}


def parse_size(text: str, *, setting: str = "size") -> int:
    """Read a byte count written as ``1073741824``, ``512M``, ``512 MiB`` or ``2GiB`` (binary units).

    Raises:
        PythonLimitsError: the text is not a size.
    """
    match = _SIZE.match(text)
    if not match:
        raise PythonLimitsError(
            f"{setting} must be a size such as 2GiB, 512MiB or a number of bytes, not {text!r}",
            setting=setting,
        )
    number, unit, _ = match.groups()
    return int(float(number) * _UNITS[unit.lower()])


@dataclass(frozen=True)
class PythonLimits:
    """Limits of one Python recipe run.

    Attributes:
        timeout_s: wall-clock time after which the recipe is killed.
        memory_bytes: address-space cap of every process of the recipe (``RLIMIT_AS``).
        cpu_s: CPU-time cap per process; ``None`` means ``timeout_s * threads``.
        output_bytes: cap on each file the recipe writes and on the total of its working folder.
        log_bytes: how much of the recipe's printed output is kept (head and tail, with a marker).
        threads: thread count numeric libraries are told to use (OpenMP, BLAS, Polars, Arrow).
    """

    timeout_s: float = 900.0
    memory_bytes: int = 2 * GIB
    cpu_s: float | None = None
    output_bytes: int = 1 * GIB
    log_bytes: int = 1 * MIB
    threads: int = 2

    def __post_init__(self) -> None:
        _check_number("timeout_s", self.timeout_s, low=0.1, high=MAX_TIMEOUT_S, unit="seconds")
        if self.cpu_s is not None:
            _check_number("cpu_s", self.cpu_s, low=1.0, high=MAX_TIMEOUT_S * MAX_THREADS, unit="seconds")
        _check_integer("memory_bytes", self.memory_bytes, low=MIN_MEMORY_BYTES, size=True)
        _check_integer("output_bytes", self.output_bytes, low=MIN_OUTPUT_BYTES, size=True)
        _check_integer("log_bytes", self.log_bytes, low=MIN_LOG_BYTES, size=True)
        _check_integer("threads", self.threads, low=1, high=MAX_THREADS)

    @property
    def effective_cpu_s(self) -> int:
        """The CPU-time limit actually applied, in whole seconds."""
        seconds = self.cpu_s if self.cpu_s is not None else self.timeout_s * self.threads
        return max(1, math.ceil(seconds))

    @property
    def max_processes(self) -> int:
        """``RLIMIT_NPROC`` inside the sandbox: room for library thread pools, not for a fork bomb."""
        return 64 + 16 * self.threads

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PythonLimits:
        """Limits from ``MODELWORKS_PYTHON_*`` variables (see :data:`ENV_VARIABLES`); unset ones keep
        their default. Sizes accept ``2GiB``-style units, times are seconds.

        Raises:
            PythonLimitsError: a variable is set to something that is not a valid value.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field_name, variable in ENV_VARIABLES.items():
            raw = env.get(variable, "").strip()
            if not raw:
                continue
            if field_name.endswith("_bytes"):
                values[field_name] = parse_size(raw, setting=variable)
            elif field_name == "threads":
                values[field_name] = _parse_number(raw, variable, integer=True)
            else:
                values[field_name] = _parse_number(raw, variable, integer=False)
        return cls(**values)


def _parse_number(raw: str, variable: str, *, integer: bool) -> float | int:
    try:
        return int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number" if integer else "a number of seconds"
        raise PythonLimitsError(f"{variable} must be {kind}, not {raw!r}", setting=variable) from None


def _check_number(name: str, value: object, *, low: float, high: float, unit: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PythonLimitsError(f"Python recipe limit {name} must be a number of {unit}, not {value!r}")
    if not low <= value <= high:
        raise PythonLimitsError(
            f"Python recipe limit {name} must be between {low:g} and {high:g} {unit}, not {value:g}",
            setting=name,
            value=value,
        )


def _check_integer(
    name: str, value: object, *, low: int, high: int | None = None, size: bool = False
) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PythonLimitsError(f"Python recipe limit {name} must be a whole number, not {value!r}")
    if value < low:
        shown = human_bytes(low) if size else str(low)
        raise PythonLimitsError(
            f"Python recipe limit {name} must be at least {shown}, not {human_bytes(value) if size else value}",
            setting=name,
            value=value,
        )
    if high is not None and value > high:
        raise PythonLimitsError(
            f"Python recipe limit {name} must be at most {high}, not {value}", setting=name, value=value
        )
