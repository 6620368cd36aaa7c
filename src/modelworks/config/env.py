"""Instance configuration read from the environment and an optional TOML file.

Every process of one instance (web, worker, CLI) reads the same two inputs, so scripts can run
several isolated instances side by side just by changing ``MODELWORKS_HOME`` and ``DATABASE_URL``:

* environment variables (they win), and
* ``$MODELWORKS_HOME/modelworks.toml`` or the file named by ``MODELWORKS_CONFIG``.

This module must stay importable without Django configured: the CLI uses it before setup.
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ConfigError", "InstanceConfig", "load_config"]

DEFAULT_HOME = ".modelworks"
SECRET_KEY_FILE = "secret_key"  # noqa: S105  (a file name, not a secret)


class ConfigError(Exception):
    """The instance configuration is invalid; the message says which setting and how to fix it."""


@dataclass(frozen=True)
class InstanceConfig:
    """Resolved configuration of one Modelworks instance."""

    home: Path
    database_url: str
    secret_key: str
    allowed_hosts: list[str]
    bind_host: str
    port: int
    max_upload_bytes: int
    config_file: Path | None = None
    csrf_trusted_origins: list[str] = field(default_factory=list)
    # Outbound notifications (scenarios). Nothing is sent anywhere unless these are set.
    public_url: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_security: str = "starttls"
    smtp_from: str = ""
    webhook_allowlist: list[str] = field(default_factory=list)
    webhook_allow_http: bool = False
    # Flow builds: how many recipes run at once, and each DuckDB step's threads, memory and time.
    flow_max_parallel: int = 2
    flow_threads: int | None = None
    flow_memory_limit: str | None = None
    flow_step_timeout: int = 3600
    # Tracking artifacts (largest file through the MLflow proxy) and the Lab (rows a training reads).
    max_artifact_bytes: int = 20 * 1024**3
    lab_max_rows: int = 200_000
    # The scoring service (`modelworks serve-models`): where it listens, its worker processes, and
    # the largest request it takes. Its /metrics answers only with MODELWORKS_SERVING_METRICS_TOKEN.
    serving_port: int = 8100
    serving_workers: int = 2
    scoring_max_rows: int = 10_000
    scoring_max_body_bytes: int = 16 * 1024**2
    serving_metrics_token: str = ""

    @property
    def artifacts_dir(self) -> Path:
        return self.home / "artifacts"

    @property
    def predictions_dir(self) -> Path:
        """The prediction log: Parquet segments per deployment or scoring recipe, per day."""
        return self.home / "predictions"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _home() -> Path:
    return Path(os.environ.get("MODELWORKS_HOME") or DEFAULT_HOME).expanduser().resolve()


def _read_file(home: Path) -> tuple[dict[str, object], Path | None]:
    explicit = os.environ.get("MODELWORKS_CONFIG")
    path = Path(explicit).expanduser() if explicit else home / "modelworks.toml"
    if not path.exists():
        if explicit:
            raise ConfigError(
                f"MODELWORKS_CONFIG points to {path}, which does not exist; create it or unset it."
            )
        return {}, None
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"configuration file {path} is not valid TOML: {exc}") from exc
    section = data.get("modelworks", data)
    if not isinstance(section, dict):
        raise ConfigError(f"configuration file {path}: [modelworks] must be a table")
    return section, path


def _secret_key(home: Path, configured: object) -> str:
    if configured:
        return str(configured)
    path = home / SECRET_KEY_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # Created 0600 and written atomically: two processes starting together must agree on one key.
    tmp = home / f".{SECRET_KEY_FILE}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key)
    try:
        os.link(tmp, path)
    except FileExistsError:
        key = path.read_text(encoding="utf-8").strip()
    finally:
        tmp.unlink(missing_ok=True)
    return key


def _list(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _bool(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {value!r}")


SMTP_SECURITY = ("starttls", "ssl", "none")


def _int(name: str, value: object) -> int:
    try:
        return int(str(value))
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from exc


def load_config() -> InstanceConfig:
    """Resolve the configuration of this process's instance.

    Raises:
        ConfigError: a setting is malformed.
    """
    home = _home()
    file_values, file_path = _read_file(home)

    def get(env: str, key: str, default: object = None) -> object:
        if os.environ.get(env) not in (None, ""):
            return os.environ[env]
        return file_values.get(key, default)

    database_url = str(get("DATABASE_URL", "database_url", f"sqlite:///{home / 'modelworks.sqlite3'}"))
    if not database_url.startswith(("sqlite://", "postgres://", "postgresql://")):
        raise ConfigError(
            f"DATABASE_URL {database_url.split('://')[0]}://… is not supported; "
            "use sqlite:///path/to/file.sqlite3 or postgresql://user:password@host:5432/name"
        )
    bind_host = str(get("MODELWORKS_BIND", "bind_host", "127.0.0.1"))
    allowed = _list(get("MODELWORKS_ALLOWED_HOSTS", "allowed_hosts", None))
    if not allowed:
        allowed = ["127.0.0.1", "localhost", "[::1]"]
        if bind_host not in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "::"):  # noqa: S104
            allowed.append(bind_host)
    return InstanceConfig(
        home=home,
        database_url=database_url,
        secret_key=_secret_key(home, get("MODELWORKS_SECRET_KEY", "secret_key")),
        allowed_hosts=allowed,
        bind_host=bind_host,
        port=_int("MODELWORKS_PORT", get("MODELWORKS_PORT", "port", 8000)),
        max_upload_bytes=_int(
            "MODELWORKS_MAX_UPLOAD_BYTES", get("MODELWORKS_MAX_UPLOAD_BYTES", "max_upload_bytes", 2 * 1024**3)
        ),
        config_file=file_path,
        csrf_trusted_origins=_list(get("MODELWORKS_CSRF_TRUSTED_ORIGINS", "csrf_trusted_origins", None)),
        public_url=str(get("MODELWORKS_PUBLIC_URL", "public_url", "")).rstrip("/"),
        smtp_host=str(get("MODELWORKS_SMTP_HOST", "smtp_host", "")),
        smtp_port=_int("MODELWORKS_SMTP_PORT", get("MODELWORKS_SMTP_PORT", "smtp_port", 587)),
        smtp_user=str(get("MODELWORKS_SMTP_USER", "smtp_user", "")),
        smtp_password=str(get("MODELWORKS_SMTP_PASSWORD", "smtp_password", "")),
        smtp_security=_smtp_security(get("MODELWORKS_SMTP_SECURITY", "smtp_security", "starttls")),
        smtp_from=str(get("MODELWORKS_SMTP_FROM", "smtp_from", "")),
        webhook_allowlist=_list(get("MODELWORKS_WEBHOOK_ALLOWLIST", "webhook_allowlist", None)),
        webhook_allow_http=_bool(
            "MODELWORKS_WEBHOOK_ALLOW_HTTP", get("MODELWORKS_WEBHOOK_ALLOW_HTTP", "webhook_allow_http", False)
        ),
        flow_max_parallel=_positive(
            "MODELWORKS_FLOW_MAX_PARALLEL", get("MODELWORKS_FLOW_MAX_PARALLEL", "flow_max_parallel", 2)
        ),
        flow_threads=_optional_positive(
            "MODELWORKS_FLOW_THREADS", get("MODELWORKS_FLOW_THREADS", "flow_threads", None)
        ),
        flow_memory_limit=_memory_limit(get("MODELWORKS_FLOW_MEMORY_LIMIT", "flow_memory_limit", None)),
        flow_step_timeout=_positive(
            "MODELWORKS_FLOW_STEP_TIMEOUT", get("MODELWORKS_FLOW_STEP_TIMEOUT", "flow_step_timeout", 3600)
        ),
        max_artifact_bytes=_positive(
            "MODELWORKS_MAX_ARTIFACT_BYTES",
            get("MODELWORKS_MAX_ARTIFACT_BYTES", "max_artifact_bytes", 20 * 1024**3),
        ),
        lab_max_rows=_positive(
            "MODELWORKS_LAB_MAX_ROWS", get("MODELWORKS_LAB_MAX_ROWS", "lab_max_rows", 200_000)
        ),
        serving_port=_int("MODELWORKS_SERVING_PORT", get("MODELWORKS_SERVING_PORT", "serving_port", 8100)),
        serving_workers=_positive(
            "MODELWORKS_SERVING_WORKERS", get("MODELWORKS_SERVING_WORKERS", "serving_workers", 2)
        ),
        scoring_max_rows=_positive(
            "MODELWORKS_SCORING_MAX_ROWS", get("MODELWORKS_SCORING_MAX_ROWS", "scoring_max_rows", 10_000)
        ),
        scoring_max_body_bytes=_positive(
            "MODELWORKS_SCORING_MAX_BODY_BYTES",
            get("MODELWORKS_SCORING_MAX_BODY_BYTES", "scoring_max_body_bytes", 16 * 1024**2),
        ),
        serving_metrics_token=str(get("MODELWORKS_SERVING_METRICS_TOKEN", "serving_metrics_token", "") or ""),
    )


def _positive(name: str, value: object) -> int:
    number = _int(name, value)
    if number < 1:
        raise ConfigError(f"{name} must be at least 1, got {value!r}")
    return number


def _optional_positive(name: str, value: object) -> int | None:
    return None if value in (None, "") else _positive(name, value)


def _memory_limit(value: object) -> str | None:
    # Passed to DuckDB's memory_limit: a number and a unit only, so nothing else reaches its settings.
    if value in (None, ""):
        return None
    text = str(value).strip().upper().replace(" ", "")
    if not re.fullmatch(r"\d+(\.\d+)?(KB|MB|GB|TB|KIB|MIB|GIB|TIB)", text):
        raise ConfigError(f"MODELWORKS_FLOW_MEMORY_LIMIT must look like 4GB or 512MB, got {value!r}")
    return text


def _smtp_security(value: object) -> str:
    text = str(value).strip().lower()
    if text not in SMTP_SECURITY:
        raise ConfigError(
            f"MODELWORKS_SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}, got {value!r} "
            "(starttls: port 587; ssl: port 465; none: only on a trusted local relay)."
        )
    return text
