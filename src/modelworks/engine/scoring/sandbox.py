"""The isolated child process a model is loaded in: models are code (a pickle runs its author's code).

:func:`model_child` builds the command line of ``python -m <module>`` run in the bubblewrap sandbox
Python recipes use (:mod:`modelworks.engine.recipes.python.sandbox`), under the same resource limits
(:class:`~modelworks.engine.recipes.python.PythonLimits`, applied with ``prlimit``). The child sees:

* ``/models/<folder name>``: the model folder, read-only;
* ``/inputs/input_<n><suffix>``: its input files, read-only;
* ``/code/modelworks``: the package's ``__init__`` and ``engine`` (no Django app, no settings),
  read-only (``PYTHONPATH=/code``);
* ``/work``: its working folder, the only writable place besides a small private ``/tmp``;
* the system's ``/usr`` and the interpreter, read-only; nothing else of the host's files;

with a cleared environment (no platform secret, no database URL), no network at all (not even the
host's loopback) and an unprivileged user. Without bubblewrap the policy is the Python recipes':
refuse, unless the caller explicitly asks for ``sandbox="none"`` (same limits and clean environment,
no isolation), which is never chosen automatically.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import modelworks
from modelworks.engine.recipes.python import sandbox as sb
from modelworks.engine.recipes.python.errors import SandboxUnavailableError
from modelworks.engine.recipes.python.limits import PythonLimits

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "SANDBOX_CODE",
    "SANDBOX_INPUTS",
    "SANDBOX_MODEL",
    "FrameScores",
    "ModelChild",
    "Sandbox",
    "model_child",
    "score_frame",
]

Sandbox = Literal["bwrap", "none"]
SANDBOX_MODEL = "/models"
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")
SANDBOX_INPUTS = "/inputs"
SANDBOX_CODE = "/code"
INSTALL_HINT = (
    "Models are code, so Modelworks scores them only in the bubblewrap sandbox Python recipes use, "
    "and bubblewrap (/usr/bin/bwrap) is not installed; install the Debian package 'bubblewrap'"
)
_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_MAX_THREADS",
    "POLARS_MAX_THREADS",
    "RAYON_NUM_THREADS",
)


@dataclass(frozen=True)
class ModelChild:
    """How to start the child, and the paths it must be told (as it sees them).

    Attributes:
        command: the full command line (``prlimit … bwrap … python -s -B -m <module>``).
        env: the environment of the started process (nothing of the platform's).
        model_dir: the model folder, inside the child.
        inputs: each input file, inside the child, in the order given.
        workdir: the writable working folder, inside the child.
        sandboxed: whether the child is isolated (``False`` only with ``sandbox="none"``).
    """

    command: list[str]
    env: dict[str, str]
    model_dir: str
    inputs: list[str]
    workdir: str
    sandboxed: bool


def model_child(
    module: str,
    *,
    model_dir: Path,
    inputs: Sequence[Path],
    workdir: Path,
    limits: PythonLimits,
    sandbox: Sandbox = "bwrap",
) -> ModelChild:
    """The command line running ``python -m module`` isolated over ``model_dir`` and ``inputs``.

    Args:
        module: a module of ``modelworks.engine`` to run (e.g. ``modelworks.engine.scoring.batch``), or
            a Django-free module elsewhere in the package (shown alone, e.g. ``modelworks.lab.scoring``).
        model_dir: the model folder (shown read-only).
        inputs: files the child reads (shown read-only).
        workdir: an existing host folder, the child's only writable one.
        limits: memory, CPU time and file-size limits (the wall-clock limit is the caller's to enforce).
        sandbox: ``"bwrap"`` (default); ``"none"`` only for an administrator who accepts running
            models unisolated on a machine without bubblewrap.

    Raises:
        SandboxUnavailableError: bubblewrap or prlimit is missing, or the interpreter cannot be shown.
    """
    if sandbox not in ("bwrap", "none"):
        raise SandboxUnavailableError(f"sandbox must be 'bwrap' or 'none', not {sandbox!r}")
    install = sb.find_python(None)
    package = Path(modelworks.__file__).resolve().parent
    parts = module.split(".")
    module_file = package.parent.joinpath(*parts[:-1], parts[-1] + ".py")
    if parts[0] != "modelworks" or not all(p.isidentifier() for p in parts) or not module_file.is_file():
        raise SandboxUnavailableError(f"{module} is not a module of the modelworks package")
    prlimit = _prlimit(limits)
    python_args = ["-s", "-B", "-m", module]
    if sandbox == "none":
        return ModelChild(
            command=[*prlimit, install.executable, *python_args],
            env=_environment(limits, code_root=str(package.parent), home=str(workdir), tmp=None),
            model_dir=str(model_dir),
            inputs=[str(path) for path in inputs],
            workdir=str(workdir),
            sandboxed=False,
        )
    bwrap = sb.find_bwrap()
    if bwrap is None:
        raise SandboxUnavailableError(INSTALL_HINT)
    inside = [f"{SANDBOX_INPUTS}/input_{n}{Path(path).suffix}" for n, path in enumerate(inputs)]
    # The folder keeps its name inside (messages and the progress line name the model by it).
    name = Path(model_dir).resolve().name
    model_inside = f"{SANDBOX_MODEL}/{name if _SAFE_NAME.fullmatch(name) else 'model'}"
    read_only = [
        (Path(model_dir).resolve(), model_inside),
        # Only the engine (no Django, no settings file) and the package's own __init__.
        (package / "__init__.py", f"{SANDBOX_CODE}/modelworks/__init__.py"),
        (package / "engine", f"{SANDBOX_CODE}/modelworks/engine"),
        # A module outside the engine (e.g. the what-if child) alone, in a namespace package.
        *(
            [(module_file, f"{SANDBOX_CODE}/{'/'.join(parts)}.py")]
            if parts[:2] != ["modelworks", "engine"]
            else []
        ),
        *((Path(path).resolve(), dest) for path, dest in zip(inputs, inside, strict=True)),
    ]
    command = sb.bwrap_isolated_command(
        bwrap,
        install,
        env=_environment(limits, code_root=SANDBOX_CODE, home="/tmp", tmp="/tmp"),  # noqa: S108 - private tmpfs
        read_only=read_only,
        workdir=workdir,
        tmp_bytes=min(limits.output_bytes, 256 * 1024 * 1024),
        python_args=python_args,
    )
    return ModelChild(
        # prlimit and bwrap get nothing of the platform's environment either.
        command=[*prlimit, *command],
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        model_dir=model_inside,
        inputs=inside,
        workdir=sb.SANDBOX_WORK,
        sandboxed=True,
    )


@dataclass(frozen=True)
class FrameScores:
    """What :func:`score_frame` returns: one prediction per row, and for classifiers the class labels
    with a probability matrix (rows x classes, in ``classes`` order) when the model gives them."""

    predictions: list[Any]
    classes: list[str] | None
    probabilities: np.ndarray[Any, Any] | None
    task: str


def score_frame(
    model_dir: Path,
    frame: pd.DataFrame,
    *,
    timeout_s: float = 3600.0,
    limits: PythonLimits | None = None,
    sandbox: Sandbox = "bwrap",
) -> FrameScores:
    """Predictions of the model in ``model_dir`` for ``frame``, computed by sandboxed batch scoring.

    For platform code that only needs predictions (back-tests, retraining's comparison): the frame
    goes to a private Parquet file, :func:`~modelworks.engine.scoring.batch.run_batch_scoring` scores
    it in the sandbox and the predictions are read back. Nothing of the model runs in the caller.

    Raises:
        BatchScoringError: the model cannot be loaded, does not fit the frame's columns, or the
            sandbox is unavailable (the message says which and what to do).
    """
    import tempfile

    import numpy as np
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    from modelworks.engine.scoring.batch import run_batch_scoring
    from modelworks.engine.scoring.errors import BatchScoringError

    with tempfile.TemporaryDirectory(prefix="modelworks-score-frame-") as scratch:
        source = Path(scratch) / "rows.parquet"
        try:
            frame.reset_index(drop=True).to_parquet(source, index=False)
        except Exception as exc:  # pyarrow raises several types for values it cannot store
            raise BatchScoringError(
                f"The rows to score cannot be handed to the model: {type(exc).__name__}: {exc}",
                reason="input",
            ) from exc
        result = run_batch_scoring(
            model_dir,
            source,
            Path(scratch) / "out" / "scored.parquet",
            keep_columns=[],
            probabilities=True,
            timeout_s=timeout_s,
            limits=limits,
            sandbox=sandbox,
        )
        table = pq.read_table(Path(scratch) / "out" / "scored.parquet")
    names = table.column_names  # prediction, proba_<class>… (in ``classes`` order), model_version
    predictions = table.column(names[0]).to_pylist()
    classes = result.classes
    probabilities = None
    if classes and len(names) == len(classes) + 2:
        probabilities = np.column_stack(
            [table.column(name).to_numpy(zero_copy_only=False) for name in names[1:-1]]
        ).astype(np.float64)
    return FrameScores(predictions, classes, probabilities, result.task)


def _environment(limits: PythonLimits, *, code_root: str, home: str, tmp: str | None) -> dict[str, str]:
    """The child's whole environment: no platform secret, no database URL, no tracking server."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "USER": "model",
        "LOGNAME": "model",
        "PYTHONPATH": code_root,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONNOUSERSITE": "1",
        "MPLBACKEND": "Agg",
        "MLFLOW_TRACKING_URI": "file:///nonexistent",  # the child never talks to a tracking server
        # glibc gives each thread its own 64 MiB arena of address space; RLIMIT_AS would feel it.
        "MALLOC_ARENA_MAX": "2",
    }
    if tmp is not None:
        env["TMPDIR"] = tmp
    env.update(dict.fromkeys(_THREAD_VARIABLES, str(limits.threads)))
    return env


def _prlimit(limits: PythonLimits) -> list[str]:
    """The same limits as Python recipes, applied by ``prlimit`` to the child and all it starts."""
    prlimit = shutil.which("prlimit") or "/usr/bin/prlimit"
    if not Path(prlimit).is_file():
        raise SandboxUnavailableError(
            "scoring a model needs prlimit to apply its resource limits; install the Debian package 'util-linux'"
        )
    cpu = limits.effective_cpu_s
    return [
        prlimit,
        f"--as={limits.memory_bytes}:{limits.memory_bytes}",
        f"--cpu={cpu}:{cpu + 5}",
        f"--fsize={limits.output_bytes}:{limits.output_bytes}",
        "--nofile=1024:1024",
        "--core=0:0",
        "--",
    ]
