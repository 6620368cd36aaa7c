"""Real servers for the connection tests, started once per test session:

* ``postgres_source``: a private PostgreSQL cluster (``scripts/postgres-test-server``) switched to
  password authentication, with a database ``sales``, a read-only user ``analyst`` and a few tables;
* ``s3_server``: a ``moto`` S3 server process on 127.0.0.1 with a bucket ``raw``.

Both listen on the loopback only. Import the fixtures into a ``conftest.py`` to use them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["ANALYST_PASSWORD", "PostgresServer", "S3Server", "postgres_source", "s3_server"]

ROOT = Path(__file__).resolve().parents[4]
SCRIPT = ROOT / "scripts" / "postgres-test-server"
ANALYST_PASSWORD = "Analyst-Reads-42"
S3_KEY, S3_SECRET = "AKIATESTKEY", "Moto-Secret-Key-99"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    socket_dir: str

    def admin_uri(self, database: str = "postgres") -> str:
        """Superuser access over the Unix socket (trusted locally; TCP needs a password)."""
        return f"postgresql://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def config(self, **overrides: object) -> dict[str, object]:
        return {
            "host": self.host,
            "port": self.port,
            "database": "sales",
            "user": "analyst",
            "sslmode": "disable",
            **overrides,
        }


def _sql(uri: str, *statements: str) -> None:
    import adbc_driver_postgresql.dbapi as pg

    with pg.connect(uri, autocommit=True) as con:
        cur = con.cursor()
        for statement in statements:
            cur.execute(statement)


@pytest.fixture(scope="session")
def postgres_source() -> Iterator[PostgresServer]:
    """A PostgreSQL 15 server with password authentication and sample tables."""
    if shutil.which("bash") is None or not SCRIPT.exists():
        pytest.fail(f"{SCRIPT} is missing: it starts the private PostgreSQL server these tests need")
    work = Path(tempfile.mkdtemp(prefix="mw-pg-source-"))
    work.chmod(0o711)  # the server may run as the 'postgres' user, which must reach its folder
    folder = work / "pg"
    result = subprocess.run(
        ["bash", str(SCRIPT), "start", str(folder)], capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {result.stderr.strip()}")
    port = int((folder / "port").read_text().strip())
    server = PostgresServer("127.0.0.1", port, str(folder))
    try:
        _sql(
            server.admin_uri(),
            "CREATE DATABASE sales",
            f"CREATE ROLE analyst LOGIN PASSWORD '{ANALYST_PASSWORD}'",
        )
        _sql(
            server.admin_uri("sales"),
            "CREATE TABLE orders (id integer PRIMARY KEY, customer text, amount numeric(10,2), "
            "placed timestamptz, paid boolean, note text)",
            "INSERT INTO orders SELECT g, 'customer ' || (g % 7), g * 1.25, "
            "timestamptz '2024-01-01 00:00+00' + g * interval '1 hour', g % 2 = 0, "
            "CASE WHEN g % 10 = 0 THEN '=HYPERLINK(\"x\")' END FROM generate_series(1, 2500) g",
            "CREATE TABLE regions (code text, name text)",
            "INSERT INTO regions VALUES ('N', 'North'), ('S', 'South')",
            "CREATE SCHEMA secret",
            "CREATE TABLE secret.salaries (who text, amount integer)",
            "GRANT SELECT ON orders, regions TO analyst",
        )
        # Password authentication over TCP from now on (the local socket stays trusted for setup).
        hba = folder / "data" / "pg_hba.conf"
        hba.write_text(
            "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n"
        )
        _sql(server.admin_uri(), "SELECT pg_reload_conf()")
        time.sleep(0.3)
        yield server
    finally:
        _stop_postgres(folder)
        shutil.rmtree(work, ignore_errors=True)


def _stop_postgres(folder: Path) -> None:
    """Stop the cluster started above; if the script cannot, end that server by its own PID."""
    try:
        subprocess.run(["bash", str(SCRIPT), "stop", str(folder)], capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        pass
    pid_file = folder / "data" / "postmaster.pid"
    if pid_file.exists():
        pid = int(pid_file.read_text().split()[0])
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGQUIT)  # immediate shutdown of this test server (and only it)


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    bucket: str = "raw"
    access_key: str = S3_KEY
    secret_key: str = S3_SECRET

    def filesystem(self):
        import s3fs

        return s3fs.S3FileSystem(
            key=self.access_key,
            secret=self.secret_key,
            endpoint_url=self.endpoint_url,
            client_kwargs={"region_name": "eu-west-1"},
            skip_instance_cache=True,
            use_listings_cache=False,
        )

    def put(self, key: str, data: bytes) -> None:
        self.filesystem().pipe(f"{self.bucket}/{key}", data)

    def config(self) -> dict[str, object]:
        return {"endpoint_url": self.endpoint_url, "bucket": self.bucket, "region": "eu-west-1"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real ``moto`` S3 server process with an empty bucket ``raw``."""
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    port = _free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = S3Server(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the moto S3 server did not start (exit code {proc.poll()})")
                time.sleep(0.2)
        server.filesystem().mkdir(server.bucket, region_name="eu-west-1")
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
