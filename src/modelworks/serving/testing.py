"""Serve a routing table described in a JSON file, without deployments in the database.

For tests and benchmarks of the scoring service: ``python -m modelworks.serving.testing --routing
FILE --port PORT``. The file is read at every poll; rewriting it (atomically) is how a test moves an
"alias" to another version. Its shape::

    {"endpoints": {"<name>": {"deployment_id": 1, "mode": "single", "tokens": ["mwe_..."],
                              "log_sample_rate": 1.0, "max_rows": 10000, "id_column": "",
                              "explain_allowed": false,
                              "targets": [{"version_id": 1, "model_name": "churn", "version": 1,
                                           "model_dir": "/path/to/mlflow/model", "role": "primary",
                                           "weight": 100, "alias": "champion"}]}},
     "problems": {"<name>": "why it cannot be served"}}

The revision is the SHA-256 of the file's bytes. Tokens are given raw and hashed here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["FileRouting", "main", "write_routing"]


def write_routing(path: Path, routing: dict[str, Any]) -> None:
    """Write a routing file atomically (a poll never reads half of it)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(routing, default=str), encoding="utf-8")
    os.replace(tmp, path)


class FileRouting:
    """A routing provider reading a JSON file (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def current_revision(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()[:20]

    def routing_snapshot(self) -> Any:
        from modelworks.deployments.runtime import EndpointConfig, RoutingSnapshot, TargetConfig

        raw = self.path.read_bytes()
        data = json.loads(raw)
        endpoints = {}
        for name, spec in (data.get("endpoints") or {}).items():
            targets = tuple(
                TargetConfig(
                    version_id=int(t["version_id"]),
                    model_name=str(t["model_name"]),
                    version=int(t["version"]),
                    model_dir=Path(t["model_dir"]),
                    role=str(t.get("role", "primary")),
                    weight=int(t.get("weight", 100)),
                    alias=str(t.get("alias", "")),
                )
                for t in spec["targets"]
            )
            endpoints[name] = EndpointConfig(
                name=name,
                deployment_id=int(spec.get("deployment_id", 1)),
                project_slug=str(spec.get("project_slug", "test")),
                mode=str(spec.get("mode", "single")),
                targets=targets,
                token_hashes=frozenset(
                    hashlib.sha256(t.encode()).hexdigest() for t in spec.get("tokens", [])
                ),
                log_sample_rate=float(spec.get("log_sample_rate", 1.0)),
                max_rows=int(spec.get("max_rows", 10_000)),
                id_column=str(spec.get("id_column", "")),
                explain_allowed=bool(spec.get("explain_allowed", False)),
            )
        return RoutingSnapshot(
            revision=hashlib.sha256(raw).hexdigest()[:20],
            endpoints=endpoints,
            problems=dict(data.get("problems") or {}),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m modelworks.serving.testing")
    parser.add_argument("--routing", required=True, type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--run-dir", type=Path, default=None)
    parser.add_argument("--predictions-dir", type=Path, default=None)
    parser.add_argument("--max-body-bytes", type=int, default=16 * 1024**2)
    parser.add_argument("--metrics-token", default="")
    parser.add_argument("--flush-seconds", type=float, default=5.0)
    parser.add_argument("--poll-seconds", type=float, default=1.0)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "modelworks.config.settings.test")
    import django

    django.setup()  # only for the routing dataclasses; no database is opened
    from modelworks.serving.server import ServeOptions, serve

    routing = args.routing.resolve()
    return serve(
        ServeOptions(
            host=args.host,
            port=args.port,
            workers=args.workers,
            max_body_bytes=args.max_body_bytes,
            metrics_token=args.metrics_token,
            run_dir=args.run_dir,
            predictions_dir=args.predictions_dir,
            poll_seconds=args.poll_seconds,
            flush_seconds=args.flush_seconds,
        ),
        provider_factory=lambda: FileRouting(routing),
    )


if __name__ == "__main__":
    raise SystemExit(main())
