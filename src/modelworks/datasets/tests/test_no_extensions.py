"""DuckDB, as the datasets app uses it (through the engine), never installs or loads an extension:
an extension download would be an outbound call, which the product must never make."""

from __future__ import annotations

import duckdb
import pytest

from modelworks.engine.duck import connect


def test_engine_connections_refuse_extensions_and_keep_it_that_way() -> None:
    con = connect()
    try:
        settings = dict(
            con.execute(
                "SELECT name, value FROM duckdb_settings() "
                "WHERE name IN ('autoinstall_known_extensions', 'autoload_known_extensions', 'enable_external_access')"
            ).fetchall()
        )
        assert settings == {
            "autoinstall_known_extensions": "false",
            "autoload_known_extensions": "false",
            "enable_external_access": "false",
        }
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("SET autoinstall_known_extensions = true")
        with pytest.raises(duckdb.Error):
            con.execute("SELECT * FROM read_csv('https://example.com/x.csv')")
    finally:
        con.close()
