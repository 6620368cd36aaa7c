"""Run a Python recipe in its own process, isolated, within limits, and check what it wrote.

The platform never runs the recipe's code itself: it writes the code, a manifest and the
``modelworks_recipe`` module to a private folder, starts ``prlimit … bwrap … python`` (see
:mod:`.sandbox`), drains the output into a capped log, enforces the wall-clock timeout, the working
folder's size and cancellation from this side, then reads the status the recipe wrote and validates
every output Parquet file before handing it back. Whatever else the recipe left in its working
folder is removed before returning, without recursion: a recipe may leave folders nested thousands
of levels deep, which ``shutil.rmtree`` (and so the caller's ``TemporaryDirectory``) cannot remove.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from modelworks.engine.errors import human_bytes
from modelworks.engine.recipes.python import sandbox as sb
from modelworks.engine.recipes.python.errors import (
    PythonOutputError,
    PythonOutputTooLargeError,
    PythonRecipeError,
    SandboxUnavailableError,
)
from modelworks.engine.recipes.python.limits import PythonLimits
from modelworks.engine.recipes.python.process import RecipeProcess, diagnose

__all__ = ["MAX_CODE_BYTES", "PythonRecipeResult", "recipe_template", "run_python_recipe"]

MAX_CODE_BYTES = 1024 * 1024
# Same name as recipe_api.MANIFEST_ENV; that module is never imported by the platform (it reads the
# manifest when imported), only copied into the sandbox.
MANIFEST_ENV = "MODELWORKS_RECIPE_MANIFEST"
STATUS_FILE = ".modelworks-status.json"
MAX_STATUS_BYTES = 256 * 1024
_BOOTSTRAP = "import modelworks_recipe as _recipe; raise SystemExit(_recipe._main())"
_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_MAX_THREADS",
    "POLARS_MAX_THREADS",
    "RAYON_NUM_THREADS",
)


@dataclass(frozen=True)
class PythonRecipeResult:
    """What a successful run produced.

    Attributes:
        outputs: output name → Parquet file in the working folder (validated).
        rows: output name → row count.
        log: what the recipe printed (stdout and stderr interleaved, capped with a marker).
        duration_s: wall-clock time of the run.
        peak_memory_bytes: largest resident memory of the recipe's processes, when known.
    """

    outputs: dict[str, Path]
    rows: dict[str, int]
    log: str
    duration_s: float
    peak_memory_bytes: int | None = None


def run_python_recipe(
    code: str,
    *,
    inputs: Mapping[str, Path],
    outputs: Sequence[str],
    workdir: Path,
    limits: PythonLimits | None = None,
    cancelled: Callable[[], bool] | None = None,
    python: str | None = None,
    sandbox: Literal["bwrap", "none"] = "bwrap",
    recipe: str | None = None,
) -> PythonRecipeResult:
    """Run ``code`` isolated over ``inputs`` and return the outputs it wrote.

    Args:
        code: the recipe's Python source; it reads ``modelworks_recipe.inputs`` and writes
            ``modelworks_recipe.outputs``.
        inputs: input dataset name (as users see it) → its Parquet file. Names are only keys: the
            files appear in the sandbox as ``/inputs/input_<n>.parquet``.
        outputs: output dataset names the recipe must write, each exactly once.
        workdir: the run's own folder (created if needed), writable by the recipe (its ``/work``
            and ``HOME``); outputs are written there as ``output_<n>.parquet``.
        limits: resource limits (default :class:`PythonLimits`).
        cancelled: polled about five times a second; when it returns true the recipe is killed.
        python: the interpreter to use (default: the platform's own).
        sandbox: ``"bwrap"`` (default) isolates the recipe. ``"none"`` runs it as a plain child
            process with the same limits and clean environment but **no isolation**: it can read
            every file the platform can and reach the network. Only for administrators who accept
            that risk on a machine without bubblewrap; never chosen automatically.
        recipe: the recipe's name, used in messages.

    Returns:
        The validated outputs, their row counts, the log and timings.

    Raises:
        SandboxUnavailableError: bubblewrap is missing or cannot start a sandbox.
        PythonSyntaxError, PythonUserCodeError, PythonOutputError, PythonOutOfMemoryError,
        PythonTimeoutError, PythonOutputTooLargeError, PythonKilledError, PythonCancelledError:
        see :mod:`.errors`; each carries the log in ``details["log"]``.
    """
    limits = limits or PythonLimits()
    who = f"Python recipe {recipe!r}" if recipe else "the Python recipe"
    _check_arguments(code, inputs, outputs, sandbox, who)
    bwrap = None
    if sandbox == "bwrap":
        bwrap = sb.find_bwrap()
        if bwrap is None:
            raise SandboxUnavailableError(sb.INSTALL_HINT)
    install = sb.find_python(python)
    workdir = Path(os.path.realpath(workdir))
    workdir.mkdir(parents=True, exist_ok=True)
    output_files = {name: f"output_{n}.parquet" for n, name in enumerate(outputs)}
    input_files = {name: f"input_{n}.parquet" for n, name in enumerate(inputs)}
    for file_name in [*output_files.values(), STATUS_FILE]:
        (workdir / file_name).unlink(missing_ok=True)

    staging = Path(tempfile.mkdtemp(prefix="modelworks-recipe-"))
    kept: set[str] = set()
    try:
        if bwrap is not None:
            roots = (sb.SANDBOX_RECIPE, sb.SANDBOX_WORK)
            input_paths = {name: f"{sb.SANDBOX_INPUTS}/{input_files[name]}" for name in inputs}
        else:
            roots = (str(staging), str(workdir))
            input_paths = {name: str(Path(path).resolve()) for name, path in inputs.items()}
        recipe_root, work_root = roots
        _stage(
            staging,
            code,
            {
                "recipe_path": f"{recipe_root}/recipe.py",
                "status_path": f"{work_root}/{STATUS_FILE}",
                "inputs": input_paths,
                "outputs": {name: f"{work_root}/{file_name}" for name, file_name in output_files.items()},
                # RLIMIT_NPROC counts per user: only meaningful in the sandbox's own user namespace.
                "max_processes": limits.max_processes if bwrap else None,
            },
        )
        env = _recipe_environment(limits, recipe_root=recipe_root, work_root=work_root)
        python_args = ["-s", "-B", "-c", _BOOTSTRAP]
        if bwrap is not None:
            command = sb.bwrap_command(
                bwrap,
                install,
                env=env,
                recipe_dir=staging,
                inputs=[(Path(inputs[name]).resolve(), input_files[name]) for name in inputs],
                workdir=workdir,
                tmp_bytes=limits.output_bytes,
                python_args=python_args,
            )
            # bwrap starts from a cleared environment anyway; prlimit and bwrap get nothing either.
            process_env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        else:
            command = [install.executable, *python_args]
            process_env = env
        process = RecipeProcess(
            _prlimit(limits) + command, env=process_env, cwd=workdir, log_bytes=limits.log_bytes
        )
        outcome = process.supervise(
            timeout_s=limits.timeout_s, cancelled=cancelled, folder=workdir, folder_bytes=limits.output_bytes
        )
        status = diagnose(
            outcome, _read_status(workdir / STATUS_FILE), limits=limits, who=who, sandboxed=bwrap is not None
        )
        paths = {name: workdir / file_name for name, file_name in output_files.items()}
        common = {"log": outcome.log, "duration_s": round(outcome.duration_s, 3)}
        rows = _validate_outputs(paths, limits, who, common)
        kept = set(output_files.values())
        peak = status.get("peak_memory_bytes")
        return PythonRecipeResult(
            outputs=paths,
            rows=rows,
            log=outcome.log,
            duration_s=outcome.duration_s,
            peak_memory_bytes=peak if isinstance(peak, int) and peak > 0 else None,
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        _clear_folder(workdir, keep=kept)


def _clear_folder(folder: Path, *, keep: set[str]) -> None:
    """Remove everything in ``folder`` but the top-level names in ``keep``, best effort.

    Each sub-folder found is first moved up to ``folder`` itself, so the tree gets flat as it is
    emptied: no recursion, no path longer than two names and two open folders at a time, however
    deep the recipe nested its folders. Links are removed, never followed; folders the recipe made
    unreadable are made readable first. The recipe has ended: nothing changes the tree meanwhile.
    """
    with contextlib.suppress(OSError):
        root = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            pending = [name for name in os.listdir(root) if name not in keep]
            moved = 0
            while pending:
                name = pending.pop()
                try:
                    mode = os.stat(name, dir_fd=root, follow_symlinks=False).st_mode
                except FileNotFoundError:
                    continue
                if not stat.S_ISDIR(mode):
                    os.unlink(name, dir_fd=root)
                    continue
                os.chmod(name, 0o700, dir_fd=root)  # a real folder (lstat above), not a link
                current = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=root)
                try:
                    for child in os.listdir(current):
                        child_mode = os.stat(child, dir_fd=current, follow_symlinks=False).st_mode
                        if not stat.S_ISDIR(child_mode):
                            os.unlink(child, dir_fd=current)
                            continue
                        while True:
                            moved += 1
                            target = f".mw-clear-{moved}"
                            try:
                                os.stat(target, dir_fd=root, follow_symlinks=False)
                            except FileNotFoundError:
                                break
                        os.rename(child, target, src_dir_fd=current, dst_dir_fd=root)
                        pending.append(target)
                finally:
                    os.close(current)
                os.rmdir(name, dir_fd=root)
        finally:
            os.close(root)


def _stage(staging: Path, code: str, manifest: Mapping[str, Any]) -> None:
    """Write what ``/recipe`` holds: the code, the manifest and the ``modelworks_recipe`` module."""
    (staging / "recipe.py").write_text(code, encoding="utf-8")
    shutil.copyfile(Path(__file__).with_name("recipe_api.py"), staging / "modelworks_recipe.py")
    (staging / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _check_arguments(
    code: str, inputs: Mapping[str, Path], outputs: Sequence[str], sandbox: str, who: str
) -> None:
    if sandbox not in ("bwrap", "none"):
        raise PythonRecipeError(f"sandbox must be 'bwrap' or 'none', not {sandbox!r}")
    if not isinstance(code, str) or not code.strip():
        raise PythonRecipeError(
            f"{who} has no code; write the Python that reads its inputs and writes its outputs"
        )
    try:
        size = len(code.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise PythonRecipeError(
            f"the code of {who} contains a character that is not valid text (position {exc.start}); "
            "retype that part of the code"
        ) from None
    if size > MAX_CODE_BYTES:
        raise PythonRecipeError(
            f"the code of {who} is larger than {human_bytes(MAX_CODE_BYTES)}; move data out of the code "
            "into an input dataset"
        )
    if not outputs:
        raise PythonOutputError(f"{who} has no output; add an output dataset for it to write")
    seen: set[str] = set()
    for name in outputs:
        if not isinstance(name, str) or not name:
            raise PythonOutputError(f"{who} has an output with an empty name")
        if name in seen:
            raise PythonOutputError(f"{who} lists output {name!r} twice")
        seen.add(name)
    for name, path in inputs.items():
        if not Path(path).is_file():
            raise PythonRecipeError(
                f"input {name!r} of {who} has no data file ({path}); build the dataset first", input=name
            )


def _recipe_environment(limits: PythonLimits, *, recipe_root: str, work_root: str) -> dict[str, str]:
    """The recipe's whole environment: nothing of the platform's (no secrets, no database URL)."""
    threads = str(limits.threads)
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": work_root,
        "TMPDIR": "/tmp",  # noqa: S108 - a private tmpfs inside the sandbox
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "USER": "recipe",
        "LOGNAME": "recipe",
        "PYTHONPATH": recipe_root,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
        # glibc gives each thread its own 64 MiB arena of address space; RLIMIT_AS would feel it.
        "MALLOC_ARENA_MAX": "2",
        MANIFEST_ENV: f"{recipe_root}/manifest.json",
    }
    env.update(dict.fromkeys(_THREAD_VARIABLES, threads))
    return env


def _prlimit(limits: PythonLimits) -> list[str]:
    """``prlimit`` applies the limits to bwrap and everything it starts (no ``preexec_fn``, which
    is unsafe in the threaded build runner)."""
    prlimit = shutil.which("prlimit") or "/usr/bin/prlimit"
    if not os.access(prlimit, os.X_OK):
        raise SandboxUnavailableError(
            "Python recipes need prlimit to apply their resource limits; install the Debian package 'util-linux'"
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


def _read_status(path: Path) -> dict[str, Any] | None:
    """The status the recipe wrote; never followed through a symlink the recipe may have planted,
    and only from a regular file (opening a FIFO it planted there would wait forever for a writer)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            status = json.loads(handle.read(MAX_STATUS_BYTES))
    except (OSError, ValueError):
        return None
    return status if isinstance(status, dict) else None


def _validate_outputs(
    paths: Mapping[str, Path], limits: PythonLimits, who: str, common: Mapping[str, Any]
) -> dict[str, int]:
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    rows: dict[str, int] = {}
    total = 0
    for name, path in paths.items():
        if path.is_symlink():
            raise PythonOutputError(
                f"output {name!r} of {who} was replaced by a link; write it with outputs[{name!r}].write(df)",
                output=name,
                **common,
            )
        if not path.is_file():
            raise PythonOutputError(
                f"{who} did not write output {name!r}; call outputs[{name!r}].write(df)",
                output=name,
                **common,
            )
        size = path.stat().st_size
        total += size
        if total > limits.output_bytes:
            raise PythonOutputTooLargeError(
                f"the outputs of {who} are larger than the limit of {human_bytes(limits.output_bytes)}; "
                "write fewer rows or columns, or ask an administrator to raise MODELWORKS_PYTHON_OUTPUT_BYTES",
                output=name,
                limit=limits.output_bytes,
                **common,
            )
        try:
            metadata = pq.read_metadata(path)
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise PythonOutputError(
                f"output {name!r} of {who} is not a readable Parquet file ({exc}); write it with "
                f"outputs[{name!r}].write(df) rather than to the file directly",
                output=name,
                **common,
            ) from exc
        if int(metadata.num_columns) < 1:
            raise PythonOutputError(f"output {name!r} of {who} has no columns", output=name, **common)
        rows[name] = int(metadata.num_rows)
    return rows


def recipe_template(inputs: list[str], outputs: list[str]) -> str:
    """The starting code of a new Python recipe with these inputs and outputs."""
    first_in = inputs[0] if inputs else "my_input"
    lines = [
        "from modelworks_recipe import inputs, outputs",
        "",
        f"df = inputs[{first_in!r}].pandas()  # or .polars(), .arrow(), .batches() for large data",
        "",
        "# transform df here",
        "",
    ]
    lines += [f"outputs[{name!r}].write(df)" for name in outputs] or ["outputs['my_output'].write(df)"]
    return "\n".join(lines) + "\n"
