"""Batch scoring: score a Parquet file with a model in a child process, chunk by chunk.

:func:`run_batch_scoring` starts ``python -m modelworks.engine.scoring.batch`` in the bubblewrap
sandbox of :mod:`.sandbox` (the model is unpickled there, never in the caller: models are code), hands
it a JSON request on stdin, and follows its progress lines on stdout. The child reads the input in
chunks of ``chunk_rows`` rows (pyarrow), so memory stays bounded by one chunk, and writes the output
Parquet into its private folder next to ``output_path``; the platform checks it is a regular file and
renames it into place only when every row is scored: a failed, cancelled or timed-out run leaves no
partial output.

Output columns: the kept input columns (all by default), ``prediction``, one ``proba_<class>`` per
class for classifiers (class labels made safe: letters, digits and ``_``; made unique with ``_2``...),
and ``model_version``. A name already taken by a kept input column gets a ``_2`` suffix too.

Missing values: unlike a request body, a table is scored with its nulls (boosters and Lab pipelines
handle missing values); types are still checked against the signature.

Child protocol: one JSON object per stdout line: ``{"event": "progress", "fraction", "message"}``,
then ``{"event": "done", "rows", "columns", "seconds", "classes", "task"}`` or ``{"event": "error", "code", "message"}``.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from modelworks.engine.errors import human_bytes
from modelworks.engine.recipes.python.errors import SandboxUnavailableError
from modelworks.engine.recipes.python.limits import GIB, MAX_TIMEOUT_S, PythonLimits, parse_size

# The recipes' hardened folder checks: a model may leave a folder nested too deep for rmtree, or
# millions of empty files, exactly as a recipe may.
from modelworks.engine.recipes.python.process import _check_folder
from modelworks.engine.recipes.python.runner import _clear_folder
from modelworks.engine.scoring.errors import BatchScoringError, ScoringError, ScoringInputError
from modelworks.engine.scoring.sandbox import ModelChild, Sandbox, model_child

__all__ = ["BatchScoringResult", "main", "output_names", "run_batch_scoring", "score_file"]

_POLL_S = 0.1
_OUTPUT = "output.parquet"
_OOM_MARKERS = ("MemoryError", "std::bad_alloc", "Cannot allocate memory", "memory allocation of")


@dataclass
class BatchScoringResult:
    """A finished batch scoring run: rows written, output column names, wall time and the child's log.

    ``classes`` are the model's class labels in the order of the ``proba_<class>`` columns (classifiers
    scored with probabilities), ``task`` the model's task (``binary``, ``regression``…).
    """

    rows: int
    columns: list[str]
    seconds: float
    log: list[str] = field(default_factory=list)
    classes: list[str] | None = None
    task: str = ""


def output_names(kept: Sequence[str], classes: Sequence[str] | None) -> tuple[str, list[str], str]:
    """Names of ``prediction``, the ``proba_<class>`` columns and ``model_version``, safe and unique."""
    taken = set(kept)

    def unique(name: str) -> str:
        candidate, n = name, 2
        while candidate in taken:
            candidate = f"{name}_{n}"
            n += 1
        taken.add(candidate)
        return candidate

    prediction = unique("prediction")
    probas = [
        unique("proba_" + (re.sub(r"[^0-9A-Za-z_]+", "_", str(c)).strip("_") or "class"))
        for c in classes or ()
    ]
    return prediction, probas, unique("model_version")


#: Scoring's own defaults where they differ from Python recipes': loading a model maps its libraries
#: (NumPy/BLAS, scikit-learn, PyArrow…), which takes more address space than ``RLIMIT_AS``'s 2 GiB
#: recipe default leaves, and a scored table may be far larger than a recipe's 1 GiB of output.
SCORING_MEMORY_BYTES = 8 * GIB
SCORING_OUTPUT_BYTES = 64 * GIB


def scoring_limits(environ: Mapping[str, str] | None = None) -> PythonLimits:
    """The limits a sandboxed scoring child runs under.

    ``MODELWORKS_PYTHON_*`` as for Python recipes (CPU, threads…), except memory and output size:
    ``MODELWORKS_SCORING_MEMORY`` (default 8 GiB, never below the recipes' limit) and
    ``MODELWORKS_SCORING_OUTPUT_BYTES`` (default 64 GiB). Sizes accept ``8GiB``-style units.

    Raises:
        PythonLimitsError: a variable is set to something that is not a valid value.
    """
    env = os.environ if environ is None else environ
    base = PythonLimits.from_env(env)
    memory = env.get("MODELWORKS_SCORING_MEMORY", "").strip()
    output = env.get("MODELWORKS_SCORING_OUTPUT_BYTES", "").strip()
    return replace(
        base,
        memory_bytes=(
            parse_size(memory, setting="MODELWORKS_SCORING_MEMORY")
            if memory
            else max(base.memory_bytes, SCORING_MEMORY_BYTES)
        ),
        output_bytes=(
            parse_size(output, setting="MODELWORKS_SCORING_OUTPUT_BYTES")
            if output
            else max(base.output_bytes, SCORING_OUTPUT_BYTES)
        ),
    )


def run_batch_scoring(
    model_dir: Path,
    input_path: Path,
    output_path: Path,
    *,
    chunk_rows: int = 50_000,
    keep_columns: Sequence[str] | None = None,
    probabilities: bool = True,
    version_label: str = "",
    progress: Callable[[float, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    timeout_s: float = 3600.0,
    limits: PythonLimits | None = None,
    sandbox: Sandbox = "bwrap",
) -> BatchScoringResult:
    """Score the Parquet file ``input_path`` with the model folder ``model_dir`` into ``output_path``.

    The model is loaded only in the child, isolated as described in :mod:`.sandbox`: it sees the model
    folder and the input read-only and writes into a private folder next to ``output_path``.

    Args:
        model_dir: An MLflow model folder (see :meth:`ScoringModel.load`).
        input_path: The Parquet file to score.
        output_path: Where the output Parquet goes (written atomically; its folder is created).
        chunk_rows: Rows read, scored and written at a time.
        keep_columns: Input columns copied to the output (``None``: all of them).
        probabilities: Add the ``proba_<class>`` columns for classifiers.
        version_label: The ``model_version`` column's value (e.g. ``"churn/3"``).
        progress: Called with (fraction done, message) after each chunk.
        cancelled: Polled about every 0.1 s; when it returns True the child is killed.
        timeout_s: Wall-clock limit; the child is killed when it is reached (also sets the CPU-time
            limit, ``timeout_s * threads``, unless ``limits.cpu_s`` is set).
        limits: Memory, CPU and file-size limits (default: :meth:`PythonLimits.from_env`, the Python
            recipes' ``MODELWORKS_PYTHON_*`` settings); ``output_bytes`` caps the output folder.
        sandbox: ``"bwrap"`` (default). ``"none"`` runs the model unisolated (same limits and clean
            environment); never chosen automatically.

    Returns:
        The rows and columns written, the time taken and the child's log lines.

    Raises:
        BatchScoringError: The model or the input is unusable (message from the child), the run was
            cancelled (``reason="cancelled"``) or timed out (``reason="timeout"``), bubblewrap is
            missing (``reason="sandbox_unavailable"``), the output grew past its limit
            (``reason="output_too_large"``), or the child crashed (``reason="crashed"``).
    """
    if chunk_rows < 1:
        raise BatchScoringError("chunk_rows must be at least 1.", reason="invalid")
    limits = limits or scoring_limits()
    if limits.cpu_s is None and timeout_s != limits.timeout_s:
        limits = replace(limits, timeout_s=min(max(timeout_s, 1.0), MAX_TIMEOUT_S))
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    work = output_path.with_name(f".{output_path.name}.{uuid.uuid4().hex}.scoring")
    work.mkdir(mode=0o700)
    try:
        try:
            child = model_child(
                "modelworks.engine.scoring.batch",
                model_dir=Path(model_dir),
                inputs=[Path(input_path)],
                workdir=work,
                limits=limits,
                sandbox=sandbox,
            )
        except SandboxUnavailableError as exc:
            raise BatchScoringError(
                f"Batch scoring cannot start: {exc.message}.", reason="sandbox_unavailable"
            ) from exc
        request = {
            "model_dir": child.model_dir,
            "input_path": child.inputs[0],
            "output_path": f"{child.workdir}/{_OUTPUT}",
            "temp_path": f"{child.workdir}/.{_OUTPUT}.tmp",
            "chunk_rows": chunk_rows,
            "keep_columns": list(keep_columns) if keep_columns is not None else None,
            "probabilities": probabilities,
            "version_label": version_label,
            "input_name": Path(input_path).name,
        }
        final, log = _supervise(child, request, work, limits, progress, cancelled, timeout_s)
        produced = work / _OUTPUT
        try:
            regular = stat.S_ISREG(os.lstat(produced).st_mode)
        except OSError:
            regular = False
        if not regular:  # a link planted by the model would make the platform read any file
            raise BatchScoringError(
                "The batch scoring process reported success but left no regular output file; "
                "the model may be misbehaving. Check its code with its author.",
                reason="crashed",
                log=log,
            )
        os.replace(produced, output_path)
    finally:
        _clear_folder(work, keep=set())
        with contextlib.suppress(OSError):
            work.rmdir()
    classes = final.get("classes")
    return BatchScoringResult(
        int(final["rows"]),
        list(final["columns"]),
        float(final["seconds"]),
        log,
        classes=[str(c) for c in classes] if isinstance(classes, list) else None,
        task=str(final.get("task", "")),
    )


def _supervise(
    child: ModelChild,
    request: dict[str, Any],
    work: Path,
    limits: PythonLimits,
    progress: Callable[[float, str], None] | None,
    cancelled: Callable[[], bool] | None,
    timeout_s: float,
) -> tuple[dict[str, Any], list[str]]:
    """Run the child, follow its events and return its ``done`` event and log; raise on anything else."""
    started = time.monotonic()
    log: list[str] = []
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(
                child.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=child.env,
                cwd=work,
                close_fds=True,
                start_new_session=True,  # one killpg ends bwrap and everything in the sandbox
            )
        except OSError as exc:
            raise BatchScoringError(
                f"The batch scoring process could not be started: {exc}.", reason="crashed"
            ) from exc
        assert process.stdin is not None and process.stdout is not None
        lines: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
        reader.start()
        try:
            process.stdin.write(json.dumps(request).encode())
            process.stdin.close()
        except BrokenPipeError:
            pass
        final: dict[str, Any] | None = None
        checked = started
        try:
            while True:
                try:
                    line = lines.get(timeout=_POLL_S)
                except queue.Empty:
                    line = ""
                if line is None:
                    break
                if line:
                    event = _event(line)
                    if event is None:
                        log.append(line)
                    elif event.get("event") == "progress":
                        message = str(event.get("message", ""))
                        log.append(message)
                        if progress is not None:
                            progress(float(event.get("fraction", 0.0)), message)
                    elif event.get("event") in ("done", "error"):
                        final = event
                if cancelled is not None and cancelled():
                    raise BatchScoringError(
                        "Batch scoring was cancelled; no output was written.", reason="cancelled"
                    )
                now = time.monotonic()
                if now - started > timeout_s:
                    raise BatchScoringError(
                        f"Batch scoring took longer than its time limit of {timeout_s:g} s and was stopped; "
                        "no output was written. Raise the limit or score a smaller table.",
                        reason="timeout",
                    )
                if now - checked >= 1.0:
                    checked = now
                    _check_output_folder(work, limits)
            process.wait()
            _check_output_folder(work, limits)
        except BaseException:
            _kill(process)
            raise
        finally:
            reader.join(timeout=5)
        if final is None or final.get("event") != "done" or process.returncode != 0:
            if final is not None and final.get("event") == "error":
                raise BatchScoringError(
                    str(final.get("message")), reason=str(final.get("code", "failed")), log=log
                )
            errors.seek(0)
            tail = errors.read()[-2000:].decode("utf-8", "replace").strip()
            if any(marker in tail for marker in _OOM_MARKERS):
                raise BatchScoringError(
                    f"Scoring needed more memory than its limit of {human_bytes(limits.memory_bytes)}; "
                    "lower the scoring chunk size (MODELWORKS_SCORING_CHUNK_ROWS) or ask an administrator "
                    "to raise MODELWORKS_PYTHON_MEMORY.",
                    reason="out_of_memory",
                    stderr=tail,
                    log=log,
                )
            raise BatchScoringError(
                f"The batch scoring process stopped unexpectedly (exit code {process.returncode})"
                + (f": {tail.splitlines()[-1]}" if tail else "")
                + ". Check that the model's libraries are installed and the machine has enough memory.",
                reason="crashed",
                stderr=tail,
                log=log,
            )
    return final, log


def _check_output_folder(work: Path, limits: PythonLimits) -> None:
    stop = _check_folder(work, limits.output_bytes)
    if stop is not None:
        raise BatchScoringError(
            f"Batch scoring wrote more than its limit of {human_bytes(limits.output_bytes)} "
            f"({stop.value.replace('_', ' ')}) and was stopped; no output was written. Keep fewer "
            "columns, or ask an administrator to raise MODELWORKS_PYTHON_OUTPUT_BYTES.",
            reason="output_too_large",
        )


def _pump(stream: IO[bytes], lines: queue.Queue[str | None]) -> None:
    for raw in stream:
        lines.put(raw.decode("utf-8", "replace").rstrip("\n"))
    lines.put(None)


def _event(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _kill(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
    child.wait()


# ----------------------------------------------------------------------------------------------- child


def score_file(request: dict[str, Any], emit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Do the work of the child process (also callable in-process by tests); returns the ``done`` event."""
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    from modelworks.engine.scoring.model import ScoringModel

    started = time.monotonic()
    model = ScoringModel.load(Path(request["model_dir"]))
    try:
        source = pq.ParquetFile(request["input_path"])
    except (OSError, pa.ArrowInvalid) as exc:
        raise BatchScoringError(
            f"The input {request.get('input_name') or Path(request['input_path']).name!r} is not a "
            f"readable Parquet file: {exc}",
            reason="input",
        ) from exc
    names = source.schema_arrow.names
    keep = request.get("keep_columns")
    keep = list(names) if keep is None else list(keep)
    unknown = [c for c in keep if c not in names]
    if unknown:
        raise BatchScoringError(
            f"The column {unknown[0]!r} to keep is not in the input table (columns: {', '.join(names[:20])}).",
            reason="input",
        )
    classes = model.classes if request.get("probabilities", True) else None
    prediction_name, proba_names, version_name = output_names(keep, classes)
    total = source.metadata.num_rows
    temp = Path(request["temp_path"])
    writer: Any = None
    done = 0
    emit({"event": "progress", "fraction": 0.0, "message": f"Scoring {total:,} rows with {model.name}"})
    try:
        for chunk in source.iter_batches(batch_size=int(request["chunk_rows"])):
            table = pa.Table.from_batches([chunk])
            try:
                batch = model.batch_from_frame(table.to_pandas(), allow_missing=True)
            except ScoringInputError as exc:
                row = f" (row {done + exc.row + 1:,} of the table)" if exc.row is not None else ""
                raise BatchScoringError(f"{exc.message}{row}", reason=exc.code) from exc
            result = model.predict(batch)
            arrays = {name: table.column(name) for name in keep}
            arrays[prediction_name] = pa.array(result.predictions)
            if classes is not None and result.probability_matrix is not None:
                for j, name in enumerate(proba_names):
                    arrays[name] = pa.array(result.probability_matrix[:, j], type=pa.float64())
            arrays[version_name] = pa.array([request.get("version_label", "")] * len(table), type=pa.string())
            out = pa.table(arrays)
            if writer is None:
                writer = pq.ParquetWriter(str(temp), out.schema)
            else:
                out = out.cast(writer.schema)
            writer.write_table(out)
            done += len(table)
            emit(
                {
                    "event": "progress",
                    "fraction": done / total if total else 1.0,
                    "message": f"{done:,} of {total:,} rows scored",
                }
            )
        if writer is None:  # an empty table: write the empty output with the right columns
            empty = {name: pa.array([], type=source.schema_arrow.field(name).type) for name in keep}
            empty[prediction_name] = pa.array([], type=pa.string())
            for name in proba_names:
                empty[name] = pa.array([], type=pa.float64())
            empty[version_name] = pa.array([], type=pa.string())
            writer = pq.ParquetWriter(str(temp), pa.table(empty).schema)
            writer.write_table(pa.table(empty))
        columns = list(writer.schema.names)
        writer.close()
        os.replace(temp, request["output_path"])
    except BaseException:
        if writer is not None:
            writer.close()
        temp.unlink(missing_ok=True)
        raise
    return {
        "event": "done",
        "rows": done,
        "columns": columns,
        "seconds": time.monotonic() - started,
        "classes": list(classes) if classes is not None else None,
        "task": model.task,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m modelworks.engine.scoring.batch [request-json]`` (else JSON on stdin)."""
    args = list(sys.argv[1:] if argv is None else argv)

    def emit(event: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()

    try:
        request = json.loads(args[0] if args else sys.stdin.read())
        emit(score_file(request, emit))
    except BatchScoringError as exc:
        emit({"event": "error", "code": exc.reason, "message": exc.message})
        return 1
    except ScoringError as exc:
        emit({"event": "error", "code": exc.code, "message": exc.message})
        return 1
    except Exception as exc:  # report anything else as one line the parent can show
        emit(
            {
                "event": "error",
                "code": "failed",
                "message": f"Batch scoring failed: {type(exc).__name__}: {exc}",
            }
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
