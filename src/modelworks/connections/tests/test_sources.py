"""The source readers against real servers: a private PostgreSQL cluster and a moto S3 server."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from modelworks.connections.sources import PostgresSource, S3Source, SourceError
from modelworks.connections.tests.servers import ANALYST_PASSWORD, PostgresServer, S3Server

pytest_plugins = ["modelworks.connections.tests.servers"]


def _pg(server: PostgresServer, password: str = ANALYST_PASSWORD, **config: object) -> PostgresSource:
    return PostgresSource(server.config(**config), {"password": password})


def test_postgres_test_answers_with_the_version_and_the_tables_the_user_sees(
    postgres_source: PostgresServer,
) -> None:
    result = _pg(postgres_source).test()
    assert result.ok, result.message
    # The analyst may read two tables; secret.salaries exists but is not granted.
    assert result.message.startswith("Connected: PostgreSQL 15.")
    assert result.message.endswith(", 2 tables visible")
    assert result.details["tables"] == 2


@pytest.mark.parametrize(
    ("config", "password", "expected"),
    [
        (
            {},
            "wrong-password",
            r"^Could not connect to 127\.0\.0\.1:\d+: password authentication failed for user 'analyst'$",
        ),
        ({"user": "nobody"}, "x", r"password authentication failed for user 'nobody'"),
        ({"database": "nope"}, ANALYST_PASSWORD, r"database 'nope' does not exist"),
        (
            {"port": 1},
            ANALYST_PASSWORD,
            r"^Could not connect to 127\.0\.0\.1:1: Connection refused\. Is the server running",
        ),
        ({"sslmode": "require"}, ANALYST_PASSWORD, r"server does not support SSL, but SSL was required"),
    ],
    ids=["wrong_password", "unknown_user", "unknown_database", "nothing_listening", "ssl_required"],
)
def test_postgres_test_failures_say_what_and_where(
    postgres_source: PostgresServer, config: dict[str, object], password: str, expected: str
) -> None:
    result = _pg(postgres_source, password, **config).test()
    assert not result.ok
    assert pytest.importorskip("re").search(expected, result.message), result.message
    assert password not in result.message


def test_postgres_lists_only_the_tables_granted(postgres_source: PostgresServer) -> None:
    assert _pg(postgres_source).list_tables() == ["public.orders", "public.regions"]


def test_postgres_table_streams_to_parquet_with_its_types(
    postgres_source: PostgresServer, tmp_path: Path
) -> None:
    seen: list[int] = []
    rows = _pg(postgres_source).copy_to_parquet(
        tmp_path / "o.parquet", table="public.orders", on_rows=seen.append
    )
    assert rows == 2500 and seen[-1] == 2500
    table = pq.read_table(tmp_path / "o.parquet")
    types = {f.name: str(f.type) for f in table.schema}
    assert types == {
        "id": "int32",
        "customer": "string",
        "amount": "decimal128(10, 2)",
        "placed": "timestamp[us, tz=UTC]",
        "paid": "bool",
        "note": "string",
    }
    assert str(table.column("amount")[3]) == "5.00"


def test_postgres_query_is_read_only_and_single(postgres_source: PostgresServer, tmp_path: Path) -> None:
    source = _pg(postgres_source)
    rows = source.copy_to_parquet(
        tmp_path / "q.parquet", query="SELECT customer, sum(amount) AS total FROM orders GROUP BY 1;"
    )
    assert rows == 7
    with pytest.raises(
        SourceError,
        match=r"the SQL query of 127\.0\.0\.1:\d+/sales could not be read: cannot execute \w+ in a read-only transaction$",
    ):
        source.copy_to_parquet(
            tmp_path / "d.parquet", query="WITH gone AS (DELETE FROM orders RETURNING *) SELECT * FROM gone"
        )
    with pytest.raises(SourceError, match=r"cannot insert multiple commands into a prepared statement"):
        source.copy_to_parquet(tmp_path / "m.parquet", query="SELECT 1; DROP TABLE orders")
    assert source.copy_to_parquet(tmp_path / "c.parquet", table="orders") == 2500  # still all there


def test_postgres_unreadable_table_names_it(postgres_source: PostgresServer, tmp_path: Path) -> None:
    with pytest.raises(
        SourceError,
        match=r"table 'secret\.salaries' of .* could not be read: permission denied for schema secret",
    ):
        _pg(postgres_source).copy_to_parquet(tmp_path / "s.parquet", table="secret.salaries")


def test_s3_test_lists_and_downloads(s3_server: S3Server, tmp_path: Path) -> None:
    s3_server.put("sources/test-a.csv", b"a,b\n1,2\n")
    source = S3Source(
        s3_server.config(), {"access_key": s3_server.access_key, "secret_key": s3_server.secret_key}
    )
    result = source.test()
    assert result.ok and result.message.startswith(f"Connected: bucket 'raw' at {s3_server.endpoint_url}, ")
    assert "sources/test-a.csv" in [f.key for f in source.list_files("sources")]
    assert source.download("sources/test-a.csv", tmp_path / "a") == 8
    assert (tmp_path / "a").read_bytes() == b"a,b\n1,2\n"
    with pytest.raises(
        SourceError, match=r"s3://raw/sources/test-a.csv is 8 bytes, more than the limit of 4 bytes"
    ):
        source.download("sources/test-a.csv", tmp_path / "b", max_bytes=4)
    with pytest.raises(SourceError, match=r"s3://raw/sources/missing.csv could not be read: not found"):
        source.download("sources/missing.csv", tmp_path / "c")


@pytest.mark.parametrize("key", ["../etc/passwd", "a/../../b", "", "x\x00y", "s3://other/x.csv"])
def test_s3_keys_are_keys_never_paths(s3_server: S3Server, key: str) -> None:
    source = S3Source(s3_server.config(), {})
    with pytest.raises(SourceError, match=r"is not an object key|is in bucket 'other'"):
        source.object_path(key)


def test_s3_unreachable_endpoint(tmp_path: Path) -> None:
    result = S3Source(
        {"bucket": "raw", "endpoint_url": "http://127.0.0.1:1"}, {"access_key": "k", "secret_key": "s3cr3t"}
    ).test()
    assert not result.ok
    assert result.message.startswith(
        "Could not read bucket 'raw' at http://127.0.0.1:1: Could not connect to the endpoint URL"
    )


@pytest.mark.parametrize(
    "host", ["169.254.169.254", "[fe80::1]", "fe80::1", "[::ffff:169.254.169.254]", "fd00:ec2::254"]
)
def test_link_local_and_cloud_metadata_addresses_are_refused(host: str) -> None:
    """A connection can never be pointed at the machine's own credentials service."""
    pg = PostgresSource({"host": host, "database": "d", "user": "u"}, {"password": "p"}).test()
    assert not pg.ok and "link-local address" in pg.message, pg.message
    bare = host.strip("[]")
    url_host = f"[{bare}]" if ":" in bare else bare
    s3 = S3Source(
        {"bucket": "raw", "endpoint_url": f"http://{url_host}:80"}, {"access_key": "k", "secret_key": "s"}
    )
    result = s3.test()
    assert not result.ok and "link-local address" in result.message, result.message
