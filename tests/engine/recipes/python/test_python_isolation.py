"""What the sandbox keeps a Python recipe from: secrets, other files, the network, and unbounded resources.

Each test runs real user code in a real bubblewrap sandbox and asserts from both sides: what the
recipe could observe (its log) and what the platform saw (errors, leftover processes, connections).
"""

from __future__ import annotations

import json
import os
import socket
import textwrap
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

import modelworks
from modelworks.engine.recipes.python import (
    PythonCancelledError,
    PythonKilledError,
    PythonLimits,
    PythonOutOfMemoryError,
    PythonOutputTooLargeError,
    PythonRecipeResult,
    PythonTimeoutError,
    SandboxUnavailableError,
    check_sandbox,
)
from modelworks.engine.recipes.python import sandbox as sandbox_module

RunRecipe = Callable[..., PythonRecipeResult]
MIB = 1024 * 1024
WRITE_INPUT = "from modelworks_recipe import inputs, outputs\noutputs['flights_prepared'].write(inputs['flights'].arrow())\n"


def _code(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def _report(result: PythonRecipeResult) -> dict[str, object]:
    """The JSON object the recipe printed on a line starting with ``REPORT``."""
    line = next(line for line in result.log.splitlines() if line.startswith("REPORT "))
    report: dict[str, object] = json.loads(line.removeprefix("REPORT "))
    return report


def test_the_sandbox_is_available_here() -> None:
    status = check_sandbox()
    assert status.available, status.detail
    assert "bubblewrap" in status.detail


def test_platform_secrets_never_reach_the_recipe(run: RunRecipe, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {
        "DATABASE_URL": "postgres://modelworks:hunter2@db/modelworks",
        "MODELWORKS_SECRET_KEY": "django-insecure-" + uuid.uuid4().hex,
        "AWS_SECRET_ACCESS_KEY": "aws-" + uuid.uuid4().hex,
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    code = (
        _code(
            """
        import glob, json, os
        environs = []
        for path in glob.glob("/proc/[0-9]*/environ"):
            try:
                environs.append(open(path, "rb").read().decode(errors="replace"))
            except OSError:
                pass
        print("REPORT " + json.dumps({"env": dict(os.environ), "proc": environs}))
        """
        )
        + WRITE_INPUT
    )
    report = _report(run(code))
    env = report["env"]
    assert isinstance(env, dict)
    assert not set(secrets) & set(env)
    everything = json.dumps(report)
    for value in secrets.values():
        assert value not in everything
    assert env["HOME"] == "/work"
    assert env["OMP_NUM_THREADS"] == env["POLARS_MAX_THREADS"] == "2"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"


def test_other_projects_files_are_invisible(
    run: RunRecipe, tmp_path: Path, flights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("MODELWORKS_HOME", str(home))
    mine = home / "projects" / "mine" / "flights.parquet"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(flights.read_bytes())
    neighbour = mine.parent / "salaries.parquet"
    other_project = home / "projects" / "other" / "customers.parquet"
    elsewhere = tmp_path / "other-project" / "secret.csv"
    for path in (neighbour, other_project, elsewhere):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("secret")
    platform_code = Path(modelworks.__file__)
    probes = [str(p) for p in (mine, neighbour, other_project, elsewhere, home, platform_code, "/etc/passwd")]
    assert all(Path(p).exists() for p in probes)
    code = (
        _code(
            f"""
        import json, os
        seen = {{}}
        for path in {probes!r}:
            try:
                seen[path] = os.listdir(path) if os.path.isdir(path) else open(path, "rb").read(10).decode()
            except OSError as exc:
                seen[path] = type(exc).__name__
        writes = {{}}
        for path in ("/inputs/input_0.parquet", "/usr/lib/evil.py", "/evil", "/recipe/recipe.py"):
            try:
                open(path, "ab").close()
                writes[path] = "written"
            except OSError as exc:
                writes[path] = type(exc).__name__
        print("REPORT " + json.dumps({{"seen": seen, "writes": writes, "inputs": os.listdir("/inputs")}}))
        """
        )
        + WRITE_INPUT
    )
    report = _report(run(code, inputs={"flights": mine}))
    assert report["seen"] == dict.fromkeys(probes, "FileNotFoundError")
    assert report["writes"] == {
        "/inputs/input_0.parquet": "OSError",
        "/usr/lib/evil.py": "OSError",
        "/evil": "OSError",
        "/recipe/recipe.py": "OSError",
    }
    assert report["inputs"] == ["input_0.parquet"]


def test_the_network_is_unreachable_even_the_hosts_loopback(run: RunRecipe) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    code = (
        _code(
            f"""
        import json, socket
        attempts = {{}}
        for host in ("127.0.0.1", "10.0.0.1", "1.1.1.1"):
            try:
                socket.create_connection((host, {port}), timeout=2).close()
                attempts[host] = "connected"
            except OSError as exc:
                attempts[host] = type(exc).__name__
        interfaces = [name for _, name in socket.if_nameindex()]
        print("REPORT " + json.dumps({{"attempts": attempts, "interfaces": interfaces}}))
        """
        )
        + WRITE_INPUT
    )
    try:
        report = _report(run(code))
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()
    assert report["attempts"] == {
        "127.0.0.1": "ConnectionRefusedError",
        "10.0.0.1": "OSError",  # ENETUNREACH: no route anywhere
        "1.1.1.1": "OSError",
    }
    assert report["interfaces"] == ["lo"]


def test_the_recipe_runs_unprivileged_and_cannot_escalate(run: RunRecipe) -> None:
    code = (
        _code(
            """
        import json, os, socket, subprocess
        status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
        nested = subprocess.run(["unshare", "--user", "true"], capture_output=True).returncode
        print("REPORT " + json.dumps({
            "uid": os.getuid(), "caps": status["CapEff"].strip(), "no_new_privs": status["NoNewPrivs"].strip(),
            "hostname": socket.gethostname(), "nested_userns": nested
        }))
        """
        )
        + WRITE_INPUT
    )
    report = _report(run(code))
    assert report["uid"] == 1000
    assert report["caps"] == "0000000000000000"
    assert report["no_new_privs"] == "1"
    assert report["hostname"] == "modelworks-recipe"
    assert report["nested_userns"] != 0


def test_process_count_is_capped_inside_the_sandbox(run: RunRecipe) -> None:
    code = (
        _code(
            """
        import json, os, resource, signal, time
        children, error = [], None
        try:
            for _ in range(300):
                pid = os.fork()
                if pid == 0:
                    time.sleep(30)
                    os._exit(0)
                children.append(pid)
        except OSError as exc:
            error = type(exc).__name__
        for pid in children:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        limit = resource.getrlimit(resource.RLIMIT_NPROC)
        print("REPORT " + json.dumps({"limit": limit, "forked": len(children), "error": error}))
        """
        )
        + WRITE_INPUT
    )
    limits = PythonLimits(timeout_s=30, threads=1)
    report = _report(run(code, limits=limits))
    assert report["limit"] == [limits.max_processes, limits.max_processes]
    if os.geteuid() == 0:
        # Linux never applies RLIMIT_NPROC to processes of the real root user, even in a user
        # namespace: only the limit itself can be checked when the tests run as root.
        return
    assert report["error"] == "BlockingIOError"
    forked = report["forked"]
    assert isinstance(forked, int) and 0 < forked < limits.max_processes


MEMORY_HOGS = [
    pytest.param("x = bytearray(4 * 1024**3)", id="python"),
    pytest.param("import numpy as np\nx = np.ones(2**29)", id="numpy"),
    pytest.param("import pyarrow as pa\nx = pa.allocate_buffer(4 * 1024**3)", id="arrow"),
    pytest.param("import polars as pl\nx = pl.zeros(2**29, eager=True)", id="polars-abort"),
]


@pytest.mark.parametrize("code", MEMORY_HOGS)
def test_memory_limit_stops_a_4_gib_allocation(run: RunRecipe, code: str) -> None:
    with pytest.raises(
        PythonOutOfMemoryError, match=r"ran out of memory \(limit 512\.0 MiB\); process the data in chunks"
    ):
        run(code + "\n", limits=PythonLimits(timeout_s=30, memory_bytes=512 * MIB))


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _sleeping_tree(marker: str) -> str:
    """Code that starts a grandchild process (whose command line holds ``marker``) and sleeps."""
    return _code(
        f"""
        import subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "{marker}"])
        print("started", flush=True)
        time.sleep(60)
        """
    )


def _assert_gone(marker: str) -> None:
    deadline = time.monotonic() + 3
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_with(marker) == []


def test_timeout_kills_the_whole_process_tree(run: RunRecipe) -> None:
    marker = f"mw-timeout-{uuid.uuid4().hex}"
    started = time.monotonic()
    with pytest.raises(PythonTimeoutError, match=r"did not finish within its time limit of 1\.5 s") as caught:
        run(_sleeping_tree(marker), limits=PythonLimits(timeout_s=1.5))
    assert time.monotonic() - started < 6
    assert "started" in caught.value.details["log"]
    _assert_gone(marker)


def test_cancel_stops_the_recipe_promptly(run: RunRecipe) -> None:
    marker = f"mw-cancel-{uuid.uuid4().hex}"
    started = time.monotonic()
    with pytest.raises(PythonCancelledError, match=r"was cancelled while running"):
        run(_sleeping_tree(marker), cancelled=lambda: time.monotonic() - started > 0.8)
    assert time.monotonic() - started < 4
    _assert_gone(marker)


def test_cpu_limit_stops_a_busy_loop(run: RunRecipe) -> None:
    with pytest.raises(PythonTimeoutError, match=r"more than its CPU time limit of 1 s"):
        run("while True:\n    pass\n", limits=PythonLimits(timeout_s=30, cpu_s=1))


OUTPUT_HOGS = [
    pytest.param(
        "open('/work/big.bin', 'wb').write(b'x' * (2 * 1024 * 1024))",
        r"wrote more than its output limit of 1\.0 MiB",
        id="one-big-file",
    ),
    pytest.param(
        "open('/tmp/big.bin', 'wb').write(b'x' * (2 * 1024 * 1024))",
        r"wrote more than its output limit of 1\.0 MiB",
        id="big-file-in-tmp",
    ),
    pytest.param(
        "import os, pandas as pd\nfrom modelworks_recipe import outputs\n"
        "outputs['flights_prepared'].write(pd.DataFrame({'r': [os.urandom(64).hex() for _ in range(40000)]}))",
        r"wrote more than its output limit of 1\.0 MiB",
        id="big-output",
    ),
    pytest.param(
        "import time\nfor i in range(4):\n    open(f'/work/part{i}.bin', 'wb').write(b'x' * 700_000)\ntime.sleep(20)",
        r"wrote more than its output limit of 1\.0 MiB",
        id="many-files",
    ),
]


@pytest.mark.parametrize(("code", "message"), OUTPUT_HOGS)
def test_output_size_is_capped(run: RunRecipe, code: str, message: str) -> None:
    started = time.monotonic()
    with pytest.raises(PythonOutputTooLargeError, match=message):
        run(code + "\n", limits=PythonLimits(timeout_s=30, output_bytes=1 * MIB))
    assert time.monotonic() - started < 8


ABRUPT_ENDS = [
    pytest.param(
        "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", r"was killed by SIGKILL", id="sigkill"
    ),
    pytest.param(
        "import os\nos._exit(7)", r"stopped with exit code 7 before reporting its result", id="os-exit"
    ),
]


@pytest.mark.parametrize(("code", "message"), ABRUPT_ENDS)
def test_abrupt_ends_are_explained(run: RunRecipe, code: str, message: str) -> None:
    with pytest.raises(PythonKilledError, match=message):
        run(code + "\n")


def test_without_bubblewrap_the_runner_refuses_unless_told_otherwise(
    run: RunRecipe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_module, "BWRAP_CANDIDATES", (str(tmp_path / "no-bwrap-here"),))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("DATABASE_URL", "postgres://secret@db/x")
    assert sandbox_module.find_bwrap() is None
    hint = r"Python recipes need bubblewrap \(/usr/bin/bwrap\); install the Debian package 'bubblewrap'"
    with pytest.raises(SandboxUnavailableError, match=hint):
        run(WRITE_INPUT)
    status = check_sandbox()
    assert not status.available and "install the Debian package 'bubblewrap'" in status.detail
    code = "import json, os\nprint('REPORT', json.dumps({'env': sorted(os.environ)}))\n" + WRITE_INPUT
    result = run(code, sandbox="none")
    assert result.rows == {"flights_prepared": 5}
    assert "DATABASE_URL" not in _report(result)["env"]
    assert os.environ["DATABASE_URL"]  # the platform keeps its own environment


SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.mark.skipif(not os.access(SYSTEM_PYTHON, os.X_OK), reason="no system Python to configure")
def test_an_administrator_configured_interpreter_runs_in_the_sandbox(tmp_path: Path) -> None:
    install = sandbox_module.find_python(SYSTEM_PYTHON)
    assert install.prefix == install.base_prefix == "/usr"
    status = check_sandbox(SYSTEM_PYTHON)
    assert status.available, status.detail
    assert f"Python {install.version} recipes" in status.detail
    command = sandbox_module.bwrap_command(
        "/usr/bin/bwrap",
        install,
        env={},
        recipe_dir=tmp_path,
        inputs=(),
        workdir=tmp_path,
        tmp_bytes=MIB,
        python_args=["-c", "pass"],
    )
    binds = [command[i + 2] for i, arg in enumerate(command) if arg in ("--ro-bind", "--bind")]
    # Only /usr, the run's own folders and a few /etc files are shown: no home, no /opt, no /var.
    assert set(binds) == {"/usr", "/recipe", "/work"}
    assert command[command.index("--") + 1] == os.path.realpath(SYSTEM_PYTHON)
