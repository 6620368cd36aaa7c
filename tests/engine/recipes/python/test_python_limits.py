"""Python recipe limits: validation, defaults, and how administrators set them through the environment."""

from __future__ import annotations

import pytest

from modelworks.engine.recipes.python import PythonLimits, PythonLimitsError, parse_size

GIB = 1024**3
MIB = 1024**2


def test_defaults() -> None:
    limits = PythonLimits()
    assert (limits.timeout_s, limits.memory_bytes, limits.output_bytes, limits.log_bytes, limits.threads) == (
        900.0,
        2 * GIB,
        1 * GIB,
        1 * MIB,
        2,
    )
    assert limits.cpu_s is None
    assert limits.effective_cpu_s == 1800  # the threads' CPU time adds up
    assert PythonLimits(timeout_s=10, cpu_s=3.2).effective_cpu_s == 4
    assert PythonLimits(threads=4).max_processes == 128


BAD_LIMITS = [
    pytest.param(
        {"timeout_s": 0}, r"timeout_s must be between 0\.1 and 604800 seconds, not 0", id="zero-timeout"
    ),
    pytest.param({"timeout_s": -5}, r"timeout_s must be between", id="negative-timeout"),
    pytest.param({"timeout_s": float("nan")}, r"timeout_s must be a number of seconds", id="nan-timeout"),
    pytest.param({"timeout_s": "60"}, r"timeout_s must be a number of seconds, not '60'", id="text-timeout"),
    pytest.param({"cpu_s": 0.5}, r"cpu_s must be between 1 and", id="tiny-cpu"),
    pytest.param(
        {"memory_bytes": 100 * MIB},
        r"memory_bytes must be at least 256\.0 MiB, not 100\.0 MiB",
        id="tiny-memory",
    ),
    pytest.param({"memory_bytes": 2.5 * GIB}, r"memory_bytes must be a whole number", id="float-memory"),
    pytest.param({"memory_bytes": True}, r"memory_bytes must be a whole number, not True", id="bool-memory"),
    pytest.param({"output_bytes": 1000}, r"output_bytes must be at least 1\.0 MiB", id="tiny-output"),
    pytest.param({"log_bytes": 10}, r"log_bytes must be at least 4\.0 KiB", id="tiny-log"),
    pytest.param({"threads": 0}, r"threads must be at least 1, not 0", id="no-threads"),
    pytest.param({"threads": 1000}, r"threads must be at most 256, not 1000", id="too-many-threads"),
]


@pytest.mark.parametrize(("values", "message"), BAD_LIMITS)
def test_bad_limits_are_refused(values: dict[str, object], message: str) -> None:
    with pytest.raises(PythonLimitsError, match=message):
        PythonLimits(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1073741824", GIB),
        ("2GiB", 2 * GIB),
        ("512M", 512 * MIB),
        ("512 MiB", 512 * MIB),
        ("1.5g", 3 * GIB // 2),
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_limits_from_the_environment() -> None:
    environ = {
        "MODELWORKS_PYTHON_TIMEOUT": "120",
        "MODELWORKS_PYTHON_MEMORY": "4GiB",
        "MODELWORKS_PYTHON_OUTPUT_BYTES": "512MiB",
        "MODELWORKS_PYTHON_THREADS": "4",
        "MODELWORKS_PYTHON_CPU": "",
        "DATABASE_URL": "ignored",
    }
    limits = PythonLimits.from_env(environ)
    assert limits == PythonLimits(timeout_s=120, memory_bytes=4 * GIB, output_bytes=512 * MIB, threads=4)
    assert PythonLimits.from_env({}) == PythonLimits()


BAD_ENVIRONMENTS = [
    pytest.param(
        {"MODELWORKS_PYTHON_MEMORY": "lots"},
        r"MODELWORKS_PYTHON_MEMORY must be a size such as 2GiB",
        id="size",
    ),
    pytest.param(
        {"MODELWORKS_PYTHON_THREADS": "2.5"},
        r"MODELWORKS_PYTHON_THREADS must be a whole number",
        id="threads",
    ),
    pytest.param(
        {"MODELWORKS_PYTHON_TIMEOUT": "1h"},
        r"MODELWORKS_PYTHON_TIMEOUT must be a number of seconds",
        id="time",
    ),
    pytest.param(
        {"MODELWORKS_PYTHON_MEMORY": "1M"}, r"memory_bytes must be at least 256\.0 MiB", id="too-small"
    ),
]


@pytest.mark.parametrize(("environ", "message"), BAD_ENVIRONMENTS)
def test_bad_environment_values_name_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(PythonLimitsError, match=message):
        PythonLimits.from_env(environ)
