"""The bubblewrap sandbox a Python recipe runs in, and the check ``modelworks check`` shows.

Inside the sandbox the recipe sees only: the system's ``/usr`` (read-only), the Python interpreter
and its site-packages (read-only), ``/recipe`` (its code, the manifest and ``modelworks_recipe.py``,
read-only), ``/inputs/input_<n>.parquet`` (its inputs, read-only), ``/work`` (its working folder,
the only writable place besides a small ``/tmp``), a fresh ``/proc`` and a minimal ``/dev``. It runs
in new user, pid, ipc, uts, cgroup and network namespaces (no network at all, not even the host's
loopback), as an unprivileged user with every capability dropped, in its own session, and dies
with the process that started it.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from modelworks.engine.recipes.python.errors import SandboxUnavailableError

__all__ = [
    "INSTALL_HINT",
    "SANDBOX_INPUTS",
    "SANDBOX_RECIPE",
    "SANDBOX_WORK",
    "PythonInstall",
    "SandboxStatus",
    "bwrap_command",
    "bwrap_isolated_command",
    "check_sandbox",
    "find_bwrap",
    "find_python",
]

BWRAP_CANDIDATES = ("/usr/bin/bwrap",)
INSTALL_HINT = "Python recipes need bubblewrap (/usr/bin/bwrap); install the Debian package 'bubblewrap'"

SANDBOX_WORK = "/work"
SANDBOX_INPUTS = "/inputs"
SANDBOX_RECIPE = "/recipe"
SANDBOX_VENV = "/opt/modelworks/python"
SANDBOX_UID = 1000
# Mount points of the sandbox itself: nothing of the host may be bound at or below them.
_RESERVED = (SANDBOX_WORK, SANDBOX_INPUTS, SANDBOX_RECIPE, "/tmp", "/proc", "/dev", "/opt/modelworks")  # noqa: S108
_SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Files of /etc that running Python needs (shared-library cache, time zone); never /etc as a whole.
_ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives")
_DEV_SHM_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class SandboxStatus:
    """Whether Python recipes can run isolated here, and a sentence saying why (not)."""

    available: bool
    detail: str


@dataclass(frozen=True)
class PythonInstall:
    """The interpreter recipes run with, described by the folders the sandbox must show.

    Attributes:
        executable: the interpreter as the platform starts it (may be a venv's ``bin/python``).
        prefix: ``sys.prefix`` (the venv, if any).
        base_prefix: ``sys.base_prefix`` (the installation holding the standard library).
        version: ``major.minor.micro``.
    """

    executable: str
    prefix: str
    base_prefix: str
    version: str


def find_bwrap() -> str | None:
    """The bubblewrap executable, or ``None`` when it is not installed."""
    for candidate in BWRAP_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("bwrap")


@functools.lru_cache(maxsize=8)
def _bwrap_options(bwrap: str) -> frozenset[str]:
    """The options this bubblewrap build knows (``--size`` and ``--disable-userns`` are recent)."""
    try:
        result = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return frozenset()
    words = (result.stdout + result.stderr).split()
    return frozenset(w for w in words if w.startswith("--"))


@functools.lru_cache(maxsize=8)
def find_python(python: str | None = None) -> PythonInstall:
    """Describe the interpreter ``python`` (default: the one running the platform).

    Raises:
        SandboxUnavailableError: ``python`` does not exist or does not run.
    """
    if python is None or os.path.abspath(python) == os.path.abspath(sys.executable):
        version = ".".join(str(v) for v in sys.version_info[:3])
        return PythonInstall(sys.executable, sys.prefix, sys.base_prefix, version)
    probe = "import json, sys; print(json.dumps([sys.prefix, sys.base_prefix, '%d.%d.%d' % sys.version_info[:3]]))"
    try:
        # The administrator's configured interpreter, asked about itself; no user code is involved.
        result = subprocess.run(
            [python, "-I", "-c", probe], capture_output=True, text=True, timeout=30, check=True
        )
        prefix, base_prefix, version = json.loads(result.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise SandboxUnavailableError(
            f"the Python interpreter configured for recipes ({python}) does not run: {exc}; "
            "check the path an administrator set for Python recipes",
            python=python,
        ) from exc
    return PythonInstall(os.path.abspath(python), str(prefix), str(base_prefix), str(version))


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _python_mounts(install: PythonInstall) -> tuple[list[str], str]:
    """bwrap arguments that show the interpreter, and its path inside the sandbox."""
    args: list[str] = []
    bound: list[str] = ["/usr"]

    def bind(source: str, dest: str) -> None:
        if any(_under(dest, b) for b in bound):
            return
        if any(_under(dest, r) or _under(r, dest) for r in _RESERVED):
            raise SandboxUnavailableError(
                f"the Python installation {source} lives under {dest}, which the recipe sandbox uses "
                "for its own folders; install Python for recipes elsewhere (e.g. under /opt or /usr)",
                path=source,
            )
        args.extend(["--ro-bind", source, dest])
        bound.append(dest)

    base_real = os.path.realpath(install.base_prefix)
    bind(base_real, base_real)
    if os.path.abspath(install.base_prefix) != base_real:
        bind(base_real, os.path.abspath(install.base_prefix))
    executable = os.path.abspath(install.executable)
    if os.path.realpath(install.prefix) != base_real:
        # A virtual environment: shown at a fixed place so it may live anywhere (even under /work).
        venv = os.path.abspath(install.prefix)
        args.extend(["--ro-bind", os.path.realpath(venv), SANDBOX_VENV])
        if _under(executable, venv):
            return args, SANDBOX_VENV + executable[len(venv) :]
    real_executable = os.path.realpath(executable)
    if not any(_under(real_executable, b) for b in bound):
        raise SandboxUnavailableError(
            f"the Python interpreter {executable} is outside its installation ({install.base_prefix}); "
            "configure an interpreter of a regular installation or virtual environment",
            path=executable,
        )
    return args, real_executable


def _system_mounts() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for folder in _SYSTEM_LINKS:
        if os.path.islink(folder):
            args.extend(["--symlink", os.readlink(folder), folder])
        elif os.path.isdir(folder):
            args.extend(["--ro-bind", folder, folder])
    for path in _ETC_FILES:
        args.extend(["--ro-bind-try", path, path])
    return args


def bwrap_command(
    bwrap: str,
    install: PythonInstall,
    *,
    env: Mapping[str, str],
    recipe_dir: Path,
    inputs: Sequence[tuple[Path, str]],
    workdir: Path,
    tmp_bytes: int,
    python_args: Sequence[str],
) -> list[str]:
    """The full ``bwrap … python …`` command line of one recipe run.

    Args:
        bwrap: the bubblewrap executable.
        install: the interpreter to run.
        env: the complete environment of the recipe (everything else is cleared).
        recipe_dir: host folder shown read-only at ``/recipe``.
        inputs: (host file, file name) pairs shown read-only at ``/inputs/<file name>``.
        workdir: host folder shown read-write at ``/work``.
        tmp_bytes: size of the ``/tmp`` tmpfs (when this bubblewrap supports ``--size``).
        python_args: arguments after the interpreter.
    """
    options = _bwrap_options(bwrap)
    args = [bwrap, "--unshare-all", "--unshare-user"]
    if "--disable-userns" in options:
        args.append("--disable-userns")
    args += ["--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    args += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "modelworks-recipe"]
    args.append("--clearenv")
    for name, value in env.items():
        args.extend(["--setenv", name, value])
    args += _system_mounts()
    python_mounts, executable = _python_mounts(install)
    args += python_mounts
    args += ["--proc", "/proc", "--dev", "/dev"]
    sized = "--size" in options
    args += (["--size", str(tmp_bytes)] if sized else []) + ["--tmpfs", "/tmp"]  # noqa: S108 - the sandbox's own tmpfs
    args += (["--size", str(_DEV_SHM_BYTES)] if sized else []) + ["--tmpfs", "/dev/shm"]  # noqa: S108 - the sandbox's own tmpfs
    args += ["--ro-bind", str(recipe_dir), SANDBOX_RECIPE, "--dir", SANDBOX_INPUTS]
    for source, file_name in inputs:
        args.extend(["--ro-bind", str(source), f"{SANDBOX_INPUTS}/{file_name}"])
    args += ["--bind", str(workdir), SANDBOX_WORK, "--chdir", SANDBOX_WORK, "--remount-ro", "/"]
    return [*args, "--", executable, *python_args]


def bwrap_isolated_command(
    bwrap: str,
    install: PythonInstall,
    *,
    env: Mapping[str, str],
    read_only: Sequence[tuple[Path, str]],
    workdir: Path,
    tmp_bytes: int,
    python_args: Sequence[str],
    hostname: str = "modelworks-model",
) -> list[str]:
    """The ``bwrap … python …`` command line of a child that is not a recipe (e.g. one loading a model).

    The same isolation as :func:`bwrap_command` (namespaces, no network, cleared environment, no
    capabilities, read-only system and interpreter, private ``/tmp``), with any read-only folders or
    files instead of ``/recipe`` and ``/inputs``.

    Args:
        bwrap: the bubblewrap executable.
        install: the interpreter to run.
        env: the complete environment of the child (everything else is cleared).
        read_only: (host path, absolute path inside the sandbox) pairs, shown read-only; each inside
            path must be a fresh name (not ``/usr``, ``/tmp``, ``/work``…).
        workdir: host folder shown read-write at ``/work`` (the child's only writable folder besides
            ``/tmp``).
        tmp_bytes: size of the ``/tmp`` tmpfs (when this bubblewrap supports ``--size``).
        python_args: arguments after the interpreter.
        hostname: the host name the child sees.

    Raises:
        SandboxUnavailableError: an inside path collides with the sandbox's own folders.
    """
    taken = ("/usr", *_SYSTEM_LINKS, "/etc", SANDBOX_WORK, "/tmp", "/proc", "/dev", "/opt/modelworks")  # noqa: S108
    for _, dest in read_only:
        if not dest.startswith("/") or any(_under(dest, t) or _under(t, dest) for t in taken):
            raise SandboxUnavailableError(f"{dest} cannot be a read-only folder of the sandbox", path=dest)
    options = _bwrap_options(bwrap)
    args = [bwrap, "--unshare-all", "--unshare-user"]
    if "--disable-userns" in options:
        args.append("--disable-userns")
    args += ["--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    args += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", hostname]
    args.append("--clearenv")
    for name, value in env.items():
        args.extend(["--setenv", name, value])
    args += _system_mounts()
    python_mounts, executable = _python_mounts(install)
    args += python_mounts
    args += ["--proc", "/proc", "--dev", "/dev"]
    sized = "--size" in options
    args += (["--size", str(tmp_bytes)] if sized else []) + ["--tmpfs", "/tmp"]  # noqa: S108 - the sandbox's own tmpfs
    args += (["--size", str(_DEV_SHM_BYTES)] if sized else []) + ["--tmpfs", "/dev/shm"]  # noqa: S108 - the sandbox's own tmpfs
    for source, dest in read_only:
        args.extend(["--ro-bind", str(source), dest])
    args += ["--bind", str(workdir), SANDBOX_WORK, "--chdir", SANDBOX_WORK, "--remount-ro", "/"]
    return [*args, "--", executable, *python_args]


def check_sandbox(python: str | None = None) -> SandboxStatus:
    """Whether Python recipes can run isolated on this machine (for ``modelworks check``).

    Starts a real, empty sandbox with the recipe interpreter, so a kernel without unprivileged user
    namespaces or a broken interpreter shows up here rather than in the first recipe.
    """
    bwrap = find_bwrap()
    if bwrap is None:
        return SandboxStatus(False, INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="modelworks-sandbox-check-") as scratch:
        try:
            command = bwrap_command(
                bwrap,
                find_python(python),
                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                recipe_dir=Path(scratch),
                inputs=(),
                workdir=Path(scratch),
                tmp_bytes=16 * 1024 * 1024,
                python_args=["-s", "-B", "-c", "import sys; print(sys.version.split()[0])"],
            )
            result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
        except SandboxUnavailableError as exc:
            return SandboxStatus(False, exc.message)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return SandboxStatus(False, f"bubblewrap ({bwrap}) could not start a sandbox: {exc}")
    if result.returncode != 0:
        reason = (result.stderr or result.stdout).strip().splitlines()
        return SandboxStatus(
            False,
            f"bubblewrap ({bwrap}) could not start a sandbox: {reason[-1] if reason else 'no message'}; "
            "unprivileged user namespaces must be enabled (sysctl kernel.unprivileged_userns_clone=1)",
        )
    detail = (
        f"bubblewrap ({bwrap}) isolates Python {result.stdout.strip()} recipes (no network, own namespaces)"
    )
    if os.geteuid() == 0:
        # The kernel exempts the real root user from RLIMIT_NPROC, even inside a user namespace.
        detail += "; Modelworks runs as root, so the process-count limit of recipes is not enforced"
    return SandboxStatus(True, detail)
